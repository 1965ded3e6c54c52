using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// New-GeoSyncReplication: defines a named replication (its master, slave and options) in the state directory. It
/// validates everything first, writes config.json atomically, and starts nothing.
/// </summary>
[Cmdlet(VerbsCommon.New, "GeoSyncReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Commands + "New-GeoSyncReplication")]
[OutputType(typeof(GeoSyncReplication))]
public sealed class NewGeoSyncReplicationCommand : ReplicationOptionsCommandBase
{
    /// <summary>The replication's name: a letter or digit, then up to 63 letters, digits, '.', '_' or '-'.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The master: gluster://HOST:VOL (or HOST:VOL, :VOL), or a directory (file:///DIR or /DIR).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Master { get; set; } = "";

    /// <summary>The slave: file:///DIR, gluster://HOST:VOL, or ssh://[USER@]HOST:(/DIR|VOL) (also [USER@]HOST:/DIR, HOST::VOL).</summary>
    [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Slave { get; set; } = "";

    protected override void ProcessRecord()
    {
        var store = OpenStore();
        // A bare directory is a path the user typed relative to their location; the store keeps it absolute.
        var master = ResolveDirectory(Master);
        var slave = ResolveDirectory(Slave);
        if (!ShouldProcess(Name, $"Create the replication ({Master} -> {Slave}) in {store.StateDirectory}")) return;
        ReplicationDefinition? created = null;
        if (TryStore(Name, () => created = store.Create(Name, master, slave, BoundOptions())))
        {
            WriteObject(new GeoSyncReplication(created!));
        }
    }

    private string ResolveDirectory(string url) =>
        url.StartsWith('.') || url.StartsWith('~') ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(url) : url;
}
