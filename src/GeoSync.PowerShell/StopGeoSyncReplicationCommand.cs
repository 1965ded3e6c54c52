using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Stop-GeoSyncReplication: ends the replication's worker cleanly and its supervisor, within a bound, then kills what
/// is left.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "GeoSyncReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Commands + "Stop-GeoSyncReplication")]
[OutputType(typeof(GeoSyncSupervisorInfo))]
public sealed class StopGeoSyncReplicationCommand : SupervisedReplicationCommandBase
{
    /// <summary>Seconds to wait for a clean stop before the supervisor and what is left of the worker are killed; 60 by default.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = (int)SupervisorControl.DefaultStopTimeout.TotalSeconds;

    protected override string FailureId => "ReplicationStopFailed";

    protected override SupervisorRecord? Act(ReplicationPaths paths)
    {
        if (!ShouldProcess(paths.Name, "Stop the replication (end its worker cleanly, then its supervisor)")) return null;
        if (!SupervisorControl.IsSupervised(paths)) WriteVerbose($"Replication {paths.Name} is not running; it is marked Stopped.");
        return SupervisorControl.Stop(paths, TimeSpan.FromSeconds(TimeoutSec), Cancellation);
    }
}
