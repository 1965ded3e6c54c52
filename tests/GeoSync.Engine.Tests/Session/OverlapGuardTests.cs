using System.Collections.Concurrent;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Session;
using GeoSync.Engine.Tests.Xattrs;

namespace GeoSync.Engine.Tests.Session;

/// <summary>Overlapping roots are refused before anything is written; a session refuses the first sync into a foreign slave.</summary>
public sealed class OverlapGuardTests : IDisposable
{
    private readonly TempDirectory _dir = new("geosync-overlap-");
    private readonly ConcurrentQueue<(SessionLogLevel Level, string Message)> _log = new();

    public void Dispose() => _dir.Dispose();

    private static RootIdentity Id(string path, params (long Dev, long Ino)[] chain) =>
        new("boot", path, chain.Select(e => new RootElement(e.Dev, e.Ino, null)).ToList());

    [Fact]
    public void EachRelationIsNamedWithBothRoots()
    {
        var master = Id("/m", (1, 2), (1, 10));
        var inner = Id("/m/s", (1, 2), (1, 10), (1, 11));

        var slaveInside = Assert.Throws<GeoSyncSessionException>(() => OverlapGuard.Check("file:///m", master, "file:///m/s", inner));
        var masterInside = Assert.Throws<GeoSyncSessionException>(() => OverlapGuard.Check("file:///m/s", inner, "file:///m", master));
        var same = Assert.Throws<GeoSyncSessionException>(() => OverlapGuard.Check("file:///m", master, "file:///link", Id("/m", (1, 2), (1, 10))));

        Assert.All([slaveInside, masterInside, same], e => Assert.Equal(SessionFailure.ReplicaOverlap, e.Reason));
        Assert.Contains("the slave lies inside the master: master file:///m (root /m) and slave file:///m/s (root /m/s)", slaveInside.Message);
        Assert.Contains("the master lies inside the slave", masterInside.Message);
        Assert.Contains("are the same directory", same.Message);
        OverlapGuard.Check("file:///m", master, "file:///x", Id("/x", (1, 2), (1, 30)));
    }

    [Fact]
    public async Task ASlaveWithoutTheMethodIsNotCheckedAndSaysSo()
    {
        var master = Id("/m", (1, 2), (1, 10));

        await OverlapGuard.CheckAsync("file:///m", master, "ssh://h:/s",
            _ => throw new RemoteAttributeException(RootIdentity.WireMethod, new PyException("exceptions", "AttributeError", new PyTuple("no root_identity"))),
            (l, m) => _log.Enqueue((l, m)), default);

        Assert.Contains(_log, e => e.Level == SessionLogLevel.Verbose && e.Message.Contains("not checked"));
    }

    [Fact]
    public async Task AMalformedAnswerIsAProtocolError()
    {
        await Assert.ThrowsAsync<GeoSyncProtocolException>(() => OverlapGuard.CheckAsync("file:///m", Id("/m", (1, 2)), "ssh://h:/s",
            _ => Task.FromResult<object?>(42L), (_, _) => { }, default));
    }

    [Fact]
    public async Task ASessionWithItsSlaveInsideItsMasterDoesNotOpenAndWritesNothing()
    {
        _dir.CreateDirectory("m/replica");
        _dir.CreateFile("m/file.txt", "data");
        _dir.CreateSymlink("alias", _dir.Combine("m"));
        var before = Snapshot();

        var refused = await Assert.ThrowsAsync<GeoSyncSessionException>(() => GeoSyncSession.OpenAsync(new SessionOptions
        {
            Master = "file://" + _dir.Combine("alias"),
            Slave = "file://" + _dir.Combine("m/../m/replica"),
            AllowDirectoryMaster = true,
            TimeoutSeconds = 4,
        }));

        Assert.Equal(SessionFailure.ReplicaOverlap, refused.Reason);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task TheFirstTurnIntoAForeignSlaveIsRefusedAndTheSessionStaysUsable()
    {
        _dir.CreateDirectory("m");
        _dir.CreateDirectory("s");
        _dir.CreateFile("m/file.txt", "data");
        _dir.CreateFile("s/theirs.txt", "theirs");
        var before = Snapshot();
        var options = new SessionOptions
        {
            Master = "file://" + _dir.Combine("m"),
            Slave = "file://" + _dir.Combine("s"),
            AllowDirectoryMaster = true,
            TimeoutSeconds = 0,
        };

        await using (var session = await GeoSyncSession.OpenAsync(options))
        {
            var refused = await Assert.ThrowsAsync<GeoSyncSessionException>(() => session.RunTurnAsync());
            Assert.Equal(SessionFailure.SlaveNotEmpty, refused.Reason);
            Assert.Equal(SessionState.Active, session.State);
            Assert.Equal(before, Snapshot());
        }

        await using (var forced = await GeoSyncSession.OpenAsync(options with { Force = true }))
        {
            var turn = await forced.RunTurnAsync();
            Assert.Equal(1, turn.FilesSynced);
            Assert.Equal(1, turn.EntriesPurged);
        }
        Assert.False(File.Exists(_dir.Combine("s/theirs.txt")));

        // Claimed now: a later session needs no -Force, whatever the slave holds.
        _dir.CreateFile("m/second.txt", "more");
        await using var later = await GeoSyncSession.OpenAsync(options);
        Assert.Equal(1, (await later.RunTurnAsync()).FilesSynced);
    }

    /// <summary>Every path under the test directory with its content (symlinks by target).</summary>
    private List<string> Snapshot() =>
        Directory.EnumerateFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories)
            .Select(p => new FileInfo(p) is { LinkTarget: { } target } ? $"{p} -> {target}"
                : File.Exists(p) ? $"{p}: {File.ReadAllText(p)}" : p + "/")
            .Order(StringComparer.Ordinal)
            .ToList();
}
