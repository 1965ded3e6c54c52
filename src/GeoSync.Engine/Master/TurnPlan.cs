using System.Globalization;

namespace GeoSync.Engine.Master;

/// <summary>
/// What a dry run (<see cref="Crawler.PlanTurnAsync"/>) found a turn would do: how many changes of each action, the first
/// few of each in walk order, and what the walk could not look at. The changes themselves went to the caller one by one.
/// </summary>
public sealed class TurnPlan
{
    /// <summary>
    /// The tag of the information record in which Invoke-GeoSyncCrawl -WhatIf repeats its summary, for hosts that show no
    /// "What if:" lines (geosync master --dry-run prints it).
    /// </summary>
    public const string SummaryTag = "GeoSyncPlanSummary";

    private readonly long[] _counts;
    private readonly IReadOnlyList<PlannedChange>[] _examples;

    internal TurnPlan(long[] counts, IReadOnlyList<PlannedChange>[] examples, long bytesToSend, TurnResult walk)
    {
        _counts = counts;
        _examples = examples;
        BytesToSend = bytesToSend;
        DirectoriesScanned = walk.DirectoriesScanned;
        Failures = walk.Failures;
        Duration = walk.Duration;
    }

    /// <summary>Entries the turn would make.</summary>
    public long Creates => Count(PlannedAction.Create);

    /// <summary>Files and symlinks it would send again.</summary>
    public long Updates => Count(PlannedAction.Update);

    /// <summary>Slave entries it would remove (each with everything below it).</summary>
    public long Purges => Count(PlannedAction.Purge);

    /// <summary>Existing slave directories whose owner, mode or times it would set.</summary>
    public long AttributeChanges => Count(PlannedAction.SetAttributes);

    /// <summary>Every planned change.</summary>
    public long Total => _counts.Sum();

    /// <summary>The master sizes of the files it would send (rsync sends less when only part of a file differs).</summary>
    public long BytesToSend { get; }

    /// <summary>Directories the dry run listed.</summary>
    public long DirectoriesScanned { get; }

    /// <summary>Paths the dry run could not look at (a real turn would fail there too); the plan says nothing about what is below them.</summary>
    public IReadOnlyList<CrawlFailure> Failures { get; }

    public TimeSpan Duration { get; }

    /// <summary>How many changes of this action the turn would make.</summary>
    public long Count(PlannedAction action) => _counts[(int)action];

    /// <summary>The first changes of this action, in walk order (at most the number asked for when planning).</summary>
    public IReadOnlyList<PlannedChange> Examples(PlannedAction action) => _examples[(int)action];

    /// <summary>"2 to create, 1 to update, 3 to purge, 0 attribute changes; 120 bytes to send", and any failures.</summary>
    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{Creates} to create, {Updates} to update, {Purges} to purge, {AttributeChanges} attribute changes; {BytesToSend} bytes to send");
        return Failures.Count == 0 ? text : string.Create(CultureInfo.InvariantCulture, $"{text}; {Failures.Count} paths could not be looked at");
    }
}
