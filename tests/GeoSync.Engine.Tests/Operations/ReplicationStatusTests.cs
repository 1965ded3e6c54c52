using GeoSync.Engine.Operations;
using GeoSync.Engine.Tests.Master;

namespace GeoSync.Engine.Tests.Operations;

public sealed class ReplicationStatusTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("geosync-status-").FullName;
    private readonly ManualTimeProvider _clock = new();
    private readonly HashSet<int> _running = [];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ReplicationStatusReader Reader() => new(_directory, _clock, (pid, _) => _running.Contains(pid));

    private ReplicationPaths Define(string name, string master = "file:///srv/m", string slave = "file:///srv/s")
    {
        var paths = new ReplicationPaths(_directory, name);
        Directory.CreateDirectory(paths.Directory);
        File.WriteAllText(paths.ConfigFile, $$"""{ "Master": "{{master}}", "Slave": "{{slave}}", "Options": { "sync-jobs": 3 } }""");
        return paths;
    }

    private MasterStateRecord Worker(MasterLoopState state, int pid = 100) => new()
    {
        Master = "file:///srv/m",
        Slave = "file:///srv/s",
        State = state,
        ProcessId = pid,
        FilesSynced = 12,
        LastSynced = _clock.GetUtcNow(),
    };

    [Fact]
    public void ADefinedReplicationThatNeverRanIsCreated()
    {
        Define("fresh");
        var status = Assert.Single(Reader().ReadAll());
        Assert.Equal("fresh", status.Name);
        Assert.Equal(ReplicationState.Created, status.State);
        Assert.Equal("file:///srv/m", status.Master);
        Assert.Null(status.LagSeconds);
        Assert.Null(status.Crawl);
    }

    [Fact]
    public void LagIsNowMinusLastSyncedInWholeSeconds()
    {
        var paths = Define("r");
        AtomicJsonFile.Write(paths.StateFile, Worker(MasterLoopState.Active) with { ProcessId = 100 });
        _running.Add(100);
        _clock.Advance(TimeSpan.FromSeconds(42.7));
        var status = Reader().ReadReplication("r")!;
        Assert.Equal(ReplicationState.Active, status.State);
        Assert.Equal(42, status.LagSeconds);
        Assert.Equal(100, status.WorkerPid);
        Assert.Equal(12, status.FilesSynced);
    }

    [Fact]
    public void ASupervisedReplicationShowsTheSupervisorsStateRefinedByItsWorkers()
    {
        var paths = Define("r");
        AtomicJsonFile.Write(paths.SupervisorFile, new SupervisorRecord { State = "Active", SupervisorPid = 50, WorkerPid = 100, Restarts = 3, LastError = "killed by SIGKILL" });
        AtomicJsonFile.Write(paths.StateFile, Worker(MasterLoopState.Faulty) with { LastError = "slave gone", LastErrorId = "SessionFaulty" });
        _running.UnionWith([50, 100]);

        var status = Reader().ReadReplication("r")!;
        Assert.Equal(ReplicationState.Faulty, status.State);
        Assert.Equal(3, status.Restarts);
        Assert.Equal(50, status.SupervisorPid);
        Assert.Equal(100, status.WorkerPid);
        Assert.Equal("slave gone", status.LastError);
        Assert.Equal(ErrorHints.ForErrorId("SessionFaulty"), status.Hint);

        _running.Remove(50);
        var dead = Reader().ReadReplication("r")!;
        Assert.Equal(ReplicationState.Defunct, dead.State);
        Assert.Null(dead.SupervisorPid);
        Assert.Contains("geosync start r", dead.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void APausedSupervisorIsPausedAndAStoppedOneStopped()
    {
        var paths = Define("r");
        AtomicJsonFile.Write(paths.SupervisorFile, new SupervisorRecord { State = "Paused", SupervisorPid = 50 });
        _running.Add(50);
        Assert.Equal(ReplicationState.Paused, Reader().ReadReplication("r")!.State);
        AtomicJsonFile.Write(paths.SupervisorFile, new SupervisorRecord { State = "Stopped", SupervisorPid = 50 });
        _running.Clear();
        Assert.Equal(ReplicationState.Stopped, Reader().ReadReplication("r")!.State);
    }

    [Fact]
    public void AnAdHocPairIsListedAfterTheReplicationsAndIsDefunctWhenItsProcessIsGone()
    {
        Define("r");
        AtomicJsonFile.Write(Path.Combine(_directory, MasterStateFile.PairFileName("file:///a", "file:///b")),
            Worker(MasterLoopState.Active, pid: 7) with { Master = "file:///a", Slave = "file:///b", LastErrorId = "SlaveNotEmpty", LastError = "x" });
        File.WriteAllText(Path.Combine(_directory, "a--b.1234.failures.json"), "{}");

        var all = Reader().ReadAll().ToList();
        Assert.Equal(["r", null], all.Select(s => s.Name));
        var pair = all[1];
        Assert.Equal(ReplicationState.Defunct, pair.State);
        Assert.Null(pair.WorkerPid);
        Assert.Contains("geosync master", pair.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnreadableRecordIsReportedAndTheOthersAreStillListed()
    {
        Define("good");
        var bad = Define("bad");
        File.WriteAllText(bad.StateFile, "{ not json");
        File.WriteAllText(Path.Combine(_directory, "broken.json"), "[]");
        var problems = new List<string>();

        var all = Reader().ReadAll((path, _) => problems.Add(path)).ToList();

        Assert.Equal(["bad", "good"], all.Select(s => s.Name));
        Assert.Equal([bad.StateFile, Path.Combine(_directory, "broken.json")], problems);
    }

    [Fact]
    public void ACheckpointIsCompleteOnceLastSyncedReachesItWithTheWorkersCompletionTime()
    {
        var paths = Define("r");
        var at = _clock.GetUtcNow().AddSeconds(-5);
        AtomicJsonFile.Write(paths.CheckpointFile, new CheckpointRecord(at, at));
        AtomicJsonFile.Write(paths.StateFile, Worker(MasterLoopState.Stopped) with { LastSynced = at.AddSeconds(-1) });
        var behind = Reader().ReadReplication("r")!;
        Assert.Equal(at, behind.Checkpoint);
        Assert.False(behind.CheckpointCompleted);
        Assert.Null(behind.CheckpointCompletedAt);

        var completedAt = at.AddSeconds(3);
        AtomicJsonFile.Write(paths.StateFile, Worker(MasterLoopState.Stopped) with { LastSynced = at.AddSeconds(1), Checkpoint = at, CheckpointCompletedAt = completedAt });
        var done = Reader().ReadReplication("r")!;
        Assert.True(done.CheckpointCompleted);
        Assert.Equal(completedAt, done.CheckpointCompletedAt);
    }

    [Fact]
    public void JsonHasThePropertyNamesAsKeysAndUtcTimes()
    {
        var status = new ReplicationStatus
        {
            Name = "r",
            Master = "file:///srv/m",
            Slave = "file:///srv/s",
            State = ReplicationState.Active,
            LastSynced = new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.FromHours(1)),
            Path = "/x",
        };
        var json = ReplicationStatusJson.Serialize([status]);
        Assert.Contains("\"LastSynced\": \"2026-12-07T14:00:00.000Z\"", json, StringComparison.Ordinal);
        Assert.Contains("\"State\": \"Active\"", json, StringComparison.Ordinal);
        Assert.Contains("\"CheckpointCompleted\": false", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitingReturnsWhenTheCheckpointCompletesAndTimesOutOtherwise()
    {
        var complete = false;
        ReplicationStatus Read() => new()
        {
            Name = "r",
            Master = "m",
            Slave = "s",
            State = ReplicationState.Active,
            Checkpoint = DateTimeOffset.UnixEpoch,
            CheckpointCompleted = Volatile.Read(ref complete),
            Path = "/x",
        };
        var polls = 0;
        var waiting = CheckpointWait.WaitAsync("r", Read, TimeSpan.FromSeconds(10), _ => Interlocked.Increment(ref polls), _clock);
        await AdvanceUntil(() => Volatile.Read(ref polls) >= 3, waiting);
        Assert.False(waiting.IsCompleted);
        Volatile.Write(ref complete, true);
        await AdvanceUntil(() => waiting.IsCompleted, waiting);
        Assert.True((await waiting).CheckpointCompleted);

        Volatile.Write(ref complete, false);
        var timingOut = CheckpointWait.WaitAsync("r", Read, TimeSpan.FromSeconds(5), clock: _clock);
        await AdvanceUntil(() => timingOut.IsCompleted, timingOut);
        var timeout = await Assert.ThrowsAsync<GeoSyncCheckpointTimeoutException>(() => timingOut);
        Assert.Contains("did not complete within 5 s", timeout.Message, StringComparison.Ordinal);

        var none = CheckpointWait.WaitAsync("r", () => Read() with { Checkpoint = null }, null, clock: _clock);
        await Assert.ThrowsAsync<GeoSyncCheckpointNotSetException>(() => none);
    }

    // Moves the manual clock on in poll-sized steps until the condition holds (the waiter's delays run on it).
    private async Task AdvanceUntil(Func<bool> condition, Task waiting)
    {
        for (var step = 0; step < 200 && !condition(); step++)
        {
            _clock.Advance(CheckpointWait.PollInterval);
            await Task.WhenAny(waiting, Task.Delay(20));
        }
        Assert.True(condition(), "the condition did not come true");
    }
}
