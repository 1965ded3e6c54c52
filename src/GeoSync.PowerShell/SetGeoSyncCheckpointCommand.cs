using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Set-GeoSyncCheckpoint: sets a replication's checkpoint (now by default); it completes when the replication's
/// LastSynced reaches it, that is when everything written on the master before it is on the slave.
/// </summary>
[Cmdlet(VerbsCommon.Set, "GeoSyncCheckpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Commands + "Set-GeoSyncCheckpoint")]
[OutputType(typeof(ReplicationStatus))]
public sealed class SetGeoSyncCheckpointCommand : PSCmdlet
{
    /// <summary>The replication.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ReplicationNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The checkpoint time on the master's clock; now when omitted.</summary>
    [Parameter(Position = 1)]
    public DateTimeOffset At { get; set; }

    /// <summary>The state directory; the default rule of StateDirectory.Resolve when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    /// <summary>Writes the replication's status after setting the checkpoint.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var directory = ReplicationCommands.ResolveStateDirectory(this, StateDirectory);
        var paths = ReplicationCommands.RequireReplication(this, directory, Name);
        var now = DateTimeOffset.UtcNow;
        var at = MyInvocation.BoundParameters.ContainsKey(nameof(At)) ? At : now;
        var checkpoint = new CheckpointRecord(at.ToUniversalTime(), now);
        if (!ShouldProcess(Name, $"Set the checkpoint {checkpoint.At:u}")) return;
        AtomicJsonFile.Write(paths.CheckpointFile, checkpoint);
        WriteVerbose($"The checkpoint of replication {Name} is {checkpoint.At:u}: it completes when everything written on the master before it is on the slave.");
        if (PassThru && new ReplicationStatusReader(directory).ReadReplication(Name) is { } status) WriteObject(status);
    }
}
