using System.Security.Cryptography;
using GeoSync.Engine.Master;
using GeoSync.Engine.Xattrs;
using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;

namespace GeoSync.Engine.Verify;

/// <summary>
/// Reads one local directory for verify — the same code on the master and inside a GeoSync slave, so both sides describe
/// their entries alike. Nothing is followed: the directory is opened with O_NOFOLLOW, entries are lstat'ed and opened
/// relative to its descriptor. Failures throw <see cref="GeoSyncReplicaReadException"/> with the errno.
/// </summary>
internal static class LocalEntryReader
{
    /// <summary>Only the user namespace is compared: trusted.* holds GlusterFS's own bookkeeping (xtimes, gfids) on either side.</summary>
    public const string XattrPrefix = "user.";

    private const int PermissionBits = 0xFFF;
    private const int ReadBufferSize = 1 << 16;
    private const OpenFlags FileNoFollow = OpenFlags.O_RDONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC | OpenFlags.O_NONBLOCK;

    private static readonly PosixXattrStore XattrStore = new();

    /// <summary>The entries of <paramref name="fullPath"/>; one that vanishes between the listing and its lstat is left out.</summary>
    public static List<ReplicaEntry> List(string fullPath, string path, bool withXattrs)
    {
        using var dir = Open(fullPath, path);
        var entries = new List<ReplicaEntry>();
        foreach (var name in dir.NativeNames())
        {
            if (!dir.TryLstat(name, out var stat, out var errno))
            {
                if (errno == Errno.ENOENT) continue;
                throw Failure(path, OpenDirectory.WireName(name), errno);
            }
            var type = TypeOf(stat.st_mode);
            string? target = null;
            if (type == ReplicaEntryType.Symlink)
            {
                target = dir.ReadLink(name, out errno);
                if (target is null)
                {
                    if (errno == Errno.ENOENT) continue;
                    throw Failure(path, OpenDirectory.WireName(name), errno);
                }
            }
            entries.Add(new ReplicaEntry(
                OpenDirectory.WireName(name),
                type,
                (int)((uint)stat.st_mode & PermissionBits),
                stat.st_uid,
                stat.st_gid,
                type is ReplicaEntryType.Regular or ReplicaEntryType.Symlink ? stat.st_size : 0,
                stat.st_mtime * 1_000_000_000L + stat.st_mtime_nsec,
                target,
                type is ReplicaEntryType.CharacterDevice or ReplicaEntryType.BlockDevice ? (long)stat.st_rdev : 0)
            {
                Xattrs = withXattrs && type == ReplicaEntryType.Regular ? UserXattrs(fullPath + "/" + name) : null,
            });
        }
        return entries;
    }

    /// <summary>SHA-256 of each named regular file, hashed in parallel; a name that cannot be hashed gets its errno.</summary>
    public static EntryDigest[] Hash(string fullPath, string path, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
    {
        using var dir = Open(fullPath, path);
        return Hash(dir, names, cancellationToken);
    }

    /// <summary>As <see cref="Hash(string, string, IReadOnlyList{string}, CancellationToken)"/> in a directory already opened.</summary>
    public static EntryDigest[] Hash(OpenDirectory dir, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
    {
        var digests = new EntryDigest[names.Count];
        Parallel.For(0, names.Count,
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            i => digests[i] = HashOne(dir, names[i]));
        return digests;
    }

    public static ReplicaEntryType TypeOf(FilePermissions mode) => (mode & FilePermissions.S_IFMT) switch
    {
        FilePermissions.S_IFREG => ReplicaEntryType.Regular,
        FilePermissions.S_IFDIR => ReplicaEntryType.Directory,
        FilePermissions.S_IFLNK => ReplicaEntryType.Symlink,
        FilePermissions.S_IFIFO => ReplicaEntryType.Fifo,
        FilePermissions.S_IFSOCK => ReplicaEntryType.Socket,
        FilePermissions.S_IFCHR => ReplicaEntryType.CharacterDevice,
        _ => ReplicaEntryType.BlockDevice,
    };

    /// <summary>Opens a directory for listing or hashing; <paramref name="path"/> names it in the error.</summary>
    public static OpenDirectory Open(string fullPath, string path) =>
        OpenDirectory.TryOpen(fullPath, out var errno) ?? throw Failure(path, null, errno);

    private static EntryDigest HashOne(OpenDirectory dir, string name)
    {
        var fd = Syscall.openat(dir.Fd, OpenDirectory.NativePath(name), FileNoFollow);
        if (fd < 0) return new EntryDigest(name, null, NativeConvert.FromErrno(Stdlib.GetLastError()));
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        // A fifo opened non-blocking would read as empty; only a regular file has content to compare.
        if (Syscall.fstat(fd, out var stat) != 0) return new EntryDigest(name, null, NativeConvert.FromErrno(Stdlib.GetLastError()));
        if (TypeOf(stat.st_mode) != ReplicaEntryType.Regular) return new EntryDigest(name, null, NativeConvert.FromErrno(Errno.EINVAL));
        try
        {
            using var stream = new FileStream(handle, FileAccess.Read, ReadBufferSize);
            return new EntryDigest(name, Convert.ToHexString(SHA256.HashData(stream)), 0);
        }
        catch (IOException)
        {
            return new EntryDigest(name, null, NativeConvert.FromErrno(Errno.EIO));
        }
    }

    private static SortedDictionary<string, string> UserXattrs(string nativeFullPath)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in XattrStore.List(nativeFullPath))
        {
            if (!name.StartsWith(XattrPrefix, StringComparison.Ordinal)) continue;
            if (XattrStore.Get(nativeFullPath, name) is { } value) values[name] = Convert.ToHexString(value);
        }
        return values;
    }

    private static GeoSyncReplicaReadException Failure(string path, string? name, Errno errno)
    {
        var where = name is null ? path : path == "." ? name : path + "/" + name;
        return new GeoSyncReplicaReadException(where, NativeConvert.FromErrno(errno), $"cannot read '{where}': {Stdlib.strerror(errno)}");
    }
}
