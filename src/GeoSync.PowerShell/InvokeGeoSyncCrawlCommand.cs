using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Master;
using GeoSync.Engine.Session;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Invoke-GeoSyncCrawl: runs one crawl turn of a session — every change of the master since the last turn goes to the
/// slave — and returns what it did. Ctrl+C abandons the turn; the session stays usable. ConfirmImpact is High: a turn
/// purges from the slave what the master lacks. With -WhatIf the turn is a dry run that writes nothing and outputs the
/// changes it would make (docs/master-loop.md, "Dry run").
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "GeoSyncCrawl",
    HelpUri = HelpLinks.Commands + "Invoke-GeoSyncCrawl",
    DefaultParameterSetName = SessionSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(GeoSyncTurnResult), typeof(GeoSyncPlannedChange))]
public sealed class InvokeGeoSyncCrawlCommand : PSCmdlet, IDisposable
{
    private const string SessionSet = "Session";
    private const string IdSet = "Id";
    private const string NameSet = "Name";
    private const int ProgressActivityId = 7401;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DrainInterval = TimeSpan.FromMilliseconds(100);

    // Planned changes waiting for the pipeline thread; when it is full the dry run's walk waits, so memory stays flat.
    private const int PlannedChangesBuffered = 1024;

    private readonly CancellationTokenSource _cancellation = new();
    private readonly PipelineQueue _queue = new();

    /// <summary>The sessions to run a turn of, from Start-GeoSyncSession or Get-GeoSyncSession.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SessionSet, ValueFromPipeline = true)]
    [Alias("InputObject")]
    [ValidateNotNull]
    public GeoSyncSession[] Session { get; set; } = [];

    /// <summary>Session ids.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("SessionId")]
    [ArgumentCompleter(typeof(SessionIdCompleter))]
    public int[] Id { get; set; } = [];

    /// <summary>Session names (exact).</summary>
    [Parameter(Mandatory = true, ParameterSetName = NameSet)]
    [ArgumentCompleter(typeof(SessionNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case IdSet:
                foreach (var id in Id)
                {
                    if (GeoSyncSessionRegistry.Find(id) is { } session) Crawl(session);
                    else WriteError(ErrorRecords.SessionNotFound($"id {id}", id));
                }
                break;
            case NameSet:
                foreach (var name in Name)
                {
                    var found = GeoSyncSessionRegistry.All.Where(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
                    if (found.Count == 0) WriteError(ErrorRecords.SessionNotFound($"the name '{name}'", name));
                    found.ForEach(Crawl);
                }
                break;
            default:
                foreach (var session in Session) Crawl(session);
                break;
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();

    /// <summary>
    /// -WhatIf as given to this call or inherited through $WhatIfPreference (Invoke-GeoSyncMaster -WhatIf): then the turn
    /// is planned instead of refused, since what a turn would change is exactly what -WhatIf asks.
    /// </summary>
    private bool WhatIfRequested => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var given)
        ? ((SwitchParameter)given).IsPresent
        : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    private void Crawl(GeoSyncSession session)
    {
        var target = $"{session.Master} -> {session.Slave} (session {session.Name})";
        const string Replicate = "Replicate the master to the slave (what differs is copied, what the master lacks is purged from the slave)";
        var whatIf = WhatIfRequested;
        if (!whatIf && !ShouldProcess(target, Replicate)) return;

        WriteVerbose($"{(whatIf ? "Planning a turn (dry run)" : "Crawling")} {session.Master} -> {session.Slave} (session {session.Name}).");
        var activity = $"GeoSync {(whatIf ? "dry run" : "crawl")} of session {session.Name}";
        var expectedDirectories = ExpectedDirectories(session);
        var lastShown = (TurnProgress?)null;
        var throttle = Stopwatch.StartNew();
        var elapsed = Stopwatch.StartNew();
        TurnResult? result = null;
        TurnPlan? plan = null;
        using (session.AddLogListener(_queue.Post))
        {
            try
            {
                if (whatIf) plan = Plan(session, ShowProgress);
                // On a worker, as the dry run: a walk whose calls all complete at once (an in-process slave) would
                // otherwise run to its end inside RunTurnAsync on this thread, with no progress and no Ctrl+C until then.
                else result = _queue.Await(this, Task.Run(() => session.RunTurnAsync(_cancellation.Token), _cancellation.Token), ShowProgress);
            }
            catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
            {
                return;
            }
            catch (GeoSyncSessionException e) when (e.Reason == SessionFailure.SlaveNotEmpty)
            {
                // A refusal: no later turn or session can do otherwise until the slave is emptied or -Force is given.
                ThrowTerminatingError(ErrorRecords.FromException(e, session, "CrawlFailed"));
            }
            catch (GeoSyncException e)
            {
                WriteError(ErrorRecords.FromException(e, session, "CrawlFailed"));
                return;
            }
            finally
            {
                WriteProgress(new ProgressRecord(ProgressActivityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
        }

        if (plan is not null)
        {
            foreach (var failure in plan.Failures)
            {
                WriteWarning($"The dry run could not look at '{failure.Path}', so it plans nothing there: {failure.Reason}");
            }
            // The one "What if:" line: the summary of the changes written above. It returns false, as -WhatIf makes it.
            ShouldProcess(target, $"{Replicate}: {plan}");
            // The same summary for hosts that show no "What if:" lines (geosync master --dry-run prints this one).
            WriteInformation($"Dry run of {target}: {plan}. Nothing was changed.", [TurnPlan.SummaryTag]);
            return;
        }

        // The result first, so a script sees the turn before the paths that did not make it.
        WriteObject(new GeoSyncTurnResult(session, result!));
        foreach (var record in ReplicationErrors.ForTurn(result!.Failures, result.HeldPurges)) WriteError(record);

        void ShowProgress()
        {
            // The first state at once, then on change at most once per interval. Each write is a new record: a host that
            // keeps the records it was given (a captured progress stream) must see each state, not N times the last one.
            if (session.CurrentTurn is not { } now || now == lastShown || (lastShown is not null && throttle.Elapsed < ProgressInterval)) return;
            lastShown = now;
            throttle.Restart();
            var progress = new ProgressRecord(ProgressActivityId, activity, "Starting the turn");
            if (expectedDirectories is { } total)
            {
                var (percent, secondsRemaining) = Estimate(now.DirectoriesScanned, total, elapsed.Elapsed);
                progress.PercentComplete = percent;
                progress.SecondsRemaining = secondsRemaining;
            }
            if (whatIf)
            {
                progress.StatusDescription = $"{now.DirectoriesScanned} directories compared; nothing is written";
                WriteProgress(progress);
                return;
            }
            var seconds = Math.Max(elapsed.Elapsed.TotalSeconds, 0.001);
            progress.StatusDescription = string.Create(CultureInfo.InvariantCulture,
                $"Turn {now.Turn}: {now.FilesSynced} files ({now.BytesSynced} bytes) synced, {now.FilesSynced / seconds:F0} files/s, {now.BytesSynced / seconds / (1024 * 1024):F1} MiB/s");
            progress.CurrentOperation = expectedDirectories is { } expected
                ? $"{now.DirectoriesScanned} of about {expected} directories scanned, {now.EntriesCreated} entries created, {now.EntriesPurged} purged"
                : $"{now.DirectoriesScanned} directories scanned, {now.EntriesCreated} entries created, {now.EntriesPurged} purged";
            WriteProgress(progress);
        }
    }

    /// <summary>
    /// How many directories this turn will list, when that is known: the previous turn's count, if every turn lists every
    /// directory (a master compared entry by entry, not pruned by xtime). Then the tree's size changes only by what was
    /// made or removed since. A pruned turn, or a watched one (docs/master-loop.md, "Watching a directory master"), lists
    /// only what changed, so its last count says nothing about this one; and a session's first turn has nothing to go by. Bytes are no measure: what a turn copies is what changed, unknown
    /// until the walk found it (docs/master-loop.md, "Progress").
    /// </summary>
    private static long? ExpectedDirectories(GeoSyncSession session) =>
        !session.PrunesByDirectoryXtime && !session.WatchesMaster && session.LastTurn is { DirectoriesScanned: > 0 } last ? last.DirectoriesScanned : null;

    /// <summary>
    /// The share of the expected directories listed so far, held at 99 until the turn ends (the tree may have grown, and
    /// files are still in flight after the last listing), and the time left at the rate so far (-1: not yet known).
    /// </summary>
    internal static (int Percent, int SecondsRemaining) Estimate(long scanned, long expected, TimeSpan elapsed)
    {
        if (scanned <= 0) return (0, -1);
        var percent = (int)Math.Min(99, scanned * 100 / expected);
        if (scanned >= expected) return (percent, -1);
        var remaining = elapsed.TotalSeconds / scanned * (expected - scanned);
        return (percent, (int)Math.Ceiling(remaining));
    }

    /// <summary>
    /// The dry run: each planned change is written as it is found (the walk waits while the buffer is full), and the
    /// plan's counts are returned. Leaving early (Ctrl+C, a downstream Select-Object -First) cancels the walk.
    /// </summary>
    private TurnPlan Plan(GeoSyncSession session, Action tick)
    {
        using var changes = new BlockingCollection<PlannedChange>(PlannedChangesBuffered);
        var token = _cancellation.Token;
        // On a worker: a walk whose calls all complete at once (an in-process slave) would otherwise run on this thread,
        // and block it on the full buffer that only this thread empties.
        var planning = Task.Run(() => session.PlanTurnAsync(change => changes.Add(change, token), examplesPerAction: 0, token), token);
        try
        {
            while (!planning.IsCompleted)
            {
                if (changes.TryTake(out var change, DrainInterval)) WriteObject(new GeoSyncPlannedChange(session, change));
                _queue.Drain(this);
                tick();
            }
            while (changes.TryTake(out var change)) WriteObject(new GeoSyncPlannedChange(session, change));
            _queue.Drain(this);
            return planning.GetAwaiter().GetResult();
        }
        finally
        {
            if (!planning.IsCompleted)
            {
                _cancellation.Cancel();
                ((IAsyncResult)planning).AsyncWaitHandle.WaitOne();
            }
        }
    }
}
