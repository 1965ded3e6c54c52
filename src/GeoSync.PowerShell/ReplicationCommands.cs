using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell;

/// <summary>What the replication cmdlets share: the state directory as the user gave it, and a replication that must exist.</summary>
internal static class ReplicationCommands
{
    /// <summary>The state directory: -StateDirectory resolved through the provider, else the one rule of <see cref="StateDirectory"/>.</summary>
    public static string ResolveStateDirectory(PSCmdlet cmdlet, string? given) =>
        StateDirectory.Resolve(given is null ? null : cmdlet.GetUnresolvedProviderPathFromPSPath(given));

    /// <summary>The files of replication <paramref name="name"/>; a terminating error when the name is invalid or not defined.</summary>
    public static ReplicationPaths RequireReplication(PSCmdlet cmdlet, string stateDirectory, string name)
    {
        ReplicationPaths paths;
        try
        {
            paths = new ReplicationPaths(stateDirectory, name);
        }
        catch (GeoSyncReplicationNameException e)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(e, "InvalidReplicationName", ErrorCategory.InvalidArgument, name));
            throw;
        }
        if (!File.Exists(paths.ConfigFile))
        {
            cmdlet.ThrowTerminatingError(ReplicationNotFound(name, stateDirectory));
        }
        return paths;
    }

    public static ErrorRecord ReplicationNotFound(string name, string stateDirectory) =>
        new(new ItemNotFoundException(
                $"There is no replication named '{name}' in {stateDirectory}. Define it with New-GeoSyncReplication (geosync create {name} MASTER SLAVE), or give the -StateDirectory it was defined in."),
            "ReplicationNotFound", ErrorCategory.ObjectNotFound, name);

    public static ErrorRecord StateFileUnreadable(string path, string problem) =>
        new(new InvalidDataException(problem), "StateFileUnreadable", ErrorCategory.ReadError, path);
}
