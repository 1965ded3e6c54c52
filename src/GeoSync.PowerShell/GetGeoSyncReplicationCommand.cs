using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>Get-GeoSyncReplication: the named replications defined in the state directory, all or by name (wildcards).</summary>
[Cmdlet(VerbsCommon.Get, "GeoSyncReplication", HelpUri = HelpLinks.Commands + "Get-GeoSyncReplication")]
[OutputType(typeof(GeoSyncReplication))]
public sealed class GetGeoSyncReplicationCommand : ReplicationCommandBase
{
    /// <summary>The names of the replications to get; wildcards allowed. All when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ReplicationNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var store = OpenStore();
        var names = ReplicationPaths.ListNames(store.StateDirectory).ToArray();
        foreach (var requested in Name ?? ["*"])
        {
            var pattern = WildcardPattern.Get(requested, WildcardOptions.IgnoreCase);
            var matched = names.Where(pattern.IsMatch).ToArray();
            if (matched.Length == 0 && !WildcardPattern.ContainsWildcardCharacters(requested))
            {
                WriteError(ErrorOf(new GeoSyncReplicationNotFoundException(requested, store.StateDirectory), requested));
            }
            foreach (var name in matched)
            {
                ReplicationDefinition? definition = null;
                if (TryStore(name, () => definition = store.Get(name))) WriteObject(new GeoSyncReplication(definition!));
            }
        }
    }
}
