namespace GeoSync.Engine.Session;

/// <summary>Why a session could not open or go on.</summary>
public enum SessionFailure
{
    /// <summary>Connecting the master or the slave failed; the inner exception says where.</summary>
    OpenFailed,

    /// <summary>The master volume's mark has a non-zero retval: the marker's timestamp file is unusable (docs/master-loop.md, "The crawl").</summary>
    MasterCorrupt,

    /// <summary>The master volume has no volume mark: geo-replication indexing is off.</summary>
    VolumeMarkNotFound,

    /// <summary>More than one foreign master feeds the master volume (docs/master-loop.md, "The crawl").</summary>
    MultipleForeignMasters,

    /// <summary>The session lost its slave (keep-alive, broken connection) or a turn failed fatally; open a new one.</summary>
    Faulty,

    /// <summary>The session was stopped.</summary>
    Stopped,

    /// <summary>A turn is already running on the session.</summary>
    Busy,

    /// <summary>The pair's failure ledger file exists but cannot be read; the message names it and what to do.</summary>
    FailureLedgerUnreadable,
    /// <summary>Master and slave are the same tree or one contains the other; nothing was written (docs/sessions.md).</summary>
    ReplicaOverlap,

    /// <summary>
    /// A first sync would go into a slave holding entries this master did not put there; nothing was written.
    /// <see cref="SessionOptions.Force"/> allows it.
    /// </summary>
    SlaveNotEmpty,

    /// <summary>Stopping could not release everything (a mount left behind); the message names it and how to remove it.</summary>
    CleanupFailed,
}

/// <summary>A session could not be opened, or cannot run a turn; <see cref="Reason"/> says which.</summary>
public sealed class GeoSyncSessionException : GeoSyncException
{
    public GeoSyncSessionException(SessionFailure reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public SessionFailure Reason { get; }
}
