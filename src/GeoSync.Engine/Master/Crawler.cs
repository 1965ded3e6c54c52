namespace GeoSync.Engine.Master;

/// <summary>
/// Replicates a master tree onto a slave, one crawl from the root per turn (docs/master-loop.md, "The crawl"): pruned by xtime on a GlusterFS master,
/// by comparing entries on a plain directory. Remembers failed paths across turns and reports the persistent ones.
/// </summary>
public sealed class Crawler
{
    private readonly FailureLedger _ledger;
    private long _turnsCompleted;
    private int _running;
    private CrawlTurn? _current;
    private Crawler? _dryRun;

    public Crawler(IMasterTree master, ISlaveChannel slave, IFileSyncer syncer, CrawlerOptions? options = null)
        : this(master, slave, syncer, options, detector: null)
    {
    }

    /// <param name="master">The master tree.</param>
    /// <param name="slave">The slave.</param>
    /// <param name="syncer">Moves file data.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="detector">
    /// How each turn finds changes (docs/master-loop.md, "Change detection"); null: the master's own — xtime descent on a
    /// GlusterFS master, a full comparison on a plain directory.
    /// </param>
    internal Crawler(IMasterTree master, ISlaveChannel slave, IFileSyncer syncer, CrawlerOptions? options, IChangeDetector? detector)
    {
        ArgumentNullException.ThrowIfNull(master);
        ArgumentNullException.ThrowIfNull(slave);
        ArgumentNullException.ThrowIfNull(syncer);
        Options = options ?? new CrawlerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.PersistentFailureAttempts, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxPendingFiles, 1, nameof(options));
        ArgumentNullException.ThrowIfNull(Options.Clock, nameof(options));
        if (!(Options.MaxDeleteShare is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), Options.MaxDeleteShare,
                "MaxDeleteShare is a share of a directory's slave entries, from 0 to 1 (1 disables the mass-deletion guard)");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(Options.MassDeleteMinimum, nameof(options));
        Master = master;
        Slave = slave;
        Syncer = syncer;
        _ledger = Options.FailureLedger ?? new FailureLedger(Options.PersistentFailureAttempts, Options.Clock);
        Detector = detector ?? DefaultDetector(master, Options);
    }

    /// <summary>The master's own detector: xtime descent where a marker keeps xtimes, else a full comparison.</summary>
    internal static IChangeDetector DefaultDetector(IMasterTree master, CrawlerOptions options) =>
        master.Xtimes is { } xtimes ? new XtimeDescent(xtimes, options.PruneByDirectoryXtime, options.LocalBricks) : new FullComparison();

    /// <summary>
    /// Unchanged subtrees are skipped by their directory's xtime (docs/master-loop.md, "The crawl"): a GlusterFS master with
    /// <see cref="CrawlerOptions.PruneByDirectoryXtime"/>. False: every directory is listed each turn that reads through the
    /// mount (a turn that reads every brick of <see cref="CrawlerOptions.LocalBricks"/> prunes whatever this says).
    /// </summary>
    public bool PrunesByDirectoryXtime => Master.Xtimes is not null && Options.PruneByDirectoryXtime;

    /// <summary>Turns that ran to their end (a cancelled or aborted turn does not count).</summary>
    public long TurnsCompleted => Interlocked.Read(ref _turnsCompleted);

    internal IMasterTree Master { get; }
    internal ISlaveChannel Slave { get; }
    internal IFileSyncer Syncer { get; }
    internal CrawlerOptions Options { get; }
    /// <summary>How each turn finds what changed.</summary>
    internal IChangeDetector Detector { get; }
    /// <summary>Every path that failed and has not arrived since, kept across turns (and restarts, with a ledger file).</summary>
    public FailureLedger Ledger => _ledger;

    /// <summary>What the running turn has done so far, for progress displays; null between turns.</summary>
    public TurnProgress? CurrentProgress => Volatile.Read(ref _current)?.Progress ?? Volatile.Read(ref _dryRun)?.CurrentProgress;

    /// <summary>Whether the slave answers <c>lstat_entries</c>; null until the first listing found out.</summary>
    internal bool? SlaveListsStats { get; set; }

    /// <summary>Whether the slave answers <c>entry_types</c>; null until the first listing that wanted only types found out.</summary>
    internal bool? SlaveListsTypes { get; set; }

    /// <summary>
    /// Crawls once from the root and returns when every change found has reached the slave or failed. Fatal conditions
    /// throw: <see cref="GeoSyncTimestampCorruptionException"/>, a broken slave connection, a glusterfs session that went
    /// down (ENOTCONN), a syncer that cannot run rsync at all.
    /// </summary>
    public async Task<TurnResult> RunTurnAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("a turn of this crawler is already running; await it before starting the next one");
        }
        try
        {
            var turn = new CrawlTurn(this, TurnsCompleted + 1);
            Volatile.Write(ref _current, turn);
            var result = await turn.RunAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _turnsCompleted);
            return result;
        }
        finally
        {
            Volatile.Write(ref _current, null);
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// A dry run (docs/master-loop.md, "Dry run"): the same walk as <see cref="RunTurnAsync"/>, reading the master and the
    /// slave as a turn would, but writing nothing on either side — no rsync, no slave call that changes anything, no xtime
    /// stamped on the master — and reporting each change the turn would make instead. The failure history is left as it
    /// is and the turn does not count.
    /// </summary>
    /// <param name="onChange">
    /// Receives each planned change as it is found, in walk order, one at a time; it may block to hold the walk back, so a
    /// caller that writes the changes out keeps memory flat on a big tree.
    /// </param>
    /// <param name="examplesPerAction">How many changes of each action the returned plan keeps (its counts cover all).</param>
    /// <param name="cancellationToken">Ends the dry run.</param>
    public async Task<TurnPlan> PlanTurnAsync(Action<PlannedChange>? onChange = null, int examplesPerAction = 10,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(examplesPerAction);
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("a turn of this crawler is already running; await it before starting a dry run");
        }
        try
        {
            return await PlanWhileRunningAsync(onChange, examplesPerAction, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary><see cref="PlanTurnAsync"/> for a caller that already holds this crawler (one check before a turn).</summary>
    internal async Task<TurnPlan> PlanWhileRunningAsync(Action<PlannedChange>? onChange, int examplesPerAction,
        CancellationToken cancellationToken)
    {
        var planner = new TurnPlanner(Master, Slave, onChange, examplesPerAction);
        var log = Options.Log;
        // Its own crawler: a fresh failure history, and a walk in name order so a plan reads the same each time.
        var dryRun = new Crawler(planner.Master, planner.Slave, planner.Syncer, Options with
        {
            ShuffleEntries = false,
            // The pair's ledger is a record of real turns; what a dry run could not look at stays out of it.
            FailureLedger = null,
            Log = log is null ? null : (level, message) => log(level, "dry run: " + message),
        })
        {
            SlaveListsStats = SlaveListsStats,
            SlaveListsTypes = SlaveListsTypes,
        };
        Volatile.Write(ref _dryRun, dryRun);
        try
        {
            var walk = await dryRun.RunTurnAsync(cancellationToken).ConfigureAwait(false);
            return planner.Summarize(walk);
        }
        finally
        {
            Volatile.Write(ref _dryRun, null);
        }
    }

    internal void Log(CrawlLogLevel level, string message) => Options.Log?.Invoke(level, message);
}
