using System.Globalization;
using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Wait-GeoSyncCheckpoint: blocks until the replication's checkpoint completes (everything written on the master before
/// it is on the slave) and writes the status; a CheckpointTimeout error when -Timeout passes first.
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "GeoSyncCheckpoint", HelpUri = HelpLinks.Commands + "Wait-GeoSyncCheckpoint")]
[OutputType(typeof(ReplicationStatus))]
public sealed class WaitGeoSyncCheckpointCommand : PSCmdlet, IDisposable
{
    private const int ProgressActivityId = 7410;
    private readonly CancellationTokenSource _cancellation = new();
    private readonly PipelineQueue _queue = new();

    /// <summary>The replication.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ReplicationNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Seconds to wait at most; without it the wait lasts until the checkpoint completes or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Timeout { get; set; }

    /// <summary>The state directory; the default rule of StateDirectory.Resolve when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    protected override void ProcessRecord()
    {
        var directory = ReplicationCommands.ResolveStateDirectory(this, StateDirectory);
        ReplicationCommands.RequireReplication(this, directory, Name);
        var reader = new ReplicationStatusReader(directory);
        ReplicationStatus? latest = null;
        ReplicationStatus? shown = null;
        var progress = new ProgressRecord(ProgressActivityId, $"Waiting for the checkpoint of replication {Name}", "Reading its status");
        ReplicationStatus Read() => reader.ReadReplication(Name)
            ?? throw new GeoSync.Engine.GeoSyncException($"replication '{Name}' was removed while waiting for its checkpoint.");
        var timeout = MyInvocation.BoundParameters.ContainsKey(nameof(Timeout)) ? TimeSpan.FromSeconds(Timeout) : (TimeSpan?)null;
        var waiting = CheckpointWait.WaitAsync(Name, Read, timeout,
            status => Volatile.Write(ref latest, status), cancellationToken: _cancellation.Token);
        try
        {
            var done = _queue.Await(this, waiting, ShowProgress);
            WriteObject(done);
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
        }
        catch (GeoSyncCheckpointTimeoutException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "CheckpointTimeout", ErrorCategory.OperationTimeout, Name));
        }
        catch (GeoSyncCheckpointNotSetException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "CheckpointNotSet", ErrorCategory.InvalidOperation, Name));
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }

        void ShowProgress()
        {
            // On each new reading (one per CheckpointWait.PollInterval).
            if (Volatile.Read(ref latest) is not { Checkpoint: { } checkpoint } now || ReferenceEquals(now, shown)) return;
            shown = now;
            var synced = now.LastSynced is { } last
                ? string.Create(CultureInfo.InvariantCulture, $"everything before {last.ToLocalTime():yyyy-MM-dd HH:mm:ss} is on the slave (lag {now.LagSeconds} s)")
                : "no turn has completed with nothing failed yet";
            progress.StatusDescription = string.Create(CultureInfo.InvariantCulture,
                $"Checkpoint {checkpoint.ToLocalTime():yyyy-MM-dd HH:mm:ss}: {synced}; {now.State}, {now.Failures} failure(s)");
            WriteProgress(progress);
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();
}
