using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Master;

namespace GeoSync.PowerShell;

/// <summary>
/// The error records that say what did not reach the slave, public so that Invoke-GeoSyncMaster writes the same records
/// as Invoke-GeoSyncCrawl (ids in <see cref="ReplicationErrorIds"/>).
/// </summary>
public static class ReplicationErrors
{
    /// <summary>
    /// One path did not reach the slave this turn: the id the master loop and <c>geosync master</c> count, the path as
    /// target, a category from its errno, and for a persistent failure what to do about it.
    /// </summary>
    public static ErrorRecord EntryNotSynced(CrawlFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var attempts = failure.Attempts == 1 ? "" : $" (failed {failure.Attempts} turns in a row{(failure.IsPersistent ? ", persistent" : "")})";
        var exception = new GeoSyncException($"'{failure.Path}' did not reach the slave{attempts}: {failure.Reason}");
        var category = failure.Cause switch
        {
            FailureCause.NoSpace => ErrorCategory.ResourceUnavailable,
            FailureCause.PermissionDenied => ErrorCategory.PermissionDenied,
            FailureCause.NotFound => ErrorCategory.ObjectNotFound,
            _ => ErrorCategory.WriteError,
        };
        var record = new ErrorRecord(exception, ReplicationErrorIds.EntryNotSynced, category, failure.Path);
        if (failure.Hint is { } hint)
        {
            record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = hint };
        }
        return record;
    }

    /// <summary>
    /// The records of one turn, after its result: one EntryNotSynced per failed path, and one PurgeHeld per held purge
    /// (whose directory's failure it reports, so that failure is not repeated as EntryNotSynced).
    /// </summary>
    public static IEnumerable<ErrorRecord> ForTurn(IReadOnlyCollection<CrawlFailure> failures, IReadOnlyCollection<HeldPurge> heldPurges)
    {
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(heldPurges);
        var held = heldPurges.Select(h => h.Directory).ToHashSet(StringComparer.Ordinal);
        foreach (var failure in failures.Where(f => !held.Contains(f.Path))) yield return EntryNotSynced(failure);
        foreach (var purge in heldPurges) yield return PurgeHeld(purge);
    }

    /// <summary>A purge the mass-deletion guard held back: the directory as target, and how to allow it.</summary>
    public static ErrorRecord PurgeHeld(HeldPurge held) =>
        new(new GeoSyncException(
                $"the purge of '{held.Directory}' was held back: the master lacks {held.Count} of the {held.SlaveEntries} entries " +
                "the slave has there, more than the mass-deletion guard allows in one turn; the directory is retried next turn"),
            ReplicationErrorIds.PurgeHeld, ErrorCategory.OperationStopped, held.Directory)
        {
            ErrorDetails = new ErrorDetails(
                $"the purge of '{held.Directory}' was held back: the master lacks {held.Count} of the {held.SlaveEntries} entries the slave has there")
            {
                RecommendedAction = "If the master really lost them, allow it with -MaxDeleteShare 1 (geosync master --max-delete-share 1).",
            },
        };
}
