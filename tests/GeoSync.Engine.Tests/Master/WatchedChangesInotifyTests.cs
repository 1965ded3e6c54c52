using GeoSync.Engine.Master;
using GeoSync.Engine.Tests.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// The watcher detector on real inotify (docs/master-loop.md, "Watching a directory master"): real files changed the
/// way users change them, each turn started by the watcher's own wait, and the slave compared with the master after.
/// </summary>
public sealed class WatchedChangesInotifyTests : CrawlHarness
{
    private static readonly TimeSpan EventWait = TimeSpan.FromSeconds(10);

    private WatchedChanges Watch(IWatchEventSource? source = null) =>
        new(source ?? InotifyEventSource.TryOpen(MasterDir.Path, out _) ?? throw new InvalidOperationException("no inotify on this machine"),
            MasterDir.Path, (level, message) => Log.Enqueue((level, message)));

    private Crawler WatchedCrawler(WatchedChanges watch, IFileSyncer? syncer = null) =>
        new(new DirectoryMasterTree(MasterDir.Path), Slave, syncer ?? Rsync, WithLog(null), watch);

    /// <summary>Turns as the loop runs them: each after the watcher saw a change, until a short wait sees none.</summary>
    private static async Task<List<TurnResult>> TurnsUntilQuietAsync(WatchedChanges watch, Crawler crawler)
    {
        var turns = new List<TurnResult>();
        Assert.True(await watch.WaitForChangeAsync(EventWait, CancellationToken.None), "the watcher saw no change");
        do
        {
            turns.Add(await crawler.RunTurnAsync());
            Assert.True(turns.Count < 20, "the watcher keeps seeing changes");
        }
        while (await watch.WaitForChangeAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));
        return turns;
    }

    private async Task<(WatchedChanges Watch, Crawler Crawler)> SyncSampleTreeAsync()
    {
        BuildSampleTree();
        var watch = Watch();
        var crawler = WatchedCrawler(watch);
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        // Whatever the first sync's own reads stirred up settles before the test changes anything.
        while (await watch.WaitForChangeAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None)) await crawler.RunTurnAsync();
        Slave.Reset();
        Rsync.ForgetSent();
        return (watch, crawler);
    }

    [Fact]
    public async Task FilesWrittenRightAfterMkdirOfANestedDirectoryAllArrive()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;

        // As fast as a program can: the directories exist before any watch on them can.
        Directory.CreateDirectory(MasterDir.Combine("burst/a/b/c"));
        for (var i = 0; i < 20; i++) File.WriteAllText(MasterDir.Combine($"burst/a/b/c/f{i}"), $"file {i}");
        File.WriteAllText(MasterDir.Combine("burst/top"), "top");
        Directory.CreateDirectory(MasterDir.Combine("burst/a/b/c/d"));
        File.WriteAllText(MasterDir.Combine("burst/a/b/c/d/last"), "last");

        var turns = await TurnsUntilQuietAsync(watch, crawler);

        Assert.All(turns, turn => Assert.Empty(turn.Failures));
        AssertSlaveMatchesMaster();
        Assert.True(turns.Sum(turn => turn.FilesSynced) >= 22);
        // Only the new subtree and the root were listed, never the untouched sample directories.
        Assert.DoesNotContain(Slave.Calls, call => call.Path is "docs" or "private" or "empty");
    }

    [Fact]
    public async Task ATurnStartedRightAfterAWriteIncludesIt()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;

        for (var i = 0; i < 5; i++)
        {
            // No wait for the watcher: the turn reads what the kernel holds before it takes the changed directories.
            File.WriteAllText(MasterDir.Combine($"docs/deep/at-once-{i}"), $"at once {i}");
            var turn = await crawler.RunTurnAsync();
            Assert.Contains($"docs/deep/at-once-{i}", Rsync.Sent);
            Assert.Equal(1, turn.DirectoriesScanned);
        }
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task RenamesIntoOutOfAndWithinTheTreeAndDeletesAreReplicated()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        using var _ = watch;
        using var outside = new TempDirectory("geosync-outside-");
        File.WriteAllText(outside.Combine("incoming.txt"), "moved in");
        Directory.CreateDirectory(outside.Combine("incoming-dir/sub"));
        File.WriteAllText(outside.Combine("incoming-dir/sub/x"), "x");

        File.Move(outside.Combine("incoming.txt"), MasterDir.Combine("docs/incoming.txt"));
        Directory.Move(outside.Combine("incoming-dir"), MasterDir.Combine("incoming-dir"));
        Directory.Move(MasterDir.Combine("private"), outside.Combine("private"));
        Directory.Move(MasterDir.Combine("docs/deep"), MasterDir.Combine("empty/deep-moved"));
        File.Delete(MasterDir.Combine("top.txt"));
        Directory.Delete(MasterDir.Combine("incoming-dir/sub"), recursive: true);
        await TurnsUntilQuietAsync(watch, crawler);
        AssertSlaveMatchesMaster();

        // The moved directory is watched under its new name: a file written there later is seen.
        File.WriteAllText(MasterDir.Combine("empty/deep-moved/er/after-move"), "after");
        await TurnsUntilQuietAsync(watch, crawler);

        AssertSlaveMatchesMaster();
        Assert.True(File.Exists(SlaveDir.Combine("empty/deep-moved/er/after-move")));
        Assert.False(Directory.Exists(SlaveDir.Combine("private")));
        Assert.False(File.Exists(SlaveDir.Combine("top.txt")));
    }

    [Fact]
    public async Task ChangesMadeDuringATurnArriveWithTheNext()
    {
        BuildSampleTree();
        var written = 0;
        // While the first turn's rsync runs, the master keeps changing: in directories already compared and not yet.
        var syncer = new InterceptingSyncer(Rsync, path =>
        {
            if (Interlocked.Exchange(ref written, 1) == 0)
            {
                File.WriteAllText(MasterDir.Combine("during-turn.txt"), "made during the turn");
                File.WriteAllText(MasterDir.Combine("docs/deep/er/data.bin"), "changed during the turn");
                Directory.CreateDirectory(MasterDir.Combine("empty/made-during"));
                File.WriteAllText(MasterDir.Combine("empty/made-during/f"), "f");
            }
            return null;
        });
        using var watch = Watch();
        var crawler = WatchedCrawler(watch, syncer);

        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        await TurnsUntilQuietAsync(watch, crawler);

        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task ChangesMadeWhileTheLoopWasDownArriveWithTheFirstTurnOfTheNext()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        watch.Dispose();
        // The loop is down: no watch sees these.
        WriteFile("private/secret", "changed while down");
        MasterDir.CreateDirectory("while-down/inner");
        WriteFile("while-down/inner/f", "f");
        File.Delete(MasterDir.Combine("docs/readme.md"));

        using var restarted = Watch();
        var result = await WatchedCrawler(restarted).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(8, result.DirectoriesScanned);
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task AKernelQueueOverflowIsReportedAndTheNextTurnComparesEverything()
    {
        var (watch, crawler) = await SyncSampleTreeAsync();
        watch.Dispose();
        // Real inotify, but its reader held back while more events pile up than the queue takes (max_queued_events).
        var held = new HeldEventSource(InotifyEventSource.TryOpen(MasterDir.Path, out _)!);
        using var overflowing = Watch(held);
        crawler = WatchedCrawler(overflowing);
        var limit = int.Parse(File.ReadAllText("/proc/sys/fs/inotify/max_queued_events").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        // In a directory watched already: a create and a close per file.
        var files = limit / 2 + 100;
        for (var i = 0; i < files; i++) File.WriteAllBytes(MasterDir.Combine($"empty/{i}"), []);
        File.WriteAllText(MasterDir.Combine("private/secret"), "changed in the flood");

        // The first turn of a watch is a full one anyway; the overflow must bring another.
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        held.Release();

        var turns = await TurnsUntilQuietAsync(overflowing, crawler);

        Assert.Contains(Log, entry => entry.Level == CrawlLogLevel.Warning && entry.Message.Contains("overflowed", StringComparison.Ordinal));
        Assert.Contains(turns, turn => turn.DirectoriesScanned >= 6);
        AssertSlaveMatchesMaster();
    }

    /// <summary>A real source whose reader starts only when the test says, so events pile up in the kernel meanwhile.</summary>
    private sealed class HeldEventSource(IWatchEventSource inner) : IWatchEventSource
    {
        private Action<IReadOnlyList<WatchEvent>>? _onEvents;
        private bool _released;

        public int AddWatch(string path) => inner.AddWatch(path);

        public void RemoveWatch(int descriptor) => inner.RemoveWatch(descriptor);

        public void Start(Action<IReadOnlyList<WatchEvent>> onEvents) => _onEvents = onEvents;

        // Held: the turn reads nothing either until released.
        public void Drain()
        {
            if (_released) inner.Drain();
        }

        public void Release()
        {
            _released = true;
            inner.Start(_onEvents!);
        }

        public void Dispose() => inner.Dispose();
    }
}
