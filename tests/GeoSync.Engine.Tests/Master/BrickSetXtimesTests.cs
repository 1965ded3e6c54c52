using GeoSync.Engine.Master;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// A master read on its bricks (docs/multi-brick.md): the layout from glusterd's XML, the merge per subvolume, and the
/// per-turn check that falls back to the mount when a brick is down or the layout changed — for several bricks and for a
/// volume of one brick, which is a layout of one set of one.
/// </summary>
public sealed class BrickSetXtimesTests : CrawlHarness
{
    private const string DistributedReplicateInfo = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/><volInfo><volumes><volume>
          <name>drvol</name><id>a175aef2-6bf6-40fc-9d2b-82f668b81b8d</id><status>1</status><brickCount>4</brickCount>
          <distCount>2</distCount><replicaCount>2</replicaCount><arbiterCount>0</arbiterCount><disperseCount>0</disperseCount>
          <redundancyCount>0</redundancyCount><type>7</type><typeStr>Distributed-Replicate</typeStr>
          <bricks>
            <brick uuid="c822">h1:/b/drvol-1<name>h1:/b/drvol-1</name><hostUuid>c822</hostUuid><isArbiter>0</isArbiter></brick>
            <brick uuid="c822">h1:/b/drvol-2<name>h1:/b/drvol-2</name><hostUuid>c822</hostUuid><isArbiter>0</isArbiter></brick>
            <brick uuid="c822">h2:/b/drvol-3<name>h2:/b/drvol-3</name><hostUuid>c822</hostUuid><isArbiter>0</isArbiter></brick>
            <brick uuid="c822">h2:/b/drvol-4<name>h2:/b/drvol-4</name><hostUuid>c822</hostUuid><isArbiter>1</isArbiter></brick>
          </bricks></volume><count>1</count></volumes></volInfo></cliOutput>
        """;

    private const string DisperseInfo = """
        <cliOutput><opRet>0</opRet><volInfo><volumes><volume>
          <name>ecvol</name><id>0e8e2c7a-3c89-4b83-a3a4-2f9f1e0c4d11</id><brickCount>3</brickCount><distCount>1</distCount>
          <replicaCount>1</replicaCount><disperseCount>3</disperseCount><redundancyCount>1</redundancyCount><typeStr>Disperse</typeStr>
          <bricks><brick><name>h:/b/ec-1</name></brick><brick><name>h:/b/ec-2</name></brick><brick><name>h:/b/ec-3</name></brick></bricks>
        </volume></volumes></volInfo></cliOutput>
        """;

    [Fact]
    public void TheLayoutComesFromTheVolumeInfo()
    {
        var dr = GlusterVolumeLayout.Parse(DistributedReplicateInfo, "drvol");
        Assert.Equal(Guid.Parse("a175aef2-6bf6-40fc-9d2b-82f668b81b8d"), dr.VolumeId);
        Assert.Equal(2, dr.SetSize);
        Assert.Equal("Distributed-Replicate", dr.Type);
        Assert.Equal(["h1:/b/drvol-1", "h1:/b/drvol-2"], dr.Subvolumes[0].Select(b => b.ToString()));
        Assert.Equal(["h2:/b/drvol-3", "h2:/b/drvol-4"], dr.Subvolumes[1].Select(b => b.ToString()));
        Assert.True(dr.Bricks[3].IsArbiter);

        var ec = GlusterVolumeLayout.Parse(DisperseInfo, "ecvol");
        Assert.Equal(3, ec.SetSize);
        Assert.Single(ec.Subvolumes);

        Assert.Throws<FormatException>(() => GlusterVolumeLayout.Parse(DisperseInfo, "other"));
        Assert.Throws<FormatException>(() => GlusterVolumeLayout.Parse(
            "<cliOutput><opRet>-1</opRet><opErrstr>Volume nope does not exist</opErrstr></cliOutput>", "nope"));
        Assert.Throws<FormatException>(() => GlusterVolumeLayout.Parse("not xml", "drvol"));
    }

    [Fact]
    public void TheStatusNamesEachBricksProcess()
    {
        var status = GlusterVolumeLayout.ParseStatus("""
            <cliOutput><opRet>0</opRet><volStatus><volumes><volume><volName>ecvol</volName>
              <node><hostname>h</hostname><path>/b/ec-1</path><status>1</status><pid>7970</pid></node>
              <node><hostname>h</hostname><path>/b/ec-2</path><status>0</status><pid>-1</pid></node>
              <node><hostname>Self-heal Daemon</hostname><path>localhost</path><status>1</status><pid>7925</pid></node>
            </volume></volumes></volStatus></cliOutput>
            """);
        Assert.Equal(new GlusterBrickStatus("h", "/b/ec-1", true, 7970), status[0]);
        Assert.Equal(new GlusterBrickStatus("h", "/b/ec-2", false, null), status[1]);
        Assert.Equal(3, status.Count);
    }

    [Fact]
    public void AnEntrysXtimeIsTheNewestOverTheBricksThatHoldIt()
    {
        using var bricks = new Bricks(this, 4);
        var older = NextXtime();
        var newer = NextXtime();
        bricks.Make(0, "dir", older);
        bricks.Make(1, "dir", older);
        bricks.Make(2, "dir", newer);
        bricks.Make(3, "dir", stamp: null);
        bricks.MakeFile(3, "dir/file", older);
        var set = bricks.Open(out _);

        Assert.True(set.BeginTurn(out var why), why);
        Assert.Equal(newer, set.TryRead("dir")!.Value.Value);
        Assert.Equal(older, set.TryRead("dir/file")!.Value.Value);
        // Held by no brick: the mount answers.
        Assert.Null(set.TryRead("nowhere"));

        bricks.Make(0, "unstamped", stamp: null);
        var unstamped = set.TryRead("unstamped")!.Value;
        Assert.True(unstamped.IsUnstamped);
    }

    [Fact]
    public void ATurnFallsBackWhenABrickIsDownOrTheLayoutChangedOrABrickLostItsVolume()
    {
        using var bricks = new Bricks(this, 2);
        var set = bricks.Open(out var refreshes);
        Assert.True(set.BeginTurn(out _));

        bricks.Down.Add(bricks.Paths[1]);
        Assert.False(set.BeginTurn(out var down));
        Assert.Contains("is down", down, StringComparison.Ordinal);
        Assert.True(SpinWait.SpinUntil(() => refreshes() >= 1, TimeSpan.FromSeconds(30)));

        // Back with a new pid: glusterd is asked again, and the next turn reads the bricks.
        bricks.Down.Clear();
        bricks.Pid = 4242;
        SpinWait.SpinUntil(() => refreshes() >= 1 && set.BeginTurn(out _), TimeSpan.FromSeconds(30));
        Assert.True(set.BeginTurn(out var back), back);

        Xattrs.Remove(bricks.Paths[0], BrickXtimes.VolumeIdName(Ns));
        Assert.False(set.BeginTurn(out var lost));
        Assert.Contains("no longer carries the volume's id", lost, StringComparison.Ordinal);
        Xattrs.Set(bricks.Paths[0], BrickXtimes.VolumeIdName(Ns), VolumeId.ToByteArray(bigEndian: true));
        Assert.True(set.BeginTurn(out _));

        bricks.Stamp = "version=4";
        Assert.False(set.BeginTurn(out var changed));
        Assert.Contains("changed", changed, StringComparison.Ordinal);
    }

    [Fact]
    public void AfterTheSessionOpensAndAfterABrickRestartsOneTurnListsThroughTheMount()
    {
        using var bricks = new Bricks(this, 2);
        var set = bricks.Open(out var refreshes);
        set.ListThroughMountNextTurn("the session has just opened");
        Assert.False(set.BeginTurn(out var opened, out var relinking));
        Assert.True(relinking);
        Assert.StartsWith("the session has just opened; its lookups by name make each brick link its directories again", opened, StringComparison.Ordinal);
        Assert.True(set.BeginTurn(out var whole, out relinking), whole);
        Assert.False(relinking);

        // Down: a fallback, not a relink; back under a new pid: one relinking turn, then the bricks again.
        bricks.Down.Add(bricks.Paths[1]);
        Assert.False(set.BeginTurn(out _, out relinking));
        Assert.False(relinking);
        Assert.True(SpinWait.SpinUntil(() => refreshes() >= 1, TimeSpan.FromSeconds(30)));
        bricks.Down.Clear();
        bricks.Pid = 4242;
        var relinked = false;
        Assert.True(SpinWait.SpinUntil(() =>
        {
            var read = set.BeginTurn(out var why, out var again);
            if (again)
            {
                relinked = true;
                Assert.Contains("runs as a new process (pid 4242)", why, StringComparison.Ordinal);
            }
            return read;
        }, TimeSpan.FromSeconds(30)));
        Assert.True(relinked, "the first turn with the restarted brick up lists through the mount");
        Assert.True(set.BeginTurn(out _, out relinking));
        Assert.False(relinking);
    }

    [Fact]
    public void ABrickOnAnotherHostMeansNoBrickReading()
    {
        using var bricks = new Bricks(this, 2);
        var layout = GlusterVolumeLayout.Parse(bricks.Info().Replace(bricks.Paths[1], "/no/such/brick", StringComparison.Ordinal), "vol");
        Assert.Null(BrickSetXtimes.TryOpen(layout, [], Xattrs, Ns, () => "v", null, null, out var why));
        Assert.Contains("/no/such/brick", why, StringComparison.Ordinal);
        Assert.Null(BrickSetXtimes.TryOpen(GlusterVolumeLayout.Parse(bricks.Info(), "vol"), [], Xattrs, Ns, () => null, null, null, out var noStamp));
        Assert.Contains("stored info", noStamp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChangeOnOneSubvolumeIsFoundByPruningOnTheMergedXtimesAndABrickDownListsEverything()
    {
        BuildSampleTree();
        var initial = StampWholeMaster();
        using var bricks = new Bricks(this, 4);
        foreach (var brick in Enumerable.Range(0, 4))
        {
            foreach (var dir in new[] { "docs", "docs/deep", "docs/deep/er", "empty", "private" }) bricks.Make(brick, dir, initial);
            bricks.Make(brick, ".", initial);
        }
        var set = bricks.Open(out _);
        var options = new CrawlerOptions { PruneByDirectoryXtime = false, LocalBricks = set };
        Assert.Empty((await GlusterCrawler(options).RunTurnAsync()).Failures);
        Rsync.ForgetSent();
        Slave.Reset();

        // The mount (the master directory here) answers one subvolume's old xtimes; the change is stamped on brick 3 only.
        WriteFile("docs/deep/er/data.bin", "changed on the second subvolume");
        var stamp = NextXtime();
        foreach (var dir in new[] { ".", "docs", "docs/deep", "docs/deep/er" }) bricks.Make(2, dir, stamp);
        bricks.MakeFile(2, "docs/deep/er/data.bin", stamp);

        var result = await GlusterCrawler(options).RunTurnAsync();
        Assert.Empty(result.Failures);
        Assert.Equal(["docs/deep/er/data.bin"], Rsync.Sent);
        // Pruned on the merged xtimes: the root, docs, docs/deep, docs/deep/er only.
        Assert.Equal(4, result.DirectoriesScanned);
        Assert.Equal(stamp, SlaveXtime("docs/deep/er"));
        Assert.Contains(Log, entry => entry.Message.Contains("read on the volume's 4 bricks", StringComparison.Ordinal));
        Rsync.ForgetSent();

        // A brick down: that turn lists every directory through the mount, and says so.
        bricks.Down.Add(bricks.Paths[1]);
        var fallback = await GlusterCrawler(options).RunTurnAsync();
        Assert.Empty(fallback.Failures);
        Assert.Equal(6, fallback.DirectoriesScanned);
        Assert.Contains(Log, entry => entry.Level == CrawlLogLevel.Warning && entry.Message.Contains("is down", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OneBrickIsASetOfOneReadThereWithTheMountAnsweringWhatTheBrickLacks()
    {
        BuildSampleTree();
        StampWholeMaster();
        Assert.Empty((await GlusterCrawler().RunTurnAsync()).Failures);
        Rsync.ForgetSent();
        Slave.Reset();

        // A change the brick's marker stamped; the mount (the master directory here) still answers the old stamps.
        WriteFile("docs/deep/er/data.bin", "changed deep down");
        using var bricks = new Bricks(this, 1);
        var stamp = NextXtime();
        foreach (var dir in new[] { ".", "docs", "docs/deep", "docs/deep/er" }) bricks.Make(0, dir, stamp);
        bricks.MakeFile(0, "docs/deep/er/data.bin", stamp);

        var throughMount = await GlusterCrawler().RunTurnAsync();
        Assert.Empty(throughMount.Failures);
        Assert.Empty(Rsync.Sent);

        var set = bricks.Open(out _);
        Assert.Equal(1, set.Layout.SetSize);
        Assert.Single(set.Layout.Subvolumes);
        var options = new CrawlerOptions { LocalBricks = set };
        var crawler = GlusterCrawler(options);
        Assert.Same(set, Assert.IsType<XtimeDescent>(crawler.Detector).Bricks);
        var result = await crawler.RunTurnAsync();

        // Entries the brick lacks (top.txt, empty/, ...) were answered by the mount: unchanged, so not sent.
        Assert.Empty(result.Failures);
        Assert.Equal(["docs/deep/er/data.bin"], Rsync.Sent);
        Assert.Equal(stamp, SlaveXtime("docs/deep/er"));
        Assert.Contains(Log, entry => entry.Message.Contains("read on the volume's one brick", StringComparison.Ordinal));
        Rsync.ForgetSent();
        // The mount answers what the brick holds (the harness's mount lagged only to prove where the reads went).
        foreach (var path in new[] { ".", "docs", "docs/deep", "docs/deep/er", "docs/deep/er/data.bin" }) Stamp(path, stamp);

        // Its pid gone (a restart under a new pid), the brick down, or glusterd's stored info changed: that turn reads
        // through the mount and says why; a restarted brick is read again once glusterd names its new pid.
        bricks.Pid = 4242;
        Assert.Empty((await GlusterCrawler(options).RunTurnAsync()).Failures);
        Assert.Contains(Log, entry => entry.Level == CrawlLogLevel.Warning && entry.Message.Contains("is down", StringComparison.Ordinal));
        Assert.True(SpinWait.SpinUntil(() => set.BeginTurn(out _), TimeSpan.FromSeconds(30)), "a restarted brick is read again");
        bricks.Down.Add(bricks.Paths[0]);
        Assert.False(set.BeginTurn(out var down));
        Assert.Contains("is down", down, StringComparison.Ordinal);
        bricks.Down.Clear();
        bricks.Stamp = "version=4";
        Assert.Empty((await GlusterCrawler(options).RunTurnAsync()).Failures);
        Assert.Contains(Log, entry => entry.Level == CrawlLogLevel.Warning &&
            entry.Message.Contains("stored info of the volume changed", StringComparison.Ordinal));
        // Through the mount the old stamps say unchanged, and pruning by them is still sound for one subvolume.
        Assert.Empty(Rsync.Sent);
    }

    [Fact]
    public void ABrickMustCarryTheVolumesIdToBeReadAsItsBrick()
    {
        using var dir = new TempDirectory("geosync-brick-");
        Assert.Null(BrickXtimes.TryOpen(dir.Path, VolumeId, Xattrs, Ns, out var none));
        Assert.Contains("does not carry volume", none, StringComparison.Ordinal);

        Xattrs.Set(dir.Path, BrickXtimes.VolumeIdName(Ns), Guid.NewGuid().ToByteArray(bigEndian: true));
        Assert.Null(BrickXtimes.TryOpen(dir.Path, VolumeId, Xattrs, Ns, out _));

        Assert.Null(BrickXtimes.TryOpen(Path.Combine(dir.Path, "absent"), VolumeId, Xattrs, Ns, out var absent));
        Assert.Contains("not a directory on this host", absent, StringComparison.Ordinal);

        Xattrs.Set(dir.Path, BrickXtimes.VolumeIdName(Ns), VolumeId.ToByteArray(bigEndian: true));
        Assert.Equal(dir.Path, BrickXtimes.TryOpen(dir.Path, VolumeId, Xattrs, Ns, out _)!.BrickPath);
    }

    /// <summary>Brick directories of the harness's volume, with a fake glusterd around them.</summary>
    private sealed class Bricks : IDisposable
    {
        private readonly BrickSetXtimesTests _test;
        private readonly List<TempDirectory> _dirs = [];

        public Bricks(BrickSetXtimesTests test, int count)
        {
            _test = test;
            for (var i = 0; i < count; i++)
            {
                var dir = new TempDirectory("geosync-brick-");
                _dirs.Add(dir);
                test.Xattrs.Set(dir.Path, BrickXtimes.VolumeIdName(Ns), test.VolumeId.ToByteArray(bigEndian: true));
            }
        }

        public List<string> Paths => [.. _dirs.Select(d => d.Path)];
        public HashSet<string> Down { get; } = [];
        public int Pid { get; set; } = 1000;
        public string Stamp { get; set; } = "version=3";

        public string Info() =>
            $"<cliOutput><opRet>0</opRet><volInfo><volumes><volume><name>vol</name><id>{_test.VolumeId}</id>" +
            (_dirs.Count == 1 ? "<replicaCount>1</replicaCount><disperseCount>0</disperseCount><typeStr>Distribute</typeStr><bricks>"
                : "<replicaCount>2</replicaCount><disperseCount>0</disperseCount><typeStr>Distributed-Replicate</typeStr><bricks>") +
            string.Concat(Paths.Select(p => $"<brick><name>h:{p}</name></brick>")) + "</bricks></volume></volumes></volInfo></cliOutput>";

        public BrickSetXtimes Open(out Func<int> refreshes)
        {
            var layout = GlusterVolumeLayout.Parse(Info(), "vol");
            var count = 0;
            var opened = BrickSetXtimes.TryOpen(layout, Status(), _test.Xattrs, Ns, () => Stamp,
                (pid, path) => pid == Pid && !Down.Contains(path),
                () =>
                {
                    Interlocked.Increment(ref count);
                    return Task.FromResult<IReadOnlyList<GlusterBrickStatus>?>(Status());
                }, out var why);
            Assert.True(opened is not null, why);
            refreshes = () => Volatile.Read(ref count);
            return opened;
        }

        public void Make(int brick, string dir, Xtime? stamp)
        {
            var full = dir == "." ? Paths[brick] : Path.Combine(Paths[brick], dir);
            Directory.CreateDirectory(full);
            if (stamp is Xtime x) _test.Xattrs.Set(full, _test.XtimeName, x.ToBytes());
        }

        public void MakeFile(int brick, string file, Xtime stamp)
        {
            var full = Path.Combine(Paths[brick], file);
            File.WriteAllText(full, "");
            _test.Xattrs.Set(full, _test.XtimeName, stamp.ToBytes());
        }

        public void Dispose()
        {
            foreach (var dir in _dirs) dir.Dispose();
        }

        private List<GlusterBrickStatus> Status() => [.. Paths.Select(p => new GlusterBrickStatus("h", p, !Down.Contains(p), Pid))];
    }
}
