using System.Diagnostics;

namespace GeoSync.Engine.Master;

/// <summary>
/// Ends the loop's idle pause when a GlusterFS master read on its bricks changes (docs/master-loop.md, "Waking on a
/// GlusterFS master"): one inotify watch on each brick root, a directory of this host. The marker stamps the xtime of
/// every ancestor of a change on the brick, so any change that reaches a brick here sets an attribute of the top-level
/// entry on its path (and of the root), which the root's watch reports — one IN_ATTRIB, whatever the depth. Only a
/// signal: what changed is still found by the xtimes, and a pause that no event ends lasts the whole interval.
/// </summary>
internal sealed class BrickWake : IDisposable
{
    private readonly IReadOnlyList<IWatchEventSource> _sources;
    private readonly object _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _pending;
    private bool _disposed;
    private long _lastEvent;

    private BrickWake(IReadOnlyList<IWatchEventSource> sources)
    {
        _sources = sources;
    }

    /// <summary>
    /// Watches the root of each brick in <paramref name="brickPaths"/>; null and why when inotify or a watch cannot be had
    /// (then the pause is the interval).
    /// </summary>
    public static BrickWake? TryOpen(IReadOnlyList<string> brickPaths, out string why) =>
        TryOpen(brickPaths, path => (InotifyEventSource.TryOpen(path, out var errno), errno), out why);

    /// <summary>As <see cref="TryOpen(IReadOnlyList{string}, out string)"/>, with the sources a test gives (a source, or the errno why there is none).</summary>
    internal static BrickWake? TryOpen(IReadOnlyList<string> brickPaths, Func<string, (IWatchEventSource? Source, int Errno)> open,
        out string why)
    {
        ArgumentNullException.ThrowIfNull(brickPaths);
        var sources = new List<IWatchEventSource>();
        foreach (var brick in brickPaths)
        {
            var opened = open(brick);
            if (opened.Source is not { } source)
            {
                why = $"inotify is not available ({LinuxErrno.Name(opened.Errno)})";
                sources.ForEach(s => s.Dispose());
                return null;
            }
            sources.Add(source);
            var wd = source.AddWatch(CrawlTurn.Root);
            if (wd < 0)
            {
                why = $"brick root {brick} cannot be watched ({LinuxErrno.Name(-wd)})";
                sources.ForEach(s => s.Dispose());
                return null;
            }
        }
        var wake = new BrickWake(sources);
        foreach (var source in sources) source.Start(wake.OnEvents);
        why = "";
        return wake;
    }

    /// <summary>A turn starts: what it reads covers every event so far, so only later ones end the next pause.</summary>
    public void TurnStarting()
    {
        lock (_lock) _pending = false;
    }

    /// <summary>
    /// A burst of writes has ended when no event came for this long: the turn then finds all of it, instead of starting
    /// on the first write and leaving the rest to a second turn (each turn costs a listing of every changed directory).
    /// </summary>
    internal static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest a wake waits for a burst to end: writes that never pause must not hold the turn back.</summary>
    internal static readonly TimeSpan MaxSettle = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Waits until a brick root changes and the burst of events settled (<see cref="Quiet"/>, at most
    /// <see cref="MaxSettle"/>), or <paramref name="timeout"/> passed; true when a change ended the wait.
    /// </summary>
    public async Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task signal;
        bool pending;
        lock (_lock)
        {
            pending = _pending;
            if (_changed.Task.IsCompleted) _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            signal = _changed.Task;
        }
        if (!pending)
        {
            var timer = Task.Delay(timeout, cancellationToken);
            var first = await Task.WhenAny(signal, timer).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (first == timer) return false;
        }
        var settling = Stopwatch.GetTimestamp();
        while (true)
        {
            var since = Stopwatch.GetElapsedTime(Volatile.Read(ref _lastEvent));
            if (since >= Quiet || Stopwatch.GetElapsedTime(settling) >= MaxSettle) return true;
            await Task.Delay(Quiet - since, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        foreach (var source in _sources) source.Dispose();
    }

    private void OnEvents(IReadOnlyList<WatchEvent> events)
    {
        lock (_lock)
        {
            if (_disposed || events.Count == 0) return;
            // Any event counts, an overflow included: a spurious wake costs one idle turn, a missed one the interval.
            _pending = true;
            Volatile.Write(ref _lastEvent, Stopwatch.GetTimestamp());
            _changed.TrySetResult();
        }
    }
}
