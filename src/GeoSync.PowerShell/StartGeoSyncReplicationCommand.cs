using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Start-GeoSyncReplication: starts the replication's supervisor (geosync monitor) in the background, detached from
/// this shell and its terminal, and returns once it has started the worker.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "GeoSyncReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Commands + "Start-GeoSyncReplication")]
[OutputType(typeof(GeoSyncSupervisorInfo))]
public sealed class StartGeoSyncReplicationCommand : SupervisedReplicationCommandBase
{
    /// <summary>Seconds to wait for the supervisor to start the worker; 30 by default.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = (int)SupervisorControl.DefaultStartTimeout.TotalSeconds;

    protected override string FailureId => "SupervisorStartFailed";

    protected override SupervisorRecord? Act(ReplicationPaths paths)
    {
        if (!ShouldProcess(paths.Name, "Start the replication (a supervisor in the background runs and restarts its worker)")) return null;
        var geosync = SlaveCommandLocator.HostExecutable(MyInvocation.MyCommand.Module?.ModuleBase)
            ?? throw new GeoSyncSupervisorStartException(paths.Name, "The geosync executable was not found next to the module or on PATH; the supervisor runs as 'geosync monitor'. Install geosync, or put it on PATH.");
        WriteVerbose($"Starting the supervisor of {paths.Name}: {string.Join(' ', SupervisorControl.MonitorArgv(geosync, paths))}");
        var record = SupervisorControl.Start(paths, geosync, TimeSpan.FromSeconds(TimeoutSec), cancellationToken: Cancellation);
        WriteVerbose($"Replication {paths.Name} started: supervisor process {record.SupervisorPid}, worker process {record.WorkerPid}.");
        return record;
    }
}
