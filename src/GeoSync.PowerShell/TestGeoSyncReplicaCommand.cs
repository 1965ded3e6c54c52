using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Master;
using GeoSync.Engine.Operations;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Verify;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Test-GeoSyncReplica: compares the whole master with its slave — type, size, mode, owner, mtime, symlink target, user
/// xattrs when the session copies them, and with -Checksum the content, hashed on each side's own host — and writes each
/// difference, then a summary. -Repair makes the slave match through the sync path and verifies again.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "GeoSyncReplica",
    HelpUri = HelpLinks.Commands + "Test-GeoSyncReplica",
    DefaultParameterSetName = UrlSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(GeoSyncReplicaDifference), typeof(GeoSyncReplicaSummary))]
public sealed class TestGeoSyncReplicaCommand : PSCmdlet, IDisposable
{
    private const string UrlSet = "Url";
    private const string SessionSet = "Session";
    private const string ReplicationSet = "Replication";
    private const int ProgressActivityId = 7402;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _cancellation = new();
    private readonly PipelineQueue _queue = new();

    // Master and Slave take no pipeline input by property name: a piped session has both properties, and binding them
    // (the default set wins) opened a second session without the piped one's options (its network namespace, slave mode).
    /// <summary>The master: gluster://HOST:VOL (or HOST:VOL, :VOL), or a directory (file:///DIR or /DIR).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string Master { get; set; } = "";

    /// <summary>The slave: file:///DIR, gluster://HOST:VOL, or ssh://[USER@]HOST:(/DIR|VOL); it must run GeoSync's slave.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string Slave { get; set; } = "";

    /// <summary>A session from Start-GeoSyncSession to verify through; it stays open afterwards.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SessionSet, ValueFromPipeline = true)]
    [Alias("InputObject")]
    [ValidateNotNull]
    public GeoSyncSession? Session { get; set; }

    /// <summary>A named replication (New-GeoSyncReplication): its pair, reached with its stored options.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ReplicationSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ReplicationNameCompleter))]
    public string Replication { get; set; } = "";

    /// <summary>The state directory of the replication: $env:GEOSYNC_STATE_DIR, else /var/lib/geosync for root, else ~/.local/state/geosync.</summary>
    [Parameter(ParameterSetName = ReplicationSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    /// <summary>Compare file contents too: the xxh128 digest of every pair of files of equal size, each hashed on its own host.</summary>
    [Parameter]
    public SwitchParameter Checksum { get; set; }

    /// <summary>Make the slave match the master through the sync path, then verify again and report that result.</summary>
    [Parameter]
    public SwitchParameter Repair { get; set; }

    /// <summary>The session copies extended attributes (rsync --xattrs): compare regular files' user.* xattrs too, and copy them when repairing.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    public SwitchParameter Xattrs { get; set; }

    /// <summary>How the slave is reached: InProcess, Child (a local geosync slave process) or Ssh; by default ssh:// slaves over Ssh, others InProcess.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    public SlaveMode SlaveMode { get; set; } = SlaveMode.Auto;

    /// <summary>The ssh client with options of its own, e.g. 'ssh -oConnectTimeout=10'; ssh by default.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string? SshCommand { get; set; }

    /// <summary>The slave host's ssh port.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateRange(1, 65535)]
    public int SshPort { get; set; }

    /// <summary>The private key that logs in to the slave host.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string? IdentityFile { get; set; }

    /// <summary>The known-hosts file that pins the slave host's key; ~/.ssh/known_hosts by default.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string? KnownHostsFile { get; set; }

    /// <summary>The command the slave host runs, one word per element; 'geosync', 'slave' by default.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string[]? RemoteCommand { get; set; }

    /// <summary>The local slave command for -SlaveMode Child, one word per element; the geosync host next to this module (or on PATH) with 'slave'.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string[]? SlaveCommand { get; set; }

    /// <summary>The network namespace in which this host's glusterfs clients reach glusterd.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string? NetworkNamespace { get; set; }

    /// <summary>The directory holding glusterfs, when it is not on PATH or in /usr/sbin.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string? GlusterCommandDirectory { get; set; }

    /// <summary>The directory for the aux mounts' client logs; the glusterfs client's log directory by default.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateNotNullOrEmpty]
    public string? GlusterLogDirectory { get; set; }

    /// <summary>Seconds each connection phase (a mount, the slave's handshake) may take; 60 by default.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    [ValidateRange(1, 3600)]
    public int ConnectionTimeoutSec { get; set; } = GeoSync.Engine.Session.SessionOptions.DefaultConnectionTimeoutSeconds;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == SessionSet)
        {
            try
            {
                Verify(Session!);
            }
            catch (GeoSyncException e)
            {
                WriteError(ErrorRecords.FromException(e, Session!, "ReplicaVerifyFailed"));
            }
            return;
        }

        var target = ParameterSetName == ReplicationSet ? (object)Replication : $"{Master} -> {Slave}";
        GeoSyncSession session;
        try
        {
            // A repair sends through the session's syncer; a verify alone opens only what it compares with.
            var options = SessionOptions();
            session = _queue.Await(this, Repair
                ? GeoSyncSession.OpenAsync(options, _cancellation.Token)
                : GeoSyncSession.OpenForVerifyAsync(options, _cancellation.Token));
        }
        catch (GeoSyncReplicationNotFoundException e)
        {
            WriteError(new ErrorRecord(e, "ReplicationNotFound", ErrorCategory.ObjectNotFound, Replication));
            return;
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

        try
        {
            Verify(session);
        }
        catch (GeoSyncException e)
        {
            ThrowTerminatingError(ErrorRecords.FromException(e, target, "ReplicaVerifyFailed"));
        }
        finally
        {
            // The session was opened for this verify only; nothing of it (slave process, mounts) outlives the cmdlet.
            session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();

    /// <summary>One verify, and with -Repair the repair and the second verify.</summary>
    private void Verify(GeoSyncSession session)
    {
        using var log = session.AddLogListener(_queue.Post);
        var first = RunPass(session, afterRepair: false, out var contentDifferences);
        if (first is null || !Repair || first.Differences == 0) return;

        if (!ShouldProcess(session.Slave.ToString(),
                $"Repair {first.Differences} differences: send, recreate and purge entries on the slave until it matches the master"))
        {
            return;
        }
        TurnResult turn;
        try
        {
            turn = _queue.Await(this, session.RepairAsync(contentDifferences, _cancellation.Token));
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            return;
        }
        WriteVerbose(string.Create(CultureInfo.InvariantCulture,
            $"Repair of {session.Slave}: {turn.FilesSynced} files ({turn.BytesSynced} bytes) sent, {turn.EntriesCreated} entries created, " +
            $"{turn.EntriesPurged} purged, {turn.Failures.Count} failures in {turn.Duration.TotalSeconds:F1} s."));
        foreach (var failure in turn.Failures)
        {
            WriteError(new ErrorRecord(new GeoSyncException($"'{failure.Path}' could not be repaired: {failure.Reason}"),
                "EntryNotRepaired", ErrorCategory.WriteError, failure.Path));
        }
        RunPass(session, afterRepair: true, out _);
    }

    /// <summary>Runs one verify, streaming differences and unreadable paths, and writes its summary; null when stopped.</summary>
    private GeoSyncReplicaSummary? RunPass(GeoSyncSession session, bool afterRepair, out List<string> contentDifferences)
    {
        var found = new List<string>();
        contentDifferences = found;
        var pass = afterRepair ? "Verifying again after the repair" : "Verifying";
        WriteVerbose($"{pass}: {session.Master} -> {session.Slave}{(Checksum ? " with checksums" : "")}.");
        var verifier = session.CreateVerifier(new ReplicaVerifyOptions { Checksum = Checksum, Xattrs = true });
        var differences = new ConcurrentQueue<ReplicaDifference>();
        var unreadable = new ConcurrentQueue<(string Path, string Reason)>();
        var progress = new ProgressRecord(ProgressActivityId, $"Verifying {session.Slave} against {session.Master}", "Starting");
        var throttle = Stopwatch.StartNew();
        var shown = false;

        ReplicaVerifyResult result;
        try
        {
            result = _queue.Await(this,
                verifier.VerifyAsync(differences.Enqueue, (path, reason) => unreadable.Enqueue((path, reason)), _cancellation.Token),
                Tick);
            Tick();
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }

        var summary = new GeoSyncReplicaSummary(session.Master.ToString(), session.Slave.ToString(), Checksum, afterRepair, result);
        WriteVerbose(string.Create(CultureInfo.InvariantCulture,
            $"{summary.EntriesCompared} entries in {summary.DirectoriesCompared} directories compared, {summary.Differences} differences, " +
            $"{summary.Unreadable} not readable, {summary.BytesHashed} bytes hashed, {summary.Duration.TotalSeconds:F1} s."));
        WriteObject(summary);
        return summary;

        void Tick()
        {
            // Only the pipeline thread writes: the engine queues what it finds.
            while (differences.TryDequeue(out var difference))
            {
                if (difference.Kind == DifferenceKind.Content) found.Add(difference.Path);
                WriteObject(new GeoSyncReplicaDifference(difference, afterRepair));
            }
            while (unreadable.TryDequeue(out var item))
            {
                WriteError(new ErrorRecord(new GeoSyncException($"'{item.Path}' was not compared: {item.Reason}"),
                    "ReplicaEntryUnreadable", ErrorCategory.ReadError, item.Path));
            }
            if ((shown && throttle.Elapsed < ProgressInterval) || _cancellation.IsCancellationRequested) return;
            shown = true;
            throttle.Restart();
            var now = verifier.Progress;
            progress.StatusDescription = string.Create(CultureInfo.InvariantCulture,
                $"{now.EntriesCompared} entries in {now.DirectoriesCompared} directories compared, {now.Differences} differences");
            progress.CurrentOperation = Checksum ? string.Create(CultureInfo.InvariantCulture, $"{now.BytesHashed / (1024.0 * 1024):F1} MiB hashed") : null;
            WriteProgress(progress);
        }
    }

    /// <summary>
    /// The session to verify: the named replication's, or the pair given with the connection parameters bound here, which
    /// are the catalog's options of the same names (one mapping to session options: ReplicationSessionOptions).
    /// </summary>
    private SessionOptions SessionOptions()
    {
        var slaveCommand = SlaveCommandLocator.DefaultSlaveCommand(MyInvocation.MyCommand.Module?.ModuleBase);
        if (ParameterSetName == ReplicationSet)
        {
            var store = new ReplicationStore(StateDirectory is null ? null : GetUnresolvedProviderPathFromPSPath(StateDirectory));
            return ReplicationSessionOptions.From(store.Get(Replication), slaveCommand);
        }
        // What is not bound keeps the catalog's default (connection-timeout: SessionOptions.DefaultConnectionTimeoutSeconds).
        var options = CatalogParameters.Bound(this, ReplicationSessionOptions.ConnectionKeys.Select(ReplicationOptions.Get));
        return ReplicationSessionOptions.From(Master, Slave, "Verify", options, slaveCommand);
    }
}
