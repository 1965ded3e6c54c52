using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// The master side of a crawl: a local directory tree read by relative path (<c>.</c> is the root; wire text like every
/// name). Failures throw <see cref="GeoSyncMasterTreeException"/> carrying the errno.
/// </summary>
public interface IMasterTree
{
    /// <summary>The absolute path of the root; rsync reads the files from here.</summary>
    string RootPath { get; }

    /// <summary>
    /// The xtimes a GlusterFS marker keeps on this tree, or null for a plain directory: then the crawl compares every entry
    /// with the slave instead of pruning by xtime.
    /// </summary>
    IMasterXtimes? Xtimes { get; }

    /// <summary>The names in a directory (without <c>.</c> and <c>..</c>).</summary>
    IReadOnlyList<string> Entries(string path);

    /// <summary>The entry's lstat, with its target when it is a symlink; null when it does not exist (any more).</summary>
    EntryStat? Lstat(string path);

    /// <summary>
    /// The names in a directory, each with its lstat as <see cref="Lstat"/> answers it (null: gone since the listing) or
    /// the exception that one lstat threw. A tree that can lstat through the opened directory does so: one path
    /// resolution per directory instead of one per entry (docs/performance.md, "Directory master, second pass").
    /// </summary>
    IReadOnlyList<MasterEntry> EntriesWithStats(string path) =>
        Entries(path).Select(name => MasterEntry.Read(name, () => Lstat(CrawlTurn.Join(path, name)))).ToList();

    /// <summary>
    /// Throws <see cref="GeoSyncMasterUnavailableException"/> when <see cref="RootPath"/> no longer shows the tree that was
    /// opened (unmounted, replaced): the crawl checks before every listing that can lead to a purge.
    /// </summary>
    void EnsureVouched();
}

/// <summary>One entry of <see cref="IMasterTree.EntriesWithStats"/>: its lstat, or why it could not be read.</summary>
/// <param name="Name">The entry's name (wire text).</param>
/// <param name="Stat">Its lstat; null when it vanished since the listing or when <paramref name="Failure"/> is set.</param>
/// <param name="Failure">The exception its lstat threw, as <see cref="IMasterTree.Lstat"/> would have thrown it.</param>
public readonly record struct MasterEntry(string Name, EntryStat? Stat, Exception? Failure)
{
    /// <summary>Runs one lstat, keeping what it throws as the entry's failure.</summary>
    public static MasterEntry Read(string name, Func<EntryStat?> lstat)
    {
        ArgumentNullException.ThrowIfNull(lstat);
        try
        {
            return new MasterEntry(name, lstat(), null);
        }
        catch (GeoSyncException ex)
        {
            return new MasterEntry(name, null, ex);
        }
    }
}

/// <summary>The marker's xtimes on a master tree (docs/protocol.md, "Extended attributes: names and layouts"), for one volume.</summary>
public interface IMasterXtimes
{
    /// <summary>The volume whose xtimes these are; the slave's xtimes are kept under the same uuid (docs/master-loop.md, "The crawl").</summary>
    Guid VolumeId { get; }

    /// <summary>The path's xtime, or ENODATA/ENOENT/ENOTDIR. Other failures throw <see cref="GeoSyncXattrException"/>.</summary>
    XtimeReading Read(string path);

    /// <summary>Stamps the path: the fix-up of a never-indexed entry (docs/master-loop.md, "The crawl").</summary>
    void Write(string path, Xtime value);

    /// <summary>
    /// Makes what is read of the path from now on (its lstat, rsync's reads) at least as new as an xtime read before:
    /// an aux mount that caches attributes would otherwise let rsync copy an older size and data, which the crawl then
    /// stamps with the newer xtime (docs/gluster-notes.md, "Coherent reads"). Nothing to do where nothing is cached.
    /// </summary>
    void RefreshAttributes(string path)
    {
    }
}
