using GeoSync.Engine.Master;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// The full comparison as a detector of its own (docs/master-loop.md, "Change detection"). The crawl's behaviour on a
/// directory master is in <see cref="CrawlDirectoryMasterTests"/>; these pin which detector a crawler gets and that the
/// comparison finds what differs whatever the master's xtimes say.
/// </summary>
public sealed class FullComparisonTests : CrawlHarness
{
    [Fact]
    public void ADirectoryMasterGetsTheFullComparison() => Assert.IsType<FullComparison>(DirectoryCrawler().Detector);

    [Fact]
    public async Task FindsAChangeTheXtimesDoNotShowAndVisitsEveryDirectory()
    {
        BuildSampleTree();
        StampWholeMaster();
        Assert.Empty((await GlusterCrawler().RunTurnAsync()).Failures);
        Rsync.ForgetSent();

        // Not stamped: the xtime descent cannot see it, a comparison of the entries does.
        WriteFile("private/secret", "rewritten without the marker");
        Assert.Equal(0, (await GlusterCrawler().RunTurnAsync()).FilesSynced);
        var result = await new Crawler(GlusterMaster(), Slave, Rsync, WithLog(null), new FullComparison()).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(["private/secret"], Rsync.Sent);
        Assert.Equal(6, result.DirectoriesScanned);
        AssertSlaveMatchesMaster();
    }
}
