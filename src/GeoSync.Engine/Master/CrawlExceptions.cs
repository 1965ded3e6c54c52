using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// The slave holds a newer xtime than the master for the same path (docs/master-loop.md, "The crawl"): the master's clock stepped back, or another
/// master writes to this slave. Syncing on would never converge, so the crawl stops and names the path.
/// </summary>
public sealed class GeoSyncTimestampCorruptionException : GeoSyncException
{
    public GeoSyncTimestampCorruptionException(string path, Xtime masterXtime, Xtime slaveXtime, string xattrName)
        : base($"timestamp corruption for '{path}': the slave's xtime {slaveXtime} ({slaveXtime.ToDateTimeOffset():u}) is newer " +
               $"than the master's {masterXtime} ({masterXtime.ToDateTimeOffset():u}). Check that the master's clocks are " +
               "synchronized (NTP) and that no other master feeds this slave; then remove the attribute " +
               $"'{xattrName}' from '{path}' and everything below it on the slave, and the next crawl resends that subtree.")
    {
        Path = path;
        MasterXtime = masterXtime;
        SlaveXtime = slaveXtime;
    }

    public string Path { get; }
    public Xtime MasterXtime { get; }
    public Xtime SlaveXtime { get; }
}

/// <summary>Reading the master's tree failed on a path (listing, lstat, readlink).</summary>
public sealed class GeoSyncMasterTreeException : GeoSyncException
{
    public GeoSyncMasterTreeException(string path, string operation, int errno, string message)
        : base(message)
    {
        Path = path;
        Operation = operation;
        Errno = errno;
    }

    /// <summary>The path relative to the master root.</summary>
    public string Path { get; }

    public string Operation { get; }

    /// <summary>The Linux errno of the failed call.</summary>
    public int Errno { get; }
}

/// <summary>
/// The master tree can no longer be vouched for: its root path no longer shows the directory or volume the session opened
/// (unmounted, replaced), or the volume answers that it lost its connection (ENOTCONN: a subvolume down, the client gone).
/// Nothing read from it can be trusted, so the turn stops before purging or stamping anything and the session goes Faulty.
/// </summary>
public sealed class GeoSyncMasterUnavailableException : GeoSyncException
{
    public GeoSyncMasterUnavailableException(string rootPath, string reason, Exception? inner = null)
        : base($"the master '{rootPath}' cannot be vouched for: {reason}. Nothing was purged or marked from this view; " +
               "the session stops, and a new one (the loop reconnects by itself) mounts the master again.", inner)
    {
        RootPath = rootPath;
        Reason = reason;
    }

    public string RootPath { get; }

    public string Reason { get; }
}

/// <summary>
/// The slave root can no longer be vouched for: its mount went away or was replaced, or the slave volume answers that it
/// lost its connection. Writing on would put files where the slave is not, so the session goes Faulty.
/// </summary>
public sealed class GeoSyncSlaveUnavailableException : GeoSyncException
{
    public GeoSyncSlaveUnavailableException(string reason, Exception? inner = null)
        : base($"the slave cannot be vouched for: {reason}. Nothing more is written to it; the session stops, and a new " +
               "one (the loop reconnects by itself) mounts the slave again.", inner)
    {
        Reason = reason;
    }

    public string Reason { get; }
}
