using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;

namespace GeoSync.Engine.Master;

/// <summary>
/// A tree's root held open by descriptor, so that reads go to the object that was opened — a mount that dies answers
/// ENOTCONN instead of turning into the bare directory under it — and a check that the root path still shows that object
/// (device and inode), for whatever reads or writes by path (rsync). See docs/sessions.md, "What GeoSync will not do with
/// a view it cannot vouch for".
/// </summary>
public sealed class VouchedRoot : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly ulong _device;
    private readonly ulong _inode;

    private VouchedRoot(string path, SafeFileHandle handle, Stat stat)
    {
        Path = path;
        _handle = handle;
        _device = stat.st_dev;
        _inode = stat.st_ino;
        var fd = (int)handle.DangerousGetHandle();
        ProcPath = $"/proc/self/fd/{fd}";
    }

    /// <summary>The path the root was opened by (and that rsync uses).</summary>
    public string Path { get; }

    /// <summary>
    /// <c>/proc/self/fd/N</c>: a path prefix the kernel resolves to the opened object, whatever the root path shows now.
    /// Append <c>/name</c>, or <c>/.</c> for the root itself (the bare link would be the link, for the l* calls).
    /// </summary>
    public string ProcPath { get; }

    /// <summary>Opens the directory at <paramref name="path"/>; null with the errno when it cannot be opened as one.</summary>
    public static VouchedRoot? TryOpen(string path, out Errno errno)
    {
        var fd = Syscall.open(path, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            errno = Stdlib.GetLastError();
            return null;
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Syscall.fstat(fd, out var stat) != 0)
        {
            errno = Stdlib.GetLastError();
            handle.Dispose();
            return null;
        }
        errno = 0;
        return new VouchedRoot(path, handle, stat);
    }

    /// <summary>
    /// Null when <see cref="Path"/> still shows the opened object; else why not (unmounted, replaced, not answering).
    /// </summary>
    public string? WhyNotVouched()
    {
        if (_handle.IsClosed) return "it was released";
        var fd = (int)_handle.DangerousGetHandle();
        if (Syscall.fstat(fd, out var opened) != 0)
        {
            var errno = Stdlib.GetLastError();
            return $"the opened root answers {errno} ({Stdlib.strerror(errno)})";
        }
        if (Syscall.stat(Path, out var now) != 0)
        {
            var errno = Stdlib.GetLastError();
            return $"'{Path}' answers {errno} ({Stdlib.strerror(errno)})";
        }
        if (now.st_dev != _device || now.st_ino != _inode || opened.st_dev != _device || opened.st_ino != _inode)
        {
            return $"'{Path}' is no longer the directory or volume that was opened (device {_device}, inode {_inode}; " +
                $"now device {now.st_dev}, inode {now.st_ino}): it was unmounted or replaced";
        }
        return null;
    }

    public void Dispose() => _handle.Dispose();
}
