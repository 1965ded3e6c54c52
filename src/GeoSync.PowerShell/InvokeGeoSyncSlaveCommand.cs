using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Slave;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Invoke-GeoSyncSlave: serves a slave (a directory, or a GlusterFS volume it mounts and enters) over RePCe on this
/// process's stdin and stdout until the master closes its end or stops sending keep-alives — what <c>geosync slave URL
/// --listen</c> does, for hosts where pwsh runs the slave. Logs go to stderr in gsyncd's format.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "GeoSyncSlave",
    HelpUri = HelpLinks.Commands + "Invoke-GeoSyncSlave",
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
public sealed class InvokeGeoSyncSlaveCommand : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();

    /// <summary>The slave root: file:///DIR (or /DIR), or gluster://HOST:VOL.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Url { get; set; } = "";

    /// <summary>Seconds without a keep-alive from the master after which the slave ends; 0 (the default) never.</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int Timeout { get; set; }

    /// <summary>How many calls are answered at once; 3 by default.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int SyncJobs { get; set; } = SlaveHostOptions.DefaultSyncJobs;

    /// <summary>The master volume's uuid, named in the log.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SessionOwner { get; set; }

    /// <summary>The master's rsync copies extended attributes; refused unless running as root.</summary>
    [Parameter]
    public SwitchParameter UseRsyncXattrs { get; set; }

    /// <summary>The network namespace the glusterfs client of a gluster:// slave runs in.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NetworkNamespace { get; set; }

    /// <summary>The directory holding glusterfs, when it is not on PATH or in /usr/sbin.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? GlusterCommandDirectory { get; set; }

    /// <summary>The glusterfs client's log file for a gluster:// slave.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? GlusterLogFile { get; set; }

    protected override void EndProcessing()
    {
        if (!ShouldProcess(Url, "Serve the slave over RePCe on stdin/stdout"))
        {
            return;
        }

        var options = new SlaveHostOptions
        {
            Url = Url,
            TimeoutSeconds = Timeout,
            SyncJobs = SyncJobs,
            SessionOwner = SessionOwner,
            UseRsyncXattrs = UseRsyncXattrs,
            NetworkNamespace = NetworkNamespace,
            GlusterCommandDirectory = GlusterCommandDirectory is null ? null : GetUnresolvedProviderPathFromPSPath(GlusterCommandDirectory),
            GlusterLogFile = GlusterLogFile is null ? null : GetUnresolvedProviderPathFromPSPath(GlusterLogFile),
        };

        // The protocol owns stdout and the master reads the log from stderr, so the server's lines go there directly
        // rather than through the pipeline streams, which the console host would print on stdout.
        int result;
        var consoleOut = Console.Out;
        using (var output = Console.OpenStandardOutput())
        using (var input = Console.OpenStandardInput())
        {
            Console.SetOut(Console.Error);
            try
            {
                result = SlaveHost.RunAsync(options, input, output, new SlaveLog(Console.Error, "slave"), _cancellation.Token).GetAwaiter().GetResult();
            }
            finally
            {
                Console.SetOut(consoleOut);
            }
        }

        if (result != SlaveHost.Success)
        {
            ThrowTerminatingError(new ErrorRecord(
                new GeoSyncException($"the slave {Url} could not start or its connection broke; its log on stderr says why"),
                "SlaveFailed", ErrorCategory.ConnectionError, Url));
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();
}
