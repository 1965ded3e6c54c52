using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell;

/// <summary>A replication's supervisor as its record says (-PassThru of Start-/Stop-/Suspend-/Resume-GeoSyncReplication).</summary>
public sealed class GeoSyncSupervisorInfo
{
    internal GeoSyncSupervisorInfo(ReplicationPaths paths, SupervisorRecord record)
    {
        Name = paths.Name;
        StateDirectory = paths.StateDirectory;
        State = record.State;
        SupervisorPid = record.SupervisorPid;
        WorkerPid = record.WorkerPid;
        Restarts = record.Restarts;
        RecentRestarts = record.RecentRestarts;
        LastError = record.LastError;
        Updated = record.Updated;
    }

    public string Name { get; }
    public string StateDirectory { get; }

    /// <summary>Starting, Active, Faulty, Paused or Stopped.</summary>
    public string State { get; }
    public int SupervisorPid { get; }
    public int? WorkerPid { get; }

    /// <summary>Worker restarts over the replication's life.</summary>
    public int Restarts { get; }
    public IReadOnlyList<WorkerRestart> RecentRestarts { get; }
    public string? LastError { get; }
    public DateTimeOffset Updated { get; }
}
