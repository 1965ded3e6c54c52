using System.Globalization;

namespace GeoSync.Engine.Verify;

/// <summary>The file type of an entry as verify compares it; special files keep their kind (rsync -a replicates each).</summary>
public enum ReplicaEntryType
{
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharacterDevice,
    BlockDevice,
}

/// <summary>
/// One directory entry as verify compares it: type, permission bits, owner, size, mtime in nanoseconds, a symlink's
/// target, a device's number, and (only when asked) a regular file's user xattrs as hex values.
/// </summary>
public sealed record ReplicaEntry(string Name, ReplicaEntryType Type, int Mode, long Uid, long Gid, long Size, long ModifyTimeNs,
    string? LinkTarget, long DeviceNumber)
{
    /// <summary>The user.* extended attributes of a regular file (name → hex value); null when they were not read.</summary>
    public IReadOnlyDictionary<string, string>? Xattrs { get; init; }

    /// <summary>What the entry is, in a few words: "file", "directory", "symlink", "char device 1:3".</summary>
    public string Describe() => Type switch
    {
        ReplicaEntryType.Regular => "file",
        ReplicaEntryType.Directory => "directory",
        ReplicaEntryType.Symlink => "symlink",
        ReplicaEntryType.Fifo => "fifo",
        ReplicaEntryType.Socket => "socket",
        ReplicaEntryType.CharacterDevice => $"char device {DeviceText(DeviceNumber)}",
        _ => $"block device {DeviceText(DeviceNumber)}",
    };

    /// <summary>glibc's major:minor split of a dev_t.</summary>
    internal static string DeviceText(long rdev)
    {
        var value = (ulong)rdev;
        var major = ((value >> 8) & 0xfff) | ((value >> 32) & ~0xfffUL);
        var minor = (value & 0xff) | ((value >> 12) & ~0xffUL);
        return string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}");
    }
}

/// <summary>One file's content digest (hex) from <see cref="IReplicaSide.HashAsync"/>, or the errno that prevented it.</summary>
public sealed record EntryDigest(string Name, string? Digest, int Errno);
