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
}
