using System.Runtime.InteropServices;
using System.Text;
using GeoSync.Engine.Slave;

namespace GeoSync.Engine.Master;

/// <summary>
/// inotify(7) on a master tree: one instance, a watch per directory, and a thread that reads events and hands them on.
/// Not privileged (fanotify would need CAP_SYS_ADMIN); the limits are the user's max_user_watches and the instance's
/// max_queued_events, whose overflow the reader reports as an <see cref="InotifyMask.QueueOverflow"/> event.
/// </summary>
internal sealed class InotifyEventSource : IWatchEventSource
{
    private const int NonBlocking = 0x800; // IN_NONBLOCK (O_NONBLOCK)
    private const int CloseOnExec = 0x80000; // IN_CLOEXEC
    private const short PollIn = 0x1;
    private const int EAGAIN = 11;
    private const int EINTR = 4;
    // How often a blocked reader looks whether it was disposed.
    private const int PollMilliseconds = 200;

    private readonly string _root;
    private readonly int _fd;
    // One reader at a time, reading and delivering together, so events reach the detector in the kernel's order.
    private readonly object _reading = new();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private Action<IReadOnlyList<WatchEvent>>? _onEvents;
    private volatile bool _disposed;
    private Thread? _reader;

    private InotifyEventSource(string root, int fd)
    {
        _root = root;
        _fd = fd;
    }

    /// <summary>An inotify instance for the tree at <paramref name="rootPath"/>; null, with the errno, where inotify is not available.</summary>
    public static InotifyEventSource? TryOpen(string rootPath, out int errno)
    {
        var fd = inotify_init1(NonBlocking | CloseOnExec);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        errno = 0;
        return new InotifyEventSource(rootPath.TrimEnd('/'), fd);
    }

    public int AddWatch(string path)
    {
        var full = path == CrawlTurn.Root ? _root : _root + "/" + path;
        var bytes = WireText.HasSurrogates(full) ? WireText.ToBytes(full) : Encoding.UTF8.GetBytes(full);
        var cstring = new byte[bytes.Length + 1];
        bytes.CopyTo(cstring, 0);
        var wd = inotify_add_watch(_fd, cstring, InotifyMask.Watched);
        return wd >= 0 ? wd : -Marshal.GetLastPInvokeError();
    }

    public void RemoveWatch(int descriptor) => _ = inotify_rm_watch(_fd, descriptor);

    public void Start(Action<IReadOnlyList<WatchEvent>> onEvents)
    {
        ArgumentNullException.ThrowIfNull(onEvents);
        _onEvents = onEvents;
        _reader = new Thread(() => Read(onEvents)) { IsBackground = true, Name = "GeoSync inotify" };
        _reader.Start();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // The reader notices within a poll interval; the descriptor is closed after it left, never under it.
        if (_reader is not null && _reader.ManagedThreadId != Environment.CurrentManagedThreadId) _reader.Join();
        lock (_reading) _ = close(_fd);
    }

    public void Drain()
    {
        if (_onEvents is { } onEvents && !_disposed) ReadAvailable(onEvents);
    }

    private void Read(Action<IReadOnlyList<WatchEvent>> onEvents)
    {
        var poll = new PollFd { Fd = _fd, Events = PollIn };
        while (!_disposed)
        {
            var ready = PollOnce(ref poll, PollMilliseconds);
            if (ready < 0)
            {
                if (Marshal.GetLastPInvokeError() == EINTR) continue;
                onEvents([new WatchEvent(-1, InotifyMask.QueueOverflow, "poll failed")]);
                return;
            }
            if (ready > 0) ReadAvailable(onEvents);
        }
    }

    /// <summary>Reads until the kernel has nothing more (the descriptor does not block) and delivers what was read.</summary>
    private void ReadAvailable(Action<IReadOnlyList<WatchEvent>> onEvents)
    {
        lock (_reading)
        {
            if (_disposed) return;
            var events = new List<WatchEvent>();
            while (true)
            {
                var length = (int)read(_fd, _buffer, _buffer.Length);
                if (length < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is EAGAIN or EINTR) break;
                    events.Add(new WatchEvent(-1, InotifyMask.QueueOverflow, "read failed"));
                    break;
                }
                if (length == 0) break;
                Parse(_buffer.AsSpan(0, length), events);
            }
            if (events.Count > 0) onEvents(events);
        }
    }

    /// <summary>struct inotify_event: int wd; uint32 mask, cookie, len; char name[len] (NUL-padded).</summary>
    private static void Parse(ReadOnlySpan<byte> data, List<WatchEvent> events)
    {
        while (data.Length >= 16)
        {
            var wd = BitConverter.ToInt32(data);
            var mask = BitConverter.ToUInt32(data[4..]);
            var length = (int)BitConverter.ToUInt32(data[12..]);
            var nameBytes = data.Slice(16, length);
            var end = nameBytes.IndexOf((byte)0);
            if (end >= 0) nameBytes = nameBytes[..end];
            events.Add(new WatchEvent(wd, mask, nameBytes.Length == 0 ? null : WireText.ToText(nameBytes)));
            data = data[(16 + length)..];
        }
    }

    private static int PollOnce(ref PollFd fd, int timeout) => poll(ref fd, 1, timeout);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int inotify_init1(int flags);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int inotify_add_watch(int fd, byte[] path, uint mask);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int inotify_rm_watch(int fd, int wd);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern nint read(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int poll(ref PollFd fds, nuint count, int timeout);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int close(int fd);
}
