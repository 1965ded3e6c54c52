namespace GeoSync.Engine.Master;

/// <summary>How the <see cref="Syncer"/> parallelizes, gathers and bounds its rsync runs (docs/master-loop.md, "The crawl").</summary>
public sealed record SyncerOptions
{
    /// <summary>sync_jobs: how many rsyncs may run at once; <see cref="DefaultSyncJobs"/> unless set.</summary>
    public int SyncJobs { get; init; } = DefaultSyncJobs;

    /// <summary>
    /// gsyncd's 3, but no more than half the processors (and at least 1). Reading a GlusterFS master, every rsync shares
    /// the cores with the glusterfs client and the brick: on 2 cores three rsyncs at once took about twice as long as
    /// one (docs/performance.md).
    /// </summary>
    public static int DefaultSyncJobs { get; } = Math.Clamp(Environment.ProcessorCount / 2, 1, 3);

    /// <summary>
    /// A free worker lets the queue gather until it holds this many files before it starts an rsync: every rsync costs
    /// a start-up (two processes, a handshake, a file list), so a crawl that queues names one by one must not be sent
    /// in runs of a few files. <see cref="BatchLinger"/>, a flush and the end of input release a smaller batch.
    /// </summary>
    public int TargetBatchFiles { get; init; } = 1000;

    /// <summary>
    /// The longest a queued file waits for the batch to reach <see cref="TargetBatchFiles"/>, counted from when the
    /// oldest queued file arrived. Zero takes whatever is queued the moment a worker is free (gsyncd's post box).
    /// </summary>
    public TimeSpan BatchLinger { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>At most this many files go into one rsync, so a huge crawl streams through several runs.</summary>
    public int MaxBatchFiles { get; init; } = 4096;

    /// <summary>A batch closes once its file list (<c>./name</c> plus NUL each) reaches this many bytes.</summary>
    public int MaxBatchNameBytes { get; init; } = 1024 * 1024;

    /// <summary>How many more runs a file gets after rsync reported it failed (exit 23) before that failure is final.</summary>
    public int Retries { get; init; } = 1;

    /// <summary>
    /// Let the crawl hand over a directory the slave lacks as one name that rsync copies recursively, instead of walking it
    /// and naming every file (docs/master-loop.md, "Whole new directories"): rsync then reads the directory itself, as
    /// <c>rsync -a</c> does, rather than resolving each name of a long list.
    /// </summary>
    public bool WholeDirectories { get; init; } = true;

    /// <summary>Times the linger.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The longest <see cref="BatchLinger"/> accepted: a timer's range, and far beyond any useful wait.</summary>
    public static TimeSpan MaxBatchLinger { get; } = TimeSpan.FromDays(1);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SyncJobs, 1, nameof(SyncJobs));
        ArgumentOutOfRangeException.ThrowIfLessThan(TargetBatchFiles, 1, nameof(TargetBatchFiles));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchLinger, TimeSpan.Zero, nameof(BatchLinger));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchLinger, MaxBatchLinger, nameof(BatchLinger));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchFiles, 1, nameof(MaxBatchFiles));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchNameBytes, 1, nameof(MaxBatchNameBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(Retries, nameof(Retries));
        ArgumentNullException.ThrowIfNull(Clock, nameof(Clock));
    }
}
