using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Session;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Stop-GeoSyncSession: stops sessions — the keep-alive and any running turn end, the slave exits, the aux mounts are
/// unmounted — and removes them from the session list.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "GeoSyncSession",
    HelpUri = HelpLinks.Commands + "Stop-GeoSyncSession",
    DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(GeoSyncSession))]
public sealed class StopGeoSyncSessionCommand : PSCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string IdSet = "Id";
    private const string NameSet = "Name";

    /// <summary>Sessions from Start-GeoSyncSession or Get-GeoSyncSession.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [Alias("Session")]
    [ValidateNotNull]
    public GeoSyncSession[] InputObject { get; set; } = [];

    /// <summary>Session ids.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("SessionId")]
    [ArgumentCompleter(typeof(SessionIdCompleter))]
    public int[] Id { get; set; } = [];

    /// <summary>Session names; wildcards allowed.</summary>
    [Parameter(Mandatory = true, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SessionNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>Emit each stopped session.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case IdSet:
                foreach (var id in Id)
                {
                    if (GeoSyncSessionRegistry.Find(id) is { } session) Stop(session);
                    else WriteError(ErrorRecords.SessionNotFound($"id {id}", id));
                }
                break;
            case NameSet:
                foreach (var name in Name)
                {
                    var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                    var found = GeoSyncSessionRegistry.All.Where(s => pattern.IsMatch(s.Name)).ToList();
                    if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        WriteError(ErrorRecords.SessionNotFound($"the name '{name}'", name));
                    }
                    found.ForEach(Stop);
                }
                break;
            default:
                foreach (var session in InputObject) Stop(session);
                break;
        }
    }

    private void Stop(GeoSyncSession session)
    {
        if (!ShouldProcess(session.ToString(), "Stop the session (end the slave, unmount the aux mounts)")) return;
        GeoSyncSessionRegistry.TryRemove(session);
        WriteVerbose($"Stopping session {session.Name} ({session.Master} -> {session.Slave}).");
        try
        {
            session.StopAsync().GetAwaiter().GetResult();
        }
        catch (GeoSyncException e)
        {
            WriteError(ErrorRecords.FromException(e, session, "SessionStopFailed"));
        }
        if (PassThru) WriteObject(session);
    }
}
