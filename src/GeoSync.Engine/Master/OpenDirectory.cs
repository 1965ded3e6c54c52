using GeoSync.Engine.Slave;
using Mono.Unix.Native;

namespace GeoSync.Engine.Master;

/// <summary>
/// A directory opened without following a final symlink, read by name and lstat'ed relative to its descriptor, so an
/// entry swapped for a symlink meanwhile is seen as a symlink. Names are bytes; they leave here as wire text.
/// </summary>
internal sealed class OpenDirectory : IDisposable
{
    private const OpenFlags DirectoryNoFollow =
        OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC;

    // Linux caps a link target at PATH_MAX; the buffer grows to that before giving up.
    private const int MaxLinkLength = 4096;

    private IntPtr _dir;

    private OpenDirectory(IntPtr dir, int fd)
    {
        _dir = dir;
        Fd = fd;
    }

    public int Fd { get; }

    /// <summary>Opens <paramref name="fullPath"/>; null with the errno when it is missing, not a directory, or a symlink (ELOOP/ENOTDIR).</summary>
    public static OpenDirectory? TryOpen(string fullPath, out Errno errno)
    {
        var fd = Syscall.open(fullPath, DirectoryNoFollow);
        if (fd < 0)
        {
            errno = Stdlib.GetLastError();
            return null;
        }
        var dir = Syscall.fdopendir(fd);
        if (dir == IntPtr.Zero)
        {
            errno = Stdlib.GetLastError();
            _ = Syscall.close(fd);
            return null;
        }
        errno = 0;
        return new OpenDirectory(dir, fd);
    }

    /// <summary>The names in the directory (Mono.Posix native form), without <c>.</c> and <c>..</c>.</summary>
    public IEnumerable<string> NativeNames()
    {
        for (var entry = Syscall.readdir(_dir); entry is not null; entry = Syscall.readdir(_dir))
        {
            if (entry.d_name is not ("." or "..")) yield return entry.d_name;
        }
    }

    /// <summary>The names (native form) with their d_type (DT_DIR 4, DT_UNKNOWN 0 where the file system does not say), without <c>.</c> and <c>..</c>.</summary>
    public IEnumerable<(string Name, byte Type)> NativeEntries()
    {
        for (var entry = Syscall.readdir(_dir); entry is not null; entry = Syscall.readdir(_dir))
        {
            if (entry.d_name is not ("." or "..")) yield return (entry.d_name, entry.d_type);
        }
    }

    /// <summary>lstat of one entry; false with the errno when that fails (ENOENT: it went away since the listing).</summary>
    public bool TryLstat(string nativeName, out Stat stat, out Errno errno)
    {
        if (Syscall.fstatat(Fd, nativeName, out stat, AtFlags.AT_SYMLINK_NOFOLLOW) == 0)
        {
            errno = 0;
            return true;
        }
        errno = Stdlib.GetLastError();
        return false;
    }

    /// <summary>The target of the symlink <paramref name="nativeName"/> as wire text; null with the errno when it cannot be read.</summary>
    public string? ReadLink(string nativeName, out Errno errno) =>
        ReadLinkWith(buffer => Syscall.readlinkat(Fd, nativeName, buffer), out errno);

    /// <summary>The target of the symlink at <paramref name="fullPath"/> as wire text; null with the errno when it cannot be read.</summary>
    public static string? ReadLinkOf(string fullPath, out Errno errno) =>
        ReadLinkWith(buffer => Syscall.readlink(fullPath, buffer), out errno);

    /// <summary>A name read from the file system, as wire text.</summary>
    public static string WireName(string nativeName) => WireText.ToText(WireText.FromNative(nativeName));

    /// <summary>A wire-text path as the string Mono.Posix marshals back to its exact bytes.</summary>
    public static string NativePath(string wirePath) => WireText.ToNative(WireText.ToBytes(wirePath));

    public void Dispose()
    {
        if (_dir == IntPtr.Zero) return;
        _ = Syscall.closedir(_dir); // closes Fd as well
        _dir = IntPtr.Zero;
    }

    private static string? ReadLinkWith(Func<byte[], long> readlink, out Errno errno)
    {
        for (var size = 256; ; size *= 2)
        {
            var buffer = new byte[size];
            var length = readlink(buffer);
            if (length < 0)
            {
                errno = Stdlib.GetLastError();
                return null;
            }
            // A full buffer may mean a cut-off target: read again with more room.
            if (length < size || size > MaxLinkLength)
            {
                errno = 0;
                return WireText.ToText(buffer.AsSpan(0, (int)length));
            }
        }
    }
}
