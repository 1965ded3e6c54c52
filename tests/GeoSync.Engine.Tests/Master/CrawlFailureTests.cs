using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>Failures: they block every ancestor's mark, are retried each turn, and become persistent — never skipped silently.</summary>
public sealed class CrawlFailureTests : CrawlHarness
{
    private const string Stuck = "docs/deep/er/data.bin";

    private async Task<Crawler> SyncSampleTreeAsync(IFileSyncer? syncer = null)
    {
        BuildSampleTree();
        StampWholeMaster();
        var crawler = GlusterCrawler(syncer: syncer);
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        Slave.Reset();
        Rsync.ForgetSent();
        return crawler;
    }

    [Fact]
    public async Task AFailingFileBlocksEveryAncestorsMarkIsRetriedAndBecomesPersistent()
    {
        var failing = false;
        var attempts = 0;
        var syncer = new InterceptingSyncer(Rsync, path =>
        {
            if (path != Stuck || !failing) return null;
            attempts++;
            return FileSyncOutcome.Failed("injected: the slave brick refused the write");
        });
        var crawler = await SyncSampleTreeAsync(syncer);
        var before = new[] { ".", "docs", "docs/deep", "docs/deep/er" }.ToDictionary(p => p, SlaveXtime);
        failing = true;

        File.WriteAllText(MasterDir.Combine(Stuck), "changed data");
        File.WriteAllText(MasterDir.Combine("docs/readme.md"), "changed readme");
        var change = Changed(Stuck, "docs/readme.md");

        for (var turn = 1; turn <= 3; turn++)
        {
            var result = await crawler.RunTurnAsync();

            var failure = Assert.Single(result.Failures);
            Assert.Equal(Stuck, failure.Path);
            Assert.Equal(turn, failure.Attempts);
            Assert.Equal(turn >= 3, failure.IsPersistent);
            Assert.Contains("injected: the slave brick refused the write", failure.Reason, StringComparison.Ordinal);
            Assert.False(result.Converged);
            Assert.Equal(turn, attempts);
            // The file and all its ancestors keep their old slave xtimes, so the next turn comes back for it.
            Assert.Equal(before["docs/deep/er"], SlaveXtime("docs/deep/er"));
            Assert.Equal(before["docs/deep"], SlaveXtime("docs/deep"));
            Assert.Equal(before["docs"], SlaveXtime("docs"));
            Assert.Equal(before["."], SlaveXtime("."));
            Assert.NotEqual(change, SlaveXtime(Stuck));
            // Its sibling's change arrived and is marked.
            Assert.Equal(change, SlaveXtime("docs/readme.md"));
        }
        Assert.Contains(Log, l => l.Level == CrawlLogLevel.Error && l.Message.Contains(Stuck, StringComparison.Ordinal) && l.Message.Contains("persistent", StringComparison.Ordinal));

        failing = false;
        var healed = await crawler.RunTurnAsync();

        Assert.Empty(healed.Failures);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
        Assert.Equal(5, crawler.TurnsCompleted); // the initial sync, three failing turns, the healing one
    }

    [Fact]
    public async Task AChildWhoseMasterXtimeCannotBeReadBlocksItsParent()
    {
        var crawler = await SyncSampleTreeAsync();
        File.WriteAllText(MasterDir.Combine("docs/readme.md"), "changed readme");
        Changed("docs/readme.md", "docs/deep/note");
        // Unreadable: not the 8 bytes of an xtime. 3.3 only warned and marked the parent anyway (docs/gsyncd-flaws.md, #9).
        Xattrs.Set(MasterFull("docs/deep/note"), XtimeName, [1, 2, 3]);
        var deepBefore = SlaveXtime("docs/deep");

        var result = await crawler.RunTurnAsync();

        var failure = Assert.Single(result.Failures);
        Assert.Equal("docs/deep/note", failure.Path);
        Assert.Contains("irregular xtime", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("malformed", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(deepBefore, SlaveXtime("docs/deep"));
        Assert.NotEqual(MasterXtime("docs"), SlaveXtime("docs"));
        Assert.NotEqual(MasterXtime("."), SlaveXtime("."));
        Assert.Equal(MasterXtime("docs/readme.md"), SlaveXtime("docs/readme.md"));

        Stamp("docs/deep/note", Changed("docs/deep"));
        var healed = await crawler.RunTurnAsync();

        Assert.Empty(healed.Failures);
        AssertSlaveXtimesMatchMaster();
    }

    [Fact]
    public async Task AFileVanishingBeforeRsyncIsRetriedAndItsRemovalPropagated()
    {
        var vanish = false;
        var syncer = new InterceptingSyncer(Rsync, path =>
        {
            if (path == "docs/readme.md" && vanish) File.Delete(MasterDir.Combine(path));
            return null; // rsync still gets it, and finds it gone (exit 24)
        });
        var crawler = await SyncSampleTreeAsync(syncer);
        File.WriteAllText(MasterDir.Combine("docs/readme.md"), "about to vanish");
        Changed("docs/readme.md");
        vanish = true;

        var result = await crawler.RunTurnAsync();

        var failure = Assert.Single(result.Failures);
        Assert.Equal("docs/readme.md", failure.Path);
        // rsync says 23 when the name is gone before it starts, 24 when the file goes during the transfer.
        Assert.Matches("returned with 2[34]", failure.Reason);
        Assert.Contains("docs/readme.md\" failed: No such file or directory", failure.Reason, StringComparison.Ordinal);
        Assert.NotEqual(MasterXtime("docs"), SlaveXtime("docs"));

        vanish = false;
        var healed = await crawler.RunTurnAsync();

        Assert.Empty(healed.Failures);
        Assert.Equal(1, healed.EntriesPurged);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
    }

    [Fact]
    public async Task AFailedSetattrKeepsTheDirectoryAndItsAncestorsUnmarked()
    {
        var crawler = await SyncSampleTreeAsync();
        File.WriteAllText(MasterDir.Combine("docs/deep/note"), "changed");
        Changed("docs/deep/note");
        Slave.Fault = (method, path) => method == "setattr" && path == "docs/deep" ? SlaveOsError(method, 1) : null;

        var result = await crawler.RunTurnAsync();

        var failure = Assert.Single(result.Failures);
        Assert.Equal("docs/deep", failure.Path);
        Assert.Contains("call (setattr) failed on peer with OSError: 1", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(MasterXtime("docs/deep/note"), SlaveXtime("docs/deep/note"));
        Assert.NotEqual(MasterXtime("docs/deep"), SlaveXtime("docs/deep"));
        Assert.NotEqual(MasterXtime("docs"), SlaveXtime("docs"));
        Assert.NotEqual(MasterXtime("."), SlaveXtime("."));

        Slave.Fault = null;
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        AssertSlaveXtimesMatchMaster();
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task ASlaveSessionGoingDownEndsTheTurnAndTheNextTurnRecovers()
    {
        var crawler = await SyncSampleTreeAsync();
        File.WriteAllText(MasterDir.Combine("docs/readme.md"), "changed");
        File.WriteAllText(MasterDir.Combine("private/secret"), "changed");
        Changed("docs/readme.md", "private/secret");
        Slave.Fault = (method, path) => method == "set_xtime" && path == "docs/readme.md" ? SlaveOsError(method, 107) : null;

        var ex = await Assert.ThrowsAsync<GeoSyncSlaveUnavailableException>(() => crawler.RunTurnAsync());
        Assert.Equal(107, Assert.IsType<RemoteOsException>(ex.InnerException).Errno);
        Assert.Equal(1, crawler.TurnsCompleted);
        Assert.NotEqual(MasterXtime("."), SlaveXtime("."));

        Slave.Fault = null;
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
    }

    [Fact]
    public async Task ASyncerThatCannotWorkAtAllEndsTheTurn()
    {
        var broken = new GeoSyncRsyncException("rsync exited with 12 (protocol data stream error)", ["rsync"], 12, "");
        var syncer = new InterceptingSyncer(Rsync, path => throw broken);
        BuildSampleTree();
        StampWholeMaster();
        var crawler = GlusterCrawler(syncer: syncer);

        Assert.Same(broken, await Assert.ThrowsAsync<GeoSyncRsyncException>(() => crawler.RunTurnAsync()));
        Assert.Equal(0, crawler.TurnsCompleted);
        Assert.Null(SlaveXtime("."));
    }

    [Fact]
    public async Task ACancelledTurnStopsAndTheNextTurnCompletesTheWork()
    {
        using var cancel = new CancellationTokenSource();
        var syncer = new InterceptingSyncer(Rsync, path =>
        {
            if (path == "docs/readme.md") cancel.Cancel();
            return null;
        });
        BuildSampleTree();
        StampWholeMaster();
        var crawler = GlusterCrawler(new CrawlerOptions { ShuffleEntries = false }, syncer);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => crawler.RunTurnAsync(cancel.Token));
        Assert.Equal(0, crawler.TurnsCompleted);
        Assert.Null(SlaveXtime("."));

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
    }

    [Fact]
    public async Task AnUnreachableRootIsAFailureNotACrash()
    {
        BuildSampleTree();
        StampWholeMaster();
        Slave.Fault = (method, path) => method == "xtime" && path == "." ? SlaveOsError(method, 13) : null;
        var crawler = GlusterCrawler();

        var result = await crawler.RunTurnAsync();

        var failure = Assert.Single(result.Failures);
        Assert.Equal(".", failure.Path);
        Assert.Contains("cannot read the slave's xtime", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(0, result.FilesSynced);
        Assert.Equal(new Xtime?(), SlaveXtime("."));
    }

    [Fact]
    public void FailuresAndHeldPurgesReadAsOneLineForPeopleNotAsRecordDumps()
    {
        Assert.Equal("a/b.txt (1 turn): No space left on device",
            new CrawlFailure("a/b.txt", "No space left on device", 1, IsPersistent: false).ToString());
        Assert.Equal("a/b.txt (3 turns, persistent): No space left on device",
            new CrawlFailure("a/b.txt", "No space left on device", 3, IsPersistent: true) { Errno = 28 }.ToString());
        Assert.Equal("photos/2023: purge of 412 of 500 slave entries held back", new HeldPurge("photos/2023", 412, 500).ToString());
    }
}
