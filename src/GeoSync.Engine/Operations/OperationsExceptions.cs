namespace GeoSync.Engine.Operations;

/// <summary>The replication is running (its supervisor or a master loop is alive), so the request was refused.</summary>
public sealed class GeoSyncReplicationRunningException(string name, int? supervisorPid, string message) : GeoSyncException(message)
{
    public string Name { get; } = name;
    public int? SupervisorPid { get; } = supervisorPid;
}

/// <summary>The supervisor did not come up, or its worker did not start, within the bound; the message quotes the log.</summary>
public sealed class GeoSyncSupervisorStartException(string name, string message) : GeoSyncException(message)
{
    public string Name { get; } = name;
}
