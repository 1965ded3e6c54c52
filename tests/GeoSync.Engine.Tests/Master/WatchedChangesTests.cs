using GeoSync.Engine.Master;
using GeoSync.Engine.Tests.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// The watcher detector (docs/master-loop.md, "Watching a directory master") over events the test scripts: what it
/// compares for each kind of event, and that nothing is missed when events are lost (an overflow), when a watch cannot
/// be set, when a turn is cut short, and for what the failure ledger holds. Real inotify is in
/// <see cref="WatchedChangesInotifyTests"/>.
/// </summary>
public sealed class WatchedChangesTests : CrawlHarness
{
    private const uint FileCreated = InotifyMask.Create;
    private const uint FileWritten = InotifyMask.CloseWrite;
    private const uint DirectoryMade = InotifyMask.Create | InotifyMask.IsDirectory;

    private readonly ScriptedEventSource _events = new();

    private WatchedChanges Watch() => new(_events, MasterDir.Path, (level, message) => Log.Enqueue((level, message)));

    private Crawler WatchedCrawler(WatchedChanges watch, IFileSyncer? syncer = null) =>
        new(new DirectoryMasterTree(MasterDir.Path), Slave, syncer ?? Rsync, WithLog(null), watch);

    private async Task<(WatchedChanges Watch, Crawler Crawler)> SyncSampleTreeAsync()
    {
        BuildSampleTree();
        var watch = Watch();
        var crawler = WatchedCrawler(watch);
        var first = await crawler.RunTurnAsync();
        Assert.Empty(first.Failures);
        Assert.Equal(6, first.DirectoriesScanned);
        AssertSlaveMatchesMaster();
        Slave.Reset();
        Rsync.ForgetSent();
        return (watch, crawler);
    }

    [Fact]
    public async Task WatchesEveryDirectoryBeforeTheFirstTurnWhichComparesTheWholeTree()
    {
        BuildSampleTree();

        using var watch = Watch();

        Assert.Equal([".", "docs", "docs/deep", "docs/deep/er", "empty", "private"], _events.Watched.Order(StringComparer.Ordinal));
        var first = await WatchedCrawler(watch).RunTurnAsync();
        Assert.Equal(6, first.DirectoriesScanned);
        AssertSlaveMatchesMaster();
        Assert.Contains(Log, entry => entry.Message.Contains("comparing the whole tree: the first turn", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATurnWithoutEventsListsNothingAndAskTheSlaveNothing()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;
        // Not announced by any event: a turn that trusts the watch does not look.
        WriteFile("private/secret", "changed behind the watch's back");

        var result = await crawler.RunTurnAsync();

        Assert.Equal(0, result.DirectoriesScanned);
        Assert.Equal(0, Slave.Total);
        Assert.False(result.ChangesSeen);
    }

    [Fact]
    public async Task AnEventComparesOnlyItsDirectory()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;
        WriteFile("docs/deep/er/data.bin", "rewritten");
        WriteFile("docs/deep/er/new.txt", "new");
        _events.Changed("docs/deep/er", "data.bin", FileWritten);
        _events.Changed("docs/deep/er", "new.txt", FileCreated);

        Assert.True(await watch.WaitForChangeAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(["docs/deep/er/data.bin", "docs/deep/er/new.txt"], Rsync.Sent.Order(StringComparer.Ordinal));
        Assert.Equal(1, result.DirectoriesScanned);
        Assert.DoesNotContain(Slave.Calls, call => call.Path is "." or "docs" or "docs/deep" or "empty" or "private");
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task ANewNestedDirectoryIsWatchedAndComparedWholeWithWhatLandedBeforeItsWatch()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;
        // Only the top directory's creation reaches the watch; everything below it was made before its watch was set.
        MasterDir.CreateDirectory("new/inner/deepest");
        WriteFile("new/a.txt", "a");
        WriteFile("new/inner/deepest/b.txt", "b");
        _events.Changed(".", "new", DirectoryMade);

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Contains("new/inner/deepest", _events.Watched);
        Assert.Equal(["new/a.txt", "new/inner/deepest/b.txt"], Rsync.Sent.Order(StringComparer.Ordinal));
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task AnOverflowMakesTheNextTurnCompareTheWholeTreeAndWatchItAgain()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;
        // Changes whose events the kernel dropped: only the overflow arrives.
        WriteFile("private/secret", "lost event one");
        MasterDir.CreateDirectory("empty/made-during-overflow");
        WriteFile("empty/made-during-overflow/c.txt", "lost event two");
        File.Delete(MasterDir.Combine("top.txt"));
        _events.Overflow();

        Assert.True(await watch.WaitForChangeAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(7, result.DirectoriesScanned);
        AssertSlaveMatchesMaster();
        Assert.Contains("empty/made-during-overflow", _events.Watched);
        Assert.Contains(Log, entry => entry.Level == CrawlLogLevel.Warning && entry.Message.Contains("overflowed", StringComparison.Ordinal));
        // And back to trusting the events.
        Slave.Reset();
        Assert.Equal(0, (await crawler.RunTurnAsync()).DirectoriesScanned);
    }

    [Fact]
    public async Task WhenWatchesRunOutEveryTurnComparesTheWholeTreeAndTheLogSaysWhy()
    {
        BuildSampleTree();
        _events.Refuse = path => path == "docs/deep" ? 28 : null; // ENOSPC: max_user_watches reached

        using var watch = Watch();
        var crawler = WatchedCrawler(watch);

        Assert.NotNull(watch.Stopped);
        Assert.Empty(_events.Watched);
        Assert.Contains(Log, entry => entry.Level == CrawlLogLevel.Warning
            && entry.Message.Contains("max_user_watches", StringComparison.Ordinal) && entry.Message.Contains("every turn now compares the whole tree", StringComparison.Ordinal));
        Assert.Equal(6, (await crawler.RunTurnAsync()).DirectoriesScanned);
        WriteFile("private/secret", "no event will tell");
        var second = await crawler.RunTurnAsync();
        Assert.Equal(6, second.DirectoriesScanned);
        AssertSlaveMatchesMaster();
        // Waiting falls back to the whole interval.
        Assert.False(await watch.WaitForChangeAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));
    }

    [Fact]
    public async Task AWatchedDirectoryThatMovesWithoutItsParentsEventMeansAFullComparison()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;
        Directory.Move(MasterDir.Combine("empty"), MasterDir.Combine("moved"));
        _events.Deliver(new WatchEvent(_events.DescriptorOf("empty"), InotifyMask.MoveSelf, null));

        var result = await crawler.RunTurnAsync();

        Assert.Equal(6, result.DirectoriesScanned);
        AssertSlaveMatchesMaster();
        Assert.Contains(Log, entry => entry.Level == CrawlLogLevel.Warning && entry.Message.Contains("'empty' moved", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADirectoryMovedAwayIsPurgedAndItsWatchesLetGo()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;
        using var elsewhere = new TempDirectory("geosync-elsewhere-");
        Directory.Move(MasterDir.Combine("docs"), elsewhere.Combine("docs"));
        _events.Changed(".", "docs", InotifyMask.MovedFrom | InotifyMask.IsDirectory);

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.False(Directory.Exists(SlaveDir.Combine("docs")));
        Assert.DoesNotContain(_events.Watched, path => path.StartsWith("docs", StringComparison.Ordinal));
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task ATurnCutShortLeavesItsChangesForTheNext()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;
        WriteFile("private/secret", "changed");
        _events.Changed("private", "secret", FileWritten);
        using var cancel = new CancellationTokenSource();
        // The slave call that lists the changed directory cancels the turn.
        Slave.Fault = (method, path) =>
        {
            if (path == "private") cancel.Cancel();
            return null;
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => crawler.RunTurnAsync(cancel.Token));
        Slave.Fault = null;
        Assert.True(await watch.WaitForChangeAsync(TimeSpan.Zero, CancellationToken.None));
        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Contains("private/secret", Rsync.Sent);
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task APathThatDidNotArriveIsRetriedEveryTurnWithoutAnEvent()
    {
        BuildSampleTree();
        var failing = true;
        var syncer = new InterceptingSyncer(Rsync, path => failing && path == "docs/deep/er/data.bin"
            ? FileSyncOutcome.Failed("injected: the slave is full", 28) : null);
        using var watch = Watch();
        var crawler = WatchedCrawler(watch, syncer);
        Assert.Single((await crawler.RunTurnAsync()).Failures);

        // Still failing: retried (and failed again) with no event at all.
        var again = await crawler.RunTurnAsync();
        Assert.Equal("docs/deep/er/data.bin", Assert.Single(again.Failures).Path);
        Assert.Equal(2, again.Failures[0].Attempts);

        failing = false;
        var arrived = await crawler.RunTurnAsync();
        Assert.Empty(arrived.Failures);
        Assert.Empty(crawler.Ledger.Entries);
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public void DirtyTreesMarkMergeAndCoverWhatIsBelowAWholeSubtree()
    {
        var tree = new DirtyNode();
        Assert.True(tree.IsEmpty);
        tree.Mark("a/b", subtree: false);
        tree.Mark("a/b/c", subtree: true);
        tree.Mark("a/b/c/d", subtree: false);
        Assert.False(tree.Entries);
        var b = tree.Children["a"].Children["b"];
        Assert.True(b.Entries);
        Assert.Same(DirtyNode.All, b.Child("c"));
        Assert.Same(DirtyNode.All, b.Child("c")!.Child("anything"));

        var other = new DirtyNode();
        other.Mark(".", subtree: false);
        other.Mark("x", subtree: true);
        tree.Merge(other);
        Assert.True(tree.Entries);
        Assert.Same(DirtyNode.All, tree.Child("x"));

        // A failed path: every directory above it is compared (their attributes waited for it), the path whole.
        var failed = new DirtyNode();
        failed.MarkFailed("p/q/r");
        Assert.True(failed.Entries);
        Assert.True(failed.Children["p"].Entries);
        Assert.True(failed.Children["p"].Children["q"].Entries);
        Assert.Same(DirtyNode.All, failed.Children["p"].Children["q"].Child("r"));

        tree.MarkFailed(".");
        Assert.True(tree.Subtree);
        Assert.False(DirtyNode.All.IsEmpty);
    }
}

/// <summary>A watch event source driven by the test: it hands out descriptors, refuses watches on demand and delivers what it is told.</summary>
internal sealed class ScriptedEventSource : IWatchEventSource
{
    private readonly Dictionary<string, int> _watches = new(StringComparer.Ordinal);
    private int _next = 1;
    private Action<IReadOnlyList<WatchEvent>>? _deliver;

    /// <summary>The errno to refuse a watch of this path with, or null to grant it.</summary>
    public Func<string, int?>? Refuse { get; set; }

    public IReadOnlyCollection<string> Watched
    {
        get { lock (_watches) return _watches.Keys.ToList(); }
    }

    public int DescriptorOf(string path)
    {
        lock (_watches) return _watches[path];
    }

    public int AddWatch(string path)
    {
        if (Refuse?.Invoke(path) is int errno) return -errno;
        lock (_watches)
        {
            if (!_watches.TryGetValue(path, out var descriptor)) _watches[path] = descriptor = _next++;
            return descriptor;
        }
    }

    public void RemoveWatch(int descriptor)
    {
        lock (_watches)
        {
            foreach (var path in _watches.Where(w => w.Value == descriptor).Select(w => w.Key).ToList()) _watches.Remove(path);
        }
    }

    public void Start(Action<IReadOnlyList<WatchEvent>> onEvents) => _deliver = onEvents;

    public void Drain()
    {
    }

    public void Deliver(params WatchEvent[] events) => _deliver!(events);

    public void Changed(string directory, string name, uint mask) => Deliver(new WatchEvent(DescriptorOf(directory), mask, name));

    public void Overflow() => Deliver(new WatchEvent(-1, InotifyMask.QueueOverflow, null));

    public void Dispose()
    {
    }
}
