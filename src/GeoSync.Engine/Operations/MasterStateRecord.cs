using System.Text.Json.Serialization;

namespace GeoSync.Engine.Operations;

/// <summary>What a worker loop is doing, as it writes it in its state record.</summary>
public enum MasterLoopState
{
    /// <summary>No session connected yet.</summary>
    Starting,

    /// <summary>A session runs turns.</summary>
    Active,

    /// <summary>The last session failed or could not open; the loop reconnects at NextAttempt.</summary>
    Faulty,

    /// <summary>The loop ended normally (Ctrl+C, SIGTERM, -Once, -MaxTurns).</summary>
    Stopped,

    /// <summary>The loop gave up: a failure no retry can fix, or too many in a row.</summary>
    Failed,
}

/// <summary>Which crawl the replication is in: the first full sync, or the incremental turns after it (gsyncd's crawl status).</summary>
public enum CrawlKind
{
    /// <summary>No turn has completed yet over the replication's life: every file the slave lacks is being sent.</summary>
    FirstSync,

    /// <summary>A full turn completed; later turns send what changed.</summary>
    Incremental,
}

/// <summary>The last turn that did something (or the first sync), as kept in the state record.</summary>
public sealed record TurnSummary(
    long Turn,
    DateTimeOffset Time,
    long DirectoriesScanned,
    long EntriesCreated,
    long EntriesPurged,
    long FilesSynced,
    long BytesSynced,
    int Failures,
    double DurationSeconds);

/// <summary>
/// The worker loop's state record (state.json of a named replication, or the ad hoc pair's file): written atomically by
/// <see cref="MasterStateFile"/>, read by the status commands. Field meanings: docs/master-loop.md, "The state file".
/// </summary>
public sealed record MasterStateRecord
{
    public required string Master { get; init; }
    public required string Slave { get; init; }
    public required MasterLoopState State { get; init; }

    /// <summary>The loop's process.</summary>
    public required int ProcessId { get; init; }

    /// <summary>The loop process's start in Unix milliseconds, so a reused pid is not taken for the loop.</summary>
    public long ProcessStartTime { get; init; }

    /// <summary>When this run of the loop started.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>When the record was written.</summary>
    public DateTimeOffset? Updated { get; init; }
    public string? SessionName { get; init; }
    public int? SlaveProcessId { get; init; }

    /// <summary>Turns completed by this run of the loop.</summary>
    public long TurnsCompleted { get; init; }

    /// <summary>Failed sessions or opens of this run of the loop.</summary>
    public int Reconnects { get; init; }
    public CrawlKind Crawl { get; init; }

    /// <summary>Files that reached the slave over the replication's life (kept across restarts; moves during a turn).</summary>
    public long FilesSynced { get; init; }
    public long BytesSynced { get; init; }
    public long EntriesCreated { get; init; }
    public long EntriesPurged { get; init; }

    /// <summary>Paths in the failure ledger: failed and not arrived since.</summary>
    public int Failures { get; init; }

    /// <summary>
    /// The master-clock start of the last turn that completed with nothing failed or held: every change made on the master
    /// before it is on the slave (docs/operations.md, "LastSynced").
    /// </summary>
    public DateTimeOffset? LastSynced { get; init; }

    /// <summary>The checkpoint the loop last looked at (from the checkpoint file).</summary>
    public DateTimeOffset? Checkpoint { get; init; }

    /// <summary>When the loop saw LastSynced reach <see cref="Checkpoint"/> (the end of that turn).</summary>
    public DateTimeOffset? CheckpointCompletedAt { get; init; }
    public TurnSummary? LastTurn { get; init; }

    /// <summary>Why the last session failed or could not open, as a message.</summary>
    public string? LastError { get; init; }

    /// <summary>The stable id of that error (the key of its hint, <see cref="ErrorHints"/>).</summary>
    public string? LastErrorId { get; init; }
    public DateTimeOffset? LastErrorTime { get; init; }

    /// <summary>When a Faulty loop reconnects.</summary>
    public DateTimeOffset? NextAttempt { get; init; }

    /// <summary>Whether <see cref="State"/> says a process is running the loop (so a dead process means Defunct).</summary>
    [JsonIgnore]
    public bool ClaimsToRun => State is MasterLoopState.Starting or MasterLoopState.Active or MasterLoopState.Faulty;
}
