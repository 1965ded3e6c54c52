namespace GeoSync.Engine.Operations;

/// <summary>What the administrator asked a replication to do; the supervisor reads it from the control file.</summary>
public enum DesiredState
{
    Running,
    Paused,
    Stopped,
}

/// <summary>The control file: the desired state and when it was asked for.</summary>
public sealed record ReplicationControl(DesiredState Desired, DateTimeOffset RequestedAt);

/// <summary>One restart of the worker and why it happened (it died with a code or signal, or it hung).</summary>
public sealed record WorkerRestart(DateTimeOffset At, string Cause, int? ExitCode);

/// <summary>
/// The supervisor's record (supervisor.json), written atomically on every change. The status commands combine it with
/// the worker's state record and the stored definition.
/// </summary>
public sealed record SupervisorRecord
{
    /// <summary>Starting, Active, Paused, Stopped or Failed, as the supervisor sees its worker.</summary>
    public required string State { get; init; }
    public int SupervisorPid { get; init; }
    public DateTimeOffset? SupervisorStartTime { get; init; }
    public int? WorkerPid { get; init; }
    public DateTimeOffset? WorkerStartTime { get; init; }

    /// <summary>Restarts over the replication's life (kept across supervisor runs).</summary>
    public int Restarts { get; init; }

    /// <summary>The most recent restarts, newest last, bounded.</summary>
    public IReadOnlyList<WorkerRestart> RecentRestarts { get; init; } = [];
    public string? LastError { get; init; }
    public DateTimeOffset Updated { get; init; }
}
