using System.IO.Hashing;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Verify;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Verify;

/// <summary>The slave's verify_entries and checksum_entries on a real directory, and a whole verify through them.</summary>
public sealed class VerifyMethodsTests : SlaveFixture
{
    [Fact]
    public async Task VerifyEntriesListsEveryEntryWithItsAttributes()
    {
        Dir.CreateFile("f", "hello");
        Assert.Equal(0, Syscall.chmod(RootPath("f"), FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));
        Dir.CreateDirectory("d");
        Dir.CreateSymlink("l", "f");
        Assert.Equal(0, Syscall.mkfifo(RootPath("p"), FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));

        var answer = (IReadOnlyList<object?>)(await Call("verify_entries", ".", false))!;
        var byName = answer.Cast<IReadOnlyList<object?>>().ToDictionary(t => (string)t[0]!);
        Assert.Equal(["d", "f", "l", "p"], byName.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((long)(0x8000 | 0x180), byName["f"][1]);
        Assert.Equal(5L, byName["f"][4]);
        Assert.Null(byName["f"][6]);
        Assert.Null(byName["f"][8]);
        Assert.Equal(0x4000L, (long)byName["d"][1]! & 0xF000);
        Assert.Equal("f", byName["l"][6]);
        Assert.Equal(0x1000L, (long)byName["p"][1]! & 0xF000);
        Assert.Equal(0, Syscall.lstat(RootPath("f"), out var stat));
        Assert.Equal(stat.st_mtime * 1_000_000_000L + stat.st_mtime_nsec, byName["f"][5]);
    }

    [Fact]
    public async Task VerifyEntriesGivesADevicesNumberAsLstatDoes()
    {
        // 1:3 is /dev/null's number; creating a device node needs root, which these tests run as.
        Assert.Equal(0, Syscall.mknod(RootPath("null"), FilePermissions.S_IFCHR | FilePermissions.S_IRUSR | FilePermissions.S_IWUSR, 0x103));
        Assert.Equal(0, Syscall.lstat(RootPath("null"), out var stat));
        var entry = ((IReadOnlyList<object?>)(await Call("verify_entries", ".", false))!).Cast<IReadOnlyList<object?>>().Single();
        Assert.Equal(0x2000L, (long)entry[1]! & 0xF000);
        Assert.Equal((long)stat.st_rdev, entry[7]);
        Assert.Equal("char device 1:3", new ReplicaEntry("null", ReplicaEntryType.CharacterDevice, 0, 0, 0, 0, 0, null, (long)entry[7]!).Describe());
    }

    [Fact]
    public async Task VerifyEntriesReadsUserXattrsOnlyWhenAsked()
    {
        Dir.CreateFile("f");
        Xattrs.Set(RootPath("f"), "user.colour", "blue"u8);
        Xattrs.Set(RootPath("f"), "trusted.glusterfs.internal", "x"u8);
        var plain = ((IReadOnlyList<object?>)(await Call("verify_entries", ".", false))!).Cast<IReadOnlyList<object?>>().Single();
        Assert.Null(plain[8]);
        var with = ((IReadOnlyList<object?>)(await Call("verify_entries", ".", true))!).Cast<IReadOnlyList<object?>>().Single();
        var xattrs = Assert.IsAssignableFrom<IReadOnlyDictionary<object, object?>>(with[8]);
        Assert.Equal(Convert.ToHexString("blue"u8), Assert.Single(xattrs, x => (string)x.Key == "user.colour").Value);
        Assert.Single(xattrs);
    }

    [Fact]
    public async Task ChecksumEntriesHashesOnTheSlaveAndGivesAnErrnoForWhatItCannotHash()
    {
        Dir.CreateDirectory("d");
        Dir.CreateFile("d/a", "content");
        Dir.CreateSymlink("d/l", "a");
        var answer = ((IReadOnlyList<object?>)(await Call("checksum_entries", "d", new List<object?> { "a", "l", "gone" }, "xxh128"))!)
            .Cast<IReadOnlyList<object?>>().ToList();
        Assert.Equal(new PyTuple("a", Convert.ToHexString(XxHash128.Hash("content"u8)), 0L), answer[0]);
        Assert.Equal(new PyTuple("l", null, 40L), answer[1]); // ELOOP: a symlink is never followed
        Assert.Equal(new PyTuple("gone", null, (long)E.ENOENT), answer[2]);
    }

    [Fact]
    public async Task ChecksumEntriesRefusesAnotherAlgorithm()
    {
        Dir.CreateDirectory("d");
        var ex = await Fails("checksum_entries", "d", new List<object?> { "a" }, "sha256");
        Assert.Equal("ValueError", ex.TypeName);
        Assert.Contains("xxh128", (string)ex.Args[0]!);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("..")]
    [InlineData("")]
    public async Task ChecksumEntriesRefusesNamesThatLeaveTheDirectory(string name)
    {
        Dir.CreateDirectory("d");
        await IsUnsafe("checksum_entries", "d", new List<object?> { name }, "xxh128");
    }

    [Fact]
    public async Task BothMethodsRefuseADirectoryThatIsMissingOrASymlink()
    {
        Dir.CreateDirectory("real");
        Dir.CreateSymlink("link", "real");
        await FailsWithOsError(E.ENOENT, "verify_entries", "missing", false);
        await FailsWithOsError(E.ENOTDIR, "verify_entries", "link", false);
        await FailsWithOsError(E.ENOTDIR, "checksum_entries", "link", new List<object?> { "x" }, "xxh128");
    }

    [Fact]
    public async Task AVerifyThroughTheSlaveMethodsFindsWhatDiffers()
    {
        using var master = new TempDirectory("geosync-verify-master-");
        foreach (var root in new[] { master, Dir })
        {
            root.CreateDirectory("d");
            root.CreateFile("d/same", "12345");
            root.CreateFile("d/edited", "abcde");
            root.CreateSymlink("l", "d/same");
        }
        File.WriteAllText(RootPath("d/edited"), "abXde");
        File.SetLastWriteTimeUtc(RootPath("d/edited"), File.GetLastWriteTimeUtc(master.Combine("d/edited")));
        foreach (var path in new[] { "d", "d/same", "d/edited" })
        {
            File.SetLastWriteTimeUtc(RootPath(path), File.GetLastWriteTimeUtc(master.Combine(path)));
        }
        master.CreateFile("only-on-master");

        var slave = new SlaveReplicaSide(WireCall(Server), withXattrs: false, "file:///slave");
        var differences = new List<ReplicaDifference>();
        var result = await new ReplicaVerifier(new LocalReplicaSide(master.Path, false), slave, new ReplicaVerifyOptions { Checksum = true })
            .VerifyAsync(differences.Add);
        Assert.Equal([DifferenceKind.Missing, DifferenceKind.Content], differences.Select(d => d.Kind));
        Assert.Equal(["only-on-master", "d/edited"], differences.Select(d => d.Path));
        Assert.Equal(10, result.BytesHashed);
    }

    [Fact]
    public async Task ASlaveWithoutTheMethodsIsRefusedClearly()
    {
        var gsyncd = new SlaveReplicaSide((method, _, _) =>
            throw new RemoteAttributeException(method, new PyException("exceptions", "AttributeError", new PyTuple($"no attribute '{method}'"))),
            withXattrs: false, "ssh://host::svol");
        var ex = await Assert.ThrowsAsync<GeoSyncException>(() => gsyncd.ListAsync("."));
        Assert.StartsWith("verify needs a GeoSync slave", ex.Message);
        Assert.Contains("ssh://host::svol", ex.Message);
    }

    [Fact]
    public async Task VerifyListingGivesTheEntriesOfVerifyEntries()
    {
        Dir.CreateFile("f", "hello");
        Dir.CreateDirectory("d");
        Dir.CreateSymlink("l", "f");
        Assert.Equal(0, Syscall.mkfifo(RootPath("p"), FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));
        Assert.Equal(0, Syscall.mknod(RootPath("null"), FilePermissions.S_IFCHR | FilePermissions.S_IRUSR, 0x103));
        Xattrs.Set(RootPath("f"), "user.colour", "blue"u8);

        foreach (var withXattrs in new[] { false, true })
        {
            var listing = VerifyListing.Decode(Assert.IsType<string>(await Call("verify_listing", ".", withXattrs)), what => new FormatException(what));
            var entries = (IReadOnlyList<object?>)(await Call("verify_entries", ".", withXattrs))!;
            Assert.Equal(entries.Count, listing.Count);
            foreach (var entry in listing)
            {
                var tuple = entries.Cast<IReadOnlyList<object?>>().Single(t => (string)t[0]! == entry.Name);
                Assert.Equal((long)VerifyListing.ModeOf(entry), tuple[1]);
                Assert.Equal([entry.Uid, entry.Gid, entry.Size, entry.ModifyTimeNs], tuple.Skip(2).Take(4).Cast<long>());
                Assert.Equal(entry.LinkTarget, tuple[6]);
                Assert.Equal(entry.DeviceNumber, tuple[7]);
                var xattrs = (IReadOnlyDictionary<object, object?>?)tuple[8];
                Assert.Equal(xattrs?.Select(x => ((string)x.Key, (string)x.Value!)).Order(), entry.Xattrs?.Select(x => (x.Key, x.Value)).Order());
            }
            Assert.Equal(withXattrs, listing.Single(e => e.Name == "f").Xattrs is { Count: 1 });
        }
    }

    [Fact]
    public async Task ChecksumListingHashesAndGivesAnErrnoForWhatItCannotHash()
    {
        Dir.CreateDirectory("d");
        Dir.CreateFile("d/a", "content");
        Dir.CreateSymlink("d/l", "a");
        string[] names = ["a", "l", "gone"];
        var answer = Assert.IsType<string>(await Call("checksum_listing", "d", VerifyListing.EncodeNames(names), "xxh128"));
        Assert.Equal(
            [new("a", Convert.ToHexString(XxHash128.Hash("content"u8)), 0), new("l", null, 40), new EntryDigest("gone", null, E.ENOENT)],
            VerifyListing.DecodeDigests(answer, names, what => new FormatException(what)));
    }

    [Theory]
    [InlineData("../x\0")]
    [InlineData("..\0")]
    [InlineData("\0")]
    [InlineData("a\0\0")]
    [InlineData("a/b\0")]
    public async Task ChecksumListingRefusesNamesThatLeaveTheDirectory(string names)
    {
        Dir.CreateDirectory("d");
        await IsUnsafe("checksum_listing", "d", names, "xxh128");
    }

    [Fact]
    public async Task ChecksumListingRefusesUnterminatedNamesAnotherAlgorithmAndTooManyNames()
    {
        Dir.CreateDirectory("d");
        Assert.Equal("ValueError", (await Fails("checksum_listing", "d", "a", "xxh128")).TypeName);
        Assert.Contains("xxh128", (string)(await Fails("checksum_listing", "d", "a\0", "sha256")).Args[0]!);
        var tooMany = VerifyListing.EncodeNames(Enumerable.Range(0, 4097).Select(i => $"f{i}").ToList());
        Assert.Contains("at most 4096", (string)(await Fails("checksum_listing", "d", tooMany, "xxh128")).Args[0]!);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("l/inside")]
    public async Task TheListingMethodsRefuseAPathOutsideTheRoot(string path)
    {
        Dir.CreateDirectory("real");
        Dir.CreateSymlink("l", "real");
        await IsUnsafe("verify_listing", path, false);
        await IsUnsafe("checksum_listing", path, "a\0", "xxh128");
    }

    [Fact]
    public async Task TheListingMethodsFailWithTheErrnoOfADirectoryThatIsMissingOrASymlink()
    {
        Dir.CreateDirectory("real");
        Dir.CreateSymlink("link", "real");
        await FailsWithOsError(E.ENOENT, "verify_listing", "missing", false);
        await FailsWithOsError(E.ENOTDIR, "verify_listing", "link", false);
        await FailsWithOsError(E.ENOTDIR, "checksum_listing", "link", "x\0", "xxh128");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AVerifyOverARealRepceConnectionFindsEveryKindOfDifference(bool slaveHasListingMethods)
    {
        using var master = new TempDirectory("geosync-verify-master-");
        foreach (var root in new[] { master, Dir })
        {
            root.CreateDirectory("d");
            root.CreateFile("d/same", "12345");
            root.CreateFile("d/edited", "abcde");
            root.CreateFile("d/resized", "abc");
            root.CreateFile("d/mode", "m");
            root.CreateFile("d/owner", "o");
            root.CreateFile("d/xattr", "x");
            root.CreateSymlink("l", "d/same");
        }
        master.CreateFile("d/type");
        Dir.CreateDirectory("d/type");
        master.CreateSymlink("link", "one");
        Dir.CreateSymlink("link", "two");
        master.CreateFile("only-on-master");
        Dir.CreateFile("d/only-on-slave");
        File.WriteAllText(RootPath("d/edited"), "abXde");
        File.WriteAllText(RootPath("d/resized"), "abcd");
        Assert.Equal(0, Syscall.chmod(RootPath("d/mode"), FilePermissions.S_IRUSR));
        Assert.Equal(0, Syscall.lchown(RootPath("d/owner"), 4321, 4321));
        Xattrs.Set(master.Combine("d/xattr"), "user.colour", "blue"u8);
        foreach (var path in new[] { "d", "d/same", "d/edited", "d/mode", "d/owner", "d/xattr", "d/type", "." })
        {
            File.SetLastWriteTimeUtc(RootPath(path), File.GetLastWriteTimeUtc(master.Combine(path)));
        }
        File.SetLastWriteTimeUtc(RootPath("d/resized"), File.GetLastWriteTimeUtc(master.Combine("d/resized")).AddSeconds(-10));

        using var pipes = Rpc.DuplexPipes.Create();
        IRepceHandler handler = slaveHasListingMethods ? Server : new WithoutListingMethods(Server);
        var serving = new RepceServer(handler).ServeAsync(pipes.ServerInput, pipes.ServerOutput);
        var calls = new List<string>();
        var differences = new List<ReplicaDifference>();
        ReplicaVerifyResult result;
        await using (var client = new RepceClient(pipes.ClientInput, pipes.ClientOutput, new RepceClientOptions { LeaveOpen = true }))
        {
            var slave = new SlaveReplicaSide((method, args, ct) =>
            {
                lock (calls) calls.Add(method);
                return client.CallAsync(method, args, cancellationToken: ct);
            }, withXattrs: true, "ssh://host:/slave");
            result = await new ReplicaVerifier(new LocalReplicaSide(master.Path, true), slave, new ReplicaVerifyOptions { Checksum = true, Xattrs = true })
                .VerifyAsync(differences.Add);
        }
        pipes.ClientOutput.Dispose();
        Assert.Equal(RepceServeOutcome.EndOfInput, (await serving.WaitAsync(TimeSpan.FromMinutes(1))).Outcome);

        (string, DifferenceKind)[] expected =
            [
                ("d/edited", DifferenceKind.Content), ("d/mode", DifferenceKind.Mode), ("d/only-on-slave", DifferenceKind.Extra),
                ("d/owner", DifferenceKind.Owner), ("d/resized", DifferenceKind.Size), ("d/resized", DifferenceKind.Mtime),
                ("d/type", DifferenceKind.Type), ("d/xattr", DifferenceKind.Xattr), ("link", DifferenceKind.Link),
                ("only-on-master", DifferenceKind.Missing),
            ];
        Assert.Equal(expected.Order(), differences.Select(d => (d.Path, d.Kind)).Order());
        Assert.Equal(0, result.Unreadable);
        var methods = calls.Distinct().Order(StringComparer.Ordinal).ToList();
        if (slaveHasListingMethods)
        {
            Assert.Equal(["checksum_listing", "verify_listing"], methods);
        }
        else
        {
            Assert.Contains("verify_entries", methods);
            Assert.Contains("checksum_entries", methods);
        }
    }

    /// <summary>A GeoSync slave from before the listing methods: it answers AttributeError for them.</summary>
    private sealed class WithoutListingMethods(SlaveServer server) : IRepceHandler
    {
        public bool HasMethod(string method) => !method.EndsWith("_listing", StringComparison.Ordinal) && server.HasMethod(method);

        public ValueTask<object?> InvokeAsync(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken = default) =>
            server.InvokeAsync(method, args, cancellationToken);
    }

    private static SlaveCall WireCall(SlaveServer server) => async (method, args, ct) =>
    {
        try
        {
            return await server.InvokeAsync(method, args, ct);
        }
        catch (RepceCallException ex)
        {
            throw WireSlaveChannel.AsRemote(method, ex.Exception);
        }
    };
}
