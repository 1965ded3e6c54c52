using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Master;

/// <summary>The typed slave channel over the wire methods, against a real in-process slave server.</summary>
public sealed class CrawlSlaveChannelTests : IDisposable
{
    private const string Uuid = "0f0e0d0c-0b0a-0908-0706-050403020100";

    private readonly TempDirectory _root = new("geosync-channel-");
    private readonly PosixXattrStore _xattrs = new();
    private readonly WireSlaveChannel _channel;

    public CrawlSlaveChannelTests()
    {
        var server = new SlaveServer(_root.Path, _xattrs, XattrNames.TrustedNamespace, options: new SlaveServerOptions { ServesGlusterVolume = false });
        _channel = WireSlaveChannel.InProcess(server);
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task LstatEntriesGivesEveryEntrysTypeModeOwnerSizeTimesAndTarget()
    {
        _root.CreateDirectory("d/sub");
        _root.CreateFile("d/file", "12345");
        Assert.Equal(0, Syscall.chmod(_root.Combine("d/file"), (FilePermissions)0b110_100_000));
        Assert.Equal(0, Syscall.lchown(_root.Combine("d/file"), 321, 654));
        _root.CreateSymlink("d/link", "../elsewhere");
        Assert.Equal(0, Syscall.mkfifo(_root.Combine("d/fifo"), FilePermissions.DEFFILEMODE));
        var local = new DirectoryMasterTree(_root.Path);

        var entries = (await _channel.LstatEntriesAsync("d")).ToDictionary(e => e.Name, e => e.Stat);

        Assert.Equal(["fifo", "file", "link", "sub"], entries.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, stat) in entries) Assert.Equal(local.Lstat("d/" + name)! with { AccessTimeNs = 0 }, stat with { AccessTimeNs = 0 });
        Assert.Equal(new EntryStat(EntryType.Regular, 0b110_100_000, 321, 654, 5, entries["file"].AccessTimeNs, entries["file"].ModifyTimeNs, null), entries["file"]);
        Assert.Equal(EntryType.Symlink, entries["link"].Type);
        Assert.Equal("../elsewhere", entries["link"].LinkTarget);
        Assert.Equal(EntryType.Special, entries["fifo"].Type);
        Assert.Equal(EntryType.Directory, entries["sub"].Type);
    }

    [Fact]
    public async Task LstatEntriesFailsLikeEntries()
    {
        _root.CreateFile("file");
        _root.CreateDirectory("real");
        _root.CreateSymlink("link", "real");

        Assert.Equal(20, (await Assert.ThrowsAsync<RemoteOsException>(() => _channel.LstatEntriesAsync("file"))).Errno);
        Assert.Equal(20, (await Assert.ThrowsAsync<RemoteOsException>(() => _channel.LstatEntriesAsync("link"))).Errno);
        Assert.Equal(2, (await Assert.ThrowsAsync<RemoteOsException>(() => _channel.LstatEntriesAsync("missing"))).Errno);
        await Assert.ThrowsAsync<RemoteValueException>(() => _channel.LstatEntriesAsync("../x"));
        await Assert.ThrowsAsync<RemoteValueException>(() => _channel.LstatEntriesAsync("link/inside"));
        Assert.Equal(20, (await Assert.ThrowsAsync<RemoteOsException>(() => _channel.EntriesAsync("link"))).Errno);
    }

    [Fact]
    public async Task XtimeReadingsCarryTheErrnoThatStandsForNone()
    {
        _root.CreateDirectory("d");

        Assert.Equal(2, (await _channel.XtimeAsync("missing", Uuid)).Errno);
        var unstamped = await _channel.XtimeAsync("d", Uuid);
        Assert.True(unstamped.IsUnstamped);
        Assert.Null(unstamped.Value);

        await _channel.SetXtimeAsync("d", Uuid, new Xtime(1700000000, 42));

        Assert.Equal(new Xtime(1700000000, 42), (await _channel.XtimeAsync("d", Uuid)).Value);
        Assert.Equal(new Xtime(1700000000, 42).ToBytes(), _xattrs.Get(_root.Combine("d"), $"trusted.glusterfs.{Uuid}.xtime"));
    }

    [Fact]
    public async Task SetattrAppliesOwnerModeAndNanosecondTimes()
    {
        _root.CreateDirectory("d");
        var mtime = 1_600_000_000_123_456_789L;

        await _channel.SetattrAsync("d", new SlaveAttributes { Owner = (11, 22), Mode = 0b111_010_001, Times = (1_500_000_000_000_000_000L, mtime) });

        var stat = new DirectoryMasterTree(_root.Path).Lstat("d")!;
        Assert.Equal((11L, 22L, 0b111_010_001), (stat.Uid, stat.Gid, stat.Mode));
        Assert.InRange(stat.ModifyTimeNs, mtime - 1000, mtime + 1000);
    }

    [Fact]
    public async Task AnEmptyPurgeSetIsNeverSent()
    {
        _root.CreateFile("d-file");
        var calls = new List<string>();
        var channel = new WireSlaveChannel((method, _, _) =>
        {
            calls.Add(method);
            return Task.FromResult<object?>(null);
        });

        await Assert.ThrowsAsync<ArgumentException>(() => channel.PurgeAsync(".", []));
        Assert.Empty(calls);
        await channel.PurgeAsync(".", ["d-file"]);
        Assert.Equal(["purge"], calls);
    }

    [Fact]
    public async Task Python2ByteStringAnswersAreRead()
    {
        var channel = new WireSlaveChannel((method, _, _) => Task.FromResult<object?>(method switch
        {
            "entries" => new List<object?> { "a"u8.ToArray(), new byte[] { 0x63, 0xE9 } },
            "xtime" => 61L,
            _ => null,
        }));

        Assert.Equal(["a", "c\uDCE9"], await channel.EntriesAsync("."));
        Assert.True((await channel.XtimeAsync(".", Uuid)).IsUnstamped);
    }

    [Theory]
    [InlineData("entries")]
    [InlineData("xtime")]
    [InlineData("lstat_entries")]
    public async Task AnAnswerOfTheWrongShapeIsAProtocolError(string method)
    {
        var channel = new WireSlaveChannel((_, _, _) => Task.FromResult<object?>(new PyTuple("not", "this", 3.5)));

        var ex = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => method switch
        {
            "entries" => (Task)channel.EntriesAsync("dir"),
            "xtime" => channel.XtimeAsync("dir", Uuid),
            _ => channel.LstatEntriesAsync("dir"),
        });
        Assert.Contains($"{method}('dir')", ex.Message, StringComparison.Ordinal);
    }
}
