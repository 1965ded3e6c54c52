using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Master;

/// <summary>
/// Moves regular files' data to the slave (rsync batches, docs/master-loop.md, "The crawl"). It makes progress on its own: a queued file is sent
/// without waiting for a flush, though it may wait a bounded time for more files to share its rsync. A failure worth retrying next turn (rsync exit 23/24, a per-file error) is an outcome;
/// one that makes syncing impossible (rsync not executable, any other exit, docs/master-loop.md, "The crawl") faults the task and ends the turn.
/// </summary>
public interface IFileSyncer
{
    /// <summary>Queues a regular file, by its path relative to the master root; completes once its batch ran, with its outcome.</summary>
    Task<FileSyncOutcome> Add(string relativePath);

    /// <summary>Sends what is queued without waiting for more, and completes when everything added so far has an outcome.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Sends what is queued without waiting for more files to gather, and returns at once.</summary>
    void SendQueued();

    /// <summary>
    /// Whether <see cref="AddTree"/> works: the crawl then hands over a directory the slave lacks whole (docs/master-loop.md,
    /// "Whole new directories"). False (the default) makes the crawl walk it and add its files one by one.
    /// </summary>
    bool SendsDirectoriesWhole => false;

    /// <summary>
    /// Queues a directory the slave lacks (its parent exists there) to be sent with everything below it; completes once
    /// its run ended. <paramref name="arrived"/> hears of each entry made below it as rsync goes. A failure below it fails
    /// the outcome, with the paths in <see cref="FileSyncOutcome.FailedBelow"/>.
    /// </summary>
    Task<FileSyncOutcome> AddTree(string relativePath, Action<RsyncItem>? arrived) =>
        throw new NotSupportedException("this syncer sends files one by one; check SendsDirectoriesWhole first");
}

/// <summary>A path below a directory sent whole that did not arrive, and why.</summary>
public sealed record FileSyncFailure(string RelativePath, string Reason, int? Errno);

/// <summary>How one file's transfer ended: its data arrived on the slave, or why not.</summary>
public sealed record FileSyncOutcome
{
    private FileSyncOutcome(bool succeeded, string? failureReason, int? errno)
    {
        Succeeded = succeeded;
        FailureReason = failureReason;
        Errno = errno;
    }

    public static FileSyncOutcome Success { get; } = new(true, null, null);

    public bool Succeeded { get; }

    /// <summary>Why the data did not arrive (rsync's exit code and message); null on success.</summary>
    public string? FailureReason { get; }

    /// <summary>The errno rsync named for the file (e.g. 28 in "No space left on device (28)"); null when it named none.</summary>
    public int? Errno { get; }

    /// <summary>For a directory sent whole: the paths below it rsync named as failed (empty when it could not pin the failure on any).</summary>
    public IReadOnlyList<FileSyncFailure> FailedBelow { get; init; } = [];

    public static FileSyncOutcome Failed(string reason, int? errno = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        return new(false, reason, errno);
    }
}
