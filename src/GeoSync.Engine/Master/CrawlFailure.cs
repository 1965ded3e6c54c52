namespace GeoSync.Engine.Master;

/// <summary>
/// A path that did not reach the slave: why, the errno behind it when one is known, in how many consecutive turns it
/// failed, and when it failed first and last. One record serves the turn result and the failure ledger.
/// </summary>
public sealed record CrawlFailure(string Path, string Reason, int Attempts, bool IsPersistent)
{
    /// <summary>The Linux errno of the failed call (from the slave, the master or rsync's message); null when none is known.</summary>
    public int? Errno { get; init; }

    /// <summary>When the path failed first in the run of turns that has not seen it arrive since.</summary>
    public DateTimeOffset FirstFailed { get; init; }

    /// <summary>When it failed last.</summary>
    public DateTimeOffset LastFailed { get; init; }

    /// <summary>What kind of failure this is, from <see cref="Errno"/>.</summary>
    public FailureCause Cause => FailureCauses.FromErrno(Errno);

    /// <summary>What an administrator can do about it; for persistent failures only (a single failure may clear by itself).</summary>
    public string? Hint => IsPersistent ? FailureCauses.Hint(Cause) : null;

    /// <summary>
    /// One line for people (a turn result's Failures in a list, an interpolated string): the path, for how many turns it
    /// failed, and why. The record's generated text (every property, braces and all) read badly there.
    /// </summary>
    public override string ToString() =>
        $"{Path} ({Attempts} {(Attempts == 1 ? "turn" : "turns")}{(IsPersistent ? ", persistent" : "")}): {Reason}";
}

/// <summary>The kinds of per-entry failure an administrator acts on differently.</summary>
public enum FailureCause
{
    /// <summary>No errno, or one without a remedy of its own.</summary>
    Other,

    /// <summary>ENOSPC or EDQUOT: the slave is out of bytes, inodes or quota.</summary>
    NoSpace,

    /// <summary>EROFS: the slave file system is read-only.</summary>
    ReadOnly,

    /// <summary>EPERM or EACCES: the slave (or the master) refused the operation.</summary>
    PermissionDenied,

    /// <summary>ENOENT or ENOTDIR: the entry or its directory is gone or replaced.</summary>
    NotFound,

    /// <summary>ENAMETOOLONG: the slave cannot hold the name.</summary>
    NameTooLong,
}

/// <summary>The errno → cause rule and the hints, declared once for the cmdlets, the host and the ledger.</summary>
public static class FailureCauses
{
    private const int EPERM = 1;
    private const int EACCES = 13;
    private const int ENOSPC = 28;
    private const int EROFS = 30;
    private const int ENAMETOOLONG = 36;
    private const int EDQUOT = 122;

    public static FailureCause FromErrno(int? errno) => errno switch
    {
        ENOSPC or EDQUOT => FailureCause.NoSpace,
        EROFS => FailureCause.ReadOnly,
        EPERM or EACCES => FailureCause.PermissionDenied,
        LinuxErrno.ENOENT or LinuxErrno.ENOTDIR => FailureCause.NotFound,
        ENAMETOOLONG => FailureCause.NameTooLong,
        _ => FailureCause.Other,
    };

    public static string Hint(FailureCause cause) => cause switch
    {
        FailureCause.NoSpace => "The slave is out of space or inodes (df -h, df -i): free some or grow it; the entry is retried every turn.",
        FailureCause.ReadOnly => "The slave file system is read-only: remount it read-write; the entry is retried every turn.",
        FailureCause.PermissionDenied =>
            "The slave refused the write: check the directory's owner and mode, immutable flags (lsattr), and that the slave runs " +
            "as root where owners and device files are kept.",
        FailureCause.NotFound => "The entry or its directory was gone or replaced when it was sent; it clears once a turn completes without it.",
        FailureCause.NameTooLong => "The slave's file system cannot hold this name; rename it on the master or use a slave that can.",
        _ => "Read the error; the entry is retried every turn, and Get-GeoSyncFailure or 'geosync failures' lists all of them.",
    };
}

/// <summary>Stable ids of the error records that say some entries did not reach the slave: a run that wrote them ends with exit code 3.</summary>
public static class ReplicationErrorIds
{
    /// <summary>One path did not reach the slave this turn (non-terminating; the target is the path).</summary>
    public const string EntryNotSynced = "EntryNotSynced";

    /// <summary>A mass deletion was held back (non-terminating; the target is the directory).</summary>
    public const string PurgeHeld = "PurgeHeld";

    /// <summary>True for an id (the first part of a FullyQualifiedErrorId) that means the run did not converge.</summary>
    public static bool MeansNotConverged(string id) => id is EntryNotSynced or PurgeHeld;
}
