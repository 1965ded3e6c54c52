using System.Text;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Slave;

public sealed class SlaveDispatchTests : SlaveFixture
{
    private static readonly string[] WireMethods =
    [
        "entries", "purge", "mkdir", "symlink", "xtime", "xtime_vec", "set_xtime", "set_xtime_vec", "setattr",
        "keep_alive", "version", "pid", "native_volume_info", "foreign_volume_infos", "lstat_entries", "root_identity",
        "verify_entries", "checksum_entries", "verify_listing", "checksum_listing", "preflight_probe", "entry_types", "set_xtimes",
    ];

    [Fact]
    public void TheMethodTableIsExactlyTheWireApi()
    {
        Assert.Equal(WireMethods.Order(), Server.Methods.Order());
        Assert.All(WireMethods, m => Assert.True(Server.HasMethod(m)));
        Assert.False(Server.HasMethod("_create"));
        Assert.False(Server.HasMethod("InvokeAsync"));
    }

    [Theory]
    [InlineData("_create")]
    [InlineData("nosuch")]
    [InlineData("__init__")]
    [InlineData("Entries")]
    public async Task AnythingElseIsAnAttributeError(string method)
    {
        var ex = await Fails(method, ".", "x");
        Assert.Equal("AttributeError", ex.TypeName);
        Assert.Contains(method, (string)ex.Args[0]!);
    }

    [Fact]
    public async Task AFileSlaveHasNoVolumeInfoMethods()
    {
        using var dir = new TempDirectory();
        var server = new SlaveServer(dir.Path, Xattrs, Ns, Clock, new SlaveServerOptions { ServesGlusterVolume = false });
        Assert.False(server.HasMethod("native_volume_info"));
        var ex = await Assert.ThrowsAsync<RepceCallException>(() => server.InvokeAsync("foreign_volume_infos", []).AsTask());
        Assert.Equal("AttributeError", ex.Exception.TypeName);
        Assert.Equal(1.0, await server.InvokeAsync("version", []));
    }

    [Theory]
    [InlineData("entries", 0)]
    [InlineData("entries", 2)]
    [InlineData("purge", 3)]
    [InlineData("xtime", 1)]
    [InlineData("set_xtime", 2)]
    [InlineData("version", 1)]
    [InlineData("keep_alive", 0)]
    public async Task AWrongArgumentCountIsATypeError(string method, int count)
    {
        var ex = await Fails(method, Enumerable.Repeat<object?>(".", count).ToArray());
        Assert.Equal("TypeError", ex.TypeName);
        Assert.Contains($"({count} given)", (string)ex.Args[0]!);
    }

    [Fact]
    public async Task AWrongArgumentTypeIsATypeError()
    {
        Assert.Equal("TypeError", (await Fails("entries", 5L)).TypeName);
        Assert.Equal("TypeError", (await Fails("entries", (object?)null)).TypeName);
        Assert.Equal("TypeError", (await Fails("setattr", ".", "not a dict")).TypeName);
        Assert.Equal("TypeError", (await Fails("set_xtime", ".", "u", 5L)).TypeName);
    }

    [Fact]
    public async Task AnUnusableUuidIsAValueErrorButNotAGuardRefusal()
    {
        foreach (var uuid in new[] { "a.b", "", "x/y", "u\0" })
        {
            var ex = await Fails("xtime", ".", uuid);
            Assert.Equal("ValueError", ex.TypeName);
            Assert.NotEqual("unsafe path", ex.Args[0]);
        }
    }

    [Fact]
    public async Task TheReasonForAFailureGoesToTheCallback()
    {
        var failures = new List<(string Method, Exception Error)>();
        var server = new SlaveServer(Dir.Path, Xattrs, Ns, Clock, new SlaveServerOptions { OnCallFailed = (m, e) => failures.Add((m, e)) });
        Dir.CreateSymlink("link", "/etc");

        await Assert.ThrowsAsync<RepceCallException>(() => server.InvokeAsync("mkdir", ["link/x"]).AsTask());

        var (method, error) = Assert.Single(failures);
        Assert.Equal("mkdir", method);
        var refusal = Assert.IsType<GeoSyncPathGuardException>(error);
        Assert.Equal("link/x", refusal.Path);
        Assert.Contains("'link' is a symbolic link", refusal.Message);
    }

    [Fact]
    public async Task ACancelledCallDoesNotRun()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Server.InvokeAsync("mkdir", ["d"], cancel.Token).AsTask());
        Assert.False(Directory.Exists(RootPath("d")));
    }

    [Fact]
    public void TheRootMustBeADirectory()
    {
        var file = Dir.CreateFile("f");
        var ex = Assert.Throws<GeoSyncException>(() => new SlaveServer(file, Xattrs, Ns));
        Assert.Contains(file, ex.Message);
        Assert.Contains("Not a directory", ex.Message);
        ex = Assert.Throws<GeoSyncException>(() => new SlaveServer(RootPath("missing"), Xattrs, Ns));
        Assert.Contains("No such file or directory", ex.Message);
    }

    [Fact]
    public async Task ARootReachedThroughASymlinkIsServedLikeProcSelfCwd()
    {
        Dir.CreateDirectory("real/sub");
        var viaLink = Dir.CreateSymlink("rootlink", RootPath("real"));
        var server = new SlaveServer(viaLink, Xattrs, Ns, Clock);

        Assert.Equal(new object?[] { "sub" }, await server.InvokeAsync("entries", ["."]));
        Assert.Null(await server.InvokeAsync("set_xtime", [".", "u1", new PyTuple(1L, 2L)]));
        Assert.Equal(new Xtime(1, 2).ToBytes(), Xattrs.Get(RootPath("real"), XtimeName("u1")));
        Assert.Null(Xattrs.Get(viaLink, XtimeName("u1")));
        Assert.Null(await server.InvokeAsync("purge", [".", new List<object?> { "sub" }]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(RootPath("real")));
        Assert.True(FileInfoOf.IsSymlink(viaLink));
    }

    [Fact]
    public async Task VersionAndPid()
    {
        Assert.Equal(1.0, await Call("version"));
        Assert.Equal((long)Environment.ProcessId, await Call("pid"));
    }

    [Fact]
    public async Task TheObservedAnswersOfA33FileSlave()
    {
        Dir.CreateDirectory("sub");
        Assert.Equal((long)E.ENODATA, await Call("xtime", "sub", "abcd"));
        Assert.Equal((long)E.ENOENT, await Call("xtime", "missing", "abcd"));
        Assert.Equal(1L, await Call("keep_alive", (object?)null));
        Assert.Equal(2L, await Call("keep_alive", (object?)null));
        var vec = Assert.IsType<Dictionary<object, object?>>(await Call("xtime_vec", "sub", "u1", "u2"));
        Assert.Equal(2, vec.Count);
        Assert.Null(vec["u1"]);
        Assert.Null(vec["u2"]);
        Assert.Null(await Call("purge", ".", new HashSet<object>(PyEquality.Instance) { "sub" }));
        Assert.False(Directory.Exists(RootPath("sub")));
        await IsUnsafe("entries", "/etc");
    }
}

public sealed class EntriesTests : SlaveFixture
{
    [Fact]
    public async Task ListsNamesWithoutDotEntries()
    {
        Dir.CreateFile("a");
        Dir.CreateDirectory("b/c");
        Dir.CreateSymlink("l", "/etc");
        var names = Assert.IsType<List<object?>>(await Call("entries", "."));
        Assert.Equal(new object?[] { "a", "b", "l" }, names.OrderBy(n => (string)n!, StringComparer.Ordinal));
        Assert.Equal(new object?[] { "c" }, Assert.IsType<List<object?>>(await Call("entries", "b")));
        Assert.Equal(new object?[] { "c" }, Assert.IsType<List<object?>>(await Call("entries", Encoding.ASCII.GetBytes("b"))));
        Assert.Empty(Assert.IsType<List<object?>>(await Call("entries", "b/c")));
    }

    [Fact]
    public async Task NonDirectoriesIncludingSymlinksToDirectoriesAreENOTDIR()
    {
        Dir.CreateFile("f");
        Dir.CreateDirectory("d");
        Dir.CreateSymlink("l", "d");
        await FailsWithOsError(E.ENOTDIR, "entries", "f");
        await FailsWithOsError(E.ENOTDIR, "entries", "l");
        await FailsWithOsError(E.ENOTDIR, "entries", "f/x");
        await FailsWithOsError(E.ENOENT, "entries", "missing");
        await FailsWithOsError(E.ENOENT, "entries", "missing/x");
    }

    [Fact]
    public async Task NamesThatAreNotUtf8RoundTripAsSurrogateEscapes()
    {
        byte[] raw = [(byte)'c', (byte)'a', (byte)'f', 0xE9];
        Assert.Equal(0, Syscall.mkdir(Dir.Path + "/" + WireText.ToNative(raw), FilePermissions.ACCESSPERMS));

        var names = Assert.IsType<List<object?>>(await Call("entries", "."));
        Assert.Equal("caf\uDCE9", Assert.Single(names));

        Assert.Empty(Assert.IsType<List<object?>>(await Call("entries", raw)));
        Assert.Empty(Assert.IsType<List<object?>>(await Call("entries", "caf\uDCE9")));
        await Call("purge", ".", new List<object?> { raw });
        Assert.Empty(Assert.IsType<List<object?>>(await Call("entries", ".")));
    }
}

public sealed class PurgeTests : SlaveFixture
{
    [Fact]
    public async Task RemovesAFileAWholeTreeAndAMissingPathQuietly()
    {
        Dir.CreateFile("f");
        Dir.CreateDirectory("t/a/b/c");
        Dir.CreateFile("t/a/file");
        Dir.CreateFile("t/a/b/c/deep");
        Dir.CreateSymlink("t/a/link", "/etc");
        Assert.Equal(0, Syscall.mkfifo(RootPath("t/fifo"), FilePermissions.DEFFILEMODE));

        Assert.Null(await Call("purge", "f"));
        Assert.Null(await Call("purge", "t"));
        Assert.Null(await Call("purge", "missing"));
        Assert.Null(await Call("purge", "missing/deeper"));

        Assert.Empty(Directory.EnumerateFileSystemEntries(Dir.Path));
        Assert.True(File.Exists("/etc/passwd"));
    }

    [Fact]
    public async Task WithEntriesRemovesOnlyThoseAndKeepsTheContainer()
    {
        Dir.CreateDirectory("d/x/y");
        Dir.CreateFile("d/a");
        Dir.CreateFile("d/keep");
        Assert.Null(await Call("purge", "d", new HashSet<object>(PyEquality.Instance) { "x", "a", "gone" }));
        Assert.Equal(new[] { RootPath("d/keep") }, Directory.EnumerateFileSystemEntries(RootPath("d")));

        Dir.CreateFile("d/b");
        Dir.CreateFile("d/c");
        Assert.Null(await Call("purge", Encoding.ASCII.GetBytes("d/"), new List<object?> { Encoding.ASCII.GetBytes("b") }));
        Assert.Null(await Call("purge", Encoding.ASCII.GetBytes("d"), new HashSet<object>(PyEquality.Instance) { Encoding.ASCII.GetBytes("c") }));
        Assert.Null(await Call("purge", "d", new PyTuple("keep")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(RootPath("d")));
    }

    [Fact]
    public async Task AnEmptyContainerPurgesNothing()
    {
        Dir.CreateDirectory("d/sub");
        Dir.CreateFile("d/f");
        Assert.Null(await Call("purge", "d", new HashSet<object>()));
        Assert.Null(await Call("purge", "d", new List<object?>()));
        Assert.Null(await Call("purge", ".", PyTuple.Empty));
        Assert.Equal(2, Directory.EnumerateFileSystemEntries(RootPath("d")).Count());
    }

    [Fact]
    public async Task ABadEntryRefusesTheWholeCall()
    {
        Dir.CreateDirectory("d");
        Dir.CreateFile("d/a");
        await IsUnsafe("purge", "d", new List<object?> { "a", "../x" });
        await IsUnsafe("purge", "d", new List<object?> { "a", "/etc" });
        await IsUnsafe("purge", "d", new List<object?> { "a", "" });
        Assert.True(File.Exists(RootPath("d/a")));
    }

    [Fact]
    public async Task TheRootAndDotPathsAreNeverRemoved()
    {
        Dir.CreateDirectory("d");
        Dir.CreateFile("d/f");
        await FailsWithOsError(E.EINVAL, "purge", ".");
        await FailsWithOsError(E.EINVAL, "purge", "./");
        await FailsWithOsError(E.EINVAL, "purge", "d/.");
        await FailsWithOsError(E.EINVAL, "purge", "d", new List<object?> { "." });
        Assert.True(File.Exists(RootPath("d/f")));
    }

    [Fact]
    public async Task ANonDirectoryAncestorIsENOTDIR()
    {
        Dir.CreateFile("f");
        await FailsWithOsError(E.ENOTDIR, "purge", "f/x");
        Assert.True(File.Exists(RootPath("f")));
    }
}

public sealed class CreateTests : SlaveFixture
{
    [Fact]
    public async Task MkdirUsesTheUmaskWithoutChangingIt()
    {
        var umask = ProcessUmask();
        Assert.Null(await Call("mkdir", "d"));
        var st = FileInfoOf.LStat(RootPath("d"));
        Assert.Equal(FilePermissions.S_IFDIR, st.st_mode & FilePermissions.S_IFMT);
        Assert.Equal(0x1FF & ~umask, (int)(st.st_mode & FilePermissions.ALLPERMS));
        Assert.Equal(umask, ProcessUmask());
    }

    [Fact]
    public async Task MkdirDestroysWhateverIsInTheWay()
    {
        Dir.CreateFile("f");
        Dir.CreateDirectory("t/sub");
        Dir.CreateFile("t/sub/x");
        Assert.Null(await Call("mkdir", "f"));
        Assert.Null(await Call("mkdir", "t"));
        Assert.True(Directory.Exists(RootPath("f")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(RootPath("t")));
    }

    [Fact]
    public async Task MkdirFailuresAreOsErrors()
    {
        Dir.CreateFile("f");
        await FailsWithOsError(E.ENOENT, "mkdir", "missing/d");
        await FailsWithOsError(E.ENOTDIR, "mkdir", "f/d");
        await FailsWithOsError(E.EINVAL, "mkdir", ".");
        await FailsWithOsError(E.EINVAL, "mkdir", "f/.");
        Assert.True(File.Exists(RootPath("f")));
    }

    [Fact]
    public async Task SymlinkWritesTheTargetAsContentAndReplacesWhatIsThere()
    {
        Assert.Null(await Call("symlink", "../../etc/passwd", "l"));
        Assert.Equal("../../etc/passwd", new FileInfo(RootPath("l")).LinkTarget);

        Dir.CreateDirectory("d/sub");
        Assert.Null(await Call("symlink", Encoding.ASCII.GetBytes("elsewhere"), Encoding.ASCII.GetBytes("d")));
        Assert.Equal("elsewhere", new FileInfo(RootPath("d")).LinkTarget);

        Assert.Null(await Call("symlink", "again", "l"));
        Assert.Equal("again", new FileInfo(RootPath("l")).LinkTarget);
    }

    [Fact]
    public async Task SymlinkRefusesANulInTheTarget()
    {
        var ex = await Fails("symlink", "a\0b", "l");
        Assert.Equal("ValueError", ex.TypeName);
        Assert.False(FileInfoOf.IsSymlink(RootPath("l")));
        await FailsWithOsError(E.ENOENT, "symlink", "t", "missing/l");
    }

    private static int ProcessUmask()
    {
        var line = File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("Umask:", StringComparison.Ordinal));
        return Convert.ToInt32(line["Umask:".Length..].Trim(), 8);
    }
}

public sealed class XtimeTests : SlaveFixture
{
    private const string Uuid = "11111111-2222-3333-4444-555555555555";

    [Fact]
    public async Task ReadsTheXtimeAsAPairOfInts()
    {
        var file = Dir.CreateFile("f");
        Xattrs.Set(file, XtimeName(Uuid), new Xtime(1700000000, 42).ToBytes());
        Assert.Equal(new PyTuple(1700000000L, 42L), await Call("xtime", "f", Uuid));
        Assert.Equal(new PyTuple(1700000000L, 42L), await Call("xtime", Encoding.ASCII.GetBytes("f"), Encoding.ASCII.GetBytes(Uuid)));
    }

    [Fact]
    public async Task MissingThingsAreAnsweredWithErrnoInts()
    {
        Dir.CreateFile("f");
        Assert.Equal((long)E.ENODATA, await Call("xtime", "f", Uuid));
        Assert.Equal((long)E.ENOENT, await Call("xtime", "missing", Uuid));
        Assert.Equal((long)E.ENOENT, await Call("xtime", "missing/x", Uuid));
        Assert.Equal((long)E.ENOTDIR, await Call("xtime", "f/x", Uuid));
    }

    [Fact]
    public async Task AWrongLengthIsAnError()
    {
        var file = Dir.CreateFile("f");
        Xattrs.Set(file, XtimeName(Uuid), new byte[9]);
        await FailsWithOsError(E.ERANGE, "xtime", "f", Uuid);
        Xattrs.Set(file, XtimeName(Uuid), new byte[3]);
        var ex = await Fails("xtime", "f", Uuid);
        Assert.Equal(("struct", "error"), (ex.Module, ex.TypeName));
    }

    [Fact]
    public async Task XtimeVecAnswersPerUuidOrTheFirstOtherErrno()
    {
        var file = Dir.CreateFile("f");
        Xattrs.Set(file, XtimeName("u1"), new Xtime(5, 6).ToBytes());
        var vec = Assert.IsType<Dictionary<object, object?>>(await Call("xtime_vec", "f", "u1", "u2"));
        Assert.Equal(new PyTuple(5L, 6L), vec["u1"]);
        Assert.Null(vec["u2"]);
        Assert.Empty(Assert.IsType<Dictionary<object, object?>>(await Call("xtime_vec", "f")));
        Assert.Equal((long)E.ENOENT, await Call("xtime_vec", "missing", "u1", "u2"));
        Assert.Equal((long)E.ENOTDIR, await Call("xtime_vec", "f/x", "u1"));
    }

    [Fact]
    public async Task SetXtimeWritesEightBigEndianBytes()
    {
        var file = Dir.CreateFile("f");
        Assert.Null(await Call("set_xtime", "f", Uuid, new PyTuple(1700000000L, 7L)));
        Assert.Equal(new byte[] { 0x65, 0x53, 0xF1, 0x00, 0, 0, 0, 7 }, Xattrs.Get(file, XtimeName(Uuid)));
        Assert.Null(await Call("set_xtime", Encoding.ASCII.GetBytes("f"), Encoding.ASCII.GetBytes(Uuid), new List<object?> { 1L, 2L }));
        Assert.Equal(new PyTuple(1L, 2L), await Call("xtime", "f", Uuid));
    }

    [Fact]
    public async Task SetXtimeRefusesWhatDoesNotPack()
    {
        var file = Dir.CreateFile("f");
        foreach (var bad in new object[] { new PyTuple(-1L, 0L), new PyTuple(4294967296L, 0L), new PyTuple(1L, 2L, 3L), new PyTuple("a", 0L) })
        {
            var ex = await Fails("set_xtime", "f", Uuid, bad);
            Assert.Equal(("struct", "error"), (ex.Module, ex.TypeName));
        }
        Assert.Null(Xattrs.Get(file, XtimeName(Uuid)));
        await FailsWithOsError(E.ENOENT, "set_xtime", "missing", Uuid, new PyTuple(1L, 1L));
    }

    [Fact]
    public async Task SetXtimeVecWritesEveryUuid()
    {
        var file = Dir.CreateFile("f");
        var marks = new Dictionary<object, object?>(PyEquality.Instance)
        {
            ["u1"] = new PyTuple(1L, 1L),
            [Encoding.ASCII.GetBytes("u2")] = new PyTuple(2L, 2L),
        };
        Assert.Null(await Call("set_xtime_vec", "f", marks));
        Assert.Equal(new Xtime(1, 1).ToBytes(), Xattrs.Get(file, XtimeName("u1")));
        Assert.Equal(new Xtime(2, 2).ToBytes(), Xattrs.Get(file, XtimeName("u2")));
    }
}

public sealed class SetAttrTests : SlaveFixture
{
    [Fact]
    public async Task ChangesOwnerModeAndTimes()
    {
        var file = Dir.CreateFile("f");
        var attributes = new Dictionary<object, object?>(PyEquality.Instance)
        {
            ["own"] = new PyTuple(1234L, 5678L),
            ["mode"] = 0x8000L | 0x800L | 0x1A0L, // S_IFREG | S_ISUID | 0640: the type bits are dropped
            ["times"] = new PyTuple(1600000000L, 1600000001.5),
        };
        Assert.Null(await Call("setattr", "f", attributes));
        var st = FileInfoOf.LStat(file);
        Assert.Equal((1234u, 5678u), (st.st_uid, st.st_gid));
        Assert.Equal(0x800 | 0x1A0, (int)(st.st_mode & FilePermissions.ALLPERMS));
        Assert.Equal(1600000000L, st.st_atime);
        Assert.Equal((1600000001L, 500000000L), (st.st_mtime, st.st_mtime_nsec));
    }

    [Fact]
    public async Task MinusOneLeavesAnIdAloneAndFalsyValuesAreSkipped()
    {
        var file = Dir.CreateFile("f");
        Assert.Equal(0, Syscall.chmod(file, (FilePermissions)0x1A4));
        Assert.Null(await Call("setattr", Encoding.ASCII.GetBytes("f"), new Dictionary<object, object?>(PyEquality.Instance)
        {
            [Encoding.ASCII.GetBytes("own")] = new PyTuple(-1L, 99L),
            [Encoding.ASCII.GetBytes("mode")] = 0L,
            [Encoding.ASCII.GetBytes("times")] = null,
        }));
        var st = FileInfoOf.LStat(file);
        Assert.Equal((0u, 99u), (st.st_uid, st.st_gid));
        Assert.Equal(0x1A4, (int)(st.st_mode & FilePermissions.ALLPERMS));
    }

    [Fact]
    public async Task OnASymlinkOwnerAndTimesApplyToTheLinkAndModeIsSkipped()
    {
        var target = Dir.CreateFile("target");
        Assert.Equal(0, Syscall.chmod(target, (FilePermissions)0x180));
        var before = FileInfoOf.LStat(target);
        Dir.CreateSymlink("l", "target");

        Assert.Null(await Call("setattr", "l", new Dictionary<object, object?>(PyEquality.Instance)
        {
            ["own"] = new PyTuple(4321L, 8765L),
            ["mode"] = 0x1FFL,
            ["times"] = new PyTuple(1000L, 2000L),
        }));

        var link = FileInfoOf.LStat(RootPath("l"));
        Assert.Equal((4321u, 8765u), (link.st_uid, link.st_gid));
        Assert.Equal(2000L, link.st_mtime);
        var after = FileInfoOf.LStat(target);
        Assert.Equal(before.st_mode, after.st_mode);
        Assert.Equal((before.st_uid, before.st_gid), (after.st_uid, after.st_gid));
        Assert.Equal((before.st_mtime, before.st_mtime_nsec), (after.st_mtime, after.st_mtime_nsec));
    }

    [Fact]
    public async Task FailuresAreOsErrors()
    {
        Dir.CreateFile("f");
        var mode = new Dictionary<object, object?>(PyEquality.Instance) { ["mode"] = 0x1EDL };
        await FailsWithOsError(E.ENOENT, "setattr", "missing", mode);
        await FailsWithOsError(E.ENOTDIR, "setattr", "f/x", mode);
    }
}

public sealed class KeepAliveTests : SlaveFixture
{
    private static readonly Guid Peer = Guid.Parse("0123abcd-4567-89ef-0123-456789abcdef");

    [Fact]
    public async Task CountsCallsAndRecordsTheirTime()
    {
        Assert.Equal(0, Server.KeepAliveCount);
        Assert.Null(Server.LastKeepAlive);
        Assert.Equal(1L, await Call("keep_alive", (object?)null));
        Clock.Now = Clock.Now.AddSeconds(30);
        Assert.Equal(2L, await Call("keep_alive", new Dictionary<object, object?>()));
        Assert.Equal(2, Server.KeepAliveCount);
        Assert.Equal(Clock.Now, Server.LastKeepAlive);
        Assert.Empty(Xattrs.List(Dir.Path));
    }

    [Fact]
    public async Task APayloadWritesTheForeignMarkOnTheRoot()
    {
        var mark = new VolumeMark(1, 0, Peer, 0, new Xtime(1690000000, 250), 1700000120);
        Assert.Equal(1L, await Call("keep_alive", mark.ToWireDictionary()));
        var stored = Xattrs.Get(Dir.Path, "trusted.glusterfs.volume-mark.0123abcd-4567-89ef-0123-456789abcdef");
        Assert.Equal(mark.Encode(), stored);
        Assert.Equal(VolumeMark.ForeignLength, stored!.Length);
    }

    [Fact]
    public async Task AMalformedPayloadFailsWithoutCounting()
    {
        var payload = new VolumeMark(1, 0, Peer, 0, new Xtime(1, 1), 5).ToWireDictionary();
        payload.Remove("timeout");
        var ex = await Fails("keep_alive", payload);
        Assert.Equal(new PyException("exceptions", "KeyError", new PyTuple("timeout")), ex);

        payload["timeout"] = 5L;
        payload["uuid"] = "0123ABCD-4567-89EF-0123-456789ABCDEF";
        ex = await Fails("keep_alive", payload);
        Assert.Equal(("struct", "error"), (ex.Module, ex.TypeName));

        Assert.Equal(0, Server.KeepAliveCount);
        Assert.Empty(Xattrs.List(Dir.Path));
    }
}

public sealed class VolumeInfoTests : SlaveFixture
{
    private static readonly Guid Own = Guid.Parse("aaaaaaaa-0000-0000-0000-000000000001");
    private static readonly Guid Live = Guid.Parse("bbbbbbbb-0000-0000-0000-000000000002");
    private static readonly Guid Expired = Guid.Parse("cccccccc-0000-0000-0000-000000000003");

    [Fact]
    public async Task NativeVolumeInfoDecodesTheMarkOrAnswersNone()
    {
        Assert.Null(await Call("native_volume_info"));
        var mark = new VolumeMark(1, 0, Own, 0, new Xtime(1690000000, 9), null);
        Xattrs.Set(Dir.Path, "trusted.glusterfs.volume-mark", mark.Encode());
        var info = Assert.IsType<Dictionary<object, object?>>(await Call("native_volume_info"));
        Assert.Equal(mark.ToWireDictionary(), info);
        Assert.Equal("aaaaaaaa-0000-0000-0000-000000000001", info["uuid"]);

        Xattrs.Set(Dir.Path, "trusted.glusterfs.volume-mark", (mark with { Expiry = 1 }).Encode());
        await FailsWithOsError(E.ERANGE, "native_volume_info");
    }

    [Fact]
    public async Task ForeignVolumeInfosKeepsLiveMarksAndRemovesExpiredOnes()
    {
        var now = (uint)Clock.Now.ToUnixTimeSeconds();
        var live = new VolumeMark(1, 0, Live, 0, new Xtime(1, 2), now + 60);
        var expired = new VolumeMark(1, 0, Expired, 0, new Xtime(3, 4), now);
        Xattrs.Set(Dir.Path, XattrNames.ForeignVolumeMark(Live, Ns), live.Encode());
        Xattrs.Set(Dir.Path, XattrNames.ForeignVolumeMark(Expired, Ns), expired.Encode());
        Xattrs.Set(Dir.Path, "trusted.glusterfs.volume-mark", new VolumeMark(1, 0, Own, 0, new Xtime(5, 6), null).Encode());

        var infos = Assert.IsType<List<object?>>(await Call("foreign_volume_infos"));

        var info = Assert.IsType<Dictionary<object, object?>>(Assert.Single(infos));
        Assert.Equal(live.ToWireDictionary(), info);
        Assert.Equal((long)now + 60, info["timeout"]);
        Assert.Null(Xattrs.Get(Dir.Path, XattrNames.ForeignVolumeMark(Expired, Ns)));
        Assert.NotNull(Xattrs.Get(Dir.Path, XattrNames.ForeignVolumeMark(Live, Ns)));
        Assert.NotNull(Xattrs.Get(Dir.Path, "trusted.glusterfs.volume-mark"));

        Clock.Now = Clock.Now.AddSeconds(60);
        Assert.Empty(Assert.IsType<List<object?>>(await Call("foreign_volume_infos")));
        Assert.Null(Xattrs.Get(Dir.Path, XattrNames.ForeignVolumeMark(Live, Ns)));
    }

    [Fact]
    public async Task AKeepAliveMarkIsReadBackUntilItExpires()
    {
        var mark = new VolumeMark(1, 0, Live, 0, new Xtime(7, 8), (uint)Clock.Now.ToUnixTimeSeconds() + 10);
        await Call("keep_alive", mark.ToWireDictionary());
        var infos = Assert.IsType<List<object?>>(await Call("foreign_volume_infos"));
        Assert.Equal(mark, VolumeMark.FromWireDictionary(Assert.IsType<Dictionary<object, object?>>(Assert.Single(infos))));
    }
}

/// <summary><c>root_identity()</c>: what the slave root is, as plain wire values the master compares with its own.</summary>
public sealed class SlaveRootIdentityTests : SlaveFixture
{
    [Fact]
    public async Task AnswersTheRootsCanonicalPathAndChainAsPlainValues()
    {
        var answer = await Server.InvokeAsync(GeoSync.Engine.Session.RootIdentity.WireMethod, []);

        var identity = GeoSync.Engine.Session.RootIdentity.FromWire(answer);
        Assert.NotNull(identity);
        var local = GeoSync.Engine.Session.RootIdentity.Read(Server.Root);
        Assert.Equal(local.Path, identity.Path);
        Assert.Equal(local.Chain, identity.Chain);
        Assert.True(identity.Overlaps(local));
    }
}
