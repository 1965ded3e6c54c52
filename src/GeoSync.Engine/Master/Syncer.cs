using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Master;

/// <summary>The final outcome of one file handed to the <see cref="Syncer"/>.</summary>
/// <param name="RelativePath">The file, normalized as rsync was given it.</param>
/// <param name="Status">Synced, failed (rsync named it, retries used up) or vanished (the source was gone).</param>
/// <param name="Reason">rsync's words when it did not sync.</param>
/// <param name="Attempts">How many rsync runs the file was part of.</param>
public sealed record SyncOutcome(string RelativePath, RsyncFileStatus Status, string? Reason, int Attempts)
{
    public bool Succeeded => Status == RsyncFileStatus.Synced;
}

/// <summary>Reported after each rsync run, on a worker thread: for logging and progress.</summary>
/// <param name="Argv">The rsync command line.</param>
/// <param name="ExitCode">rsync's exit code: 0, 23 or 24 (other codes fault the Syncer).</param>
/// <param name="Files">How many files the run was given.</param>
/// <param name="Synced">Files now known to be synced.</param>
/// <param name="Failed">Files whose failure is final (retries used up).</param>
/// <param name="Vanished">Files whose source was gone.</param>
/// <param name="Retrying">Files rsync reported failed that go into another run.</param>
/// <param name="SyncedBytes">The sizes given to <see cref="Syncer.Add"/> for the synced files.</param>
/// <param name="Elapsed">How long the run took.</param>
public sealed record SyncBatchReport(
    IReadOnlyList<string> Argv, int ExitCode, int Files, int Synced, int Failed, int Vanished, int Retrying, long SyncedBytes,
    TimeSpan Elapsed);

/// <summary>
/// The sync-job post box (§5.6): files are added one by one, <see cref="SyncerOptions.SyncJobs"/> workers each take
/// everything queued (up to the batch bounds) and run one rsync for it, and every file's task completes with its own
/// outcome. rsync exits 23/24 fail only the files rsync named; any other failure faults the Syncer: the files of that
/// run, every queued file and every later <see cref="Add"/> get the exception, and <see cref="CompleteAsync"/> throws it.
/// As the crawl's <see cref="IFileSyncer"/>, exit 23/24 outcomes are failed outcomes and a fault faults the task.
/// </summary>
public sealed class Syncer : IFileSyncer, IAsyncDisposable
{
    private readonly RsyncClient rsync;
    private readonly SyncerOptions options;
    private readonly Action<SyncBatchReport>? batchCompleted;
    private readonly Channel<Entry> box = Channel.CreateUnbounded<Entry>();
    private readonly CancellationTokenSource stopping;
    private readonly Task[] workers;
    private readonly ConcurrentDictionary<Entry, byte> unfinished = new();
    private Exception? fault;
    private int rsyncRuns;
    private int disposed;

    /// <param name="rsync">Runs one rsync for a batch.</param>
    /// <param name="options">Parallelism and batch bounds; the defaults when null.</param>
    /// <param name="batchCompleted">Called on a worker thread after each rsync run; it must not block for long.</param>
    /// <param name="cancellationToken">Stops the Syncer: running rsyncs are killed and unfinished files cancelled.</param>
    public Syncer(RsyncClient rsync, SyncerOptions? options = null, Action<SyncBatchReport>? batchCompleted = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rsync);
        options ??= new SyncerOptions();
        options.Validate();
        this.rsync = rsync;
        this.options = options;
        this.batchCompleted = batchCompleted;
        stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        workers = Enumerable.Range(0, options.SyncJobs).Select(_ => Task.Run(RunWorkerAsync)).ToArray();
    }

    /// <summary>How many rsync processes the Syncer has started.</summary>
    public int RsyncRuns => Volatile.Read(ref rsyncRuns);

    /// <summary>
    /// Queues <paramref name="relativePath"/> (relative to the rsync source directory) and returns a task that completes
    /// with its outcome. Throws the Syncer's fault if it has one, and when it was completed or cancelled.
    /// </summary>
    /// <param name="relativePath">The file, relative to the rsync source directory.</param>
    /// <param name="size">The file's size when known, for progress reports only.</param>
    public Task<SyncOutcome> Add(string relativePath, long size = 0)
    {
        var entry = new Entry(RsyncCommand.NormalizeRelativePath(relativePath), size, unfinished);
        unfinished.TryAdd(entry, 0);
        if (!box.Writer.TryWrite(entry))
        {
            unfinished.TryRemove(entry, out _);
            ThrowIfStopped();
            throw new InvalidOperationException("the syncer was completed; no more files can be added to it.");
        }

        return entry.Outcome.Task;
    }

    /// <summary>The crawl's view (§5.4): a file that did not sync is a failed outcome, retried next turn.</summary>
    Task<FileSyncOutcome> IFileSyncer.Add(string relativePath)
    {
        try
        {
            return ToFileSyncOutcome(Add(relativePath));
        }
        catch (Exception e)
        {
            return Task.FromException<FileSyncOutcome>(e);
        }
    }

    /// <summary>
    /// Completes when every file added before the call has its outcome; throws the fault if one of them got it. Files
    /// are sent as soon as a job is free, so there is nothing to push.
    /// </summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(unfinished.Keys.Select(entry => entry.Outcome.Task)).WaitAsync(cancellationToken);

    /// <summary>Takes no more files, waits until every queued file has its outcome, then throws the fault if there was one.</summary>
    public async Task CompleteAsync()
    {
        box.Writer.TryComplete();
        await Task.WhenAll(workers).ConfigureAwait(false);
        ThrowIfStopped();
    }

    /// <summary>Stops the workers, killing running rsyncs; files without an outcome are cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        box.Writer.TryComplete();
        await Task.WhenAll(workers).ConfigureAwait(false);
        stopping.Dispose();
    }

    private void ThrowIfStopped()
    {
        if (Volatile.Read(ref fault) is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        stopping.Token.ThrowIfCancellationRequested();
    }

    private async Task RunWorkerAsync()
    {
        var token = stopping.Token;
        try
        {
            while (Volatile.Read(ref fault) is null && await box.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                var batch = TakeBatch();
                if (batch.Count > 0)
                {
                    await SyncAsync(batch, token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref fault, e, null);
        }

        if (Volatile.Read(ref fault) is not null || token.IsCancellationRequested)
        {
            // Completing the writer first means nothing can be queued after this drain.
            box.Writer.TryComplete();
            while (box.Reader.TryRead(out var entry))
            {
                Abandon(entry, Volatile.Read(ref fault), token);
            }
        }
    }

    /// <summary>Everything queued right now, up to the batch bounds: the post box a worker takes (§5.6).</summary>
    private List<Entry> TakeBatch()
    {
        var batch = new List<Entry>();
        long nameBytes = 0;
        while (batch.Count < options.MaxBatchFiles && nameBytes < options.MaxBatchNameBytes && box.Reader.TryRead(out var entry))
        {
            batch.Add(entry);
            nameBytes += RsyncCommand.EncodedLength(entry.Name);
        }

        return batch;
    }

    private async Task SyncAsync(List<Entry> batch, CancellationToken token)
    {
        var pending = batch;
        try
        {
            while (pending.Count > 0)
            {
                Interlocked.Increment(ref rsyncRuns);
                var result = await rsync.SyncAsync(pending.Select(e => e.Name).ToArray(), token).ConfigureAwait(false);
                var retry = new List<Entry>();
                int synced = 0, failed = 0, vanished = 0;
                long bytes = 0;
                for (var i = 0; i < pending.Count; i++)
                {
                    var entry = pending[i];
                    var file = result.Files[i];
                    entry.Attempts++;
                    if (file.Status == RsyncFileStatus.Failed && entry.Attempts <= options.Retries)
                    {
                        retry.Add(entry);
                        continue;
                    }

                    switch (file.Status)
                    {
                        case RsyncFileStatus.Synced:
                            synced++;
                            bytes += entry.Size;
                            break;
                        case RsyncFileStatus.Vanished:
                            vanished++;
                            break;
                        default:
                            failed++;
                            break;
                    }

                    entry.Complete(new SyncOutcome(entry.Name, file.Status, file.Reason, entry.Attempts));
                }

                batchCompleted?.Invoke(new SyncBatchReport(
                    result.Argv, result.ExitCode, pending.Count, synced, failed, vanished, retry.Count, bytes, result.Elapsed));
                pending = retry;
            }
        }
        catch (Exception e)
        {
            foreach (var entry in pending)
            {
                Abandon(entry, e, token);
            }

            throw;
        }
    }

    private static void Abandon(Entry entry, Exception? failure, CancellationToken token)
    {
        if (failure is null or OperationCanceledException && token.IsCancellationRequested)
        {
            entry.Cancel(token);
        }
        else
        {
            entry.Fail(failure!);
        }
    }

    private static async Task<FileSyncOutcome> ToFileSyncOutcome(Task<SyncOutcome> outcome)
    {
        var result = await outcome.ConfigureAwait(false);
        return result.Succeeded
            ? FileSyncOutcome.Success
            : FileSyncOutcome.Failed(string.Create(CultureInfo.InvariantCulture,
                $"{result.Status.ToString().ToLowerInvariant()} after {result.Attempts} rsync run(s): {result.Reason}"));
    }

    /// <summary>A queued file. Its outcome is published without a lock, and its continuations never run inline (§9 #8).</summary>
    private sealed class Entry(string name, long size, ConcurrentDictionary<Entry, byte> unfinished)
    {
        public string Name { get; } = name;
        public long Size { get; } = size;
        public int Attempts { get; set; }
        public TaskCompletionSource<SyncOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete(SyncOutcome outcome)
        {
            unfinished.TryRemove(this, out _);
            Outcome.TrySetResult(outcome);
        }

        public void Fail(Exception failure)
        {
            unfinished.TryRemove(this, out _);
            Outcome.TrySetException(failure);
        }

        public void Cancel(CancellationToken token)
        {
            unfinished.TryRemove(this, out _);
            Outcome.TrySetCanceled(token);
        }
    }
}
