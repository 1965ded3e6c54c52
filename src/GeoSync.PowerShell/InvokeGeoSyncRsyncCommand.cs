using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Master;
using GeoSync.Engine.Transport;
using IOPath = System.IO.Path;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Invoke-GeoSyncRsync: syncs files, named relative to a source directory, into a local or ssh destination with parallel
/// batched rsync runs (gsyncd's sync jobs: docs/master-loop.md, "The crawl"; the rsync argv: docs/protocol.md, "Transport").
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "GeoSyncRsync",
    HelpUri = HelpLinks.Commands + "Invoke-GeoSyncRsync",
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(GeoSyncRsyncResult), typeof(GeoSyncRsyncSummary))]
public sealed class InvokeGeoSyncRsyncCommand : PSCmdlet, IDisposable
{
    private const int ProgressActivityId = 1;
    private const string ProgressActivity = "Syncing with rsync";
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stopping = new();
    private readonly BlockingCollection<Message> _messages = [];
    private readonly Stopwatch _clock = new();
    private readonly Stopwatch _sinceProgress = new();
    private string _sourceRoot = "";
    private RsyncTarget? _target;
    private Syncer? _syncer;
    private string _remoteAddress = "";
    private string _remotePath = "";
    private DirectoryInfo? _controlDirectory;
    private int _queued;
    private int _outstanding;
    private int _synced;
    private int _failed;
    private int _vanished;
    private long _bytes;
    private int _rsyncRuns;
    private bool _progressShown;

    /// <summary>The directory the relative paths are relative to; rsync runs in it.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = "";

    /// <summary>A local directory, or <c>[user@]host:/dir</c> reached through ssh.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Files to sync, relative to -Source (absolute paths inside -Source are accepted); taken literally.</summary>
    [Parameter(Mandatory = true, Position = 2, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("RelativePath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>The ssh command for an ssh destination, split on blanks.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SshCommand { get; set; } = "ssh";

    /// <summary>The ssh ControlMaster socket to multiplex over; a private temporary one when not given.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ControlPath { get; set; }

    /// <summary>How many rsyncs may run at once (sync_jobs).</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int SyncJobs { get; set; } = new SyncerOptions().SyncJobs;

    /// <summary>At most this many files go into one rsync.</summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = new SyncerOptions().MaxBatchFiles;

    /// <summary>How many more rsync runs a file gets after rsync reported it failed.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public int Retries { get; set; } = new SyncerOptions().Retries;

    /// <summary>Copy extended attributes too (rsync --xattrs).</summary>
    [Parameter]
    public SwitchParameter Xattrs { get; set; }

    /// <summary>The rsync program and any leading arguments (rsync_command).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string RsyncCommand { get; set; } = "rsync";

    /// <summary>Extra rsync options (rsync_options).</summary>
    [Parameter]
    [AllowEmptyString]
    public string RsyncOptions { get; set; } = "--sparse";

    /// <summary>rsync options added for ssh destinations only (rsync_ssh_options).</summary>
    [Parameter]
    [AllowEmptyString]
    public string RsyncSshOptions { get; set; } = "--compress";

    /// <summary>Output one summary object at the end instead of one result per file.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    protected override void BeginProcessing()
    {
        _clock.Start();
        _sourceRoot = Canonical(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Source));
        if (!Directory.Exists(_sourceRoot))
        {
            ThrowTerminatingError(ErrorRecords.DirectoryNotFound("SourceNotFound", Source,
                $"The source directory '{_sourceRoot}' does not exist. Give an existing directory as -Source."));
        }

        _target = ParseDestination();
    }

    protected override void ProcessRecord()
    {
        foreach (var path in Path)
        {
            if (!TryGetRelativePath(path, out var relative))
            {
                continue;
            }

            if (!ShouldProcess(relative, $"Sync to {Destination} with rsync"))
            {
                continue;
            }

            Queue(relative);
            Drain(untilBelow: OutstandingLimit);
        }

        Drain(untilBelow: int.MaxValue);
    }

    protected override void EndProcessing()
    {
        if (_syncer is not null)
        {
            var completion = _syncer.CompleteAsync();
            Drain(untilBelow: 1);
            try
            {
                completion.GetAwaiter().GetResult();
            }
            catch (GeoSyncException e)
            {
                ThrowTerminatingError(ErrorFor(e));
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }

            // The workers are done: what they posted last (batch reports, stderr) is all queued now.
            Drain(untilBelow: int.MaxValue);
            WriteProgressNow(completed: true);
        }

        if (Summary)
        {
            WriteObject(new GeoSyncRsyncSummary(_sourceRoot, Destination, _synced, _failed, _vanished, _bytes, _rsyncRuns, _clock.Elapsed));
        }
    }

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose()
    {
        _stopping.Cancel();
        _syncer?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _syncer = null;
        if (_controlDirectory is { Exists: true })
        {
            _controlDirectory.Delete(recursive: true);
        }

        // The message queue is left undisposed: a cancelled file's continuation may still post to it after this.
        _stopping.Dispose();
    }

    // Enough queued work to keep every job busy with full batches, without holding a whole crawl in memory.
    private int OutstandingLimit => (int)Math.Min(int.MaxValue, Math.Max(1024L, 2L * SyncJobs * BatchSize));

    private static string Canonical(string path) => IOPath.TrimEndingDirectorySeparator(IOPath.GetFullPath(path));

    /// <summary>rsync's own rule: a ':' before any '/' makes <c>host:path</c>.</summary>
    private RsyncTarget ParseDestination()
    {
        var colon = Destination.IndexOf(':', StringComparison.Ordinal);
        var slash = Destination.IndexOf('/', StringComparison.Ordinal);
        if (colon > 0 && (slash < 0 || colon < slash))
        {
            var path = Destination[(colon + 1)..];
            if (path.StartsWith(':'))
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException($"'{Destination}' names an rsync daemon module; give [user@]host:/directory for ssh."),
                    "InvalidDestination", ErrorCategory.InvalidArgument, Destination));
            }

            _remoteAddress = Destination[..colon];
            _remotePath = path.Length == 0 ? "." : path;
            try
            {
                // Checked now with a stand-in of the default's shape; the private directory is created when a file is queued.
                return SshTargetFor(ControlPath ?? IOPath.Combine(IOPath.GetTempPath(), "gsyncd-aux-ssh-XXXXXX", "%C"));
            }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, "InvalidDestination", ErrorCategory.InvalidArgument, Destination));
            }
        }

        var local = Canonical(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination));
        if (!Directory.Exists(local))
        {
            ThrowTerminatingError(ErrorRecords.DirectoryNotFound("DestinationNotFound", Destination,
                $"The destination directory '{local}' does not exist. Create it first, or give [user@]host:/dir for ssh."));
        }

        return new LocalDirectoryTarget(local);
    }

    private SshTarget SshTargetFor(string controlPath) => new(SshCommand, controlPath, _remoteAddress, _remotePath);

    private bool TryGetRelativePath(string path, out string relative)
    {
        relative = "";
        try
        {
            var full = IOPath.GetFullPath(IOPath.IsPathRooted(path) ? path : IOPath.Combine(_sourceRoot, path));
            var candidate = IOPath.GetRelativePath(_sourceRoot, full);
            if (candidate == ".." || candidate.StartsWith("../", StringComparison.Ordinal) || IOPath.IsPathRooted(candidate))
            {
                WriteError(ErrorRecords.PathOutsideSource(path, _sourceRoot));
                return false;
            }

            relative = GeoSync.Engine.Transport.RsyncCommand.NormalizeRelativePath(candidate);
            return true;
        }
        catch (ArgumentException e)
        {
            WriteError(new ErrorRecord(e, "InvalidPath", ErrorCategory.InvalidArgument, path));
            return false;
        }
    }

    private void Queue(string relative)
    {
        _syncer ??= StartSyncer();
        var info = new FileInfo(IOPath.Combine(_sourceRoot, relative));
        var size = info.Exists ? info.Length : 0;
        Task<SyncOutcome> outcome;
        try
        {
            outcome = _syncer.Add(relative, size);
        }
        catch (GeoSyncException e)
        {
            ThrowTerminatingError(ErrorFor(e));
            return;
        }

        _queued++;
        _outstanding++;
        WriteVerbose($"Queued '{relative}' for rsync to {Destination}.");
        outcome.ContinueWith(done => _messages.Add(new FileDone(relative, done)), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private Syncer StartSyncer()
    {
        var rsyncTarget = _target!;
        if (rsyncTarget is SshTarget && ControlPath is null)
        {
            // A private directory per invocation (docs/protocol.md, "Transport") keeps the socket path short and unguessable; removed in Dispose.
            // %C is ssh's fixed-length hash of the connection, as the session's own transport names its socket.
            _controlDirectory = Directory.CreateTempSubdirectory("gsyncd-aux-ssh-");
            rsyncTarget = SshTargetFor(IOPath.Combine(_controlDirectory.FullName, "%C"));
        }

        var options = new RsyncOptions(_sourceRoot, rsyncTarget)
        {
            Command = RsyncCommand,
            ExtraOptions = RsyncOptions,
            SshOptions = RsyncSshOptions,
            Xattrs = Xattrs,
        };
        RsyncClient client;
        try
        {
            client = new RsyncClient(new ProcessRunner(), options, line => _messages.Add(new StderrLine(line)));
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidRsyncCommand", ErrorCategory.InvalidArgument, RsyncCommand));
            throw;
        }

        WriteDebug($"rsync argv: {string.Join(' ', client.Argv)}");
        var syncerOptions = new SyncerOptions { SyncJobs = SyncJobs, MaxBatchFiles = BatchSize, Retries = Retries };
        _sinceProgress.Start();
        return new Syncer(client, syncerOptions, report => _messages.Add(new BatchDone(report)), _stopping.Token);
    }

    /// <summary>Writes what the workers posted (only the pipeline thread writes; docs/ARCHITECTURE.md, "The rooms"), blocking while more than <paramref name="untilBelow"/> files are pending.</summary>
    private void Drain(int untilBelow)
    {
        while (true)
        {
            Message? message;
            try
            {
                if (_outstanding >= untilBelow)
                {
                    message = _messages.Take(_stopping.Token);
                }
                else if (!_messages.TryTake(out message))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }

            switch (message)
            {
                case FileDone done:
                    _outstanding--;
                    Write(done);
                    break;
                case BatchDone batch:
                    Write(batch.Report);
                    break;
                case StderrLine line:
                    WriteDebug(line.Text);
                    break;
            }
        }
    }

    private void Write(FileDone done)
    {
        if (done.Outcome.IsCanceled)
        {
            throw new PipelineStoppedException();
        }

        if (done.Outcome.Exception?.InnerException is { } error)
        {
            ThrowTerminatingError(error is GeoSyncException known
                ? ErrorFor(known)
                : new ErrorRecord(error, "RsyncFailed", ErrorCategory.NotSpecified, Destination));
        }

        var result = new GeoSyncRsyncResult(done.Outcome.Result);
        switch (result.Status)
        {
            case RsyncFileStatus.Synced:
                _synced++;
                break;
            case RsyncFileStatus.Vanished:
                _vanished++;
                WriteError(ErrorRecords.RsyncSourceVanished(result.RelativePath, result.Reason));
                break;
            default:
                _failed++;
                WriteError(ErrorRecords.RsyncFileFailed(result.RelativePath, result.Attempts, result.Reason));
                break;
        }

        if (!Summary)
        {
            WriteObject(result);
        }

        WriteProgressNow(completed: false);
    }

    private void Write(SyncBatchReport report)
    {
        _rsyncRuns++;
        _bytes += report.SyncedBytes;
        WriteVerbose(string.Create(CultureInfo.InvariantCulture,
            $"rsync exited with {report.ExitCode} for {report.Files} files in {report.Elapsed.TotalSeconds:0.###} s: {report.Synced} synced, {report.Failed} failed, {report.Vanished} vanished, {report.Retrying} to retry."));
    }

    private void WriteProgressNow(bool completed)
    {
        if (!completed && _progressShown && _sinceProgress.Elapsed < ProgressInterval)
        {
            return;
        }

        if (completed && !_progressShown)
        {
            return;
        }

        var done = _synced + _failed + _vanished;
        var record = new ProgressRecord(ProgressActivityId, ProgressActivity,
            string.Create(CultureInfo.InvariantCulture, $"{done} of {_queued} files, {_bytes} bytes, {_rsyncRuns} rsync runs"))
        {
            PercentComplete = _queued == 0 ? 0 : (int)(100L * done / _queued),
            RecordType = completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
        WriteProgress(record);
        _progressShown = true;
        _sinceProgress.Restart();
    }

    private ErrorRecord ErrorFor(GeoSyncException e) =>
        ErrorRecords.FromException(e, e is GeoSyncRsyncException { ExitCode: null } ? RsyncCommand : Destination);

    private abstract record Message;

    private sealed record FileDone(string RelativePath, Task<SyncOutcome> Outcome) : Message;

    private sealed record BatchDone(SyncBatchReport Report) : Message;

    private sealed record StderrLine(string Text) : Message;
}
