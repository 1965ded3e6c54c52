using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Get-GeoSyncLog: the lines of a replication's log (supervisor and worker), oldest first, across the rotated files, as
/// objects with Time (UTC), Level, Component and Message.
/// </summary>
[Cmdlet(VerbsCommon.Get, "GeoSyncLog", HelpUri = HelpLinks.Commands + "Get-GeoSyncLog")]
[OutputType(typeof(ReplicationLogEntry))]
public sealed class GetGeoSyncLogCommand : PSCmdlet
{
    /// <summary>The replication's name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Only the last this many lines (of those the level lets through).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Tail { get; set; }

    /// <summary>Only lines at this level or above: Verbose (all), Info, Warning or Error.</summary>
    [Parameter]
    public ReplicationLogLevel Level { get; set; } = ReplicationLogLevel.Verbose;

    /// <summary>The state directory the replication lives in: $env:GEOSYNC_STATE_DIR, else /var/lib/geosync for root, else ~/.local/state/geosync.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    protected override void ProcessRecord()
    {
        if (!ReplicationPaths.IsValidName(Name))
        {
            WriteError(new ErrorRecord(new GeoSyncReplicationNameException(Name, $"'{Name}' is not a valid replication name: a letter or digit followed by up to 63 letters, digits, '.', '_' or '-'."),
                "InvalidReplicationName", ErrorCategory.InvalidArgument, Name));
            return;
        }
        var paths = new ReplicationPaths(GeoSync.Engine.Operations.StateDirectory.Resolve(
            StateDirectory is null ? null : GetUnresolvedProviderPathFromPSPath(StateDirectory)), Name);
        if (!File.Exists(paths.ConfigFile))
        {
            var missing = new GeoSyncReplicationNotFoundException(Name, paths.StateDirectory);
            WriteError(new ErrorRecord(missing, "ReplicationNotFound", ErrorCategory.ObjectNotFound, Name));
            return;
        }
        WriteVerbose($"Reading {string.Join(", ", ReplicationLog.Files(paths.LogFile))}.");
        foreach (var entry in ReplicationLog.Read(paths.LogFile, MyInvocation.BoundParameters.ContainsKey(nameof(Tail)) ? Tail : null, Level)) WriteObject(entry);
    }
}
