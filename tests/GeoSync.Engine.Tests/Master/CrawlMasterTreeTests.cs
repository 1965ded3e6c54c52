using GeoSync.Engine.Master;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>The master trees the crawl reads: listings, lstat, and (GlusterFS-style) xtimes.</summary>
public sealed class CrawlMasterTreeTests : IDisposable
{
    private static readonly Guid Volume = Guid.Parse("12345678-9abc-def0-1234-56789abcdef0");

    private readonly TempDirectory _dir = new("geosync-master-tree-");
    private readonly PosixXattrStore _xattrs = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ListsAndLstatsEntriesWithoutFollowingSymlinks()
    {
        _dir.CreateDirectory("d/sub");
        _dir.CreateFile("d/f", "abc");
        _dir.CreateSymlink("d/to-sub", "sub");
        var tree = new DirectoryMasterTree(_dir.Path);

        Assert.Equal(["f", "sub", "to-sub"], tree.Entries("d").Order(StringComparer.Ordinal));
        Assert.Equal(["d"], tree.Entries("."));
        Assert.Equal(EntryType.Symlink, tree.Lstat("d/to-sub")!.Type);
        Assert.Equal("sub", tree.Lstat("d/to-sub")!.LinkTarget);
        Assert.Equal(3, tree.Lstat("d/f")!.Size);
        Assert.Null(tree.Lstat("d/missing"));
        Assert.Null(tree.Xtimes);
    }

    [Fact]
    public void ListsWithStatsThroughTheOpenedDirectoryAsLstatAnswers()
    {
        _dir.CreateDirectory("d/sub");
        _dir.CreateFile("d/f", "abc");
        _dir.CreateSymlink("d/to-sub", "sub");
        var tree = new DirectoryMasterTree(_dir.Path);

        var entries = tree.EntriesWithStats("d").OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(["f", "sub", "to-sub"], entries.Select(e => e.Name));
        Assert.All(entries, e => Assert.Null(e.Failure));
        foreach (var entry in entries)
        {
            // Not the access time: reading a symlink's target may update it.
            var lstat = tree.Lstat("d/" + entry.Name)!;
            Assert.Equal((lstat.Type, lstat.Mode, lstat.Size, lstat.ModifyTimeNs, lstat.LinkTarget),
                (entry.Stat!.Type, entry.Stat.Mode, entry.Stat.Size, entry.Stat.ModifyTimeNs, entry.Stat.LinkTarget));
        }
        Assert.Equal("sub", entries[2].Stat!.LinkTarget);
        Assert.Equal(3, entries[0].Stat!.Size);
        Assert.Equal(["d"], tree.EntriesWithStats(".").Select(e => e.Name));
        Assert.Equal(20, Assert.Throws<GeoSyncMasterTreeException>(() => tree.EntriesWithStats("d/f")).Errno);
    }

    [Fact]
    public void AListingThatFailsNamesThePathAndErrno()
    {
        _dir.CreateFile("file");
        _dir.CreateDirectory("real");
        _dir.CreateSymlink("link", "real");
        var tree = new DirectoryMasterTree(_dir.Path);

        var missing = Assert.Throws<GeoSyncMasterTreeException>(() => tree.Entries("gone"));
        Assert.Equal(2, missing.Errno);
        Assert.Equal("gone", missing.Path);
        Assert.Contains("'gone'", missing.Message, StringComparison.Ordinal);
        Assert.Equal(20, Assert.Throws<GeoSyncMasterTreeException>(() => tree.Entries("file")).Errno);
        // A symlink to a directory is not listed through: the crawl replicates the link, not its target.
        Assert.Throws<GeoSyncMasterTreeException>(() => tree.Entries("link"));
    }

    [Fact]
    public void ARootThatIsNotADirectoryIsRefused()
    {
        var file = _dir.CreateFile("file");
        var ex = Assert.Throws<GeoSyncException>(() => new DirectoryMasterTree(file));
        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GlusterTreeReadsAndWritesXtimesWithTheErrnosOfNone()
    {
        _dir.CreateDirectory("d");
        _dir.CreateFile("f");
        var tree = new GlusterMasterTree(_dir.Path, Volume, _xattrs, XattrNames.TrustedNamespace);
        var xtimes = tree.Xtimes;

        Assert.Same(tree, xtimes);
        Assert.Equal(Volume, xtimes.VolumeId);
        Assert.True(xtimes.Read("d").IsUnstamped);
        Assert.Equal(2, xtimes.Read("missing").Errno);
        Assert.Equal(20, xtimes.Read("f/below").Errno);

        xtimes.Write("d", new Xtime(1700000001, 7));

        Assert.Equal(new Xtime(1700000001, 7), xtimes.Read("d").Value);
        Assert.Equal(new Xtime(1700000001, 7).ToBytes(), _xattrs.Get(_dir.Combine("d"), $"trusted.glusterfs.{Volume}.xtime"));
        _xattrs.Set(_dir.Combine("f"), $"trusted.glusterfs.{Volume}.xtime", [9, 9]);
        Assert.Contains("malformed", Assert.Throws<GeoSyncXattrException>(() => xtimes.Read("f")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACrawlerRunsOneTurnAtATime()
    {
        var gate = new TaskCompletionSource<FileSyncOutcome>();
        var syncer = new GateSyncer(gate.Task);
        _dir.CreateDirectory("master");
        _dir.CreateDirectory("slave");
        _dir.CreateFile("master/f");
        var server = new Engine.Slave.SlaveServer(_dir.Combine("slave"), _xattrs, XattrNames.TrustedNamespace);
        var crawler = new Crawler(new DirectoryMasterTree(_dir.Combine("master")), WireSlaveChannel.InProcess(server), syncer);

        var first = crawler.RunTurnAsync();
        await syncer.Added.Task;
        await Assert.ThrowsAsync<InvalidOperationException>(() => crawler.RunTurnAsync());
        gate.SetResult(FileSyncOutcome.Success);

        Assert.Equal(1, (await first).FilesSynced);
        Assert.Equal(1, crawler.TurnsCompleted);
    }

    [Fact]
    public void OptionsOutOfRangeAreRefused()
    {
        var tree = new DirectoryMasterTree(_dir.Path);
        var slave = new WireSlaveChannel((_, _, _) => Task.FromResult<object?>(null));
        var syncer = new GateSyncer(Task.FromResult(FileSyncOutcome.Success));

        Assert.Throws<ArgumentOutOfRangeException>(() => new Crawler(tree, slave, syncer, new CrawlerOptions { MaxPendingFiles = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Crawler(tree, slave, syncer, new CrawlerOptions { PersistentFailureAttempts = 0 }));
    }

    /// <summary>Answers every file with one shared outcome, and tells when the first file was added.</summary>
    private sealed class GateSyncer(Task<FileSyncOutcome> outcome) : IFileSyncer
    {
        public TaskCompletionSource Added { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<FileSyncOutcome> Add(string relativePath)
        {
            Added.TrySetResult();
            return outcome;
        }

        public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        // Holds nothing back: every file's outcome is the shared one.
        public void SendQueued()
        {
        }
    }
}
