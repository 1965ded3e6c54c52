using GeoSync.Engine.Rpc;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// The dry run's stand-ins for a crawl's master, slave and syncer (docs/master-loop.md, "Dry run"), so the one walk of
/// <see cref="CrawlTurn"/> plans instead of acting. Reads go to the real master and slave; every write the walk asks for
/// (mkdir, symlink, purge, setattr, set_xtime, a file for rsync, a never-indexed master entry's xtime) is answered as done
/// and becomes a <see cref="PlannedChange"/>, with the reason found by comparing the master entry with what the slave's
/// listing said. A directory the plan "created" lists as empty, as it would after a real mkdir.
/// </summary>
/// <remarks>
/// The slave's listings are kept only for the directories on the walk's current path (the walk is depth-first and
/// sequential), so memory follows the tree's depth, not its size. A change that arrives after the walk left its directory
/// (a directory's setattr, which waits for its subtree) reads the parent's listing from the slave again.
/// </remarks>
internal sealed class TurnPlanner
{
    private const string Root = ".";

    private readonly object _gate = new();
    private readonly IMasterTree _master;
    private readonly ISlaveChannel _slave;
    private readonly Action<PlannedChange>? _onChange;
    private readonly int _examplesPerAction;
    private readonly long[] _counts = new long[Enum.GetValues<PlannedAction>().Length];
    private readonly List<PlannedChange>[] _examples;
    private readonly List<WalkedDirectory> _walk = [];
    private long _bytesToSend;

    // The entry the walk purged to make room for another type, and the symlink it just made: the next call on the same
    // path (the create, the symlink's own setattr) belongs to that change.
    private string? _purgedInTheWay;
    private string? _symlinkMade;

    public TurnPlanner(IMasterTree master, ISlaveChannel slave, Action<PlannedChange>? onChange, int examplesPerAction)
    {
        _master = master;
        _slave = slave;
        _onChange = onChange;
        _examplesPerAction = examplesPerAction;
        _examples = [.. _counts.Select(_ => new List<PlannedChange>())];
        Master = new PlanningMasterTree(master);
        Slave = new PlanningSlaveChannel(this);
        Syncer = new PlanningSyncer(this);
    }

    public IMasterTree Master { get; }

    public ISlaveChannel Slave { get; }

    public IFileSyncer Syncer { get; }

    public TurnPlan Summarize(TurnResult walk)
    {
        lock (_gate) return new TurnPlan([.. _counts], [.. _examples.Select(e => (IReadOnlyList<PlannedChange>)[.. e])], _bytesToSend, walk);
    }

    private void Emit(PlannedChange change)
    {
        // Under the lock: the caller's callback sees one change at a time, and may block to hold the walk back.
        lock (_gate)
        {
            _counts[(int)change.Action]++;
            if (change.Size is long size) _bytesToSend += size;
            var examples = _examples[(int)change.Action];
            if (examples.Count < _examplesPerAction) examples.Add(change);
            _onChange?.Invoke(change);
        }
    }

    private void Listed(string path, IEnumerable<KeyValuePair<string, EntryStat?>> entries, bool created)
    {
        lock (_gate)
        {
            while (_walk.Count > 0 && !IsAtOrBelow(path, _walk[^1].Path)) _walk.RemoveAt(_walk.Count - 1);
            var listing = new Dictionary<string, EntryStat?>(entries, StringComparer.Ordinal);
            if (_walk.Count > 0 && _walk[^1].Path == path)
            {
                _walk[^1].Entries = listing;
                _walk[^1].Created |= created;
            }
            else
            {
                _walk.Add(new WalkedDirectory(path, created, listing));
            }
        }
    }

    /// <summary>True when the plan made this directory or one above it: the real slave has nothing there yet.</summary>
    private bool MadeByPlan(string path)
    {
        lock (_gate) return _walk.Exists(d => d.Created && IsAtOrBelow(path, d.Path));
    }

    /// <summary>What the slave holds at <paramref name="path"/> as the walk sees it; <see cref="SlaveState.MadeByPlan"/> for a directory the plan made.</summary>
    private async Task<SlaveState> StateOfAsync(string path, CancellationToken cancellationToken)
    {
        var (parent, name) = Split(path);
        lock (_gate)
        {
            if (_walk.Exists(d => d.Created && d.Path == path)) return SlaveState.MadeByPlan;
            if (_walk.Exists(d => d.Created && IsAtOrBelow(parent, d.Path))) return SlaveState.Absent;
            if (_walk.Find(d => d.Path == parent) is { } known) return StateIn(known.Entries, name);
        }
        // The walk has left the parent: ask the slave. A parent the plan made or replaced does not exist there yet.
        try
        {
            try
            {
                var entries = await _slave.LstatEntriesAsync(parent, cancellationToken).ConfigureAwait(false);
                return StateIn(entries.ToDictionary(e => e.Name, e => (EntryStat?)e.Stat, StringComparer.Ordinal), name);
            }
            catch (RemoteAttributeException)
            {
                var names = await _slave.EntriesAsync(parent, cancellationToken).ConfigureAwait(false);
                return names.Contains(name, StringComparer.Ordinal) ? new SlaveState(true, null) : SlaveState.Absent;
            }
        }
        catch (RemoteOsException ex) when (ex.Errno is LinuxErrno.ENOENT or LinuxErrno.ENOTDIR)
        {
            return SlaveState.Absent;
        }

        static SlaveState StateIn(Dictionary<string, EntryStat?> entries, string name) =>
            entries.TryGetValue(name, out var stat) ? new SlaveState(true, stat) : SlaveState.Absent;
    }

    /// <summary>A file for rsync, or a symlink: Create when the slave lacks it or has another type there, else Update.</summary>
    private async Task PlanSendAsync(string path, EntryStat master, CancellationToken cancellationToken)
    {
        var slave = await StateOfAsync(path, cancellationToken).ConfigureAwait(false);
        var size = master.Type == EntryType.Regular ? master.Size : (long?)null;
        bool replaced;
        lock (_gate)
        {
            replaced = _purgedInTheWay == path;
            _purgedInTheWay = null;
        }
        if (!slave.Exists)
        {
            Emit(new PlannedChange(PlannedAction.Create, path, master.Type, "missing on the slave", size));
        }
        else if (slave.Stat is { } stat && stat.Type != master.Type)
        {
            // The slave's symlink() replaces what is there without a purge call: the purge is planned here.
            if (!replaced) Emit(new PlannedChange(PlannedAction.Purge, path, stat.Type, TypeDiffers("master", master.Type)));
            Emit(new PlannedChange(PlannedAction.Create, path, master.Type, TypeDiffers("slave", stat.Type), size));
        }
        else if (replaced)
        {
            Emit(new PlannedChange(PlannedAction.Create, path, master.Type, "replaces the slave's entry", size));
        }
        else
        {
            var reason = slave.Stat is { } replica ? Differences(master, replica) : null;
            Emit(new PlannedChange(PlannedAction.Update, path, master.Type, reason ?? "newer on the master (xtime)", size));
        }
    }

    private static string TypeDiffers(string side, EntryType? type) => $"type differs ({side}: {PlannedChange.TypeWord(type)})";

    /// <summary>"size differs", "mtime and mode differ": what tells the master entry from the slave's; null when nothing does.</summary>
    private static string? Differences(EntryStat master, EntryStat slave)
    {
        var differing = new List<string>();
        if (master.Type == EntryType.Symlink)
        {
            if (!string.Equals(master.LinkTarget, slave.LinkTarget, StringComparison.Ordinal)) differing.Add("target");
        }
        else
        {
            if (master.Type == EntryType.Regular && master.Size != slave.Size) differing.Add("size");
            if (!master.SameModifyTime(slave)) differing.Add("mtime");
            if (master.Mode != slave.Mode) differing.Add("mode");
        }
        if (master.Uid != slave.Uid || master.Gid != slave.Gid) differing.Add("owner");
        return differing.Count switch
        {
            0 => null,
            1 => $"{differing[0]} differs",
            _ => $"{string.Join(", ", differing.Take(differing.Count - 1))} and {differing[^1]} differ",
        };
    }

    private static bool IsAtOrBelow(string path, string directory) =>
        directory == Root || path == directory || path.StartsWith(directory + "/", StringComparison.Ordinal);

    private static (string Parent, string Name) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? (Root, path) : (path[..slash], path[(slash + 1)..]);
    }

    /// <summary>A slave entry as the walk knows it: absent, present (with its lstat when the slave gave one), or made by the plan.</summary>
    private readonly record struct SlaveState(bool Exists, EntryStat? Stat, bool Made = false)
    {
        public static SlaveState Absent => new(false, null);

        public static SlaveState MadeByPlan => new(true, null, Made: true);
    }

    private sealed class WalkedDirectory(string path, bool created, Dictionary<string, EntryStat?> entries)
    {
        public string Path { get; } = path;

        public bool Created { get; set; } = created;

        public Dictionary<string, EntryStat?> Entries { get; set; } = entries;
    }

    /// <summary>The real master, read as it is, with xtime stamping turned into a no-op and listings in name order.</summary>
    private sealed class PlanningMasterTree(IMasterTree inner) : IMasterTree, IMasterXtimes
    {
        public string RootPath => inner.RootPath;

        public IMasterXtimes? Xtimes => inner.Xtimes is null ? null : this;

        public Guid VolumeId => inner.Xtimes!.VolumeId;

        // Sorted, so a plan lists its changes in the same order each time.
        public IReadOnlyList<string> Entries(string path) => [.. inner.Entries(path).Order(StringComparer.Ordinal)];

        public EntryStat? Lstat(string path) => inner.Lstat(path);

        public void EnsureVouched() => inner.EnsureVouched();

        public XtimeReading Read(string path) => inner.Xtimes!.Read(path);

        // The crawl goes on with the xtime it would have stamped; the master keeps none.
        public void Write(string path, Xtime value)
        {
        }
    }

    private sealed class PlanningSlaveChannel(TurnPlanner plan) : ISlaveChannel
    {
        public async Task<IReadOnlyList<string>> EntriesAsync(string path, CancellationToken cancellationToken = default)
        {
            if (plan.MadeByPlan(path)) return [];
            var names = await plan._slave.EntriesAsync(path, cancellationToken).ConfigureAwait(false);
            plan.Listed(path, names.Select(n => KeyValuePair.Create(n, (EntryStat?)null)), created: false);
            return names;
        }

        public async Task<IReadOnlyList<SlaveEntry>> LstatEntriesAsync(string path, CancellationToken cancellationToken = default)
        {
            if (plan.MadeByPlan(path)) return [];
            var entries = await plan._slave.LstatEntriesAsync(path, cancellationToken).ConfigureAwait(false);
            plan.Listed(path, entries.Select(e => KeyValuePair.Create(e.Name, (EntryStat?)e.Stat)), created: false);
            return entries;
        }

        public async Task PurgeAsync(string path, IReadOnlyCollection<string>? entries = null, CancellationToken cancellationToken = default)
        {
            if (entries is null)
            {
                // Only ever to make room for an entry of the master's type.
                var slave = await plan.StateOfAsync(path, cancellationToken).ConfigureAwait(false);
                var master = plan._master.Lstat(path);
                plan.Emit(new PlannedChange(PlannedAction.Purge, path, slave.Stat?.Type, TypeDiffers("master", master?.Type)));
                lock (plan._gate) plan._purgedInTheWay = path;
                return;
            }
            foreach (var name in entries.Order(StringComparer.Ordinal))
            {
                var child = path == Root ? name : path + "/" + name;
                var slave = await plan.StateOfAsync(child, cancellationToken).ConfigureAwait(false);
                plan.Emit(new PlannedChange(PlannedAction.Purge, child, slave.Stat?.Type, "gone from the master"));
            }
        }

        public async Task MkdirAsync(string path, CancellationToken cancellationToken = default)
        {
            var slave = await plan.StateOfAsync(path, cancellationToken).ConfigureAwait(false);
            bool replaced;
            lock (plan._gate)
            {
                replaced = plan._purgedInTheWay == path;
                plan._purgedInTheWay = null;
            }
            if (slave.Stat is { Type: not EntryType.Directory } other)
            {
                if (!replaced) plan.Emit(new PlannedChange(PlannedAction.Purge, path, other.Type, TypeDiffers("master", EntryType.Directory)));
                plan.Emit(new PlannedChange(PlannedAction.Create, path, EntryType.Directory, TypeDiffers("slave", other.Type)));
            }
            else
            {
                plan.Emit(new PlannedChange(PlannedAction.Create, path, EntryType.Directory,
                    replaced ? "replaces the slave's entry" : "missing on the slave"));
            }
            plan.Listed(path, [], created: true);
        }

        public async Task SymlinkAsync(string target, string path, CancellationToken cancellationToken = default)
        {
            var master = plan._master.Lstat(path) ?? new EntryStat(EntryType.Symlink, 0, 0, 0, 0, 0, 0, target);
            await plan.PlanSendAsync(path, master, cancellationToken).ConfigureAwait(false);
            lock (plan._gate) plan._symlinkMade = path;
        }

        public Task<XtimeReading> XtimeAsync(string path, string uuid, CancellationToken cancellationToken = default)
        {
            if (!plan.MadeByPlan(path)) return plan._slave.XtimeAsync(path, uuid, cancellationToken);
            // A directory just made has no xtime yet; nothing below it exists.
            bool made;
            lock (plan._gate) made = plan._walk.Exists(d => d.Created && d.Path == path);
            return Task.FromResult(XtimeReading.Missing(made ? LinuxErrno.ENODATA : LinuxErrno.ENOENT));
        }

        // The marks that let later turns prune: bookkeeping, not a change to the slave's data.
        public Task SetXtimeAsync(string path, string uuid, Xtime value, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public async Task SetattrAsync(string path, SlaveAttributes attributes, CancellationToken cancellationToken = default)
        {
            lock (plan._gate)
            {
                // A symlink's owner is part of making it.
                if (plan._symlinkMade == path) return;
            }
            var slave = await plan.StateOfAsync(path, cancellationToken).ConfigureAwait(false);
            // A directory the plan made gets its attributes as part of its Create; without the slave's lstat nothing can be compared.
            if (slave.Made || slave.Stat is not { } replica || plan._master.Lstat(path) is not { } master) return;
            // The walk restores a directory's times after changing its entries; only a real difference is a change.
            if (Differences(master, replica) is { } reason)
            {
                plan.Emit(new PlannedChange(PlannedAction.SetAttributes, path, master.Type, reason));
            }
        }
    }

    /// <summary>Records each file the walk would hand to rsync and answers it as synced.</summary>
    private sealed class PlanningSyncer(TurnPlanner plan) : IFileSyncer
    {
        private static readonly Task<FileSyncOutcome> Synced = Task.FromResult(FileSyncOutcome.Success);

        public Task<FileSyncOutcome> Add(string relativePath)
        {
            // A file that vanished since the walk's lstat would be reported vanished by rsync: nothing to plan.
            if (plan._master.Lstat(relativePath) is not { } master) return Synced;
            var planned = plan.PlanSendAsync(relativePath, master, CancellationToken.None);
            return planned.IsCompletedSuccessfully ? Synced : AfterAsync(planned);
        }

        public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public void SendQueued()
        {
        }

        private static async Task<FileSyncOutcome> AfterAsync(Task planned)
        {
            await planned.ConfigureAwait(false);
            return FileSyncOutcome.Success;
        }
    }
}
