namespace GeoSync.Engine.Master;

/// <summary>
/// Change detection on a directory master in loop mode (docs/master-loop.md, "Watching a directory master"): inotify
/// watches on every directory say which directories changed, and a turn compares only those (a new directory with
/// everything below it) instead of the whole tree. Nothing may be missed, so whenever the events cannot be trusted —
/// the first turn, a queue overflow, a watch that went away oddly, a turn cut short — the next turn is a full comparison,
/// and where watching cannot go on (no inotify, the watch limit reached, a directory that cannot be watched) every turn
/// is; each is said in the log. Paths in the failure ledger are compared every turn, as a full comparison would.
/// </summary>
internal sealed class WatchedChanges : IChangeDetector, IDisposable
{
    /// <summary>How long a change is given to settle before the turn it wakes starts: a burst of writes lands in one turn.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(10);

    private const int ENOENT = 2;
    private const int ENOTDIR = 20;
    private const int ELOOP = 40;
    private const int ENOSPC = 28;
    private const byte DirectoryType = 4; // DT_DIR
    private const byte UnknownType = 0; // DT_UNKNOWN

    private readonly object _lock = new();
    private readonly IWatchEventSource _source;
    private readonly string _rootPath;
    private readonly Action<CrawlLogLevel, string>? _log;
    private readonly Dictionary<int, string> _pathOf = [];
    private readonly Dictionary<string, int> _watchOf = new(StringComparer.Ordinal);
    private DirtyNode _pending = new();
    private string? _fullReason = "the first turn of a watch compares the whole tree";
    private bool _rewatch;
    private string? _stopped;
    private bool _disposed;
    private DirtyNode? _taken;
    private string? _takenFull;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Watches every directory of the tree at <paramref name="rootPath"/> now, before any turn, then follows its events.</summary>
    public WatchedChanges(IWatchEventSource source, string rootPath, Action<CrawlLogLevel, string>? log)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _rootPath = rootPath.Length > 1 ? rootPath.TrimEnd('/') : rootPath;
        _log = log;
        lock (_lock)
        {
            WatchTree(CrawlTurn.Root);
            if (_stopped is null) _log?.Invoke(CrawlLogLevel.Info, $"watching {_watchOf.Count} directories of the master for changes");
        }
        source.Start(OnEvents);
    }

    /// <summary>Why watching stopped, so every turn compares the whole tree; null while it watches.</summary>
    public string? Stopped
    {
        get { lock (_lock) return _stopped; }
    }

    /// <summary>Directories watched now.</summary>
    public int WatchCount
    {
        get { lock (_lock) return _watchOf.Count; }
    }

    public Task<Task<bool>> WalkAsync(CrawlTurn turn, CancellationToken cancellationToken)
    {
        // Every change made before the turn started is in it, not only those the reader thread got to.
        _source.Drain();
        DirtyNode taken;
        string? full;
        lock (_lock)
        {
            full = _stopped is { } stopped ? $"watching stopped ({stopped})" : _fullReason;
            if (full is not null)
            {
                // The watches go first, so every change from here on shows as an event for the next turn.
                if (_rewatch && _stopped is null) Rewatch();
                _fullReason = null;
                _rewatch = false;
                _pending = new DirtyNode();
                taken = DirtyNode.All;
            }
            else
            {
                taken = _pending;
                _pending = new DirtyNode();
            }
            _taken = taken;
            _takenFull = full;
        }
        if (full is not null)
        {
            turn.Log(CrawlLogLevel.Info, $"comparing the whole tree: {full}");
            return new FullComparison.Walk(turn).CompareAsync(CrawlTurn.Root, null, SlaveEntryState.Root, cancellationToken);
        }
        // What did not arrive is looked at again every turn, as a full comparison would.
        foreach (var failure in turn.Ledger.Entries) taken.MarkFailed(failure.Path);
        if (taken.IsEmpty) return Task.FromResult(CrawlTurn.Succeeded);
        return new ScopedWalk(turn).VisitAsync(taken, CrawlTurn.Root, null, SlaveEntryState.Root, cancellationToken);
    }

    public void TurnEnded(bool completed)
    {
        lock (_lock)
        {
            if (!completed)
            {
                // Cut short: what it was to look at is looked at again.
                if (_takenFull is not null) _fullReason ??= "the last full comparison did not finish";
                else if (_taken is { } taken) _pending.Merge(taken);
                if (HasPendingLocked()) _changed.TrySetResult();
            }
            _taken = null;
            _takenFull = null;
        }
    }

    /// <summary>
    /// Waits until a change is seen (and has settled for <see cref="Settle"/>) or <paramref name="timeout"/> passed; true
    /// when there is something for a turn to look at. When watching stopped it waits the whole time.
    /// </summary>
    public async Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task signal;
        bool stopped;
        lock (_lock)
        {
            stopped = _stopped is not null;
            if (!stopped && HasPendingLocked()) return true;
            if (_changed.Task.IsCompleted) _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            signal = _changed.Task;
        }
        var timer = Task.Delay(timeout, cancellationToken);
        if (stopped)
        {
            await timer.ConfigureAwait(false);
            return false;
        }
        var first = await Task.WhenAny(signal, timer).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first == timer) return false;
        await Task.Delay(Settle, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _source.Dispose();
    }

    private bool HasPendingLocked() => _fullReason is not null || !_pending.IsEmpty;

    private void OnEvents(IReadOnlyList<WatchEvent> events)
    {
        lock (_lock)
        {
            if (_disposed || _stopped is not null) return;
            foreach (var e in events)
            {
                Handle(e);
                if (_stopped is not null) break;
            }
            if (HasPendingLocked()) _changed.TrySetResult();
        }
    }

    private void Handle(WatchEvent e)
    {
        if (e.Is(InotifyMask.QueueOverflow))
        {
            RequireFull("the inotify event queue overflowed (fs.inotify.max_queued_events), so events were lost", rewatch: true);
            return;
        }
        if (!_pathOf.TryGetValue(e.Descriptor, out var directory)) return; // a watch already let go
        if (e.Is(InotifyMask.Ignored))
        {
            Forget(e.Descriptor);
            if (directory == CrawlTurn.Root) RequireFull("the watch on the master root went away", rewatch: true);
            return;
        }
        if (e.Name is null)
        {
            // The directory itself.
            if (e.Is(InotifyMask.Unmount))
            {
                RequireFull($"the file system under '{directory}' was unmounted", rewatch: true);
            }
            else if (e.Is(InotifyMask.DeleteSelf | InotifyMask.MoveSelf))
            {
                if (directory == CrawlTurn.Root)
                {
                    RequireFull($"the master root was {(e.Is(InotifyMask.DeleteSelf) ? "deleted" : "moved")}", rewatch: true);
                }
                else if (e.Is(InotifyMask.MoveSelf))
                {
                    // Its parent's event would have let it go first: it moved where no watch saw it leave.
                    RequireFull($"the watched directory '{directory}' moved without its parent's event", rewatch: true);
                }
                else
                {
                    UnwatchTree(directory, remove: false);
                    _pending.Mark(Parent(directory), subtree: false);
                }
            }
            else
            {
                _pending.Mark(directory, subtree: false);
            }
            return;
        }

        var path = Join(directory, e.Name);
        _pending.Mark(directory, subtree: false);
        if (!e.IsDirectory) return;
        if (e.Is(InotifyMask.Create | InotifyMask.MovedTo))
        {
            // Files may land in it before its watch: it is compared whole, and so is whatever came with it.
            WatchTree(path);
            _pending.Mark(path, subtree: true);
        }
        else if (e.Is(InotifyMask.MovedFrom | InotifyMask.Delete))
        {
            // Its watches would go on reporting under the old path: let them go (a move in the tree watches it anew).
            UnwatchTree(path, remove: e.Is(InotifyMask.MovedFrom));
        }
    }

    /// <summary>The next turn compares the whole tree, after watching it anew when the watches themselves are in doubt.</summary>
    private void RequireFull(string reason, bool rewatch)
    {
        _rewatch |= rewatch;
        if (_fullReason is not null) return;
        _fullReason = reason;
        _log?.Invoke(CrawlLogLevel.Warning, $"{reason}; the next turn compares the whole tree");
    }

    /// <summary>Watching cannot go on: every turn compares the whole tree from now on, and the log says why once.</summary>
    private void Stop(string reason)
    {
        if (_stopped is not null) return;
        _stopped = reason;
        foreach (var descriptor in _pathOf.Keys) _source.RemoveWatch(descriptor);
        _pathOf.Clear();
        _watchOf.Clear();
        _log?.Invoke(CrawlLogLevel.Warning,
            $"watching the master stopped: {reason}; every turn now compares the whole tree, as with watching disabled");
    }

    /// <summary>Every watch let go and set again from the root (after an overflow, when moves may have gone unseen).</summary>
    private void Rewatch()
    {
        foreach (var descriptor in _pathOf.Keys) _source.RemoveWatch(descriptor);
        _pathOf.Clear();
        _watchOf.Clear();
        WatchTree(CrawlTurn.Root);
        _log?.Invoke(CrawlLogLevel.Info, $"watching {_watchOf.Count} directories of the master again");
    }

    /// <summary>Watches <paramref name="top"/> and every directory below it (read by d_type, so files cost no lstat).</summary>
    private void WatchTree(string top)
    {
        var stack = new Stack<string>();
        stack.Push(top);
        while (stack.Count > 0 && _stopped is null)
        {
            var path = stack.Pop();
            var descriptor = _source.AddWatch(path);
            if (descriptor < 0)
            {
                var errno = -descriptor;
                // Gone, or no longer a directory: its parent's event tells the next turn.
                if (errno is ENOENT or ENOTDIR or ELOOP) continue;
                Stop(errno == ENOSPC
                    ? $"the user's inotify watches ran out at '{path}' (fs.inotify.max_user_watches = {MaxUserWatches()}); raise it, " +
                      "e.g. sysctl fs.inotify.max_user_watches=1048576, and restart the loop to watch again"
                    : $"'{path}' cannot be watched ({LinuxErrno.Name(errno)})");
                return;
            }
            if (_pathOf.TryGetValue(descriptor, out var previous) && previous != path) _watchOf.Remove(previous);
            _pathOf[descriptor] = path;
            _watchOf[path] = descriptor;
            using var directory = OpenDirectory.TryOpen(NativeFull(path), out var listErrno);
            if (directory is null)
            {
                if (listErrno is Mono.Unix.Native.Errno.ENOENT or Mono.Unix.Native.Errno.ENOTDIR or Mono.Unix.Native.Errno.ELOOP) continue;
                Stop($"'{path}' cannot be listed to watch what is below it ({listErrno})");
                return;
            }
            foreach (var (name, type) in directory.NativeEntries())
            {
                if (type == DirectoryType
                    || type == UnknownType && directory.TryLstat(name, out var stat, out _) && EntryStat.TypeOf(stat.st_mode) == EntryType.Directory)
                {
                    stack.Push(Join(path, OpenDirectory.WireName(name)));
                }
            }
        }
    }

    /// <summary>Lets go of the watches of <paramref name="top"/> and below; <paramref name="remove"/>: they still exist in the kernel.</summary>
    private void UnwatchTree(string top, bool remove)
    {
        var prefix = top + "/";
        foreach (var (path, descriptor) in _watchOf.Where(w => w.Key == top || w.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            if (remove) _source.RemoveWatch(descriptor);
            _watchOf.Remove(path);
            _pathOf.Remove(descriptor);
        }
    }

    private void Forget(int descriptor)
    {
        if (_pathOf.Remove(descriptor, out var path) && _watchOf.TryGetValue(path, out var current) && current == descriptor) _watchOf.Remove(path);
    }

    private string NativeFull(string path) => path == CrawlTurn.Root ? _rootPath : _rootPath + "/" + OpenDirectory.NativePath(path);

    private static string MaxUserWatches()
    {
        try
        {
            return File.ReadAllText("/proc/sys/fs/inotify/max_user_watches").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string Join(string directory, string name) => CrawlTurn.Join(directory, name);

    private static string Parent(string path) => path.LastIndexOf('/') is var slash and > 0 ? path[..slash] : CrawlTurn.Root;

    /// <summary>
    /// The comparison of the changed directories only: it walks from the root through the directories that lead to a
    /// changed one without listing them, compares the entries of each changed directory, and compares a new directory
    /// (or one marked whole) with everything below it.
    /// </summary>
    private sealed class ScopedWalk : FullComparison.Walk
    {
        private DirtyNode _node = DirtyNode.All;

        public ScopedWalk(CrawlTurn turn) : base(turn) { }

        public async Task<Task<bool>> VisitAsync(DirtyNode node, string path, EntryStat? stat, SlaveEntryState there,
            CancellationToken cancellationToken)
        {
            if (node.Entries || node.Subtree)
            {
                var outer = _node;
                _node = node;
                try
                {
                    return await CompareAsync(path, stat, there, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _node = outer;
                }
            }

            // Only on the way to a changed directory: nothing here is listed or marked.
            var jobs = new List<Task<bool>>();
            foreach (var (name, child) in node.Children)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var childPath = Join(path, name);
                EntryStat? childStat;
                try
                {
                    childStat = Turn.Master.Lstat(childPath);
                }
                catch (Exception ex) when (CrawlTurn.IsEntryFailure(ex))
                {
                    jobs.Add(Turn.Fail(childPath, ex.Message, CrawlTurn.ErrnoOf(ex)));
                    continue;
                }
                // Gone, or no longer a directory: that is an event in this directory, which a turn compares next.
                if (childStat is not { Type: EntryType.Directory }) continue;
                jobs.Add(await VisitAsync(child, childPath, childStat, new SlaveEntryState(true, null), cancellationToken).ConfigureAwait(false));
            }
            return jobs.Count == 0 ? CrawlTurn.Succeeded : Turn.FinishDirectoryAsync(path, jobs, null, null, cancellationToken);
        }

        protected override Task<Task<bool>> VisitDirectoryAsync(string path, string name, EntryStat stat, SlaveEntryState there,
            CancellationToken cancellationToken)
        {
            if (_node.Child(name) is { } changed) return VisitAsync(changed, path, stat, there, cancellationToken);
            // New on the slave (or another type there): made, and compared with everything below it.
            if (there.Stat is not { Type: EntryType.Directory } replica) return VisitAsync(DirtyNode.All, path, stat, there, cancellationToken);
            // Unchanged inside; only its own attributes are compared, from the listing at hand.
            if (stat.SameDirectoryAttributesAs(replica)) return Task.FromResult(CrawlTurn.Succeeded);
            Turn.SawChanges();
            return Task.FromResult(Turn.FinishDirectoryAsync(path, [], null, SlaveAttributes.OfDirectory(stat), cancellationToken));
        }
    }
}

/// <summary>
/// The directories a watched turn looks at, as a tree of names from the root: a directory whose entries changed
/// (<see cref="Entries"/>), one to compare with everything below it (<see cref="Subtree"/>), or one on the way to either.
/// </summary>
internal sealed class DirtyNode
{
    private static readonly Dictionary<string, DirtyNode> NoChildren = [];

    private Dictionary<string, DirtyNode>? _children;

    /// <summary>A subtree compared whole: every directory below it is too. Never changed.</summary>
    public static DirtyNode All { get; } = new() { Subtree = true };

    public bool Entries { get; private set; }

    public bool Subtree { get; private set; }

    public IReadOnlyDictionary<string, DirtyNode> Children => _children ?? NoChildren;

    public bool IsEmpty => !Entries && !Subtree && (_children is null || _children.Count == 0);

    public DirtyNode? Child(string name) => Subtree ? All : _children?.GetValueOrDefault(name);

    /// <summary>Marks a directory: its entries changed, or (<paramref name="subtree"/>) everything below it is to be compared.</summary>
    public void Mark(string path, bool subtree)
    {
        if (Subtree) return;
        if (path == CrawlTurn.Root)
        {
            if (subtree) MarkWhole();
            else Entries = true;
            return;
        }
        var node = this;
        var names = path.Split('/');
        for (var i = 0; i < names.Length; i++)
        {
            node._children ??= new Dictionary<string, DirtyNode>(StringComparer.Ordinal);
            if (!node._children.TryGetValue(names[i], out var next))
            {
                next = i == names.Length - 1 && subtree ? All : new DirtyNode();
                node._children.Add(names[i], next);
            }
            else if (i == names.Length - 1 && subtree)
            {
                node._children[names[i]] = All;
                return;
            }
            if (next.Subtree) return;
            node = next;
        }
        node.Entries = true;
    }

    /// <summary>
    /// A path in the failure ledger: the path itself whole if it is a directory, and the entries of every directory
    /// above it — its failure left each of them without its attributes (docs/master-loop.md, "Marking last").
    /// </summary>
    public void MarkFailed(string path)
    {
        if (path == CrawlTurn.Root)
        {
            MarkWhole();
            return;
        }
        Mark(CrawlTurn.Root, subtree: false);
        for (var slash = path.IndexOf('/'); slash > 0; slash = path.IndexOf('/', slash + 1)) Mark(path[..slash], subtree: false);
        Mark(path, subtree: true);
    }

    /// <summary>Adds what <paramref name="other"/> marks.</summary>
    public void Merge(DirtyNode other)
    {
        if (Subtree) return;
        if (other.Subtree)
        {
            MarkWhole();
            return;
        }
        if (other.Entries) Entries = true;
        foreach (var (name, child) in other.Children)
        {
            _children ??= new Dictionary<string, DirtyNode>(StringComparer.Ordinal);
            if (child.Subtree) _children[name] = All;
            else if (_children.TryGetValue(name, out var mine)) mine.Merge(child);
            else _children[name] = child;
        }
    }

    // This node compared whole: what was marked below it is covered.
    private void MarkWhole()
    {
        Subtree = true;
        _children = null;
    }
}
