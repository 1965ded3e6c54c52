using System.Management.Automation;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Remove-GeoSyncReplication: deletes a replication's folder (configuration, state, failure ledger, log). Refused while
/// the replication runs unless -Force. The slave's data is not touched.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "GeoSyncReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpLinks.Commands + "Remove-GeoSyncReplication")]
public sealed class RemoveGeoSyncReplicationCommand : ReplicationCommandBase
{
    /// <summary>The names of the replications to remove.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ReplicationNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Remove the replication even while its supervisor or a master loop runs (they are not stopped).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var store = OpenStore();
        foreach (var name in Name)
        {
            if (!ShouldProcess(name, $"Remove the replication (its configuration, state, failure ledger and log in {store.StateDirectory}; the slave's data stays)")) continue;
            TryStore(name, () => store.Remove(name, Force));
        }
    }
}
