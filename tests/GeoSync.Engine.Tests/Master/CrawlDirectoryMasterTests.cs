using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Master;

/// <summary>The directory master (<c>file:///path</c>): no xtimes anywhere, entries compared with the slave's lstat.</summary>
public sealed class CrawlDirectoryMasterTests : CrawlHarness
{
    private const int SampleDirectories = 6; // the root, docs, docs/deep, docs/deep/er, empty, private

    private async Task<Crawler> SyncSampleTreeAsync()
    {
        BuildSampleTree();
        var crawler = DirectoryCrawler();
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        Slave.Reset();
        Rsync.ForgetSent();
        return crawler;
    }

    [Fact]
    public async Task ConvergesTheTreeWithoutAnyXtime()
    {
        BuildSampleTree();

        var result = await DirectoryCrawler().RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        Assert.Equal(6, result.FilesSynced);
        Assert.Equal(8, result.EntriesCreated);
        Assert.Equal(SampleDirectories, result.DirectoriesScanned);
        Assert.Equal(0, Slave.Count("xtime") + Slave.Count("set_xtime"));
        Assert.All(WalkMaster(".").Append("."), path => Assert.Null(MasterXtime(path)));
        Assert.All(WalkSlave(".").Append("."), path => Assert.DoesNotContain(Xattrs.List(SlaveFull(path)), n => n.EndsWith(".xtime", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ASecondTurnResendsNothing()
    {
        await SyncSampleTreeAsync();

        var result = await DirectoryCrawler().RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Empty(Rsync.Sent);
        Assert.Equal(0, result.FilesSynced);
        Assert.False(result.ChangesSeen);
        Assert.Equal(SampleDirectories, result.DirectoriesScanned);
        // One listing per directory and nothing else: no setattr, no mkdir, no purge.
        Assert.Equal(SampleDirectories, Slave.Count("lstat_entries"));
        Assert.Equal(SampleDirectories, Slave.Total);
    }

    [Fact]
    public async Task ChangesArePropagatedAndOnlyChangedFilesAreResent()
    {
        var crawler = await SyncSampleTreeAsync();

        // Same size, new mtime: rsync's quick check and this comparison both see it.
        File.WriteAllText(MasterDir.Combine("top.txt"), "TOP LEVEL");
        Assert.Equal(0, Syscall.chmod(MasterDir.Combine("docs/readme.md"), (FilePermissions)0b111_100_100));
        Assert.Equal(0, Syscall.lchown(MasterDir.Combine("private/secret"), 99, 98));
        File.Delete(MasterDir.Combine("docs/deep/note"));
        File.Move(MasterDir.Combine("docs/deep/er/data.bin"), MasterDir.Combine("docs/data.moved"));
        MasterDir.CreateDirectory("n/e/s/t");
        MasterDir.CreateFile("n/e/s/t/ed", "nested");
        Assert.Equal(0, Syscall.chmod(MasterDir.Combine("empty"), (FilePermissions)0b111_111_000));
        File.Delete(MasterDir.Combine("link-rel"));
        MasterDir.CreateSymlink("link-rel", "top.txt");

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        Assert.Equal(
            ["docs/data.moved", "docs/readme.md", "n/e/s/t/ed", "private/secret", "top.txt"],
            Rsync.Sent.Order(StringComparer.Ordinal));
        Assert.Equal(2, result.EntriesPurged); // note, data.bin
        Assert.Equal(4 + 1, result.EntriesCreated); // n, n/e, n/e/s, n/e/s/t; the new link-rel

        Slave.Reset();
        Rsync.ForgetSent();
        var quiet = await crawler.RunTurnAsync();
        Assert.Empty(Rsync.Sent);
        Assert.False(quiet.ChangesSeen);
        Assert.Equal(0, Slave.Count("setattr"));
    }

    [Fact]
    public async Task DriftOnTheSlaveIsRepaired()
    {
        var crawler = await SyncSampleTreeAsync();
        File.Delete(SlaveDir.Combine("top.txt"));
        File.WriteAllText(SlaveDir.Combine("docs/readme.md"), "edited on the slave, which it must not be");
        SlaveDir.CreateFile("docs/stray", "only on the slave");
        Directory.Delete(SlaveDir.Combine("docs/deep/er"), recursive: true);
        SlaveDir.CreateFile("docs/deep/er", "a file where a directory belongs");
        Assert.Equal(0, Syscall.chmod(SlaveDir.Combine("private"), (FilePermissions)0b111_111_111));

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        Assert.Equal(["docs/deep/er/data.bin", "docs/readme.md", "top.txt"], Rsync.Sent.Order(StringComparer.Ordinal));
        Assert.Equal(2, result.EntriesPurged); // docs/stray, the file docs/deep/er
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
        Directory.Delete(MasterDir.Combine("empty"));
        MasterDir.CreateSymlink("empty", "top.txt/inner");

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        Assert.Equal(["docs/deep", "top.txt/inner"], Rsync.Sent.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SpecialFilesAreReplicatedAsRsyncADoesAndCompared()
    {
        Assert.True(Syscall.getuid() == 0, "device nodes can only be made as root; the engine tests run as root in CI");
        BuildSampleTree();
        Assert.Equal(0, Syscall.mkfifo(MasterDir.Combine("docs/pipe"), FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));
        MakeSocket(MasterDir.Combine("docs/deep/sock"));
        const ulong NullDevice = (1 << 8) | 3; // makedev(1, 3)
        Assert.Equal(0, Syscall.mknod(MasterDir.Combine("null"), FilePermissions.S_IFCHR | FilePermissions.DEFFILEMODE, NullDevice));
        var crawler = DirectoryCrawler();

        var first = await crawler.RunTurnAsync();

        Assert.Empty(first.Failures);
        Assert.Equal(["docs/deep/sock", "docs/pipe", "null"], Rsync.Sent.Where(p => p is "docs/deep/sock" or "docs/pipe" or "null").Order(StringComparer.Ordinal));
        Assert.Equal(3, first.SpecialFiles);
        AssertSlaveMatchesMaster();
        Assert.Equal(0, Syscall.lstat(SlaveDir.Combine("null"), out var device));
        Assert.Equal((FilePermissions.S_IFCHR, NullDevice), (device.st_mode & FilePermissions.S_IFMT, device.st_rdev));

        Rsync.ForgetSent();
        var second = await crawler.RunTurnAsync();
        Assert.Equal((0, false), (second.SpecialFiles, second.ChangesSeen));
        Assert.Empty(Rsync.Sent);

        // Another kind of special file under the same name is sent again.
        File.Delete(MasterDir.Combine("docs/pipe"));
        MakeSocket(MasterDir.Combine("docs/pipe"));
        var third = await crawler.RunTurnAsync();
        Assert.Equal(1, third.SpecialFiles);
        Assert.Equal(["docs/pipe"], Rsync.Sent);
        AssertSlaveMatchesMaster();
    }

    // A bound .NET socket unlinks its file when disposed, so the node is made directly, as mknod(1) would.
    private static void MakeSocket(string path) =>
        Assert.Equal(0, Syscall.mknod(path, FilePermissions.S_IFSOCK | FilePermissions.S_IRWXU, 0));

    [Fact]
    public async Task AFailingFileIsReportedUntilItArrives()
    {
        var failing = true;
        var syncer = new InterceptingSyncer(Rsync, path =>
            path == "docs/readme.md" && failing ? FileSyncOutcome.Failed("injected") : null);
        BuildSampleTree();
        var crawler = DirectoryCrawler(new CrawlerOptions { PersistentFailureAttempts = 2 }, syncer);

        var first = await crawler.RunTurnAsync();
        var second = await crawler.RunTurnAsync();

        var once = Assert.Single(first.Failures);
        Assert.Equal(("docs/readme.md", "failed to sync: injected", 1, false), (once.Path, once.Reason, once.Attempts, once.IsPersistent));
        var twice = Assert.Single(second.PersistentFailures);
        Assert.Equal(("docs/readme.md", 2, true), (twice.Path, twice.Attempts, twice.IsPersistent));
        Assert.Equal(once.FirstFailed, twice.FirstFailed);
        Assert.NotNull(twice.Hint);
        Assert.Equal(0, Syscall.lstat(SlaveDir.Combine("docs/deep/er/data.bin"), out _));
        Assert.Equal(["docs/readme.md"], crawler.Ledger.Entries.Select(e => e.Path));

        failing = false;
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        Assert.Empty(crawler.Ledger.Entries);
        AssertSlaveMatchesMaster();
    }

    [Fact]
    public async Task ASlaveWithoutLstatEntriesIsRefusedWithAnExplanation()
    {
        BuildSampleTree();
        Slave.Fault = (method, _) => method == "lstat_entries"
            ? new RemoteAttributeException(method, new PyException("exceptions", "AttributeError", new PyTuple("no lstat_entries")))
            : null;

        var ex = await Assert.ThrowsAsync<GeoSyncException>(() => DirectoryCrawler().RunTurnAsync());

        Assert.Contains("lstat_entries", ex.Message, StringComparison.Ordinal);
        Assert.Contains("GeoSync slave", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Rsync.Sent);
    }
}
