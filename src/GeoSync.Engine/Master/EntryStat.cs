using Mono.Unix.Native;

namespace GeoSync.Engine.Master;

/// <summary>The kind of a directory entry, as far as the crawl is concerned.</summary>
public enum EntryType
{
    Regular,
    Directory,
    Symlink,

    /// <summary>A fifo, socket or device node: sent through rsync, which makes them as <c>rsync -a</c> does.</summary>
    Special,
}

/// <summary>
/// One entry's lstat as the crawl compares it: type, permission bits, owner, size, times in nanoseconds since the
/// epoch, and a symlink's target (wire text, surrogate-escaped like every name).
/// </summary>
public sealed record EntryStat(EntryType Type, int Mode, long Uid, long Gid, long Size, long AccessTimeNs, long ModifyTimeNs, string? LinkTarget)
{
    /// <summary>
    /// For a special file, the file type bits of st_mode (<c>S_IFMT</c>), which tell a fifo, a socket and the two kinds of
    /// device apart; 0 for the other types, which <see cref="Type"/> names.
    /// </summary>
    public int SpecialFileType { get; init; }

    /// <summary>A device node's device number (st_rdev); 0 for anything else.</summary>
    public long DeviceNumber { get; init; }

    // Directory times reach the slave as float seconds (setattr's 'times'), which keep about 0.25 µs at today's dates.
    private const long TimeToleranceNs = 1_000;

    private const int PermissionBits = 0xFFF; // 07777

    /// <summary>True when rsync -a would leave <paramref name="replica"/> as it is: same type, size, mtime, mode and owner.</summary>
    public bool SameFileAs(EntryStat replica)
    {
        ArgumentNullException.ThrowIfNull(replica);
        return replica.Type == EntryType.Regular && Type == EntryType.Regular && Size == replica.Size
            && SameModifyTime(replica) && SameModeAndOwner(replica);
    }

    /// <summary>True when <paramref name="replica"/> is a symlink with the same target and owner (Linux links have no mode of their own).</summary>
    public bool SameSymlinkAs(EntryStat replica)
    {
        ArgumentNullException.ThrowIfNull(replica);
        return replica.Type == EntryType.Symlink && Type == EntryType.Symlink
            && string.Equals(LinkTarget, replica.LinkTarget, StringComparison.Ordinal)
            && Uid == replica.Uid && Gid == replica.Gid;
    }

    /// <summary>
    /// True when rsync -a would leave the special file <paramref name="replica"/> as it is: the same kind (fifo, socket,
    /// block or character device), device number, mode, owner and mtime to the second — rsync 3.x leaves a new special
    /// file's own mtime when it is in the same second as the master's, so a finer comparison would resend it forever.
    /// </summary>
    public bool SameSpecialAs(EntryStat replica)
    {
        ArgumentNullException.ThrowIfNull(replica);
        return replica.Type == EntryType.Special && Type == EntryType.Special && SpecialFileType == replica.SpecialFileType
            && DeviceNumber == replica.DeviceNumber && SameModeAndOwner(replica)
            && Math.Floor(ModifyTimeNs / 1e9) == Math.Floor(replica.ModifyTimeNs / 1e9);
    }

    /// <summary>True when a directory's replica needs no setattr: same owner, mode and mtime.</summary>
    public bool SameDirectoryAttributesAs(EntryStat replica)
    {
        ArgumentNullException.ThrowIfNull(replica);
        return replica.Type == EntryType.Directory && SameModeAndOwner(replica) && SameModifyTime(replica);
    }

    internal static EntryStat FromStat(in Stat stat, string? linkTarget) => new(
        TypeOf(stat.st_mode),
        (int)((uint)stat.st_mode & PermissionBits),
        stat.st_uid,
        stat.st_gid,
        stat.st_size,
        stat.st_atime * 1_000_000_000L + stat.st_atime_nsec,
        stat.st_mtime * 1_000_000_000L + stat.st_mtime_nsec,
        linkTarget)
    {
        SpecialFileType = TypeOf(stat.st_mode) == EntryType.Special ? (int)((uint)stat.st_mode & (uint)FilePermissions.S_IFMT) : 0,
        DeviceNumber = TypeOf(stat.st_mode) == EntryType.Special ? (long)stat.st_rdev : 0,
    };

    internal static EntryType TypeOf(FilePermissions mode) => (mode & FilePermissions.S_IFMT) switch
    {
        FilePermissions.S_IFREG => EntryType.Regular,
        FilePermissions.S_IFDIR => EntryType.Directory,
        FilePermissions.S_IFLNK => EntryType.Symlink,
        _ => EntryType.Special,
    };

    private bool SameModeAndOwner(EntryStat replica) => Mode == replica.Mode && Uid == replica.Uid && Gid == replica.Gid;

    internal bool SameModifyTime(EntryStat replica) => Math.Abs(ModifyTimeNs - replica.ModifyTimeNs) < TimeToleranceNs;
}
