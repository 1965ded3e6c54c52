namespace GeoSync.Engine.Master;

/// <summary>
/// Replicates a master tree onto a slave, one crawl from the root per turn (§5.4): pruned by xtime on a GlusterFS master,
/// by comparing entries on a plain directory. Remembers failed paths across turns and reports the persistent ones.
/// </summary>
public sealed class Crawler
{
    private readonly FailureLedger _ledger;
    private long _turnsCompleted;
    private int _running;
    private CrawlTurn? _current;

    public Crawler(IMasterTree master, ISlaveChannel slave, IFileSyncer syncer, CrawlerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(master);
        ArgumentNullException.ThrowIfNull(slave);
        ArgumentNullException.ThrowIfNull(syncer);
        Options = options ?? new CrawlerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.PersistentFailureAttempts, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxPendingFiles, 1, nameof(options));
        ArgumentNullException.ThrowIfNull(Options.Clock, nameof(options));
        Master = master;
        Slave = slave;
        Syncer = syncer;
        _ledger = Options.FailureLedger ?? new FailureLedger(Options.PersistentFailureAttempts, Options.Clock);
    }

    /// <summary>
    /// Unchanged subtrees are skipped by their directory's xtime (§5.4): a GlusterFS master with
    /// <see cref="CrawlerOptions.PruneByDirectoryXtime"/>. False: every directory is listed each turn.
    /// </summary>
    public bool PrunesByDirectoryXtime => Master.Xtimes is not null && Options.PruneByDirectoryXtime;

    /// <summary>Turns that ran to their end (a cancelled or aborted turn does not count).</summary>
    public long TurnsCompleted => Interlocked.Read(ref _turnsCompleted);

    internal IMasterTree Master { get; }
    internal ISlaveChannel Slave { get; }
    internal IFileSyncer Syncer { get; }
    internal CrawlerOptions Options { get; }
    /// <summary>Every path that failed and has not arrived since, kept across turns (and restarts, with a ledger file).</summary>
    public FailureLedger Ledger => _ledger;

    /// <summary>What the running turn has done so far, for progress displays; null between turns.</summary>
    public TurnProgress? CurrentProgress => Volatile.Read(ref _current)?.Progress;

    /// <summary>Whether the slave answers <c>lstat_entries</c>; null until the first listing found out.</summary>
    internal bool? SlaveListsStats { get; set; }

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

    internal void Log(CrawlLogLevel level, string message) => Options.Log?.Invoke(level, message);
}
