using System.Management.Automation;
using GeoSync.Engine.Session;

namespace GeoSync.PowerShell.Commands;

/// <summary>Get-GeoSyncSession: the sessions Start-GeoSyncSession opened in this PowerShell session, all or by id or name.</summary>
[Cmdlet(VerbsCommon.Get, "GeoSyncSession",
    HelpUri = HelpLinks.Commands + "Get-GeoSyncSession", DefaultParameterSetName = NameSet)]
[OutputType(typeof(GeoSyncSession))]
public sealed class GetGeoSyncSessionCommand : PSCmdlet
{
    private const string NameSet = "Name";
    private const string IdSet = "Id";

    /// <summary>Session names; wildcards allowed. All sessions when omitted.</summary>
    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SessionNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Session ids.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("SessionId")]
    [ArgumentCompleter(typeof(SessionIdCompleter))]
    public int[] Id { get; set; } = [];

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case IdSet:
                foreach (var id in Id)
                {
                    if (GeoSyncSessionRegistry.Find(id) is { } session) WriteObject(session);
                    else WriteError(ErrorRecords.SessionNotFound($"id {id}", id));
                }
                break;
            default:
                if (Name is null)
                {
                    WriteObject(GeoSyncSessionRegistry.All, enumerateCollection: true);
                    break;
                }
                foreach (var name in Name)
                {
                    var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                    var found = GeoSyncSessionRegistry.All.Where(s => pattern.IsMatch(s.Name)).ToList();
                    WriteObject(found, enumerateCollection: true);
                    if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        WriteError(ErrorRecords.SessionNotFound($"the name '{name}'", name));
                    }
                }
                break;
        }
    }
}
