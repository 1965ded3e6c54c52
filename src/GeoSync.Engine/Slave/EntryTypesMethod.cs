using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using Mono.Unix.Native;

namespace GeoSync.Engine.Slave;

/// <summary>
/// The slave side of the <c>entry_types</c> extension (GeoSync's own; 3.3 and 10.x slaves lack it): a directory's names
/// with their types only, for a GlusterFS master's crawl, which needs nothing else of the slave's entries
/// (docs/master-loop.md, "The crawl"). The types come with the listing (<c>d_type</c>), so a directory costs a readdir
/// instead of one <c>lstat</c> per entry — through an uncached GlusterFS mount each of those is a round trip to the brick
/// (docs/performance.md, "Slave listings and xtimes on a GlusterFS slave").
/// </summary>
/// <remarks>
/// <c>entry_types(path)</c> → list of <c>(name, type)</c>, one per entry except <c>.</c> and <c>..</c>; <c>type</c> is
/// the entry's <c>st_mode &amp; S_IFMT</c> (0o100000 a regular file, 0o040000 a directory, 0o120000 a symlink, ...).
/// Where the file system does not tell the type in the listing (<c>DT_UNKNOWN</c>) the entry is lstat'ed. Like
/// <c>lstat_entries</c>: guarded path, never following the final component, OSError(ENOTDIR) for anything but a
/// directory; an entry removed between the listing and its lstat is left out.
/// </remarks>
internal static class EntryTypesMethod
{
    public const string Name = "entry_types";

    public static object? Invoke(PathGuard guard, IReadOnlyList<object?> args)
    {
        using var dir = WireArgs.ListedDirectory(Name, guard, args);

        var entries = new List<object?>();
        foreach (var (name, type) in dir.NativeEntries())
        {
            long format = FormatOf(type);
            if (format == 0)
            {
                if (!dir.TryLstat(name, out var stat, out var errno))
                {
                    if (errno == Errno.ENOENT) continue;
                    throw WireArgs.OsError(errno);
                }
                format = (long)(uint)(stat.st_mode & FilePermissions.S_IFMT);
            }
            entries.Add(new PyTuple(OpenDirectory.WireName(name), format));
        }
        return entries;
    }

    /// <summary>The <c>S_IFMT</c> bits a <c>d_type</c> stands for (<c>DT_x == S_IFx &gt;&gt; 12</c>); 0 for DT_UNKNOWN.</summary>
    internal static long FormatOf(byte directoryEntryType) => directoryEntryType switch
    {
        1 or 2 or 4 or 6 or 8 or 10 or 12 => (long)directoryEntryType << 12,
        _ => 0,
    };
}
