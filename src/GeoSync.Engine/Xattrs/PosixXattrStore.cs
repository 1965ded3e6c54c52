using Mono.Unix.Native;

namespace GeoSync.Engine.Xattrs;

/// <summary>The real extended attributes of the local file system, through the <c>l*xattr</c> system calls.</summary>
public sealed class PosixXattrStore : IXattrStore
{
    // A value that grows between the size probe and the read fails with ERANGE; a few retries cover a busy writer.
    private const int RangeRetries = 4;

    private const int SmallValueBytes = 256;

    public byte[]? Get(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(name);
        // Most values (an xtime is 8 bytes) fit a small buffer: one call, where probing the size first costs a second
        // round trip through FUSE for every entry a crawl reads.
        var small = new byte[SmallValueBytes];
        var length = Syscall.lgetxattr(path, name, small, (ulong)small.Length);
        if (length >= 0) return small.AsSpan(0, (int)length).ToArray();
        var first = LastErrno();
        if (first == Errno.ENODATA) return null;
        if (first != Errno.ERANGE) throw Failure("read", path, name, first);

        for (var attempt = 0; ; attempt++)
        {
            var result = Syscall.lgetxattr(path, name, out byte[] value);
            if (result >= 0) return value ?? [];
            var errno = LastErrno();
            if (errno == Errno.ENODATA) return null;
            if (errno == Errno.ERANGE && attempt < RangeRetries) continue;
            throw Failure("read", path, name, errno);
        }
    }

    public void Set(string path, string name, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(name);
        if (Syscall.lsetxattr(path, name, value.ToArray(), (ulong)value.Length, XattrFlags.XATTR_AUTO) < 0)
        {
            throw Failure("write", path, name, LastErrno());
        }
    }

    public IReadOnlyList<string> List(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        for (var attempt = 0; ; attempt++)
        {
            if (Syscall.llistxattr(path, out string[] names) >= 0) return names ?? [];
            var errno = LastErrno();
            if (errno == Errno.ERANGE && attempt < RangeRetries) continue;
            throw Failure("list", path, "", errno);
        }
    }

    public bool Remove(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(name);
        if (Syscall.lremovexattr(path, name) >= 0) return true;
        var errno = LastErrno();
        if (errno == Errno.ENODATA) return false;
        throw Failure("remove", path, name, errno);
    }

    // Read right after the call, on the calling thread: Mono.Posix keeps the thread's own errno (docs/gsyncd-flaws.md, #5).
    private static Errno LastErrno() => Stdlib.GetLastError();

    private static GeoSyncXattrException Failure(string operation, string path, string name, Errno errno)
    {
        var code = NativeConvert.FromErrno(errno);
        var what = name.Length == 0
            ? $"cannot {operation} the extended attributes of '{path}'"
            : $"cannot {operation} extended attribute '{name}' on '{path}'";
        var space = name.Length == 0 ? "requested" : $"'{NamespaceOf(name)}'";
        var detail = errno switch
        {
            Errno.EOPNOTSUPP =>
                $"the file system does not support extended attributes in the {space} namespace " +
                "(trusted.* needs root; user.* needs user_xattr support and a regular file or directory)",
            Errno.EPERM or Errno.EACCES =>
                "permission denied (trusted.* needs root; user.* is only allowed on regular files and directories, " +
                "not on symlinks or special files)",
            Errno.ENOENT => "the path does not exist",
            Errno.ENOTDIR => "a component of the path is not a directory",
            Errno.ELOOP => "too many symbolic links while resolving the path",
            Errno.E2BIG or Errno.ERANGE => "the value or the attribute list is too large",
            Errno.ENOSPC or Errno.EDQUOT => "no space left for extended attributes on this file system",
            _ => Stdlib.strerror(errno),
        };
        return new GeoSyncXattrException(path, name, code, $"{what}: {detail} (errno {code}).");
    }

    private static string NamespaceOf(string name)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? name : name[..dot] + ".*";
    }
}
