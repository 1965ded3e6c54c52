using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.ExceptionServices;
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

    /// <summary>For a directory sent whole: the paths below it that failed or vanished in its last run.</summary>
    public IReadOnlyList<RsyncFileResult> Below { get; init; } = [];
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
/// The sync-job post box (docs/master-loop.md, "The crawl"): files are added one by one, <see cref="SyncerOptions.SyncJobs"/> workers each take
/// everything queued (up to the batch bounds) and run one rsync for it, and every file's task completes with its own
/// outcome. A free worker first lets the batch gather, up to <see cref="SyncerOptions.TargetBatchFiles"/> files or
/// <see cref="SyncerOptions.BatchLinger"/> after its oldest file arrived; <see cref="FlushAsync"/>,
/// <see cref="SendQueued"/> and <see cref="CompleteAsync"/> release it at once. rsync exits 23/24 fail only the files
/// rsync named; any other failure faults the Syncer: the files of that run, every queued file and every later
/// <see cref="Add"/> get the exception, and <see cref="CompleteAsync"/> throws it. As the crawl's
/// <see cref="IFileSyncer"/>, exit 23/24 outcomes are failed outcomes and a fault faults the task.
/// </summary>
public sealed class Syncer : IFileSyncer, IAsyncDisposable
{
    private readonly RsyncClient _rsync;
    private readonly SyncerOptions _options;
    private readonly Action<SyncBatchReport>? _batchCompleted;
    private readonly CancellationTokenSource _stopping;
    private readonly Task[] _workers;
    private readonly ConcurrentDictionary<Entry, byte> _unfinished = new();

    // The queue and its release state; tasks are never completed while it is held (docs/gsyncd-flaws.md, #8).
    private readonly object _gate = new();
    private readonly Queue<Entry> _queue = new();
    private long _queuedNameBytes;
    private long _lastSequence;
    private long _releasedThrough;
    private bool _closed;
    private TaskCompletionSource? _batchReady;

    private Exception? _fault;
    private int _rsyncRuns;
    private int _disposed;

    /// <param name="rsync">Runs one rsync for a batch.</param>
    /// <param name="options">Parallelism, gathering and batch bounds; the defaults when null.</param>
    /// <param name="batchCompleted">Called on a worker thread after each rsync run; it must not block for long.</param>
    /// <param name="cancellationToken">Stops the Syncer: running rsyncs are killed and unfinished files cancelled.</param>
    public Syncer(RsyncClient rsync, SyncerOptions? options = null, Action<SyncBatchReport>? batchCompleted = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rsync);
        options ??= new SyncerOptions();
        options.Validate();
        this._rsync = rsync;
        this._options = options;
        this._batchCompleted = batchCompleted;
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _workers = Enumerable.Range(0, options.SyncJobs).Select(_ => Task.Run(RunWorkerAsync)).ToArray();
    }

    /// <summary>How many rsync processes the Syncer has started.</summary>
    public int RsyncRuns => Volatile.Read(ref _rsyncRuns);

    private Task<SyncOutcome> Enqueue(string relativePath, long size, bool tree, Action<RsyncItem>? arrived)
    {
        var name = RsyncCommand.NormalizeRelativePath(relativePath);
        var nameBytes = RsyncCommand.EncodedLength(name);
        Entry? entry = null;
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            if (!_closed)
            {
                entry = new Entry(name, size, nameBytes, ++_lastSequence, _options.Clock.GetTimestamp(), _unfinished)
                {
                    Tree = tree,
                    OnItem = arrived,
                };
                _unfinished.TryAdd(entry, 0);
                _queue.Enqueue(entry);
                _queuedNameBytes += nameBytes;
                // An idle worker learns of the first file to start its linger; later files only matter once the batch is ripe.
                if (_queue.Count == 1 || IsRipe())
                {
                    wake = TakeWaiters();
                }
            }
        }

        if (entry is null)
        {
            ThrowIfStopped();
            throw new InvalidOperationException("the syncer was completed; no more files can be added to it.");
        }

        wake?.TrySetResult();
        return entry.Outcome.Task;
    }

    /// <summary>
    /// Queues a directory to be sent whole, everything below it in the same rsync run (docs/master-loop.md, "Whole new
    /// directories"): for a directory the slave does not have, whose parent exists there. <paramref name="arrived"/>
    /// hears of each entry rsync makes below it, on a reader thread, as it goes. The outcome fails when rsync named a
    /// failure below it (<see cref="SyncOutcome.Below"/> lists those paths); a retry sends the directory again.
    /// </summary>
    public Task<SyncOutcome> AddTree(string relativePath, Action<RsyncItem>? arrived = null) =>
        Enqueue(relativePath, 0, tree: true, arrived);

    /// <summary>
    /// Queues <paramref name="relativePath"/> (relative to the rsync source directory) and returns a task that completes
    /// with its outcome. Throws the Syncer's fault if it has one, and when it was completed or cancelled.
    /// </summary>
    /// <param name="relativePath">The file, relative to the rsync source directory.</param>
    /// <param name="size">The file's size when known, for progress reports only.</param>
    public Task<SyncOutcome> Add(string relativePath, long size = 0) => Enqueue(relativePath, size, tree: false, null);

    /// <summary>Whether the crawl may hand this Syncer whole new directories (<see cref="SyncerOptions.WholeDirectories"/>).</summary>
    public bool SendsDirectoriesWhole => _options.WholeDirectories;

    /// <summary>The crawl's view of <see cref="AddTree"/>: a failure below the directory names its path.</summary>
    Task<FileSyncOutcome> IFileSyncer.AddTree(string relativePath, Action<RsyncItem>? arrived)
    {
        try
        {
            return ToFileSyncOutcome(AddTree(relativePath, arrived));
        }
        catch (Exception e)
        {
            return Task.FromException<FileSyncOutcome>(e);
        }
    }

    /// <summary>The crawl's view (docs/master-loop.md, "The crawl"): a file that did not sync is a failed outcome, retried next turn.</summary>
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
    /// Lets a free worker take every file queued so far without waiting for the batch to gather; files added later
    /// gather again. Returns at once.
    /// </summary>
    public void SendQueued()
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            _releasedThrough = _lastSequence;
            wake = TakeWaiters();
        }

        wake?.TrySetResult();
    }

    /// <summary>
    /// Sends what is queued without waiting for the batch to gather, and completes when every file added before the
    /// call has its outcome; throws the fault if one of them got it.
    /// </summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        SendQueued();
        return Task.WhenAll(_unfinished.Keys.Select(entry => entry.Outcome.Task)).WaitAsync(cancellationToken);
    }

    /// <summary>Takes no more files, waits until every queued file has its outcome, then throws the fault if there was one.</summary>
    public async Task CompleteAsync()
    {
        Close();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        ThrowIfStopped();
    }

    /// <summary>Stops the workers, killing running rsyncs; files without an outcome are cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Close();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void ThrowIfStopped()
    {
        if (Volatile.Read(ref _fault) is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        _stopping.Token.ThrowIfCancellationRequested();
    }

    /// <summary>Refuses further files and wakes the waiting workers, which then send the rest without lingering.</summary>
    private List<Entry> Close(bool drain = false)
    {
        TaskCompletionSource? wake;
        var drained = new List<Entry>();
        lock (_gate)
        {
            _closed = true;
            if (drain)
            {
                drained.AddRange(_queue);
                _queue.Clear();
                _queuedNameBytes = 0;
            }

            wake = TakeWaiters();
        }

        wake?.TrySetResult();
        return drained;
    }

    private async Task RunWorkerAsync()
    {
        var token = _stopping.Token;
        try
        {
            while (await NextBatchAsync(token).ConfigureAwait(false) is { } batch)
            {
                await SyncAsync(batch, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _fault, e, null);
        }

        if (Volatile.Read(ref _fault) is not null || token.IsCancellationRequested)
        {
            // Closing and draining in one step means nothing can be queued after this drain.
            foreach (var entry in Close(drain: true))
            {
                Abandon(entry, Volatile.Read(ref _fault), token);
            }
        }
    }

    /// <summary>
    /// Waits until the queue holds a batch worth an rsync, then takes it (up to the batch bounds): the post box a
    /// worker takes (docs/master-loop.md, "The crawl"). Null when the Syncer is closed and empty, or faulted.
    /// </summary>
    private async Task<List<Entry>?> NextBatchAsync(CancellationToken token)
    {
        while (true)
        {
            Task ready;
            TimeSpan wait;
            lock (_gate)
            {
                if (Volatile.Read(ref _fault) is not null || (_closed && _queue.Count == 0))
                {
                    return null;
                }

                if (IsRipe())
                {
                    return TakeBatch();
                }

                _batchReady ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                ready = _batchReady.Task;
                // An empty queue waits for the first Add; a clock that moved on since IsRipe looked means look again at once.
                wait = _queue.Count == 0
                    ? Timeout.InfiniteTimeSpan
                    : TimeSpan.FromTicks(Math.Max(0, (_options.BatchLinger - _options.Clock.GetElapsedTime(_queue.Peek().Arrived)).Ticks));
            }

            try
            {
                await ready.WaitAsync(wait, _options.Clock, token).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The oldest file lingered long enough: the next look finds the batch ripe.
            }
        }
    }

    /// <summary>Whether a worker should take the queue now. Call with the gate held.</summary>
    private bool IsRipe()
    {
        if (_queue.Count == 0)
        {
            return false;
        }

        var oldest = _queue.Peek();
        return _closed
            || oldest.Sequence <= _releasedThrough
            || _queue.Count >= Math.Min(_options.TargetBatchFiles, _options.MaxBatchFiles)
            || _queuedNameBytes >= _options.MaxBatchNameBytes
            || _options.Clock.GetElapsedTime(oldest.Arrived) >= _options.BatchLinger;
    }

    /// <summary>The workers waiting for a batch, to be woken once the gate is released. Call with the gate held.</summary>
    private TaskCompletionSource? TakeWaiters()
    {
        var waiters = _batchReady;
        _batchReady = null;
        return waiters;
    }

    /// <summary>The oldest queued files, up to the batch bounds. Call with the gate held.</summary>
    private List<Entry> TakeBatch()
    {
        var batch = new List<Entry>();
        long nameBytes = 0;
        while (batch.Count < _options.MaxBatchFiles && nameBytes < _options.MaxBatchNameBytes && _queue.TryDequeue(out var entry))
        {
            batch.Add(entry);
            nameBytes += entry.NameBytes;
        }

        _queuedNameBytes -= nameBytes;
        return batch;
    }

    private async Task SyncAsync(List<Entry> batch, CancellationToken token)
    {
        var pending = batch;
        try
        {
            while (pending.Count > 0)
            {
                Interlocked.Increment(ref _rsyncRuns);
                var run = pending;
                var trees = run.Any(e => e.Tree) ? run.Select(e => e.Tree).ToArray() : null;
                var result = await _rsync.SyncAsync(run.Select(e => e.Name).ToArray(), trees,
                    trees is null ? null : (i, item) => run[i].OnItem?.Invoke(item), token).ConfigureAwait(false);
                var retry = new List<Entry>();
                int synced = 0, failed = 0, vanished = 0;
                long bytes = 0;
                for (var i = 0; i < pending.Count; i++)
                {
                    var entry = pending[i];
                    var file = result.Files[i];
                    entry.Attempts++;
                    if (file.Status == RsyncFileStatus.Failed && entry.Attempts <= _options.Retries)
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

                    entry.Complete(new SyncOutcome(entry.Name, file.Status, file.Reason, entry.Attempts) { Below = file.Below });
                }

                _batchCompleted?.Invoke(new SyncBatchReport(
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
            : FileSyncOutcome.Failed(Describe(result.Status, result.Attempts, result.Reason), RsyncStderrClassifier.ErrnoIn(result.Reason))
                with
                {
                    FailedBelow = result.Below.Where(b => b.Status == RsyncFileStatus.Failed)
                        .Select(b => new FileSyncFailure(b.RelativePath, Describe(b.Status, result.Attempts, b.Reason), RsyncStderrClassifier.ErrnoIn(b.Reason)))
                        .ToArray(),
                };
    }

    private static string Describe(RsyncFileStatus status, int attempts, string? reason) =>
        string.Create(CultureInfo.InvariantCulture, $"{status.ToString().ToLowerInvariant()} after {attempts} rsync run(s): {reason}");

    /// <summary>A queued file. Its outcome is published without a lock, and its continuations never run inline (docs/gsyncd-flaws.md, #8).</summary>
    private sealed class Entry(string name, long size, int nameBytes, long sequence, long arrived,
        ConcurrentDictionary<Entry, byte> unfinished)
    {
        public string Name { get; } = name;
        public long Size { get; } = size;
        public int NameBytes { get; } = nameBytes;

        /// <summary>The order of <see cref="Add"/> calls, to release exactly the files queued before a flush.</summary>
        public long Sequence { get; } = sequence;

        /// <summary>When it was queued, as a timestamp of the options' clock: the linger counts from the oldest.</summary>
        public long Arrived { get; } = arrived;
        public int Attempts { get; set; }

        /// <summary>A directory sent whole (<see cref="AddTree"/>).</summary>
        public bool Tree { get; init; }

        /// <summary>Hears of the entries rsync makes below a directory sent whole.</summary>
        public Action<RsyncItem>? OnItem { get; init; }

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
