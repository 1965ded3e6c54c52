namespace GeoSync.Engine.Master;

/// <summary>How the <see cref="Syncer"/> parallelizes and bounds its rsync runs (§5.6).</summary>
public sealed record SyncerOptions
{
    /// <summary>sync_jobs: how many rsyncs may run at once.</summary>
    public int SyncJobs { get; init; } = 3;

    /// <summary>At most this many files go into one rsync, so a huge crawl streams through several runs.</summary>
    public int MaxBatchFiles { get; init; } = 4096;

    /// <summary>A batch closes once its file list (<c>./name</c> plus NUL each) reaches this many bytes.</summary>
    public int MaxBatchNameBytes { get; init; } = 1024 * 1024;

    /// <summary>How many more runs a file gets after rsync reported it failed (exit 23) before that failure is final.</summary>
    public int Retries { get; init; } = 1;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SyncJobs, 1, nameof(SyncJobs));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchFiles, 1, nameof(MaxBatchFiles));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchNameBytes, 1, nameof(MaxBatchNameBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(Retries, nameof(Retries));
    }
}
