using System.Collections.Concurrent;
using GeoSync.Engine.Master;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Tests.Xattrs;

namespace GeoSync.Engine.Tests.Session;

/// <summary>A directory master and an in-process file:// slave with real rsync: the whole session without GlusterFS.</summary>
public sealed class DirectorySessionTests : IDisposable
{
    private readonly TempDirectory _master = new("geosync-session-master-");
    private readonly TempDirectory _slave = new("geosync-session-slave-");
    private readonly ConcurrentQueue<(SessionLogLevel Level, string Message)> _log = new();

    public void Dispose()
    {
        _master.Dispose();
        _slave.Dispose();
    }

    private SessionOptions Options(int timeoutSeconds = 0) => new()
    {
        Master = "file://" + _master.Path,
        Slave = "file://" + _slave.Path,
        AllowDirectoryMaster = true,
        TimeoutSeconds = timeoutSeconds,
        Log = (level, message) => _log.Enqueue((level, message)),
    };

    [Fact]
    public async Task ASessionWatchesItsDirectoryMasterAndAChangeEndsTheWaitUnlessWatchingIsDisabled()
    {
        _master.CreateDirectory("a");
        await using (var session = await GeoSyncSession.OpenAsync(Options()))
        {
            Assert.True(session.WatchesMaster);
            Assert.True((await session.RunTurnAsync()).Converged);
            Assert.False(await session.WaitForChangeAsync(TimeSpan.FromMilliseconds(100)));

            var waiting = session.WaitForChangeAsync(TimeSpan.FromSeconds(30));
            _master.CreateFile("a/new.txt", "new");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.True(await waiting);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the wait ended {clock.Elapsed} after the change");
            var turn = await session.RunTurnAsync();
            Assert.Equal(1, turn.FilesSynced);
            Assert.Equal(1, turn.DirectoriesScanned);
        }

        await using var unwatched = await GeoSyncSession.OpenAsync(Options() with { Watch = MasterWatch.Disabled });
        Assert.False(unwatched.WatchesMaster);
        _master.CreateFile("a/other.txt", "other");
        Assert.False(await unwatched.WaitForChangeAsync(TimeSpan.FromMilliseconds(300)));
        // Every turn compares the whole tree: the root and a.
        var full = await unwatched.RunTurnAsync();
        Assert.Equal(2, full.DirectoriesScanned);
        Assert.Equal(1, full.FilesSynced);
    }

    [Fact]
    public async Task ATurnCopiesTheTreeAndTheNextOneSendsOnlyWhatChanged()
    {
        _master.CreateDirectory("a/b/c");
        _master.CreateFile("a/one.txt", "one");
        _master.CreateFile("a/b/c/deep.txt", "deep");
        _master.CreateFile("top.txt", "top");
        _master.CreateSymlink("link", "a/one.txt");

        await using var session = await GeoSyncSession.OpenAsync(Options());
        Assert.Equal(SessionState.Active, session.State);
        Assert.Null(session.MasterVolumeId);
        Assert.Equal(SlaveMode.InProcess, session.SlaveMode);
        Assert.Equal(_slave.Path, Assert.IsType<LocalDirectoryTarget>(session.RsyncTarget).Path);
        Assert.Equal(Environment.ProcessId, session.SlaveProcessId);
        Assert.StartsWith("Session", session.Name, StringComparison.Ordinal);

        var first = await session.RunTurnAsync();
        Assert.Equal(3, first.FilesSynced);
        Assert.True(first.Converged);
        Assert.Equal("deep", File.ReadAllText(_slave.Combine("a/b/c/deep.txt")));
        Assert.Equal("a/one.txt", new FileInfo(_slave.Combine("link")).LinkTarget);

        var idle = await session.RunTurnAsync();
        Assert.Equal(0, idle.FilesSynced);
        Assert.False(idle.ChangesSeen);

        File.WriteAllText(_master.Combine("top.txt"), "changed top");
        File.Delete(_master.Combine("a/one.txt"));
        var second = await session.RunTurnAsync();
        Assert.Equal(1, second.FilesSynced);
        Assert.Equal(1, second.EntriesPurged);
        Assert.Equal("changed top", File.ReadAllText(_slave.Combine("top.txt")));
        Assert.False(File.Exists(_slave.Combine("a/one.txt")));

        Assert.Equal(3, session.TurnsCompleted);
        Assert.Equal(4, session.FilesSynced);
        Assert.Same(second, session.LastTurn);
        Assert.Null(session.CurrentTurn);
    }

    [Fact]
    public async Task AVerifyOnlySessionComparesButNeitherWatchesNorWritesNorRunsTurns()
    {
        _master.CreateDirectory("a");
        _master.CreateFile("a/one.txt", "one");
        _slave.CreateDirectory("a");
        Directory.SetLastWriteTimeUtc(_slave.Combine("a"), Directory.GetLastWriteTimeUtc(_master.Combine("a")));
        Directory.SetLastWriteTimeUtc(_slave.Path, Directory.GetLastWriteTimeUtc(_master.Path));
        var slaveBefore = Directory.GetFileSystemEntries(_slave.Path, "*", SearchOption.AllDirectories);

        await using var session = await GeoSyncSession.OpenForVerifyAsync(Options(timeoutSeconds: 120));
        Assert.Equal(SessionState.Active, session.State);
        Assert.False(session.WatchesMaster);
        // An in-process slave has no watchdog to feed, and a verify tells the slave nothing.
        Assert.Equal(0, session.KeepAlivesSent);

        var differences = new List<GeoSync.Engine.Verify.ReplicaDifference>();
        var result = await session.CreateVerifier().VerifyAsync(differences.Add);
        var missing = Assert.Single(differences);
        Assert.Equal("a/one.txt", missing.Path);
        Assert.Equal(GeoSync.Engine.Verify.DifferenceKind.Missing, missing.Kind);
        Assert.Equal(2, result.DirectoriesCompared);

        await Assert.ThrowsAsync<InvalidOperationException>(() => session.RunTurnAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => session.PlanTurnAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => session.RepairAsync(["a/one.txt"]));
        Assert.Equal(SessionState.Active, session.State);
        Assert.Equal(slaveBefore, Directory.GetFileSystemEntries(_slave.Path, "*", SearchOption.AllDirectories));
        // Nor did it claim the slave (the first turn's mark on its root).
        Assert.DoesNotContain(new GeoSync.Engine.Xattrs.PosixXattrStore().List(_slave.Path),
            name => name.StartsWith("trusted.", StringComparison.Ordinal) || name.StartsWith("user.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StoppingEndsTheSessionAndLaterTurnsAreRefused()
    {
        var session = await GeoSyncSession.OpenAsync(Options());
        await session.StopAsync();
        Assert.Equal(SessionState.Stopped, session.State);
        var error = await Assert.ThrowsAsync<GeoSyncSessionException>(() => session.RunTurnAsync());
        Assert.Equal(SessionFailure.Stopped, error.Reason);
        await session.StopAsync(); // idempotent
    }

    [Fact]
    public async Task KeepAlivesGoOutAtOnceAndEveryHalfTimeout()
    {
        await using var session = await GeoSyncSession.OpenAsync(Options(timeoutSeconds: 2));
        Assert.Equal(1, session.KeepAlivesSent);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.InRange(session.KeepAlivesSent, 2, 4);
        Assert.NotNull(session.LastKeepAlive);
        Assert.Equal(SessionState.Active, session.State);
    }

    [Fact]
    public async Task ADirectoryMasterNeedsTheExplicitFlag()
    {
        var error = await Assert.ThrowsAsync<GeoSyncUrlException>(() => GeoSyncSession.OpenAsync(Options() with { AllowDirectoryMaster = false }));
        Assert.Contains("cannot work with", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARemoteSlaveCannotBeServedInProcess()
    {
        var error = await Assert.ThrowsAsync<GeoSyncSessionException>(() => GeoSyncSession.OpenAsync(Options() with
        {
            Slave = "ssh://root@127.0.0.1:/tmp/x",
            SlaveMode = SlaveMode.InProcess,
        }));
        Assert.Equal(SessionFailure.OpenFailed, error.Reason);
        Assert.Contains("only be reached over ssh", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChildThatDiesBeforeTheHandshakeIsReportedWithItsExitAndStderr()
    {
        var error = await Assert.ThrowsAsync<GeoSyncSessionException>(() => GeoSyncSession.OpenAsync(Options() with
        {
            SlaveMode = SlaveMode.Child,
            SlaveCommand = ["sh", "-c", "echo 'no such volume here' >&2; exit 3", "geosync-slave"],
        }));
        Assert.Equal(SessionFailure.OpenFailed, error.Reason);
        Assert.Contains("returned with 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("no such volume here", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProgressIsVisibleWhileATurnRuns()
    {
        for (var i = 0; i < 200; i++) _master.CreateFile($"f{i:D3}", new string('x', 1000));
        await using var session = await GeoSyncSession.OpenAsync(Options());
        var turn = session.RunTurnAsync();
        var seen = new List<TurnProgress>();
        while (!turn.IsCompleted)
        {
            if (session.CurrentTurn is { } progress) seen.Add(progress);
            await Task.Delay(5);
        }
        var result = await turn;
        Assert.Equal(200, result.FilesSynced);
        Assert.NotEmpty(seen);
        Assert.All(seen, p => Assert.Equal(1, p.Turn));
        Assert.All(seen, p => Assert.InRange(p.FilesSynced, 0, 200));
    }
}
