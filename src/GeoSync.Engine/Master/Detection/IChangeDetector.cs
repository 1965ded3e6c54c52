namespace GeoSync.Engine.Master;

/// <summary>
/// How a turn finds what changed (docs/master-loop.md, "Change detection"): xtime descent on a GlusterFS master
/// (<see cref="XtimeDescent"/>), a full comparison on a plain directory (<see cref="FullComparison"/>). A detector only
/// decides where to look and what differs; the walk's shared steps — listing both sides, purging, queueing files,
/// counters, the failure ledger and marking a directory once everything beneath it arrived — are <see cref="CrawlTurn"/>'s.
/// </summary>
internal interface IChangeDetector
{
    /// <summary>
    /// Walks this turn from the root through <paramref name="turn"/>'s steps and returns the root's completion: true once
    /// everything the walk queued reached the slave and every directory it visited was marked.
    /// </summary>
    Task<Task<bool>> WalkAsync(CrawlTurn turn, CancellationToken cancellationToken);
}
