namespace GeoSync.Engine.Operations;

/// <summary>No replication of that name is defined in the state directory (its config file does not exist).</summary>
public sealed class GeoSyncReplicationNotFoundException(string name, string stateDirectory)
    : GeoSyncException($"There is no replication named '{name}' in {stateDirectory}. Define it first with 'geosync create {name} MASTER SLAVE' (New-GeoSyncReplication), or give the state directory it lives in (--state-dir).")
{
    public string Name { get; } = name;
}

/// <summary>A supervisor already runs for the replication (it holds the supervisor lock).</summary>
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
