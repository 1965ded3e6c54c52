using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>Resume-GeoSyncReplication: a paused replication's supervisor starts a worker again, which goes on where it was.</summary>
[Cmdlet(VerbsLifecycle.Resume, "GeoSyncReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Commands + "Resume-GeoSyncReplication")]
[OutputType(typeof(GeoSyncSupervisorInfo))]
public sealed class ResumeGeoSyncReplicationCommand : SupervisedReplicationCommandBase
{
    /// <summary>Seconds to wait for the supervisor to start the worker; 30 by default.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = (int)SupervisorControl.DefaultStartTimeout.TotalSeconds;

    protected override string FailureId => "ReplicationResumeFailed";

    protected override SupervisorRecord? Act(ReplicationPaths paths)
    {
        if (!ShouldProcess(paths.Name, "Resume the replication (its supervisor starts the worker again)")) return null;
        if (!SupervisorControl.IsSupervised(paths))
        {
            WriteWarning($"Replication {paths.Name} is not running; Start-GeoSyncReplication -Name {paths.Name} starts it.");
        }
        return SupervisorControl.Resume(paths, TimeSpan.FromSeconds(TimeoutSec), Cancellation);
    }
}
