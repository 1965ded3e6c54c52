using System.Management.Automation;
using GeoSync.Engine.Session;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Wait-GeoSyncChange: the master loop's pause after an idle turn. Waits -Timeout seconds, or less when the session's
/// watcher sees the master change (docs/master-loop.md, "Watching a directory master") or the marker stamps a brick root
/// of a GlusterFS master read on its bricks ("Waking on a GlusterFS master"); writes whether a change ended it.
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "GeoSyncChange", HelpUri = HelpLinks.Commands + "Wait-GeoSyncChange")]
[OutputType(typeof(bool))]
public sealed class WaitGeoSyncChangeCommand : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();

    /// <summary>The session whose master is watched.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public GeoSyncSession? Session { get; set; }

    /// <summary>Seconds to wait at most.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange(0.0, 86400.0)]
    public double Timeout { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            var changed = Session!.WaitForChangeAsync(TimeSpan.FromSeconds(Timeout), _cancellation.Token).GetAwaiter().GetResult();
            WriteObject(changed);
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            // Ctrl+C: the pipeline is stopping.
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();
}
