using System.Diagnostics;
using System.Text.Json;

namespace GeoSync.Engine.Operations;

/// <summary>
/// Builds the status of every replication and ad hoc pair in a state directory from their files: the stored definition
/// (only its Master and Slave), the supervisor's record, the worker's state record and the checkpoint.
/// </summary>
public sealed class ReplicationStatusReader
{
    private readonly TimeProvider _clock;
    private readonly Func<int, long, bool> _isRunning;

    /// <param name="stateDirectory">The state directory (see <see cref="Operations.StateDirectory.Resolve"/>).</param>
    /// <param name="clock">The clock LagSeconds is measured on.</param>
    /// <param name="isRunning">Whether process (pid, start in Unix ms or 0 when unknown) still runs; the real check by default.</param>
    public ReplicationStatusReader(string stateDirectory, TimeProvider? clock = null, Func<int, long, bool>? isRunning = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        StateDirectory = Path.GetFullPath(stateDirectory);
        _clock = clock ?? TimeProvider.System;
        _isRunning = isRunning ?? IsProcessRunning;
    }

    public string StateDirectory { get; }

    /// <summary>
    /// Every named replication (by name), then every ad hoc pair (by file name). A file that cannot be read is passed to
    /// <paramref name="onUnreadable"/> (path, what is wrong) and the others are still listed.
    /// </summary>
    public IEnumerable<ReplicationStatus> ReadAll(Action<string, string>? onUnreadable = null)
    {
        foreach (var name in ReplicationPaths.ListNames(StateDirectory))
        {
            if (ReadReplication(name, onUnreadable) is { } status) yield return status;
        }
        if (!Directory.Exists(StateDirectory)) yield break;
        var pairFiles = Directory.EnumerateFiles(StateDirectory, "*.json")
            .Where(f => !f.EndsWith(".failures.json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var file in pairFiles)
        {
            if (ReadPair(file, onUnreadable) is { } status) yield return status;
        }
    }

    /// <summary>The named replication's status; null when it is not defined or its definition cannot be read.</summary>
    public ReplicationStatus? ReadReplication(string name, Action<string, string>? onUnreadable = null)
    {
        var paths = new ReplicationPaths(StateDirectory, name);
        var definition = TryRead(paths.ConfigFile, ReplicationDefinitionUrls.Read, onUnreadable);
        if (definition is null) return null;
        var supervisor = TryRead(paths.SupervisorFile, AtomicJsonFile.Read<SupervisorRecord>, onUnreadable);
        var worker = TryRead(paths.StateFile, AtomicJsonFile.Read<MasterStateRecord>, onUnreadable);
        var checkpoint = TryRead(paths.CheckpointFile, AtomicJsonFile.Read<CheckpointRecord>, onUnreadable);
        return Compose(name, definition.Master, definition.Slave, paths.StateFile, supervisor, worker, checkpoint);
    }

    private ReplicationStatus? ReadPair(string file, Action<string, string>? onUnreadable)
    {
        var worker = TryRead(file, AtomicJsonFile.Read<MasterStateRecord>, onUnreadable);
        return worker is null ? null : Compose(null, worker.Master, worker.Slave, file, null, worker, null);
    }

    /// <summary>The rules that combine the records into one status (docs/operations.md, "Status").</summary>
    internal ReplicationStatus Compose(string? name, string master, string slave, string stateFile, SupervisorRecord? supervisor,
        MasterStateRecord? worker, CheckpointRecord? checkpoint)
    {
        var supervisorRuns = supervisor is not null && supervisor.SupervisorPid > 0
            && _isRunning(supervisor.SupervisorPid, supervisor.SupervisorStartTime?.ToUnixTimeMilliseconds() ?? 0);
        var workerRuns = worker is not null && worker.ClaimsToRun && _isRunning(worker.ProcessId, worker.ProcessStartTime);
        var state = StateOf(supervisor, supervisorRuns, worker, workerRuns);

        var now = _clock.GetUtcNow();
        var checkpointAt = checkpoint?.At ?? worker?.Checkpoint;
        var completed = checkpointAt is { } at && worker?.LastSynced is { } synced && synced >= at;
        var errorFromWorker = worker?.LastError is not null;
        var errorId = errorFromWorker ? worker!.LastErrorId : null;
        return new ReplicationStatus
        {
            Name = name,
            Master = master,
            Slave = slave,
            State = state,
            Crawl = worker?.Crawl,
            LastSynced = worker?.LastSynced?.ToUniversalTime(),
            LagSeconds = worker?.LastSynced is { } last ? Math.Max(0, (long)Math.Floor((now - last).TotalSeconds)) : null,
            FilesSynced = worker?.FilesSynced ?? 0,
            BytesSynced = worker?.BytesSynced ?? 0,
            EntriesCreated = worker?.EntriesCreated ?? 0,
            EntriesPurged = worker?.EntriesPurged ?? 0,
            Failures = worker?.Failures ?? 0,
            Restarts = supervisor?.Restarts ?? 0,
            Checkpoint = checkpointAt?.ToUniversalTime(),
            CheckpointCompleted = completed,
            CheckpointCompletedAt = completed && worker!.Checkpoint == checkpointAt ? worker.CheckpointCompletedAt?.ToUniversalTime() : null,
            LastError = errorFromWorker ? worker!.LastError : supervisor?.LastError,
            LastErrorId = errorId,
            LastErrorTime = errorFromWorker ? worker!.LastErrorTime?.ToUniversalTime() : null,
            Hint = ErrorHints.For(state, errorId, worker?.Failures ?? 0, name),
            SupervisorPid = supervisorRuns ? supervisor!.SupervisorPid : null,
            WorkerPid = supervisorRuns && supervisor!.WorkerPid is { } child ? child : workerRuns ? worker!.ProcessId : null,
            NextAttempt = state == ReplicationState.Faulty ? worker?.NextAttempt?.ToUniversalTime() : null,
            SessionName = workerRuns ? worker!.SessionName : null,
            SlaveProcessId = workerRuns ? worker!.SlaveProcessId : null,
            TurnsCompleted = worker?.TurnsCompleted ?? 0,
            Reconnects = worker?.Reconnects ?? 0,
            LastTurn = worker?.LastTurn,
            StartTime = worker?.StartTime?.ToUniversalTime(),
            Updated = worker?.Updated?.ToUniversalTime(),
            Path = stateFile,
        };
    }

    /// <summary>
    /// A supervised replication shows the supervisor's view, refined by its worker's while both run; an unsupervised
    /// loop shows its own; a record that claims to run while its process is gone shows Defunct.
    /// </summary>
    private static ReplicationState StateOf(SupervisorRecord? supervisor, bool supervisorRuns, MasterStateRecord? worker, bool workerRuns)
    {
        if (supervisor is not null)
        {
            var claimed = Enum.TryParse<ReplicationState>(supervisor.State, ignoreCase: true, out var parsed) ? parsed : ReplicationState.Failed;
            var claimsToRun = claimed is ReplicationState.Starting or ReplicationState.Active or ReplicationState.Paused or ReplicationState.Faulty;
            if (claimsToRun && !supervisorRuns) return ReplicationState.Defunct;
            if (claimed == ReplicationState.Active)
            {
                return worker is not null && workerRuns && worker.ProcessId == supervisor.WorkerPid
                    ? ToReplicationState(worker.State)
                    : ReplicationState.Starting;
            }
            return claimed;
        }
        if (worker is null) return ReplicationState.Created;
        if (worker.ClaimsToRun && !workerRuns) return ReplicationState.Defunct;
        return ToReplicationState(worker.State);
    }

    private static ReplicationState ToReplicationState(MasterLoopState state) => state switch
    {
        MasterLoopState.Starting => ReplicationState.Starting,
        MasterLoopState.Active => ReplicationState.Active,
        MasterLoopState.Faulty => ReplicationState.Faulty,
        MasterLoopState.Stopped => ReplicationState.Stopped,
        _ => ReplicationState.Failed,
    };

    private static T? TryRead<T>(string path, Func<string, T?> read, Action<string, string>? onUnreadable) where T : class
    {
        try
        {
            return read(path);
        }
        catch (GeoSyncException e)
        {
            onUnreadable?.Invoke(path, e.Message);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            onUnreadable?.Invoke(path, $"'{path}' cannot be read: {e.Message}");
            return null;
        }
    }

    /// <summary>Whether the process runs and, when its start time is known, started then (a pid is reused after a process ends).</summary>
    public static bool IsProcessRunning(int processId, long startTimeUnixMilliseconds)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            if (process.HasExited) return false;
            if (startTimeUnixMilliseconds == 0) return true;
            var started = new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero).ToUnixTimeMilliseconds();
            return Math.Abs(started - startTimeUnixMilliseconds) < 2000;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>
/// The master and slave of a stored replication, read from its config.json: the only part of the replication store's
/// format the status commands depend on, kept here in one place.
/// </summary>
public sealed record ReplicationDefinitionUrls(string Master, string Slave)
{
    /// <summary>The URLs in <paramref name="configFile"/>; null when it does not exist; throws naming the file when they are missing.</summary>
    public static ReplicationDefinitionUrls? Read(string configFile)
    {
        string json;
        try
        {
            json = File.ReadAllText(configFile);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty(nameof(Master), out var master) && master.ValueKind == JsonValueKind.String
                && root.TryGetProperty(nameof(Slave), out var slave) && slave.ValueKind == JsonValueKind.String)
            {
                return new ReplicationDefinitionUrls(master.GetString()!, slave.GetString()!);
            }
        }
        catch (JsonException e)
        {
            throw new GeoSyncException($"'{configFile}' is not a readable replication definition ({e.Message}); fix it or define the replication again.", e);
        }
        throw new GeoSyncException($"'{configFile}' has no Master and Slave URLs; define the replication again (Remove-, New-GeoSyncReplication).");
    }
}
