using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Master;
using GeoSync.Engine.Operations;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Start-GeoSyncSession: connects a master (a GlusterFS volume through an aux mount, or a directory) with a slave (in
/// this process, a local geosync slave child, or over ssh) and returns the session, ready for Invoke-GeoSyncCrawl.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "GeoSyncSession",
    HelpUri = HelpLinks.Commands + "Start-GeoSyncSession",
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(GeoSyncSession))]
public sealed class StartGeoSyncSessionCommand : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly PipelineQueue _queue = new();

    /// <summary>The master: gluster://HOST:VOL (or HOST:VOL, :VOL), or a directory (file:///DIR or /DIR).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Master { get; set; } = "";

    /// <summary>The slave: file:///DIR, gluster://HOST:VOL, or ssh://[USER@]HOST:(/DIR|VOL) (also [USER@]HOST:/DIR, HOST::VOL).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Slave { get; set; } = "";

    /// <summary>A name to find the session by; Session&lt;Id&gt; by default.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>How many rsync processes may run at once (sync_jobs); 3, or half the processors when that is fewer.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int SyncJobs { get; set; } = SyncerOptions.DefaultSyncJobs;

    /// <summary>Seconds the slave waits for a keep-alive before it ends itself (the master sends one every half of it); 0 = never. 120 by default.</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int Timeout { get; set; } = SessionOptions.DefaultTimeoutSeconds;

    /// <summary>How the slave is reached: InProcess, Child (a local geosync slave process) or Ssh; by default ssh:// slaves over Ssh, others InProcess.</summary>
    [Parameter]
    public SlaveMode SlaveMode { get; set; } = SlaveMode.Auto;

    /// <summary>The ssh client with options of its own, e.g. 'ssh -oConnectTimeout=10'; ssh by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SshCommand { get; set; }

    /// <summary>The slave host's ssh port.</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int SshPort { get; set; }

    /// <summary>The private key that logs in to the slave host.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? IdentityFile { get; set; }

    /// <summary>The known-hosts file that pins the slave host's key; ~/.ssh/known_hosts by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KnownHostsFile { get; set; }

    /// <summary>The command the slave host runs, one word per element; 'geosync', 'slave' by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? RemoteCommand { get; set; }

    /// <summary>The local slave command for -SlaveMode Child, one word per element; the geosync host next to this module (or on PATH) with 'slave'.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? SlaveCommand { get; set; }

    /// <summary>The network namespace in which this host's glusterfs clients reach glusterd.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NetworkNamespace { get; set; }

    /// <summary>The directory holding glusterfs, when it is not on PATH or in /usr/sbin.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? GlusterCommandDirectory { get; set; }

    /// <summary>The directory for the aux mounts' client logs; the glusterfs client's log directory by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? GlusterLogDirectory { get; set; }

    /// <summary>Seconds each connection phase (a mount, the slave's handshake) may take; 60 by default.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int ConnectionTimeoutSec { get; set; } = 60;

    /// <summary>Keep entries on the slave that the master no longer has.</summary>
    [Parameter]
    public SwitchParameter IgnoreDeletes { get; set; }

    /// <summary>
    /// The mass-deletion guard: a purge of 10 or more entries that is more than this share (0 to 1) of a directory's
    /// slave entries in one turn is held back and reported; 1 allows any purge. 0.5 by default.
    /// </summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double MaxDeleteShare { get; set; } = 0.5;

    /// <summary>
    /// Whether the crawl of a GlusterFS master skips subtrees by their directory's xtime: Auto (by default) unless the
    /// volume is distributed over several subvolumes, Enabled, or Disabled (list every directory each turn).
    /// </summary>
    [Parameter]
    public DirectoryPruning DirectoryPruning { get; set; } = DirectoryPruning.Auto;

    /// <summary>
    /// How a directory master finds changes: Auto (watch it with inotify; turns compare only what changed, a full
    /// comparison whenever the watch cannot be trusted) or Disabled (compare both trees in full every turn).
    /// </summary>
    [Parameter]
    public MasterWatch Watch { get; set; } = MasterWatch.Auto;

    /// <summary>rsync copies extended attributes too (--xattrs); the slave must run as root.</summary>
    [Parameter]
    public SwitchParameter Xattrs { get; set; }

    /// <summary>
    /// A file that keeps the paths that failed to reach the slave across sessions and restarts (Get-GeoSyncFailure reads
    /// it); Invoke-GeoSyncMaster passes the one next to its state file. Without it failures are kept for the session only.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FailureLedgerPath { get; set; }

    /// <summary>
    /// A file whose modification time is set to now whenever the slave answers a keep-alive: the sign of life a
    /// supervisor watches to tell a hung worker (Invoke-GeoSyncMaster -HeartbeatPath passes it on).
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? HeartbeatPath { get; set; }

    /// <summary>
    /// Allow the session's first sync into a slave that holds entries this master did not put there; the entries the
    /// master lacks are deleted. Without it the first turn refuses with SlaveNotEmpty.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var opened = 0;
        // The catalog's options map to session options in one place (ReplicationSessionOptions), as for a replication.
        var options = ReplicationSessionOptions.From(Master, Slave, Name,
            CatalogParameters.Bound(this, ReplicationSessionOptions.SessionOptionsOfCatalog), DefaultSlaveCommand()) with
        {
            FailureLedgerPath = ProviderPath(FailureLedgerPath),
            HeartbeatPath = ProviderPath(HeartbeatPath),
            // Only the opening is narrated here; Invoke-GeoSyncCrawl listens while a turn runs.
            Log = (level, text) =>
            {
                if (Volatile.Read(ref opened) == 0) _queue.Post(level, text);
            },
        };
        var target = $"{Master} -> {Slave}";
        if (!ShouldProcess(target, "Start a geo-replication session (mount the master, start and connect the slave)"))
        {
            return;
        }

        GeoSyncSession session;
        try
        {
            session = _queue.Await(this, GeoSyncSession.OpenAsync(options, _cancellation.Token));
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            return;
        }
        catch (GeoSyncException e)
        {
            ThrowTerminatingError(ErrorRecords.FromException(e, target, "SessionOpenFailed"));
            return;
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidSessionArgument", ErrorCategory.InvalidArgument, target));
            return;
        }
        finally
        {
            Volatile.Write(ref opened, 1);
        }

        GeoSyncSessionRegistry.Add(session);
        WriteObject(session);
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();

    private string? ProviderPath(string? path) => path is null ? null : GetUnresolvedProviderPathFromPSPath(path);

    private string[] DefaultSlaveCommand() => SlaveCommandLocator.DefaultSlaveCommand(MyInvocation.MyCommand.Module?.ModuleBase);
}
