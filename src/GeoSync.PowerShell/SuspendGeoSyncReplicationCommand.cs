using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Suspend-GeoSyncReplication: pauses a replication — its worker ends cleanly, the supervisor waits — without losing
/// the position (the slave's xtimes keep what arrived).
/// </summary>
[Cmdlet(VerbsLifecycle.Suspend, "GeoSyncReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Commands + "Suspend-GeoSyncReplication")]
[OutputType(typeof(GeoSyncSupervisorInfo))]
public sealed class SuspendGeoSyncReplicationCommand : SupervisedReplicationCommandBase
{
    /// <summary>Seconds to wait for the supervisor to say Paused; 60 by default.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = (int)SupervisorControl.DefaultStopTimeout.TotalSeconds;

    protected override string FailureId => "ReplicationPauseFailed";

    protected override SupervisorRecord? Act(ReplicationPaths paths)
    {
        if (!ShouldProcess(paths.Name, "Pause the replication (end its worker cleanly; the supervisor waits)")) return null;
        if (!SupervisorControl.IsSupervised(paths))
        {
            WriteWarning($"Replication {paths.Name} is not running; it stays paused when started, until Resume-GeoSyncReplication.");
        }
        return SupervisorControl.Pause(paths, TimeSpan.FromSeconds(TimeoutSec), Cancellation);
    }
}
