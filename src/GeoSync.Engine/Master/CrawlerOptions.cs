using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>How important a crawl log message is.</summary>
public enum CrawlLogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}

/// <summary>Settings of a <see cref="Crawler"/>.</summary>
public sealed record CrawlerOptions
{
    /// <summary>Keep entries on the slave that the master no longer has (<c>ignore_deletes</c>).</summary>
    public bool IgnoreDeletes { get; init; }

    /// <summary>
    /// Skip a directory whose master xtime equals its slave xtime (docs/master-loop.md, "The crawl"), which needs the master to answer a directory's
    /// xtime as the newest over its subvolumes. False for a master that does not (GlusterFS 10.x distributed over several
    /// subvolumes answers from one brick per read): every directory is then listed, files are still sent by their own
    /// xtimes, and a directory's slave xtime only ever grows.
    /// </summary>
    public bool PruneByDirectoryXtime { get; init; } = true;

    /// <summary>After failing in this many consecutive turns a path is reported as a persistent failure.</summary>
    public int PersistentFailureAttempts { get; init; } = 3;

    /// <summary>
    /// Where failed paths are remembered; null: an in-memory ledger with <see cref="PersistentFailureAttempts"/>. A ledger
    /// opened on a file (<see cref="FailureLedger.Open"/>) keeps them across restarts, and its own threshold applies.
    /// </summary>
    public FailureLedger? FailureLedger { get; init; }

    /// <summary>
    /// Files queued for transfer but not yet finished; the crawl waits for the syncer beyond this, which keeps memory
    /// bounded however many files changed.
    /// </summary>
    public int MaxPendingFiles { get; init; } = 4096;

    /// <summary>
    /// The volume mark's time (when indexing was last enabled or reset, docs/master-loop.md, "The crawl"). Master xtimes older than it count as never
    /// stamped and are renewed, which resends those entries (docs/master-loop.md, "The crawl"). Null: no reset is known.
    /// </summary>
    public Xtime? VolumeMark { get; init; }

    /// <summary>
    /// The mass-deletion guard: a directory whose purge in one turn would remove at least <see cref="MassDeleteMinimum"/>
    /// entries and more than this share (0..1) of the slave's entries there is held — not purged, reported, and left
    /// unmarked so that the next turn looks again. 1 disables the guard.
    /// </summary>
    public double MaxDeleteShare { get; init; } = 0.5;

    /// <summary>Purges smaller than this many entries in one directory are never held by <see cref="MaxDeleteShare"/>.</summary>
    public int MassDeleteMinimum { get; init; } = 10;

    /// <summary>
    /// Leave GlusterFS's internal names at the root (<see cref="GlusterInternalNames"/>) alone on both sides: set when the
    /// master or the slave is a GlusterFS volume.
    /// </summary>
    public bool SkipGlusterInternalNames { get; init; }

    /// <summary>Visit each directory's entries in random order (docs/master-loop.md, "The crawl"), so one stuck entry does not always stall the same ones behind it.</summary>
    public bool ShuffleEntries { get; init; } = true;

    /// <summary>
    /// Every brick of a GlusterFS master, all on this host (docs/multi-brick.md; a one-brick volume is a set of one): a turn
    /// that can read them all reads the master's xtimes there and prunes by their merged directory xtimes; null: through the mount.
    /// </summary>
    public BrickSetXtimes? LocalBricks { get; init; }

    /// <summary>Stamps never-indexed master entries, and times turns.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Receives what the crawl has to say, from any thread.</summary>
    public Action<CrawlLogLevel, string>? Log { get; init; }
}
