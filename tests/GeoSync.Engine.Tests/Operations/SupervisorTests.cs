using System.Diagnostics;
using GeoSync.Engine.Operations;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Operations;

/// <summary>The supervisor with real child processes (sleep, sh scripts): deaths, hangs, the control file, the log.</summary>
public sealed class SupervisorTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _stateDirectory = Directory.CreateTempSubdirectory("geosync-super-").FullName;
    private readonly ReplicationPaths _paths;
    private readonly List<int> _workerPids = [];

    public SupervisorTests() => _paths = new ReplicationPaths(_stateDirectory, "test-repl");

    public void Dispose()
    {
        // Only the workers these tests saw, by pid; normally they are gone already.
        foreach (var pid in _workerPids.Distinct())
        {
            if (IsRunning(pid)) Syscall.kill(pid, Signum.SIGKILL);
        }
        Directory.Delete(_stateDirectory, recursive: true);
    }

    private SupervisorOptions Options(params string[] worker) => new()
    {
        Paths = _paths,
        WorkerArgv = worker,
        PollInterval = TimeSpan.FromMilliseconds(50),
        StopTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>A worker that beats like geosync master does: touches the heartbeat file twice a second.</summary>
    private string[] BeatingWorker() =>
        ["/bin/sh", "-c", "echo beating; while :; do touch \"$0\"; sleep 0.2; done", _paths.HeartbeatFile];

    private static bool IsRunning(int pid) =>
        File.Exists($"/proc/{pid}/stat") && File.ReadAllText($"/proc/{pid}/stat") is var stat && stat[stat.LastIndexOf(')') + 2] is not ('Z' or 'X');

    private SupervisorRecord Record() => AtomicJsonFile.Read<SupervisorRecord>(_paths.SupervisorFile)!;

    private async Task<SupervisorRecord> WaitForAsync(Func<SupervisorRecord, bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            if (File.Exists(_paths.SupervisorFile) && Record() is { } record && condition(record))
            {
                if (record.WorkerPid is { } pid) _workerPids.Add(pid);
                return record;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"not within {Patience.TotalSeconds} s: {what}; record: {File.ReadAllText(_paths.SupervisorFile)}");
    }

    private static async Task StopAsync(Task run, CancellationTokenSource cancel)
    {
        await cancel.CancelAsync();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task AWorkerKilledWithSigkillIsRestartedAndTheCauseRecorded()
    {
        using var supervisor = new Supervisor(Options("sleep", "600"));
        using var cancel = new CancellationTokenSource();
        var run = supervisor.RunAsync(cancel.Token);
        var first = await WaitForAsync(r => r is { State: SupervisorStates.Active, WorkerPid: not null }, "the first worker runs");

        Syscall.kill(first.WorkerPid!.Value, Signum.SIGKILL);
        var second = await WaitForAsync(r => r is { State: SupervisorStates.Active, WorkerPid: not null } && r.WorkerPid != first.WorkerPid, "a second worker runs");

        Assert.Equal(1, second.Restarts);
        var restart = Assert.Single(second.RecentRestarts);
        Assert.Equal(137, restart.ExitCode);
        Assert.Contains("SIGKILL", restart.Cause, StringComparison.Ordinal);
        Assert.True(IsRunning(second.WorkerPid!.Value));
        var log = ReplicationLog.Read(_paths.LogFile);
        Assert.Contains(log, e => e is { Component: "supervisor", Level: ReplicationLogLevel.Warning } && e.Message.Contains("SIGKILL", StringComparison.Ordinal));

        await StopAsync(run, cancel);
        Assert.False(IsRunning(second.WorkerPid.Value));
        Assert.Equal(SupervisorStates.Stopped, Record().State);
        Assert.Null(Record().WorkerPid);
    }

    [Fact]
    public async Task AHungWorkerIsFoundByItsHeartbeatKilledAndRestarted()
    {
        var options = Options(BeatingWorker()) with { HangTimeout = TimeSpan.FromSeconds(2), StopTimeout = TimeSpan.FromSeconds(1) };
        using var supervisor = new Supervisor(options);
        using var cancel = new CancellationTokenSource();
        var run = supervisor.RunAsync(cancel.Token);
        var first = await WaitForAsync(r => r is { State: SupervisorStates.Active, WorkerPid: not null }, "the worker runs");

        // A worker that beats is left alone for longer than the hang bound.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(0, Record().Restarts);
        Assert.Equal(first.WorkerPid, Record().WorkerPid);

        var stoppedAt = Stopwatch.StartNew();
        Syscall.kill(first.WorkerPid!.Value, Signum.SIGSTOP);
        var second = await WaitForAsync(r => r is { State: SupervisorStates.Active, WorkerPid: not null } && r.WorkerPid != first.WorkerPid, "a new worker replaces the hung one");
        var detected = stoppedAt.Elapsed;

        var restart = Assert.Single(second.RecentRestarts);
        Assert.StartsWith("hung: no heartbeat for", restart.Cause, StringComparison.Ordinal);
        // SIGTERM stays pending on a stopped process: only the SIGKILL after the stop bound ends it.
        Assert.Equal(137, restart.ExitCode);
        Assert.False(IsRunning(first.WorkerPid.Value));
        // Hang bound 2 s + stop bound 1 s + the first backoff wait 1 s, and some slack for a loaded machine.
        Assert.InRange(detected, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10));

        await StopAsync(run, cancel);
    }

    [Fact]
    public async Task TheWorkersOutputGoesToTheLogWithItsLevel()
    {
        using var supervisor = new Supervisor(Options("/bin/sh", "-c", "echo 'turn 1: 3 files synced'; echo 'WARNING: the slave is slow' >&2; exec sleep 600"));
        using var cancel = new CancellationTokenSource();
        var run = supervisor.RunAsync(cancel.Token);
        await WaitForAsync(r => r.WorkerPid is not null, "the worker runs");
        var clock = Stopwatch.StartNew();
        while (ReplicationLog.Read(_paths.LogFile).Count(e => e.Component == "worker") < 2 && clock.Elapsed < Patience) await Task.Delay(50);

        await StopAsync(run, cancel);
        var worker = ReplicationLog.Read(_paths.LogFile).Where(e => e.Component == "worker").ToList();
        Assert.Contains(new ReplicationLogEntry(worker[0].Time, ReplicationLogLevel.Info, "worker", "turn 1: 3 files synced"), worker);
        Assert.Contains(worker, e => e is { Level: ReplicationLogLevel.Warning, Message: "the slave is slow" });
        Assert.All(ReplicationLog.Read(_paths.LogFile), e => Assert.Equal(TimeSpan.Zero, e.Time.Offset));
    }

    [Fact]
    public async Task PauseEndsTheWorkerCleanlyResumeStartsANewOneAndStopEndsTheSupervisor()
    {
        using var supervisor = new Supervisor(Options(BeatingWorker()));
        var run = supervisor.RunAsync();
        var first = await WaitForAsync(r => r is { State: SupervisorStates.Active, WorkerPid: not null }, "the worker runs");

        SupervisorControl.SetDesired(_paths, DesiredState.Paused);
        var paused = await WaitForAsync(r => r.State == SupervisorStates.Paused, "paused");
        Assert.Null(paused.WorkerPid);
        Assert.False(IsRunning(first.WorkerPid!.Value));
        Assert.Equal(0, paused.Restarts);
        Assert.Contains(ReplicationLog.Read(_paths.LogFile), e => e.Message.Contains($"ended (was killed by signal SIGTERM (15))", StringComparison.Ordinal));

        SupervisorControl.SetDesired(_paths, DesiredState.Running);
        var resumed = await WaitForAsync(r => r is { State: SupervisorStates.Active, WorkerPid: not null }, "resumed");
        Assert.NotEqual(first.WorkerPid, resumed.WorkerPid);
        Assert.Equal(0, resumed.Restarts);

        SupervisorControl.SetDesired(_paths, DesiredState.Stopped);
        await run.WaitAsync(Patience);
        Assert.False(IsRunning(resumed.WorkerPid!.Value));
        Assert.Equal(SupervisorStates.Stopped, Record().State);
    }

    [Fact]
    public async Task AWorkerThatIgnoresSigtermIsKilledAfterTheStopBound()
    {
        var options = Options("/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.1; done") with { StopTimeout = TimeSpan.FromSeconds(1) };
        using var supervisor = new Supervisor(options);
        using var cancel = new CancellationTokenSource();
        var run = supervisor.RunAsync(cancel.Token);
        var record = await WaitForAsync(r => r.WorkerPid is not null, "the worker runs");

        var clock = Stopwatch.StartNew();
        await StopAsync(run, cancel);

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Assert.False(IsRunning(record.WorkerPid!.Value));
        Assert.Contains(ReplicationLog.Read(_paths.LogFile), e => e.Level == ReplicationLogLevel.Warning && e.Message.StartsWith("killing what is left of the worker", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExitCodesAreCausesAndTheTotalOutlivesTheSupervisor()
    {
        using (var supervisor = new Supervisor(Options("/bin/sh", "-c", "exit 3")))
        {
            using var cancel = new CancellationTokenSource();
            var run = supervisor.RunAsync(cancel.Token);
            // 1 s, then 2 s: the second restart comes about 3 s after the first death.
            var record = await WaitForAsync(r => r.Restarts >= 2, "two restarts");
            await StopAsync(run, cancel);
            Assert.All(record.RecentRestarts, r => Assert.Equal(("exited with code 3", 3), (r.Cause, r.ExitCode)));
            Assert.Equal("exited with code 3", record.LastError);
        }

        using (var again = new Supervisor(Options("sleep", "600")))
        {
            using var cancel = new CancellationTokenSource();
            var run = again.RunAsync(cancel.Token);
            var record = await WaitForAsync(r => r is { State: SupervisorStates.Active, WorkerPid: not null }, "the worker runs");
            Assert.True(record.Restarts >= 2, "the count goes on from the previous supervisor's");
            Assert.Equal(Environment.ProcessId, record.SupervisorPid);
            await StopAsync(run, cancel);
        }
    }

    [Fact]
    public async Task ASecondSupervisorForTheSameReplicationIsRefused()
    {
        using var supervisor = new Supervisor(Options("sleep", "600"));
        using var cancel = new CancellationTokenSource();
        var run = supervisor.RunAsync(cancel.Token);
        await WaitForAsync(r => r.WorkerPid is not null, "the worker runs");
        Assert.True(SupervisorControl.IsSupervised(_paths));

        using var second = new Supervisor(Options("sleep", "600"));
        var refused = await Assert.ThrowsAsync<GeoSyncReplicationRunningException>(() => second.RunAsync());
        Assert.Contains("already has a supervisor", refused.Message, StringComparison.Ordinal);

        await StopAsync(run, cancel);
        Assert.False(SupervisorControl.IsSupervised(_paths));
    }

    [Fact]
    public void TheWorkerArgvNamesTheReplicationTheStateDirectoryAndTheHeartbeat()
    {
        Assert.Equal(
            ["/opt/geosync/geosync", "master", "--replication", "test-repl", "--state-dir", _paths.StateDirectory, "--heartbeat-file", _paths.HeartbeatFile],
            SupervisorControl.WorkerArgv("/opt/geosync/geosync", _paths));
    }
}
