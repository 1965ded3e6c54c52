using System.ComponentModel;
using System.Diagnostics;
using GeoSync.Engine.Transport;
using Mono.Unix.Native;

namespace GeoSync.Engine.Operations;

/// <summary>The states a supervisor writes in <see cref="SupervisorRecord.State"/>.</summary>
public static class SupervisorStates
{
    /// <summary>The supervisor is up and about to start its worker.</summary>
    public const string Starting = "Starting";

    /// <summary>The worker runs.</summary>
    public const string Active = "Active";

    /// <summary>The worker died or hung and was ended; the next one starts after the backoff.</summary>
    public const string Faulty = "Faulty";

    /// <summary>Paused by the administrator: no worker runs, the supervisor waits for Running or Stopped.</summary>
    public const string Paused = "Paused";

    /// <summary>The supervisor ended (asked to, by the control file or a signal).</summary>
    public const string Stopped = "Stopped";
}

/// <summary>How a <see cref="Supervisor"/> runs and watches its worker; every bound has a default.</summary>
public sealed record SupervisorOptions
{
    /// <summary>A worker whose heartbeat is older than this is taken as hung (it must exceed the keep-alive interval).</summary>
    public static readonly TimeSpan DefaultHangTimeout = TimeSpan.FromMinutes(5);

    /// <summary>How long a worker may take to stop cleanly after SIGTERM before what is left of it is killed.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(30);

    public required ReplicationPaths Paths { get; init; }

    /// <summary>The worker's program and arguments (<see cref="SupervisorControl.WorkerArgv"/> for a replication).</summary>
    public required IReadOnlyList<string> WorkerArgv { get; init; }

    public TimeSpan HangTimeout { get; init; } = DefaultHangTimeout;
    public TimeSpan StopTimeout { get; init; } = DefaultStopTimeout;

    /// <summary>How often the worker, its heartbeat and the control file are looked at.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A worker that lived this long before it died restarts after the shortest wait again.</summary>
    public TimeSpan HealthyRun { get; init; } = BackoffSchedule.DefaultHealthyRun;

    public long LogMaxBytes { get; init; } = ReplicationLog.DefaultMaxBytes;
    public int LogKeep { get; init; } = ReplicationLog.DefaultKeep;

    /// <summary>Also gets every log line: the foreground monitor's stderr, which systemd puts in the journal.</summary>
    public TextWriter? LogEcho { get; init; }

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// The supervisor of a replication: each bound is the one given in <paramref name="overrides"/> (by option key, from
    /// <c>geosync monitor</c>'s flags), else the replication's stored one, else the catalog's default.
    /// </summary>
    public static SupervisorOptions For(ReplicationDefinition definition, IReadOnlyDictionary<string, object> overrides, IReadOnlyList<string> workerArgv)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(overrides);
        double Value(string key)
        {
            var option = ReplicationOptions.Get(key);
            var value = overrides.TryGetValue(key, out var given) ? option.Validate(given) : definition.Effective(option);
            return Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        return new SupervisorOptions
        {
            Paths = definition.Paths,
            WorkerArgv = workerArgv,
            HangTimeout = TimeSpan.FromSeconds(Value("hang-timeout")),
            StopTimeout = TimeSpan.FromSeconds(Value("stop-timeout")),
            LogMaxBytes = (long)Value("log-max-size"),
            LogKeep = (int)Value("log-keep"),
        };
    }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Paths);
        if (WorkerArgv is not { Count: > 0 } || string.IsNullOrEmpty(WorkerArgv[0]))
        {
            throw new ArgumentException("the worker command is empty", nameof(WorkerArgv));
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HangTimeout, TimeSpan.Zero, nameof(HangTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(StopTimeout, TimeSpan.Zero, nameof(StopTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PollInterval, TimeSpan.Zero, nameof(PollInterval));
    }
}

/// <summary>
/// gsyncd's monitor for one named replication: runs the worker as a child process with its output in the replication's
/// log, restarts it when it dies or hangs (its heartbeat gets too old) after the <see cref="BackoffSchedule"/> wait,
/// records each restart and its cause in the supervisor record, and follows the control file (Running, Paused,
/// Stopped). Cancelling <see cref="RunAsync"/> (SIGTERM to <c>geosync monitor</c>) stops the worker cleanly and ends
/// it. See docs/operations.md.
/// </summary>
public sealed class Supervisor : IDisposable
{
    private const string Component = "supervisor";
    private const string WorkerComponent = "worker";
    private const int RecentRestartsKept = 20;

    private readonly SupervisorOptions _options;
    private readonly ReplicationPaths _paths;
    private readonly TimeProvider _clock;
    private readonly ReplicationLog _log;
    private SupervisorRecord _record;

    public Supervisor(SupervisorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _paths = options.Paths;
        _clock = options.Clock;
        _log = new ReplicationLog(_paths.LogFile, options.LogMaxBytes, options.LogKeep, _clock, options.LogEcho);
        _record = new SupervisorRecord { State = SupervisorStates.Starting };
    }

    /// <summary>The record as last written.</summary>
    public SupervisorRecord Record => _record;

    /// <summary>Writes one of the supervisor's own lines to the replication's log.</summary>
    public void Log(ReplicationLogLevel level, string message) => _log.Write(level, Component, message);

    /// <summary>
    /// Supervises until the control file says Stopped or <paramref name="cancellationToken"/> is cancelled; either way
    /// the worker is stopped cleanly (SIGTERM, then SIGKILL to what is left after the stop bound) and the record says
    /// Stopped. Throws <see cref="GeoSyncReplicationRunningException"/> when another supervisor holds the replication.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        using var held = AcquireLock(_paths) ?? throw AlreadySupervised();

        var previous = ReadPreviousRecord();
        using var self = Process.GetCurrentProcess();
        _record = new SupervisorRecord
        {
            State = SupervisorStates.Starting,
            SupervisorPid = Environment.ProcessId,
            SupervisorStartTime = new DateTimeOffset(self.StartTime.ToUniversalTime(), TimeSpan.Zero),
            Restarts = previous?.Restarts ?? 0,
            RecentRestarts = previous?.RecentRestarts ?? [],
            Updated = _clock.GetUtcNow(),
        };
        Save();
        Log(ReplicationLogLevel.Info, $"started (process {Environment.ProcessId}) for replication '{_paths.Name}'; worker: {string.Join(' ', _options.WorkerArgv)}");
        EndLeftoverWorker(previous);

        var backoff = new BackoffSchedule(_clock, healthyRun: _options.HealthyRun);
        Process? worker = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var desired = ReadDesired();
                if (desired == DesiredState.Stopped)
                {
                    Log(ReplicationLogLevel.Info, "the control file says Stopped");
                    break;
                }
                if (desired == DesiredState.Paused)
                {
                    if (_record.State != SupervisorStates.Paused)
                    {
                        Update(r => r with { State = SupervisorStates.Paused, WorkerPid = null, WorkerStartTime = null });
                        Log(ReplicationLogLevel.Info, "paused: no worker runs until the replication is resumed");
                    }
                    await PauseAsync(_options.PollInterval, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                worker = StartWorker(out var startError);
                if (worker is null)
                {
                    await RestartAfterAsync(backoff, $"the worker could not be started: {startError}", exitCode: null, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                backoff.Started();
                var ending = await WatchAsync(worker, cancellationToken).ConfigureAwait(false);
                switch (ending)
                {
                    case WorkerEnding.Exited:
                        var code = worker.ExitCode;
                        worker.Dispose();
                        worker = null;
                        await RestartAfterAsync(backoff, DescribeExit(code), code, cancellationToken).ConfigureAwait(false);
                        break;
                    case WorkerEnding.Hung:
                        var age = HeartbeatAge();
                        Log(ReplicationLogLevel.Warning, $"the worker (process {worker.Id}) hung: no heartbeat for {age.TotalSeconds:0} s (bound {_options.HangTimeout.TotalSeconds:0} s); ending it");
                        var hungCode = StopWorker(worker);
                        worker.Dispose();
                        worker = null;
                        await RestartAfterAsync(backoff, $"hung: no heartbeat for {age.TotalSeconds:0} s", hungCode, cancellationToken).ConfigureAwait(false);
                        break;
                    case WorkerEnding.AskedToStop:
                        StopWorker(worker);
                        worker.Dispose();
                        worker = null;
                        break;
                }
            }
        }
        finally
        {
            if (worker is not null)
            {
                StopWorker(worker);
                worker.Dispose();
            }
            Update(r => r with { State = SupervisorStates.Stopped, WorkerPid = null, WorkerStartTime = null });
            Log(ReplicationLogLevel.Info, "stopped");
        }
    }

    public void Dispose() => _log.Dispose();

    private GeoSyncReplicationRunningException AlreadySupervised()
    {
        var holder = ReadPreviousRecord()?.SupervisorPid;
        return new GeoSyncReplicationRunningException(_paths.Name, holder,
            $"Replication '{_paths.Name}' already has a supervisor (process {holder?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}); stop it first with 'geosync stop {_paths.Name}'.");
    }

    /// <summary>The supervisor lock, or null when another process holds it.</summary>
    internal static FileStream? AcquireLock(ReplicationPaths paths)
    {
        Directory.CreateDirectory(paths.Directory);
        try
        {
            // FileShare.None is an exclusive flock on Linux: it goes with the process, however it ends.
            return new FileStream(paths.SupervisorLockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private enum WorkerEnding
    {
        Exited,
        Hung,
        AskedToStop,
    }

    private Process? StartWorker(out string? error)
    {
        var argv = _options.WorkerArgv;
        var start = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in argv.Skip(1)) start.ArgumentList.Add(argument);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => LogWorkerLine(e.Data);
        process.ErrorDataReceived += (_, e) => LogWorkerLine(e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            error = $"{argv[0]}: {e.Message}";
            return null;
        }
        // The worker reads nothing; an ended input keeps it from waiting on a terminal.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        error = null;
        var startedAt = _clock.GetUtcNow();
        Update(r => r with { State = SupervisorStates.Active, WorkerPid = process.Id, WorkerStartTime = startedAt });
        Log(ReplicationLogLevel.Info, $"worker started (process {process.Id})");
        return process;
    }

    private void LogWorkerLine(string? line)
    {
        if (string.IsNullOrEmpty(line)) return;
        var (level, message) = ReplicationLog.ClassifyWorkerLine(line);
        try
        {
            _log.Write(level, WorkerComponent, message);
        }
        catch (IOException)
        {
            // A full disk must not take the supervisor down with the log; the worker keeps replicating.
        }
    }

    private async Task<WorkerEnding> WatchAsync(Process worker, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (worker.HasExited) return WorkerEnding.Exited;
            if (cancellationToken.IsCancellationRequested || ReadDesired() != DesiredState.Running) return WorkerEnding.AskedToStop;
            if (HeartbeatAge() > _options.HangTimeout) return WorkerEnding.Hung;
            await PauseAsync(_options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Time since the worker's last sign of life: its heartbeat, or its start when it has not beaten since.</summary>
    private TimeSpan HeartbeatAge()
    {
        var lastSign = _record.WorkerStartTime ?? _clock.GetUtcNow();
        if (Heartbeat.LastBeat(_paths.HeartbeatFile) is { } beat && beat > lastSign) lastSign = beat;
        return _clock.GetUtcNow() - lastSign;
    }

    /// <summary>
    /// SIGTERM to the worker (the loop stops its session: the slave ends, the mounts go away), then SIGKILL to whatever
    /// is left of its process tree after the stop bound. Returns its exit code.
    /// </summary>
    private int? StopWorker(Process worker)
    {
        if (!worker.HasExited)
        {
            var tree = ProcessTree.Snapshot(worker.Id);
            Log(ReplicationLogLevel.Info, $"stopping the worker (process {worker.Id})");
            ProcessTree.Signal(tree.Take(1), Signum.SIGTERM);
            var waited = Stopwatch.StartNew();
            while (!worker.HasExited && waited.Elapsed < _options.StopTimeout) Thread.Sleep(50);
            var survivors = tree.Where(ProcessTree.IsAlive).ToList();
            if (!worker.HasExited) survivors.AddRange(ProcessTree.Snapshot(worker.Id));
            if (survivors.Count > 0)
            {
                Log(ReplicationLogLevel.Warning, $"killing what is left of the worker after {waited.Elapsed.TotalSeconds:0} s: processes {string.Join(", ", survivors.Select(m => m.Pid).Distinct())}");
                ProcessTree.Signal(survivors.Distinct(), Signum.SIGKILL);
            }
            worker.WaitForExit(TimeSpan.FromSeconds(10));
        }
        int? code = worker.HasExited ? worker.ExitCode : null;
        Log(ReplicationLogLevel.Info, $"the worker ended ({(code is { } c ? DescribeExit(c) : "still not reaped")})");
        Update(r => r with { WorkerPid = null, WorkerStartTime = null });
        return code;
    }

    /// <summary>Records a restart and its cause, then waits the backoff (or less, when asked to pause or stop meanwhile).</summary>
    private async Task RestartAfterAsync(BackoffSchedule backoff, string cause, int? exitCode, CancellationToken cancellationToken)
    {
        var delay = backoff.Failed();
        var now = _clock.GetUtcNow();
        var restart = new WorkerRestart(now, cause, exitCode);
        Update(r => r with
        {
            State = SupervisorStates.Faulty,
            WorkerPid = null,
            WorkerStartTime = null,
            Restarts = r.Restarts + 1,
            RecentRestarts = [.. r.RecentRestarts.TakeLast(RecentRestartsKept - 1), restart],
            LastError = cause,
        });
        Log(ReplicationLogLevel.Warning, $"the worker {cause}; restart {_record.Restarts} in {delay.TotalSeconds:0} s");
        var waited = _clock.GetTimestamp();
        while (_clock.GetElapsedTime(waited) < delay && !cancellationToken.IsCancellationRequested && ReadDesired() == DesiredState.Running)
        {
            var left = delay - _clock.GetElapsedTime(waited);
            await PauseAsync(left < _options.PollInterval ? left : _options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PauseAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero) return;
        try
        {
            await Task.Delay(delay, _clock, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Asked to stop: the caller looks at the token.
        }
    }

    /// <summary>"exited with code N", or, for 128+N (how a signal death is reported), "was killed by signal SIGN (N)".</summary>
    public static string DescribeExit(int exitCode) =>
        exitCode is > 128 and < 128 + 65
            ? $"was killed by signal {SignalName(exitCode - 128)} ({exitCode - 128})"
            : $"exited with code {exitCode}";

    private static string SignalName(int signal) =>
        Enum.IsDefined(typeof(Signum), signal) ? ((Signum)signal).ToString() : $"signal {signal}";

    private DesiredState ReadDesired()
    {
        try
        {
            return AtomicJsonFile.Read<ReplicationControl>(_paths.ControlFile)?.Desired ?? DesiredState.Running;
        }
        catch (GeoSyncException e)
        {
            // Keep what was asked last rather than guess; the administrator sees why in the log.
            Log(ReplicationLogLevel.Error, e.Message);
            return _record.State == SupervisorStates.Paused ? DesiredState.Paused : DesiredState.Running;
        }
    }

    private SupervisorRecord? ReadPreviousRecord()
    {
        try
        {
            return AtomicJsonFile.Read<SupervisorRecord>(_paths.SupervisorFile);
        }
        catch (GeoSyncException e)
        {
            Log(ReplicationLogLevel.Warning, $"{e.Message} The restart count starts again at 0.");
            return null;
        }
    }

    /// <summary>A worker a killed supervisor left behind would race the new one; it is ended first.</summary>
    private void EndLeftoverWorker(SupervisorRecord? previous) =>
        EndLeftoverWorker(previous, _options.StopTimeout, message => Log(ReplicationLogLevel.Warning, message));

    /// <summary>
    /// Ends the worker a record names if that process still runs (SIGTERM, then SIGKILL to its tree after
    /// <paramref name="grace"/>): a supervisor that was killed leaves its worker running.
    /// </summary>
    internal static void EndLeftoverWorker(SupervisorRecord? record, TimeSpan grace, Action<string> log)
    {
        if (record is not { WorkerPid: { } pid, WorkerStartTime: { } started }) return;
        Process leftover;
        try
        {
            leftover = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return;
        }
        using (leftover)
        {
            // A reused pid is another program: only the process that started when the record says is ours.
            DateTimeOffset startedAt;
            try
            {
                startedAt = new DateTimeOffset(leftover.StartTime.ToUniversalTime(), TimeSpan.Zero);
            }
            catch (InvalidOperationException)
            {
                return; // gone meanwhile
            }
            if ((startedAt - started).Duration() > TimeSpan.FromSeconds(2)) return;
            log($"ending the worker (process {pid}) that a killed supervisor left running");
            var tree = ProcessTree.Snapshot(pid);
            ProcessTree.Signal(tree.Take(1), Signum.SIGTERM);
            var waited = Stopwatch.StartNew();
            while (tree.Take(1).Any(ProcessTree.IsAlive) && waited.Elapsed < grace) Thread.Sleep(50);
            ProcessTree.Signal(tree.Where(ProcessTree.IsAlive), Signum.SIGKILL);
        }
    }

    private void Update(Func<SupervisorRecord, SupervisorRecord> change)
    {
        _record = change(_record) with { Updated = _clock.GetUtcNow() };
        Save();
    }

    private void Save()
    {
        try
        {
            AtomicJsonFile.Write(_paths.SupervisorFile, _record);
        }
        catch (IOException e)
        {
            Log(ReplicationLogLevel.Error, $"could not write {_paths.SupervisorFile}: {e.Message}");
        }
    }
}
