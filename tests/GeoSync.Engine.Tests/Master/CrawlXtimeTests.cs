using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Master;

/// <summary>The crawl of a GlusterFS-style master: xtimes stamped by the test as the marker would, pruning by them.</summary>
public sealed class CrawlXtimeTests : CrawlHarness
{
    private static readonly string[] SampleFiles =
        ["caf\uDCE9.txt", "docs/deep/er/data.bin", "docs/deep/note", "docs/readme.md", "private/secret", "top.txt"];

    private async Task<Crawler> SyncSampleTreeAsync()
    {
        BuildSampleTree();
        StampWholeMaster();
        var crawler = GlusterCrawler();
        var first = await crawler.RunTurnAsync();
        Assert.Empty(first.Failures);
        Slave.Reset();
        Rsync.ForgetSent();
        return crawler;
    }

    [Fact]
    public async Task TheFirstTurnCopiesTheWholeTree()
    {
        BuildSampleTree();
        StampWholeMaster();

        var result = await GlusterCrawler().RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
        Assert.Equal(SampleFiles, Rsync.Sent.Order(StringComparer.Ordinal));
        Assert.Equal(6, result.FilesSynced);
        Assert.Equal(9 + 9 + 100_000 + 0 + 6 + 12, result.BytesSynced);
        Assert.Equal(5 + 3, result.EntriesCreated); // docs, docs/deep, docs/deep/er, empty, private; three symlinks
        Assert.Equal(6, result.DirectoriesScanned);
        Assert.Equal(0, result.EntriesPurged);
        Assert.True(result.ChangesSeen);
        Assert.True(result.Converged);
        Assert.Equal(1, result.Turn);
    }

    [Fact]
    public async Task AnUnchangedTreeCostsOneXtimeCallAndSendsNothing()
    {
        await SyncSampleTreeAsync();

        // A fresh crawler, as after a restart: everything it needs is in the xattrs.
        var result = await GlusterCrawler().RunTurnAsync();

        Assert.Equal([("xtime", ".")], Slave.Calls);
        Assert.Empty(Rsync.Sent);
        Assert.Equal(0, result.FilesSynced);
        Assert.Equal(0, result.DirectoriesScanned);
        Assert.False(result.ChangesSeen);
        Assert.True(result.Converged);
    }

    [Fact]
    public async Task ChangesArePropagatedAndOnlyChangedFilesAreResent()
    {
        var crawler = await SyncSampleTreeAsync();

        File.WriteAllText(MasterDir.Combine("docs/readme.md"), "# readme, second edition\n");
        MasterDir.CreateFile("docs/deep/er/new.txt", "new");
        File.Delete(MasterDir.Combine("top.txt"));
        File.Move(MasterDir.Combine("private/secret"), MasterDir.Combine("private/renamed"));
        Assert.Equal(0, Syscall.chmod(MasterDir.Combine("docs/deep/note"), (FilePermissions)0b110_110_110));
        MasterDir.CreateDirectory("a/b/c");
        MasterDir.CreateFile("a/b/c/f", "deep");
        Assert.Equal(0, Syscall.chmod(MasterDir.Combine("empty"), (FilePermissions)0b111_000_000));
        Changed("docs/readme.md", "docs/deep/er/new.txt", ".", "private/renamed", "private", "docs/deep/note", "a/b/c/f", "empty");

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
        Assert.Equal(
            ["a/b/c/f", "docs/deep/er/new.txt", "docs/deep/note", "docs/readme.md", "private/renamed"],
            Rsync.Sent.Order(StringComparer.Ordinal));
        Assert.Equal(5, result.FilesSynced);
        Assert.Equal(2, result.EntriesPurged); // top.txt, private/secret
        Assert.Equal(3, result.EntriesCreated); // a, a/b, a/b/c
        // Untouched subtrees are pruned at their parent: never listed, never asked for.
        Assert.DoesNotContain(Slave.Calls, c => c.Path is "caf\uDCE9.txt" or "link-rel" or "docs/link-abs" or "docs/deep/er/data.bin");

        Slave.Reset();
        var quiet = await crawler.RunTurnAsync();
        Assert.Equal(1, Slave.Total);
        Assert.False(quiet.ChangesSeen);
    }

    [Fact]
    public async Task ADeletedDirectoryIsPurgedUnlessDeletesAreIgnored()
    {
        var crawler = await SyncSampleTreeAsync();
        Directory.Delete(MasterDir.Combine("docs"), recursive: true);
        Changed(".");

        var result = await crawler.RunTurnAsync();

        Assert.Equal(1, result.EntriesPurged);
        Assert.False(Directory.Exists(SlaveDir.Combine("docs")));
        AssertSlaveMatchesMaster();

        File.Delete(MasterDir.Combine("top.txt"));
        Changed(".");
        Slave.Reset();
        var keeping = GlusterCrawler(new CrawlerOptions { IgnoreDeletes = true });
        var ignored = await keeping.RunTurnAsync();

        Assert.Equal(0, ignored.EntriesPurged);
        Assert.Equal(0, Slave.Count("purge"));
        Assert.True(File.Exists(SlaveDir.Combine("top.txt")));
        Assert.Equal(MasterXtime("."), SlaveXtime("."));
    }

    [Fact]
    public async Task TypeChangesArePurgedAndRecreated()
    {
        var crawler = await SyncSampleTreeAsync();

        File.Delete(MasterDir.Combine("top.txt"));
        MasterDir.CreateDirectory("top.txt");
        MasterDir.CreateFile("top.txt/inner", "was a file");
        Directory.Delete(MasterDir.Combine("docs/deep"), recursive: true);
        MasterDir.CreateFile("docs/deep", "was a directory tree");
        File.Delete(MasterDir.Combine("link-rel"));
        MasterDir.CreateDirectory("link-rel");
        Directory.Delete(MasterDir.Combine("empty"));
        MasterDir.CreateSymlink("empty", "top.txt/inner");
        Changed("top.txt/inner", "docs/deep", "link-rel", "empty");

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
        Assert.Equal(["docs/deep", "top.txt/inner"], Rsync.Sent.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task WithoutLstatEntriesAFileReplacingADirectoryIsRepairedOnTheRetry()
    {
        // A 3.3 or 10.x slave: 'entries' only, so the crawl cannot see the slave's types.
        Slave.Fault = (method, _) => method is "lstat_entries" or "entry_types"
            ? new RemoteAttributeException(method, new PyException("exceptions", "AttributeError", new PyTuple("no lstat_entries")))
            : null;
        BuildSampleTree();
        StampWholeMaster();
        var crawler = GlusterCrawler();
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        AssertSlaveMatchesMaster();
        Assert.Equal(1, Slave.Count("lstat_entries")); // asked once, then remembered
        Assert.Contains(Log, l => l.Message.Contains("no 'lstat_entries'", StringComparison.Ordinal));

        Directory.Delete(MasterDir.Combine("docs/deep"), recursive: true);
        MasterDir.CreateFile("docs/deep", "now a file");
        Changed("docs/deep");

        // rsync cannot replace a non-empty directory with a file ...
        var blocked = await crawler.RunTurnAsync();
        var failure = Assert.Single(blocked.Failures);
        Assert.Equal("docs/deep", failure.Path);
        Assert.Contains("returned with 23", failure.Reason, StringComparison.Ordinal);
        Assert.NotEqual(MasterXtime("docs"), SlaveXtime("docs"));

        // ... so the retry clears the slave entry first.
        var repaired = await crawler.RunTurnAsync();
        Assert.Empty(repaired.Failures);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
    }

    [Fact]
    public async Task ASlaveXtimeNewerThanTheMastersIsTimestampCorruption()
    {
        var crawler = await SyncSampleTreeAsync();
        var masterRoot = MasterXtime(".")!.Value;
        var future = new Xtime(masterRoot.Seconds + 3600, 0);
        Xattrs.Set(SlaveDir.Path, XtimeName, future.ToBytes());

        var root = await Assert.ThrowsAsync<GeoSyncTimestampCorruptionException>(() => crawler.RunTurnAsync());
        Assert.Equal(".", root.Path);
        Assert.Equal(future, root.SlaveXtime);
        Assert.Equal(masterRoot, root.MasterXtime);
        Assert.Contains("timestamp corruption for '.'", root.Message, StringComparison.Ordinal);

        Xattrs.Set(SlaveDir.Path, XtimeName, masterRoot.ToBytes());
        File.WriteAllText(MasterDir.Combine("docs/deep/note"), "changed");
        var changed = Changed("docs/deep/note");
        Xattrs.Set(SlaveDir.Combine("docs/deep"), XtimeName, new Xtime(changed.Seconds + 60, 0).ToBytes());

        var deep = await Assert.ThrowsAsync<GeoSyncTimestampCorruptionException>(() => crawler.RunTurnAsync());
        Assert.Equal("docs/deep", deep.Path);
        Assert.Contains("'docs/deep'", deep.Message, StringComparison.Ordinal);
        Assert.Equal(1, crawler.TurnsCompleted); // the aborted turns do not count
    }

    [Fact]
    public async Task AnEntryWithoutAnXtimeIsStampedAndSynced()
    {
        var crawler = await SyncSampleTreeAsync();
        MasterDir.CreateFile("docs/fresh", "the marker never saw me");
        SlaveDir.CreateFile("docs/fresh", "an older copy");
        Changed("docs");
        Assert.Null(MasterXtime("docs/fresh"));

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(["docs/fresh"], Rsync.Sent);
        Assert.NotNull(MasterXtime("docs/fresh"));
        Assert.Equal(MasterXtime("docs/fresh"), SlaveXtime("docs/fresh"));
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task AFileTheSlaveLacksIsSentWithoutReadingItsXtimeAndMarkedWithItsDirectorys()
    {
        var crawler = await SyncSampleTreeAsync();
        MasterDir.CreateFile("docs/fresh", "the marker never saw me");
        var docs = Changed("docs");

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(["docs/fresh"], Rsync.Sent);
        // Reading it would have stamped it (docs/master-loop.md, "The crawl"): the crawl never asked.
        Assert.Null(MasterXtime("docs/fresh"));
        Assert.Equal(docs, SlaveXtime("docs/fresh"));
        AssertSlaveMatchesMaster();

        // A change after the directory's xtime was read stamps the file later than its mark, so it goes again.
        File.WriteAllText(MasterDir.Combine("docs/fresh"), "changed since");
        Changed("docs/fresh");
        Rsync.ForgetSent();
        var next = await crawler.RunTurnAsync();
        Assert.Empty(next.Failures);
        Assert.Equal(["docs/fresh"], Rsync.Sent);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
    }

    [Fact]
    public async Task XtimesOlderThanTheVolumeMarkCountAsNeverIndexed()
    {
        await SyncSampleTreeAsync();
        var mark = NextXtime();

        var result = await GlusterCrawler(new CrawlerOptions { VolumeMark = mark }).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(SampleFiles, Rsync.Sent.Order(StringComparer.Ordinal));
        Assert.All(WalkMaster(".").Append("."), path => Assert.True(MasterXtime(path) >= mark, path));
        AssertSlaveXtimesMatchMaster();
    }

    [Fact]
    public async Task SpecialFilesAreReplicatedAndMarked()
    {
        BuildSampleTree();
        Assert.Equal(0, Syscall.mkfifo(MasterDir.Combine("docs/pipe"), FilePermissions.DEFFILEMODE));
        StampWholeMaster();

        var result = await GlusterCrawler().RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(1, result.SpecialFiles);
        Assert.Equal(0, Syscall.lstat(SlaveDir.Combine("docs/pipe"), out var slaveStat));
        Assert.Equal(FilePermissions.S_IFIFO, slaveStat.st_mode & FilePermissions.S_IFMT);
        Assert.Equal(MasterXtime("docs"), SlaveXtime("docs"));
        Assert.Equal(MasterXtime("."), SlaveXtime("."));
    }

    [Fact]
    public async Task ManyFilesPassThroughASmallPendingWindow()
    {
        for (var i = 0; i < 40; i++) MasterDir.CreateFile($"f{i:D2}", new string('z', i));
        MasterDir.CreateDirectory("sub");
        for (var i = 0; i < 10; i++) MasterDir.CreateFile($"sub/g{i}", "g");
        StampWholeMaster();

        var result = await GlusterCrawler(new CrawlerOptions { MaxPendingFiles = 2 }).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(50, result.FilesSynced);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
    }

    [Fact]
    public async Task ASmallPendingWindowReleasesTheBatchTheSyncerIsGathering()
    {
        for (var i = 0; i < 30; i++) MasterDir.CreateFile($"f{i:D2}", new string('y', i));
        MasterDir.CreateDirectory("sub");
        for (var i = 0; i < 10; i++) MasterDir.CreateFile($"sub/g{i}", "g");
        StampWholeMaster();
        // The batch would gather for a day and never reach its target: only the crawl's full window can release it.
        var rsync = new RsyncClient(new ProcessRunner(), new RsyncOptions(MasterDir.Path, new LocalDirectoryTarget(SlaveDir.Path)));
        await using var syncer = new Syncer(rsync, new SyncerOptions
        {
            SyncJobs = 2, TargetBatchFiles = 1000, BatchLinger = SyncerOptions.MaxBatchLinger, Clock = new ManualTimeProvider(),
        });

        var result = await GlusterCrawler(new CrawlerOptions { MaxPendingFiles = 3 }, syncer).RunTurnAsync()
            .WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Empty(result.Failures);
        Assert.Equal(40, result.FilesSynced);
        Assert.InRange(syncer.RsyncRuns, 40 / 3, 40);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
    }
}
