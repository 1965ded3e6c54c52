using GeoSync.Engine.Master;
using GeoSync.Engine.Tests.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// The xtime descent as a detector of its own (docs/master-loop.md, "Change detection"). The crawl's behaviour on a
/// GlusterFS master is in <see cref="CrawlXtimeTests"/>, <see cref="CrawlDistributedMasterTests"/> and
/// <see cref="CrawlCoherentReadTests"/>; these pin which detector a crawler gets and what only this detector sees.
/// </summary>
public sealed class XtimeDescentTests : CrawlHarness
{
    [Fact]
    public void AGlusterMasterGetsTheXtimeDescent()
    {
        Assert.IsType<XtimeDescent>(GlusterCrawler().Detector);
        Assert.IsType<XtimeDescent>(GlusterCrawler(new CrawlerOptions { PruneByDirectoryXtime = false }).Detector);
    }

    [Fact]
    public async Task OnlyAStampedChangeIsSeenAndTheWalkGoesOnlyWhereTheStampsLead()
    {
        BuildSampleTree();
        StampWholeMaster();
        Assert.Empty((await new Crawler(GlusterMaster(), Slave, Rsync, WithLog(null), new XtimeDescent(GlusterMaster().Xtimes!, prune: true))
            .RunTurnAsync()).Failures);
        Rsync.ForgetSent();
        Slave.Reset();

        // Two changes, only one of them stamped by the marker: the descent trusts the xtimes alone.
        WriteFile("top.txt", "changed at the top level");
        WriteFile("docs/deep/er/data.bin", "changed deep down");
        Changed("docs/deep/er/data.bin");
        var result = await new Crawler(GlusterMaster(), Slave, Rsync, WithLog(null), new XtimeDescent(GlusterMaster().Xtimes!, prune: true))
            .RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(["docs/deep/er/data.bin"], Rsync.Sent);
        // The stamped path only: the root, docs, docs/deep, docs/deep/er — never empty/ or private/.
        Assert.Equal(4, result.DirectoriesScanned);
        Assert.DoesNotContain(Slave.Calls, call => call.Path is "empty" or "private");
    }

    [Fact]
    public async Task WithALocalBrickTheXtimesAreReadThereAndTheMountAnswersWhatTheBrickLacks()
    {
        BuildSampleTree();
        StampWholeMaster();
        Assert.Empty((await GlusterCrawler().RunTurnAsync()).Failures);
        Rsync.ForgetSent();
        Slave.Reset();

        // A change the brick's marker stamped; the mount (the master directory here) still answers the old stamps.
        WriteFile("docs/deep/er/data.bin", "changed deep down");
        using var brickDir = new TempDirectory("geosync-brick-");
        Xattrs.Set(brickDir.Path, BrickXtimes.VolumeIdName(Ns), VolumeId.ToByteArray(bigEndian: true));
        var stamp = NextXtime();
        foreach (var path in new[] { ".", "docs", "docs/deep", "docs/deep/er" })
        {
            Directory.CreateDirectory(Path.Combine(brickDir.Path, path));
            Xattrs.Set(Path.Combine(brickDir.Path, path), XtimeName, stamp.ToBytes());
        }
        File.WriteAllText(Path.Combine(brickDir.Path, "docs/deep/er/data.bin"), "changed deep down");
        Xattrs.Set(Path.Combine(brickDir.Path, "docs/deep/er/data.bin"), XtimeName, stamp.ToBytes());

        var throughMount = await GlusterCrawler().RunTurnAsync();
        Assert.Empty(throughMount.Failures);
        Assert.Empty(Rsync.Sent);

        var brick = BrickXtimes.TryOpen(brickDir.Path, VolumeId, Xattrs, Ns, out var why);
        Assert.True(brick is not null, why);
        var crawler = GlusterCrawler(new CrawlerOptions { LocalBrick = brick });
        Assert.Same(brick, Assert.IsType<XtimeDescent>(crawler.Detector).Brick);
        var result = await crawler.RunTurnAsync();

        // Entries the brick lacks (top.txt, empty/, ...) were answered by the mount: unchanged, so not sent.
        Assert.Empty(result.Failures);
        Assert.Equal(["docs/deep/er/data.bin"], Rsync.Sent);
        Assert.Equal(stamp, SlaveXtime("docs/deep/er"));
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
}
