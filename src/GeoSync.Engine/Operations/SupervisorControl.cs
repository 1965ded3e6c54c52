using System.Diagnostics;
using System.Globalization;
using GeoSync.Engine.Transport;
using Mono.Unix.Native;

namespace GeoSync.Engine.Operations;

/// <summary>
/// What <c>geosync start|stop|pause|resume</c> and Start-/Stop-/Suspend-/Resume-GeoSyncReplication do: write the
/// control file and start or wait for the replication's supervisor (docs/operations.md).
/// </summary>
public static class SupervisorControl
{
    /// <summary>How long <see cref="Start"/> waits for the supervisor to start its worker.</summary>
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="Stop"/> waits for the supervisor to end (it gives its worker 30 s) before killing.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How many of the log's last lines a start-up error quotes.</summary>
    private const int LogLinesQuoted = 10;

    /// <summary>
    /// The worker the supervisor runs for a replication: this geosync's master loop for the stored definition, with the
    /// heartbeat the supervisor watches. The one place that names the worker's command line.
    /// </summary>
    public static IReadOnlyList<string> WorkerArgv(string geosyncExecutable, ReplicationPaths paths) =>
        [geosyncExecutable, .. ReplicationWorker.Arguments(paths), "--heartbeat-file", paths.HeartbeatFile];

    /// <summary>The supervisor's own command line (what <see cref="Start"/> detaches and a systemd unit runs).</summary>
    public static IReadOnlyList<string> MonitorArgv(string geosyncExecutable, ReplicationPaths paths) =>
        [geosyncExecutable, "monitor", paths.Name, "--state-dir", paths.StateDirectory];

    /// <summary>Throws <see cref="GeoSyncReplicationNotFoundException"/> unless the replication is defined.</summary>
    public static void RequireDefined(ReplicationPaths paths)
    {
        if (!File.Exists(paths.ConfigFile)) throw new GeoSyncReplicationNotFoundException(paths.Name, paths.StateDirectory);
    }

    /// <summary>Whether a supervisor runs for the replication (someone holds its lock).</summary>
    public static bool IsSupervised(ReplicationPaths paths)
    {
        if (!File.Exists(paths.SupervisorLockFile)) return false;
        using var probe = Supervisor.AcquireLock(paths);
        return probe is null;
    }

    /// <summary>The supervisor record, or null when no supervisor ever ran.</summary>
    public static SupervisorRecord? ReadRecord(ReplicationPaths paths) => AtomicJsonFile.Read<SupervisorRecord>(paths.SupervisorFile);

    /// <summary>Writes what the administrator asks for; a running supervisor follows within a poll interval.</summary>
    public static void SetDesired(ReplicationPaths paths, DesiredState desired) =>
        AtomicJsonFile.Write(paths.ControlFile, new ReplicationControl(desired, DateTimeOffset.UtcNow));

    /// <summary>
    /// Starts the replication's supervisor detached from the caller (a new session, no terminal, input and output
    /// away from it: it survives the shell that started it and that shell's terminal) and returns its record once it
    /// has started the worker. Throws <see cref="GeoSyncReplicationRunningException"/> when one already runs and
    /// <see cref="GeoSyncSupervisorStartException"/>, quoting the log, when it does not get that far in time.
    /// </summary>
    public static SupervisorRecord Start(ReplicationPaths paths, string geosyncExecutable, TimeSpan? timeout = null, IReadOnlyList<string>? extraMonitorArguments = null, CancellationToken cancellationToken = default)
    {
        RequireDefined(paths);
        if (IsSupervised(paths))
        {
            var pid = ReadRecord(paths)?.SupervisorPid;
            throw new GeoSyncReplicationRunningException(paths.Name, pid,
                $"Replication '{paths.Name}' is already running (supervisor process {pid?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}). Use 'geosync resume {paths.Name}' if it is paused, or 'geosync stop {paths.Name}' first to restart it.");
        }
        SetDesired(paths, DesiredState.Running);

        // setsid(1) gives the supervisor a session of its own (no controlling terminal, so no SIGHUP when the terminal
        // closes); sh only points its input and output at /dev/null first. The arguments are passed as positional
        // parameters, never pasted into the script text.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var word in (string[])["-c", "exec setsid \"$@\" </dev/null >/dev/null 2>&1", "geosync-start", .. MonitorArgv(geosyncExecutable, paths), .. extraMonitorArguments ?? []])
        {
            start.ArgumentList.Add(word);
        }
        using var monitor = Process.Start(start) ?? throw new GeoSyncSupervisorStartException(paths.Name, "/bin/sh did not start");
        var limit = timeout ?? DefaultStartTimeout;
        var waited = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = TryReadRecord(paths);
            if (record is { WorkerPid: not null } && record.SupervisorPid == monitor.Id) return record;
            if (monitor.HasExited)
            {
                throw StartFailed(paths, $"The supervisor of replication '{paths.Name}' ended before it started the worker ({Supervisor.DescribeExit(monitor.ExitCode)}).");
            }
            if (record is { State: SupervisorStates.Faulty } && record.SupervisorPid == monitor.Id)
            {
                throw StartFailed(paths, $"The supervisor of replication '{paths.Name}' (process {monitor.Id}) could not start the worker: {record.LastError} It keeps trying; 'geosync stop {paths.Name}' ends it.");
            }
            if (waited.Elapsed > limit)
            {
                throw StartFailed(paths, $"The supervisor of replication '{paths.Name}' (process {monitor.Id}) did not start the worker within {limit.TotalSeconds:0} s; 'geosync stop {paths.Name}' ends it.");
            }
            Thread.Sleep(100);
        }
    }

    /// <summary>
    /// Asks the supervisor to stop (the control file says Stopped: it ends its worker cleanly, then itself) and waits
    /// up to <paramref name="timeout"/>; then kills the supervisor and its worker's process tree. Returns the record,
    /// which says Stopped.
    /// </summary>
    public static SupervisorRecord? Stop(ReplicationPaths paths, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        RequireDefined(paths);
        SetDesired(paths, DesiredState.Stopped);
        var limit = timeout ?? DefaultStopTimeout;
        var waited = Stopwatch.StartNew();
        while (IsSupervised(paths) && waited.Elapsed < limit)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Thread.Sleep(100);
        }
        var record = TryReadRecord(paths);
        if (!IsSupervised(paths))
        {
            // The supervisor lets go of its lock just before its process ends: a stop returns once the process is gone.
            if (record is { SupervisorPid: > 0 } ended) WaitForProcessExit(ended.SupervisorPid, ended.SupervisorStartTime, TimeSpan.FromSeconds(10));
            if (record is not null && record.State != SupervisorStates.Stopped)
            {
                // The supervisor was killed earlier and could not say so; its worker may still run.
                using (var log = new ReplicationLog(paths.LogFile))
                {
                    Supervisor.EndLeftoverWorker(record, SupervisorOptions.DefaultStopTimeout, message => log.Write(ReplicationLogLevel.Warning, "stop", message));
                }
                record = record with { State = SupervisorStates.Stopped, WorkerPid = null, WorkerStartTime = null, Updated = DateTimeOffset.UtcNow };
                AtomicJsonFile.Write(paths.SupervisorFile, record);
            }
            return record;
        }

        // Still there after the bound: kill it and what it started.
        var victims = new List<ProcessTree.Member>();
        if (record is { SupervisorPid: > 0 } r) victims.AddRange(ProcessTree.Snapshot(r.SupervisorPid));
        ProcessTree.Signal(victims, Signum.SIGKILL);
        var killed = Stopwatch.StartNew();
        while (IsSupervised(paths) && killed.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(50);
        record = (record ?? new SupervisorRecord { State = SupervisorStates.Stopped }) with
        {
            State = SupervisorStates.Stopped,
            WorkerPid = null,
            WorkerStartTime = null,
            LastError = $"killed after not stopping within {limit.TotalSeconds:0} s",
            Updated = DateTimeOffset.UtcNow,
        };
        AtomicJsonFile.Write(paths.SupervisorFile, record);
        using (var log = new ReplicationLog(paths.LogFile))
        {
            log.Write(ReplicationLogLevel.Warning, "stop", $"the supervisor did not stop within {limit.TotalSeconds:0} s; killed processes {string.Join(", ", victims.Select(m => m.Pid))}");
        }
        return record;
    }

    private static void WaitForProcessExit(int pid, DateTimeOffset? startTime, TimeSpan limit)
    {
        var waited = Stopwatch.StartNew();
        while (ReplicationActivity.IsAlive(pid, startTime) && waited.Elapsed < limit) Thread.Sleep(20);
    }

    /// <summary>
    /// Asks the supervisor to pause (it ends its worker cleanly; the slave's xtimes keep the position) and, when one
    /// runs, waits until it says Paused. Without a supervisor only the wish is recorded.
    /// </summary>
    public static SupervisorRecord? Pause(ReplicationPaths paths, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        RequireDefined(paths);
        SetDesired(paths, DesiredState.Paused);
        return WaitForState(paths, r => r.State == SupervisorStates.Paused, timeout ?? DefaultStopTimeout, "pause", cancellationToken);
    }

    /// <summary>Asks a paused supervisor to run its worker again and waits until it has started it.</summary>
    public static SupervisorRecord? Resume(ReplicationPaths paths, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        RequireDefined(paths);
        SetDesired(paths, DesiredState.Running);
        return WaitForState(paths, r => r.State != SupervisorStates.Paused, timeout ?? DefaultStartTimeout, "resume", cancellationToken);
    }

    private static SupervisorRecord? WaitForState(ReplicationPaths paths, Func<SupervisorRecord, bool> reached, TimeSpan limit, string verb, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (IsSupervised(paths))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryReadRecord(paths) is { } record && reached(record)) return record;
            if (waited.Elapsed > limit)
            {
                throw new GeoSyncException($"The supervisor of replication '{paths.Name}' did not {verb} within {limit.TotalSeconds:0} s; see 'geosync log {paths.Name}'.");
            }
            Thread.Sleep(100);
        }
        return TryReadRecord(paths);
    }

    private static SupervisorRecord? TryReadRecord(ReplicationPaths paths)
    {
        try
        {
            return ReadRecord(paths);
        }
        catch (GeoSyncException)
        {
            return null;
        }
    }

    private static GeoSyncSupervisorStartException StartFailed(ReplicationPaths paths, string message)
    {
        var lines = ReplicationLog.Read(paths.LogFile, LogLinesQuoted);
        var quoted = lines.Count == 0 ? " The log is empty." : $" The log's last lines:{Environment.NewLine}{string.Join(Environment.NewLine, lines)}";
        return new GeoSyncSupervisorStartException(paths.Name, message + quoted);
    }
}
