using GeoSync.Engine.Master;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// The crawl of a master distributed over two bricks as GlusterFS 10.3 answers it (docs/gluster-notes.md): a directory's
/// xtime read is one brick's, alternating, so it can be the brick that did not see the change.
/// </summary>
public sealed class CrawlDistributedMasterTests : CrawlHarness
{
    private Xtime _before;
    private Xtime _after;

    /// <summary>
    /// d/f, d/sub/g and top synced; then d/f changes on "brick A", which stamps d/f, d and the root. "Brick B" keeps the
    /// older xtime on both directories: the root answers A first, d answers B first, then each alternates.
    /// </summary>
    private async Task<AlternatingBrickTree> ChangeOnOneBrickAsync()
    {
        MasterDir.CreateDirectory("d/sub");
        WriteFile("d/f", "first");
        WriteFile("d/sub/g", "untouched");
        WriteFile("top", "untouched");
        _before = StampWholeMaster();
        var first = await GlusterCrawler().RunTurnAsync();
        Assert.True(first.Converged);
        AssertSlaveMatchesMaster();

        WriteFile("d/f", "second, on brick A");
        _after = Changed("d/f");
        Slave.Reset();
        Rsync.ForgetSent();
        var tree = new AlternatingBrickTree(GlusterMaster());
        tree.OtherBrick(".", _before, answersFirst: false);
        tree.OtherBrick("d", _before, answersFirst: true);
        return tree;
    }

    [Fact]
    public async Task PruningByAnOlderBricksAnswerLosesTheChange()
    {
        var tree = await ChangeOnOneBrickAsync();
        var crawler = new Crawler(tree, Slave, Rsync, WithLog(new CrawlerOptions { PruneByDirectoryXtime = true }));
        Assert.True(crawler.PrunesByDirectoryXtime);

        // The root answers the new xtime, d the old one: d is pruned, the root is marked as if all had arrived.
        var lost = await crawler.RunTurnAsync();
        Assert.True(lost.Converged);
        Assert.Empty(Rsync.Sent);
        Assert.Equal("first", File.ReadAllText(SlaveDir.Combine("d/f")));
        Assert.Equal(_after, SlaveXtime("."));

        // The root's next answer is the older brick's: behind its own slave mark.
        await Assert.ThrowsAsync<GeoSyncTimestampCorruptionException>(() => crawler.RunTurnAsync());

        // And the one after is pruned at the root: the change never arrives.
        var pruned = await crawler.RunTurnAsync();
        Assert.Equal(0, pruned.DirectoriesScanned);
        Assert.Equal("first", File.ReadAllText(SlaveDir.Combine("d/f")));
    }

    [Fact]
    public async Task WithoutPruningEveryTurnConvergesAndMarksNeverGoBack()
    {
        var tree = await ChangeOnOneBrickAsync();
        var crawler = new Crawler(tree, Slave, Rsync, WithLog(new CrawlerOptions { PruneByDirectoryXtime = false }));
        Assert.False(crawler.PrunesByDirectoryXtime);

        // d answers the older xtime, yet it is visited and its file is sent by the file's own xtime.
        var found = await crawler.RunTurnAsync();
        Assert.True(found.Converged);
        Assert.Equal(["d/f"], Rsync.Sent);
        AssertSlaveMatchesMaster();
        Assert.Equal(_after, SlaveXtime("."));
        Assert.Equal(_before, SlaveXtime("d")); // what d answered before its entries were read

        // The root now answers the older xtime: no corruption, and its mark stays; d answers the newer one and takes it.
        Rsync.ForgetSent();
        var next = await crawler.RunTurnAsync();
        Assert.True(next.Converged);
        // d's mark was the older brick's, so d/f is newer than it; but its own slave xtime, set when it was sent, covers it.
        Assert.Empty(Rsync.Sent);
        AssertSlaveMatchesMaster();
        Assert.Equal(_after, SlaveXtime("."));
        Assert.Equal(_after, SlaveXtime("d"));

        // In sync, whatever the bricks answer: every directory is listed, nothing is sent or marked.
        Rsync.ForgetSent();
        Slave.Reset();
        var quiet = await crawler.RunTurnAsync();
        Assert.True(quiet.Converged);
        Assert.False(quiet.ChangesSeen);
        Assert.Empty(Rsync.Sent);
        Assert.Equal(3, quiet.DirectoriesScanned);
        Assert.Equal(["entry_types", "xtime"], Slave.Calls.Select(c => c.Method).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(3, Slave.Count("xtime"));
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task WithoutPruningAChangeDeepBelowAnOlderAnswerIsFound()
    {
        var tree = await ChangeOnOneBrickAsync();
        WriteFile("d/sub/g", "changed on brick A too");
        var stamp = Changed("d/sub/g");
        // Every directory on the path answers the older brick first.
        tree.OtherBrick(".", _before, answersFirst: true);
        tree.OtherBrick("d", _before, answersFirst: true);
        tree.OtherBrick("d/sub", _before, answersFirst: true);
        var crawler = new Crawler(tree, Slave, Rsync, WithLog(new CrawlerOptions { PruneByDirectoryXtime = false }));

        var result = await crawler.RunTurnAsync();

        Assert.True(result.Converged);
        Assert.Equal(["d/f", "d/sub/g"], Rsync.Sent.Order(StringComparer.Ordinal));
        AssertSlaveMatchesMaster();
        Assert.Equal(stamp, SlaveXtime("d/sub/g"));
    }

    [Fact]
    public async Task ADirectoryMasterNeverPrunesByXtime()
    {
        await using var rsync = new CrawlRsyncSyncer(MasterDir.Path, SlaveDir.Path);
        Assert.False(DirectoryCrawler(syncer: rsync).PrunesByDirectoryXtime);
        Assert.True(GlusterCrawler(syncer: rsync).PrunesByDirectoryXtime);
    }

    /// <summary>
    /// A GlusterMasterTree whose chosen directories answer their xtime from two bricks in turn: the real xattr (the brick
    /// that saw the newest change) and a fixed older value (the other brick).
    /// </summary>
    private sealed class AlternatingBrickTree : IMasterTree, IMasterXtimes
    {
        private readonly GlusterMasterTree _inner;
        private readonly Dictionary<string, (Xtime Other, bool OtherNext)> _directories = new(StringComparer.Ordinal);
        private readonly object _lock = new();

        public AlternatingBrickTree(GlusterMasterTree inner) => _inner = inner;

        public string RootPath => _inner.RootPath;

        public IMasterXtimes Xtimes => this;

        public void EnsureVouched() => _inner.EnsureVouched();

        public Guid VolumeId => _inner.VolumeId;

        public void OtherBrick(string path, Xtime value, bool answersFirst)
        {
            lock (_lock) _directories[path] = (value, answersFirst);
        }

        public IReadOnlyList<string> Entries(string path) => _inner.Entries(path);

        public EntryStat? Lstat(string path) => _inner.Lstat(path);

        public XtimeReading Read(string path)
        {
            lock (_lock)
            {
                if (!_directories.TryGetValue(path, out var brick)) return _inner.Read(path);
                _directories[path] = brick with { OtherNext = !brick.OtherNext };
                return brick.OtherNext ? XtimeReading.Found(brick.Other) : _inner.Read(path);
            }
        }

        public void Write(string path, Xtime value) => _inner.Write(path, value);
    }
}
