using System.Collections.Concurrent;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// A GlusterFS master's crawl with the real <see cref="Syncer"/>: slave directories listed by type only
/// (<c>entry_types</c>), a directory the slave lacks sent whole and every entry rsync made below it marked in batches
/// (<c>set_xtimes</c>) with the xtime read before it was sent (docs/master-loop.md, "Whole new directories").
/// </summary>
public sealed class CrawlGlusterSlaveBatchTests : CrawlHarness
{
    private readonly ConcurrentQueue<SyncBatchReport> _runs = new();
    private Syncer? _syncer;

    private Syncer WholeSyncer() =>
        _syncer ??= new Syncer(
            new RsyncClient(new ProcessRunner(), new RsyncOptions(MasterDir.Path, new LocalDirectoryTarget(SlaveDir.Path))),
            new SyncerOptions { SyncJobs = 1 }, _runs.Enqueue);

    protected override void Dispose(bool disposing)
    {
        if (disposing && _syncer is not null) _syncer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    [Fact]
    public async Task AFirstSyncSendsNewDirectoriesWholeAndMarksEveryEntryInBatches()
    {
        BuildSampleTree();
        StampWholeMaster();
        var crawler = GlusterCrawler(syncer: WholeSyncer());

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        // Every entry got the xtime read before it was sent: here the one the whole tree was stamped with.
        AssertSlaveXtimesMatchMaster();
        Assert.Equal(6, result.FilesSynced);
        Assert.Equal(0, Slave.Count("mkdir"));
        Assert.Contains(_runs, run => run.Argv.Contains("--recursive"));
        // The three top directories went whole and were marked by set_xtimes; set_xtime only for the root's own files
        // (top.txt and the non-UTF-8 name), its two symlinks and the root itself.
        Assert.Equal(5, Slave.Count("set_xtime"));
        Assert.Contains("docs/deep/er/data.bin", Slave.MarkedInBatches);
        Assert.Contains("docs/link-abs", Slave.MarkedInBatches);
        Assert.Contains("empty", Slave.MarkedInBatches);
        Assert.Equal(Slave.MarkedInBatches.Count, Slave.MarkedInBatches.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(0, Slave.Count("lstat_entries"));

        _runs.Clear();
        var idle = await crawler.RunTurnAsync();
        Assert.Empty(idle.Failures);
        Assert.False(idle.ChangesSeen);
        Assert.Empty(_runs);
    }

    [Fact]
    public async Task AChangeBelowADirectorySentWholeIsFoundByItsXtimeNextTurn()
    {
        BuildSampleTree();
        StampWholeMaster();
        var crawler = GlusterCrawler(syncer: WholeSyncer());
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        _runs.Clear();
        Slave.Reset();

        WriteFile("docs/deep/er/data.bin", "changed");
        WriteFile("docs/deep/added.txt", "added");
        Changed("docs/deep/er/data.bin", "docs/deep/added.txt");

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
        Assert.Equal(2, result.FilesSynced);
        Assert.Equal(0, Slave.Count("set_xtimes"));
        // Listed by type only: the unchanged top directories are pruned, the changed ones listed without an lstat each.
        Assert.Equal(0, Slave.Count("lstat_entries"));
        Assert.Equal(4, Slave.Count("entry_types")); // ., docs, docs/deep, docs/deep/er
    }

    [Fact]
    public async Task ASlaveWithoutEntryTypesIsListedWithLstatEntriesAndAskedOnce()
    {
        Slave.Fault = (method, _) => method == "entry_types"
            ? new RemoteAttributeException(method, new PyException("exceptions", "AttributeError", new PyTuple("no entry_types")))
            : null;
        BuildSampleTree();
        StampWholeMaster();
        var crawler = GlusterCrawler();

        Assert.Empty((await crawler.RunTurnAsync()).Failures);

        AssertSlaveMatchesMaster();
        AssertSlaveXtimesMatchMaster();
        Assert.Equal(1, Slave.Count("entry_types"));
        Assert.True(Slave.Count("lstat_entries") > 1);
    }
}

/// <summary>The channel's <c>entry_types</c> and <c>set_xtimes</c> against slaves that have them and slaves that do not.</summary>
public sealed class SlaveChannelBatchTests
{
    private const string Uuid = "0f0e0d0c-0b0a-0908-0706-050403020100";

    private static RemoteAttributeException NoSuchMethod(string method) =>
        new(method, new PyException("exceptions", "AttributeError", new PyTuple($"'Server' object has no attribute '{method}'")));

    [Fact]
    public async Task WithoutSetXtimesEachPathGetsItsOwnSetXtimeAndTheAbsenceIsRemembered()
    {
        var calls = new List<(string Method, object? Path)>();
        var channel = new WireSlaveChannel((method, args, _) =>
        {
            calls.Add((method, args[0]));
            return method switch
            {
                "set_xtimes" => throw NoSuchMethod(method),
                "set_xtime" when (string)args[0]! == "gone" =>
                    throw new RemoteOsException(method, new PyException("exceptions", "OSError", new PyTuple(2L, "No such file or directory")), 2, "No such file or directory"),
                "set_xtime" => Task.FromResult<object?>(null),
                _ => throw new InvalidOperationException(method),
            };
        });

        var first = await channel.SetXtimesAsync(["a", "gone", "b"], Uuid, new Xtime(5, 6));
        var second = await channel.SetXtimesAsync(["c"], Uuid, new Xtime(5, 6));

        Assert.Null(first[0]);
        Assert.Equal(2, Assert.IsType<RemoteOsException>(first[1]).Errno);
        Assert.Null(first[2]);
        Assert.Equal([null], second);
        Assert.Equal(["set_xtimes", "set_xtime", "set_xtime", "set_xtime", "set_xtime"], calls.Select(c => c.Method));
        Assert.Equal(["a", "gone", "b", "c"], calls.Where(c => c.Method == "set_xtime").Select(c => c.Path));
    }

    [Fact]
    public async Task SetXtimesAnswersBecomeWhatEachSetXtimeWouldHaveRaised()
    {
        IReadOnlyList<object?>? sent = null;
        var channel = new WireSlaveChannel((method, args, _) =>
        {
            Assert.Equal("set_xtimes", method);
            sent = args;
            return Task.FromResult<object?>(new List<object?> { null, new PyTuple(20L, "Not a directory"), new PyTuple(0L, "unsafe path") });
        });

        var results = await channel.SetXtimesAsync(["a", "f/x", "link/x"], Uuid, new Xtime(7, 8));

        Assert.Null(results[0]);
        Assert.Equal(20, Assert.IsType<RemoteOsException>(results[1]).Errno);
        Assert.IsType<RemoteValueException>(results[2]);
        Assert.Equal(Uuid, sent![0]);
        Assert.Equal(new PyTuple("a", new PyTuple(7L, 8L)), Assert.IsType<List<object?>>(sent[1])[0]);
    }

    [Fact]
    public async Task AnAnswerOfTheWrongShapeIsAProtocolError()
    {
        var channel = new WireSlaveChannel((method, _, _) => Task.FromResult<object?>(method == "set_xtimes"
            ? new List<object?> { null }
            : new List<object?> { new PyTuple("name", 12345L) }));

        var listing = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => channel.EntryTypesAsync("dir"));
        Assert.Contains("entry_types('dir')", listing.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<GeoSyncProtocolException>(() => channel.SetXtimesAsync(["a", "b"], Uuid, new Xtime(1, 1)));
    }
}
