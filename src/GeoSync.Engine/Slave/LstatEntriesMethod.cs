using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using Mono.Unix.Native;

namespace GeoSync.Engine.Slave;

/// <summary>
/// The slave side of the <c>lstat_entries</c> extension (GeoSync's own; 3.3 and 10.x slaves lack it): plain wire data
/// in and out, failures as the Python exceptions the peer sees.
/// </summary>
/// <remarks>
/// <c>lstat_entries(path)</c> → list of <c>(name, st_mode, st_uid, st_gid, st_size, st_atime_ns, st_mtime_ns, target, st_rdev)</c>,
/// one tuple per entry except <c>.</c> and <c>..</c>; <c>target</c> is the symlink's target, else None; <c>st_rdev</c> is
/// a device node's number, else 0 (slaves before it send the first 8 fields). Like
/// <c>entries</c>: guarded path, never following the final component, OSError(ENOTDIR) for anything but a directory.
/// An entry removed between the listing and its lstat is left out.
/// </remarks>
internal static class LstatEntriesMethod
{
    public const string Name = "lstat_entries";

    public static object? Invoke(PathGuard guard, IReadOnlyList<object?> args)
    {
        using var dir = WireArgs.ListedDirectory(Name, guard, args);

        var entries = new List<object?>();
        foreach (var name in dir.NativeNames())
        {
            if (!dir.TryLstat(name, out var stat, out var errno))
            {
                if (errno == Errno.ENOENT) continue;
                throw WireArgs.OsError(errno);
            }
            object? linkTarget = null;
            if (EntryStat.TypeOf(stat.st_mode) == EntryType.Symlink)
            {
                linkTarget = dir.ReadLink(name, out errno);
                if (linkTarget is null)
                {
                    if (errno == Errno.ENOENT) continue;
                    throw WireArgs.OsError(errno);
                }
            }
            var entry = EntryStat.FromStat(stat, null);
            entries.Add(new PyTuple(
                OpenDirectory.WireName(name),
                (long)(uint)stat.st_mode,
                entry.Uid,
                entry.Gid,
                entry.Size,
                entry.AccessTimeNs,
                entry.ModifyTimeNs,
                linkTarget,
                entry.DeviceNumber));
        }
        return entries;
    }
}
