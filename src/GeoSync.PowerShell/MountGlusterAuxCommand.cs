using System.Collections.Concurrent;
using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Transport.Mounting;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Mount-GlusterAux: mounts a GlusterFS volume the way gsyncd does (client-pid -1, so its own writes stamp no xtime),
/// directly or through glusterd's mountbroker, and returns once the mount answers.
/// </summary>
[Cmdlet(VerbsData.Mount, "GlusterAux",
    HelpUri = HelpLinks.Commands + "Mount-GlusterAux",
    DefaultParameterSetName = DirectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(GlusterAuxMount))]
public sealed class MountGlusterAuxCommand : PSCmdlet, IDisposable
{
    private const string DirectSet = "Direct";
    private const string MountBrokerSet = "MountBroker";
    private static readonly TimeSpan DrainInterval = TimeSpan.FromMilliseconds(100);

    private readonly CancellationTokenSource _cancellation = new();
    private readonly ConcurrentQueue<(bool IsDebug, string Text)> _messages = new();

    /// <summary>The volume to mount.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Volume { get; set; } = "";

    /// <summary>Direct: the volfile server. MountBroker: the glusterd to ask, localhost by default.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = DirectSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Position = 1, ParameterSetName = MountBrokerSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "localhost";

    /// <summary>A network namespace (name under /var/run/netns, or a path) to run the client or the gluster CLI in.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NetworkNamespace { get; set; }

    /// <summary>Direct only: an existing empty directory to mount on instead of a new temporary one.</summary>
    [Parameter(ParameterSetName = DirectSet)]
    [ValidateNotNullOrEmpty]
    public string? MountPoint { get; set; }

    /// <summary>Ask glusterd's mountbroker to mount for an unprivileged geo-replication user.</summary>
    [Parameter(Mandatory = true, ParameterSetName = MountBrokerSet)]
    public SwitchParameter MountBroker { get; set; }

    /// <summary>MountBroker only: the geo-replication user (label and user-map-root); the current user by default.</summary>
    [Parameter(ParameterSetName = MountBrokerSet)]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    /// <summary>Seconds to wait for the mount to answer, 60 by default (gsyncd's connection timeout).</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = (int)GlusterMountOptions.DefaultTimeout.TotalSeconds;

    /// <summary>The glusterfs client's log file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LogFile { get; set; }

    /// <summary>The glusterfs client's log level.</summary>
    [Parameter]
    [ValidateSet("TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "NONE")]
    public string? LogLevel { get; set; }

    /// <summary>The directory holding glusterfs and gluster, when they are not on PATH or in /usr/sbin.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? GlusterCommandDirectory { get; set; }

    protected override void ProcessRecord()
    {
        var mode = ParameterSetName == MountBrokerSet ? GlusterMountMode.MountBroker : GlusterMountMode.Direct;
        var options = new GlusterMountOptions
        {
            Volume = Volume,
            Server = Server,
            Mode = mode,
            NetworkNamespace = NetworkNamespace,
            Timeout = TimeSpan.FromSeconds(TimeoutSec),
            LogFile = LogFile is null ? null : GetUnresolvedProviderPathFromPSPath(LogFile),
            LogLevel = LogLevel,
            MountPoint = MountPoint is null ? null : GetUnresolvedProviderPathFromPSPath(MountPoint),
            GlusterCommandDirectory = GlusterCommandDirectory is null ? null : GetUnresolvedProviderPathFromPSPath(GlusterCommandDirectory),
            MountBrokerUser = User,
        };
        var target = $"{Server}:{Volume}";
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            WriteError(new ErrorRecord(e, "InvalidGlusterMountArgument", ErrorCategory.InvalidArgument, target));
            return;
        }

        var action = mode == GlusterMountMode.Direct
            ? $"Mount with client-pid -1 on {options.MountPoint ?? "a new temporary directory"}"
            : $"Ask glusterd's mountbroker to mount for user {User ?? Environment.UserName}";
        if (!ShouldProcess(target, action))
        {
            return;
        }

        var mounter = new GlusterMounter
        {
            Verbose = text => _messages.Enqueue((false, text)),
            Debug = text => _messages.Enqueue((true, text)),
        };
        AuxMount mount;
        try
        {
            mount = Await(mounter.MountAsync(options, _cancellation.Token));
        }
        catch (GeoSyncException e)
        {
            WriteError(ErrorRecords.FromException(e, target));
            return;
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            return;
        }

        var result = new GlusterAuxMount(mount);
        GlusterAuxMountRegistry.Add(result);
        WriteObject(result);
    }

    // Only the pipeline thread may write, so the engine's messages wait in a queue that is drained while the mount runs.
    private T Await<T>(Task<T> task)
    {
        while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(DrainInterval))
        {
            DrainMessages();
        }

        DrainMessages();
        return task.GetAwaiter().GetResult();
    }

    private void DrainMessages()
    {
        while (_messages.TryDequeue(out var message))
        {
            if (message.IsDebug)
            {
                WriteDebug(message.Text);
            }
            else
            {
                WriteVerbose(message.Text);
            }
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();
}
