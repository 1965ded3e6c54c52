using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Set-GeoSyncReplication: changes the stored options of a replication (the given ones are set, -Reset ones return to
/// their defaults). All are validated before anything is written. A running worker takes them on its next start.
/// </summary>
[Cmdlet(VerbsCommon.Set, "GeoSyncReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Commands + "Set-GeoSyncReplication")]
[OutputType(typeof(GeoSyncReplication))]
public sealed class SetGeoSyncReplicationCommand : ReplicationOptionsCommandBase
{
    /// <summary>The name of the replication to change.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ReplicationNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>Options to return to their defaults, by parameter name (SyncJobs) or key (sync-jobs).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ReplicationOptionCompleter))]
    public string[] Reset { get; set; } = [];

    /// <summary>Output the changed replication.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var store = OpenStore();
        var options = BoundOptions().ToArray();
        var change = string.Join(", ", options.Select(o => o.Key).Concat(Reset.Select(r => $"reset {r}")));
        if (!ShouldProcess(Name, $"Change the replication's options ({(change.Length == 0 ? "none" : change)})")) return;
        ReplicationDefinition? updated = null;
        if (TryStore(Name, () => updated = store.Update(Name, options, Reset)) && PassThru)
        {
            WriteObject(new GeoSyncReplication(updated!));
        }
    }
}
