using GeoSync.Engine.Master;

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
}
