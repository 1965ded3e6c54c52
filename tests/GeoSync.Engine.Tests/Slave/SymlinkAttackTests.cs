using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Slave;

/// <summary>
/// docs/gsyncd-flaws.md, #3: symlinks planted inside the root must not let any method reach outside it. Layout:
/// base/root (the slave root) with root/evil -> outside (absolute), root/evil2 -> .. (= base), root/dir/evil3 -> outside,
/// root/evilfile -> outside/secret; base/sibling beside the root; outside a separate temp directory.
/// </summary>
public sealed class SymlinkAttackTests : IDisposable
{
    private const string Uuid = "11111111-2222-3333-4444-555555555555";
    private const string Ns = XattrNames.TrustedNamespace;

    private readonly TempDirectory _base = new("geosync-attack-");
    private readonly TempDirectory _outside = new("geosync-outside-");
    private readonly PosixXattrStore _xattrs = new();
    private readonly string _root;
    private readonly SlaveServer _server;

    public SymlinkAttackTests()
    {
        _root = _base.CreateDirectory("root");
        _base.CreateDirectory("sibling/inner");
        _base.CreateFile("sibling/inner/file", "sibling data");

        _outside.CreateDirectory("sub");
        var secret = _outside.CreateFile("secret", "secret data");
        Assert.Equal(0, Syscall.chmod(secret, (FilePermissions)0x180)); // 0600
        _xattrs.Set(secret, XtimeNameFor(Uuid), new Xtime(99, 99).ToBytes());
        _outside.CreateFile("sub/file", "more");
        Assert.Equal(0, Syscall.chmod(_outside.Path, (FilePermissions)0x1C0)); // 0700

        _base.CreateSymlink("root/evil", _outside.Path);
        _base.CreateSymlink("root/evil2", "..");
        _base.CreateDirectory("root/dir");
        _base.CreateSymlink("root/dir/evil3", _outside.Path);
        _base.CreateSymlink("root/evilfile", secret);

        _server = new SlaveServer(_root, _xattrs, Ns, new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1700000000)));
    }

    public void Dispose()
    {
        _base.Dispose();
        _outside.Dispose();
    }

    public static TheoryData<string, object?[]> CallsThroughPlantedLinks()
    {
        var mode = new Dictionary<object, object?>(PyEquality.Instance) { ["mode"] = 0x1FFL, ["own"] = new PyTuple(1L, 1L), ["times"] = new PyTuple(1L, 1L) };
        var marks = new Dictionary<object, object?>(PyEquality.Instance) { [Uuid] = new PyTuple(1L, 1L) };
        var data = new TheoryData<string, object?[]>();
        foreach (var via in new[] { "evil", "evil2/sibling", "dir/evil3", "./evil", "evil2" })
        {
            data.Add("entries", [$"{via}/sub"]);
            data.Add("entries", [$"{via}/."]);
            data.Add("entries", [$"{via}/"]);
            data.Add("purge", [$"{via}/secret"]);
            data.Add("purge", [$"{via}/sub"]);
            data.Add("purge", [$"{via}/inner"]);
            data.Add("purge", [via, new HashSet<object>(PyEquality.Instance) { "secret", "sub" }]);
            data.Add("purge", [".", new List<object?> { $"{via}/secret" }]);
            data.Add("mkdir", [$"{via}/new"]);
            data.Add("mkdir", [$"{via}/sub"]);
            data.Add("symlink", ["/etc/passwd", $"{via}/newlink"]);
            data.Add("symlink", ["x", $"{via}/secret"]);
            data.Add("xtime", [$"{via}/secret", Uuid]);
            data.Add("xtime_vec", [$"{via}/secret", Uuid, "u2"]);
            data.Add("set_xtime", [$"{via}/secret", Uuid, new PyTuple(1L, 1L)]);
            data.Add("set_xtime", [$"{via}/sub", Uuid, new PyTuple(1L, 1L)]);
            data.Add("set_xtime_vec", [$"{via}/secret", marks]);
            data.Add("setattr", [$"{via}/secret", mode]);
            data.Add("setattr", [$"{via}/.", mode]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CallsThroughPlantedLinks))]
    public async Task CallsThroughAPlantedSymlinkAreRefusedAndTouchNothingOutside(string method, object?[] args)
    {
        var before = Snapshot();

        var ex = await Assert.ThrowsAsync<RepceCallException>(() => _server.InvokeAsync(method, args).AsTask());

        Assert.Equal(new PyException("exceptions", "ValueError", new PyTuple("unsafe path")), ex.Exception);
        AssertSameTree(before, Snapshot());
    }

    [Fact]
    public async Task EntriesOfTheLinkItselfIsENOTDIRAndReadsNothing()
    {
        var ex = await Assert.ThrowsAsync<RepceCallException>(() => _server.InvokeAsync("entries", ["evil"]).AsTask());
        Assert.Equal((long)20, ex.Exception.Args[0]);
    }

    [Fact]
    public async Task PurgeOfTheLinkRemovesOnlyTheLink()
    {
        var before = Snapshot();
        Assert.Null(await _server.InvokeAsync("purge", ["evil"]));
        Assert.Null(await _server.InvokeAsync("purge", [".", new HashSet<object>(PyEquality.Instance) { "evil2", "evilfile" }]));
        Assert.Null(await _server.InvokeAsync("purge", ["dir"]));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
        AssertSameTree(before, Snapshot());
    }

    [Fact]
    public async Task MkdirOverALinkToADirectoryReplacesTheLinkNotTheTargetsContents()
    {
        var before = Snapshot();
        Assert.Null(await _server.InvokeAsync("mkdir", ["evil"]));
        Assert.Null(await _server.InvokeAsync("mkdir", ["evil2"]));

        Assert.False(FileInfoOf.IsSymlink(Path.Combine(_root, "evil")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "evil")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "evil2")));
        AssertSameTree(before, Snapshot());
    }

    [Fact]
    public async Task SymlinkOverALinkReplacesTheLink()
    {
        var before = Snapshot();
        Assert.Null(await _server.InvokeAsync("symlink", ["nowhere", "evil"]));
        Assert.Equal("nowhere", new FileInfo(Path.Combine(_root, "evil")).LinkTarget);
        AssertSameTree(before, Snapshot());
    }

    [Fact]
    public async Task SetattrOnAFinalSymlinkLeavesTheTargetAlone()
    {
        var before = Snapshot();
        var attributes = new Dictionary<object, object?>(PyEquality.Instance)
        {
            ["mode"] = 0x1FFL,
            ["own"] = new PyTuple(4242L, 4242L),
            ["times"] = new PyTuple(12345L, 12345L),
        };
        Assert.Null(await _server.InvokeAsync("setattr", ["evilfile", attributes]));
        Assert.Null(await _server.InvokeAsync("setattr", ["evil", attributes]));

        var link = FileInfoOf.LStat(Path.Combine(_root, "evilfile"));
        Assert.Equal((4242u, 4242u, 12345L), (link.st_uid, link.st_gid, link.st_mtime));
        AssertSameTree(before, Snapshot());
    }

    [Fact]
    public async Task XtimesOfAFinalSymlinkAreTheLinksOwn()
    {
        var before = Snapshot();
        Assert.Equal((long)61, await _server.InvokeAsync("xtime", ["evilfile", Uuid]));
        Assert.Null(await _server.InvokeAsync("set_xtime", ["evilfile", Uuid, new PyTuple(5L, 5L)]));
        Assert.Equal(new PyTuple(5L, 5L), await _server.InvokeAsync("xtime", ["evilfile", Uuid]));
        Assert.Equal(new Xtime(5, 5).ToBytes(), _xattrs.Get(Path.Combine(_root, "evilfile"), XtimeNameFor(Uuid)));
        AssertSameTree(before, Snapshot());
    }

    private static string XtimeNameFor(string uuid) => $"{Ns}.{uuid}.xtime";

    /// <summary>Everything an attack could change outside the root: the outside directory and the root's siblings.</summary>
    private Dictionary<string, string> Snapshot()
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(_outside.Path, "outside", entries, skip: null);
        Walk(_base.Path, "base", entries, skip: _root);
        return entries;
    }

    private void Walk(string path, string label, Dictionary<string, string> entries, string? skip)
    {
        var st = FileInfoOf.LStat(path);
        var xattrs = string.Join(",", _xattrs.List(path).Order(StringComparer.Ordinal)
            .Select(n => n + "=" + Convert.ToHexString(_xattrs.Get(path, n) ?? [])));
        var type = st.st_mode & FilePermissions.S_IFMT;
        var content = type == FilePermissions.S_IFREG ? File.ReadAllText(path)
            : type == FilePermissions.S_IFLNK ? "-> " + new FileInfo(path).LinkTarget
            : "";
        entries[label] = $"mode={Convert.ToString((int)st.st_mode, 8)} uid={st.st_uid} gid={st.st_gid} mtime={st.st_mtime}.{st.st_mtime_nsec} size={st.st_size} xattrs=[{xattrs}] {content}";
        if (type != FilePermissions.S_IFDIR) return;
        foreach (var child in Directory.EnumerateFileSystemEntries(path))
        {
            if (child == skip) continue;
            Walk(child, label + "/" + Path.GetFileName(child), entries, skip);
        }
    }

    private static void AssertSameTree(Dictionary<string, string> before, Dictionary<string, string> after)
    {
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, state) in before) Assert.Equal(state, after[name]);
    }
}
