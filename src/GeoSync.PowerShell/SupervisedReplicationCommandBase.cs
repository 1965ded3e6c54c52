using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell;

/// <summary>What Start-, Stop-, Suspend- and Resume-GeoSyncReplication share: the names, the state directory, the errors.</summary>
public abstract class SupervisedReplicationCommandBase : PSCmdlet
{
    /// <summary>The replications' names (as given to New-GeoSyncReplication / geosync create).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>The state directory the replications live in: $env:GEOSYNC_STATE_DIR, else /var/lib/geosync for root, else ~/.local/state/geosync.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    /// <summary>Emit the supervisor's record of each replication afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the pipeline is stopped (Ctrl+C).</summary>
    protected CancellationToken Cancellation => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    protected override void EndProcessing() => _stopping.Dispose();

    protected override void ProcessRecord()
    {
        var stateDirectory = GeoSync.Engine.Operations.StateDirectory.Resolve(
            StateDirectory is null ? null : GetUnresolvedProviderPathFromPSPath(StateDirectory));
        foreach (var name in Name)
        {
            if (!ReplicationPaths.IsValidName(name))
            {
                WriteError(new ErrorRecord(new GeoSyncReplicationNameException(name, $"'{name}' is not a valid replication name: a letter or digit followed by up to 63 letters, digits, '.', '_' or '-'."),
                    "InvalidReplicationName", ErrorCategory.InvalidArgument, name));
                continue;
            }
            var paths = new ReplicationPaths(stateDirectory, name);
            if (!File.Exists(paths.ConfigFile))
            {
                WriteError(ReplicationNotFound(paths));
                continue;
            }
            try
            {
                if (Act(paths) is { } record && PassThru) WriteObject(new GeoSyncSupervisorInfo(paths, record));
            }
            catch (GeoSyncReplicationNotFoundException)
            {
                WriteError(ReplicationNotFound(paths));
            }
            catch (GeoSyncReplicationRunningException e)
            {
                WriteError(new ErrorRecord(e, "ReplicationRunning", ErrorCategory.ResourceBusy, name));
            }
            catch (GeoSyncSupervisorStartException e)
            {
                WriteError(new ErrorRecord(e, "SupervisorStartFailed", ErrorCategory.OpenError, name)
                {
                    ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = $"Read the log (Get-GeoSyncLog -Name {name}) and fix what it names, then start it again." },
                });
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (GeoSyncException e)
            {
                WriteError(new ErrorRecord(e, FailureId, ErrorCategory.OperationTimeout, name));
            }
        }
    }

    /// <summary>Does the cmdlet's one thing to one replication (ShouldProcess included); the record, or null when skipped.</summary>
    protected abstract SupervisorRecord? Act(ReplicationPaths paths);

    /// <summary>The error id of any other failure of <see cref="Act"/>.</summary>
    protected abstract string FailureId { get; }

    private static ErrorRecord ReplicationNotFound(ReplicationPaths paths) =>
        new(new GeoSyncReplicationNotFoundException(paths.Name, paths.StateDirectory), "ReplicationNotFound", ErrorCategory.ObjectNotFound, paths.Name)
        {
            ErrorDetails = new ErrorDetails($"There is no replication named '{paths.Name}' in {paths.StateDirectory}.")
            {
                RecommendedAction = $"Define it with New-GeoSyncReplication -Name {paths.Name} (geosync create {paths.Name} MASTER SLAVE), or give -StateDirectory.",
            },
        };
}
