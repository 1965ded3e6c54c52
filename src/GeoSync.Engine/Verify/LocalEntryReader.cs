using System.IO.Hashing;
using GeoSync.Engine.Master;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Xattrs;
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

    /// <summary>
    /// XXH3's 128-bit hash, as rsync's own --checksum uses by default: it detects changes, not tampering, and leaves the
    /// comparison bound by reading the files rather than by hashing them (docs/verify.md).
    /// </summary>
    public const string DigestAlgorithm = "xxh128";

    private const int PermissionBits = 0xFFF;
    private const int ReadBufferSize = 1 << 16;
    private static readonly int FileNoFollow =
        NativeEntries.NativeOpenFlags(OpenFlags.O_RDONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC | OpenFlags.O_NONBLOCK);

    private static readonly PosixXattrStore XattrStore = new();

    private static readonly byte[] EmptyPath = [0];

    [ThreadStatic]
    private static byte[]? s_buffer;

    /// <summary>The entries of <paramref name="fullPath"/>; one that vanishes between the listing and its lstat is left out.</summary>
    public static List<ReplicaEntry> List(string fullPath, string path, bool withXattrs)
    {
        using var dir = Open(fullPath, path);
        return List(dir, fullPath, path, withXattrs);
    }

    /// <summary>As <see cref="List(string, string, bool)"/> in a directory already opened.</summary>
    public static List<ReplicaEntry> List(OpenDirectory dir, string fullPath, string path, bool withXattrs)
    {
        var names = new List<byte[]>();
        var failed = NativeEntries.ReadNames(dir.Fd, names);
        if (failed < 0) throw Failure(path, null, NativeConvert.ToErrno(-failed));
        var entries = new List<ReplicaEntry>(names.Count);
        foreach (var cName in names)
        {
            var bytes = cName.AsSpan(0, cName.Length - 1);
            var name = WireText.ToText(bytes);
            var errno = NativeEntries.Stat(dir.Fd, cName, NativeEntries.AtSymlinkNoFollow, out var stat);
            if (errno != 0)
            {
                if (errno == LinuxErrno.ENOENT) continue;
                throw Failure(path, name, NativeConvert.ToErrno(errno));
            }
            var type = TypeOf((FilePermissions)stat.Mode);
            string? target = null;
            if (type == ReplicaEntryType.Symlink)
            {
                target = dir.ReadLink(WireText.ToNative(bytes), out var linkErrno);
                if (target is null)
                {
                    if (linkErrno == Errno.ENOENT) continue;
                    throw Failure(path, name, linkErrno);
                }
            }
            entries.Add(new ReplicaEntry(
                name,
                type,
                stat.Mode & PermissionBits,
                stat.Uid,
                stat.Gid,
                type is ReplicaEntryType.Regular or ReplicaEntryType.Symlink ? (long)stat.Size : 0,
                stat.MtimeSeconds * 1_000_000_000L + stat.MtimeNanoseconds,
                target,
                type is ReplicaEntryType.CharacterDevice or ReplicaEntryType.BlockDevice ? stat.DeviceNumber : 0)
            {
                Xattrs = withXattrs && type == ReplicaEntryType.Regular ? UserXattrs(fullPath + "/" + WireText.ToNative(bytes)) : null,
            });
        }
        return entries;
    }

    /// <summary>The <see cref="DigestAlgorithm"/> digest of each named regular file, hashed in parallel; a name that cannot be hashed gets its errno.</summary>
    public static EntryDigest[] Hash(string fullPath, string path, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
    {
        using var dir = Open(fullPath, path);
        return Hash(dir, names, cancellationToken);
    }

    /// <summary>As <see cref="Hash(string, string, IReadOnlyList{string}, CancellationToken)"/> in a directory already opened.</summary>
    public static EntryDigest[] Hash(OpenDirectory dir, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
    {
        var digests = new EntryDigest[names.Count];
        // One thread per call: the verifier already hashes several directories, and both sides, at once.
        for (var i = 0; i < names.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            digests[i] = HashOne(dir, names[i]);
        }
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
        var fd = NativeEntries.OpenAt(dir.Fd, NativeEntries.CString(name), FileNoFollow);
        if (fd < 0) return new EntryDigest(name, null, -fd);
        try
        {
            // A fifo opened non-blocking would read as empty; only a regular file has content to compare.
            var errno = NativeEntries.Stat(fd, EmptyPath, NativeEntries.AtEmptyPath, out var stat);
            if (errno != 0) return new EntryDigest(name, null, errno);
            if (TypeOf((FilePermissions)stat.Mode) != ReplicaEntryType.Regular) return new EntryDigest(name, null, NativeConvert.FromErrno(Errno.EINVAL));

            // One buffer per thread; a file that fits in it (most do) is hashed in one call, and its size as fstat gave it
            // ends the reading without a read(2) that only finds the end: system calls are most of a verify's cost.
            var buffer = s_buffer ??= new byte[ReadBufferSize];
            var expected = (long)stat.Size;
            var filled = 0;
            while (filled < buffer.Length)
            {
                var read = NativeEntries.Read(fd, buffer, filled);
                if (read < 0) return new EntryDigest(name, null, -read);
                filled += read;
                if (read == 0 || filled == expected)
                {
                    return new EntryDigest(name, Convert.ToHexString(XxHash128.Hash(buffer.AsSpan(0, filled))), 0);
                }
            }
            var hash = new XxHash128();
            var chunk = filled;
            while (chunk > 0)
            {
                hash.Append(buffer.AsSpan(0, chunk));
                chunk = NativeEntries.Read(fd, buffer, 0);
            }
            return chunk < 0 ? new EntryDigest(name, null, -chunk) : new EntryDigest(name, Convert.ToHexString(hash.GetCurrentHash()), 0);
        }
        finally
        {
            NativeEntries.Close(fd);
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
