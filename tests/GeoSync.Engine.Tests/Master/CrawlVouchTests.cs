using System.Diagnostics;
using GeoSync.Engine.Master;
using GeoSync.Engine.Tests.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// What the crawl will not do with a view it cannot vouch for: purge what the master did not confirm gone, purge a mass of
/// entries in one turn, touch GlusterFS's own names, or read a master root that is no longer the one it opened.
/// </summary>
public sealed class CrawlVouchTests : CrawlHarness
{
    private async Task SyncFilesAsync(int count, CrawlerOptions? options = null)
    {
        for (var i = 0; i < count; i++) WriteFile($"f{i:D2}", $"file {i}");
        var result = await DirectoryCrawler(options).RunTurnAsync();
        Assert.Empty(result.Failures);
        Assert.Equal(count, Directory.GetFiles(SlaveDir.Path).Length);
    }

    private void RemoveMasterFiles(int count)
    {
        for (var i = 0; i < count; i++) File.Delete(MasterDir.Combine($"f{i:D2}"));
    }

    [Fact]
    public async Task AMassDeletionIsHeldAndReportedAndTheDirectoryStaysFailed()
    {
        await SyncFilesAsync(20);
        RemoveMasterFiles(15);

        var result = await DirectoryCrawler().RunTurnAsync();

        Assert.Equal(0, result.EntriesPurged);
        Assert.Equal(20, Directory.GetFiles(SlaveDir.Path).Length);
        var held = Assert.Single(result.HeldPurges);
        Assert.Equal(new HeldPurge(".", 15, 20), held);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(".", failure.Path);
        Assert.Contains("--max-delete-share 1", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("-MaxDeleteShare 1", failure.Reason, StringComparison.Ordinal);

        // Still held on the next turn: nothing changed its mind.
        Assert.Single((await DirectoryCrawler().RunTurnAsync()).HeldPurges);
        Assert.Equal(20, Directory.GetFiles(SlaveDir.Path).Length);
    }

    [Fact]
    public async Task MaxDeleteShareOneAllowsTheMassDeletion()
    {
        await SyncFilesAsync(20);
        RemoveMasterFiles(15);

        var result = await DirectoryCrawler(new CrawlerOptions { MaxDeleteShare = 1 }).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Empty(result.HeldPurges);
        Assert.Equal(15, result.EntriesPurged);
        Assert.Equal(5, Directory.GetFiles(SlaveDir.Path).Length);
    }

    [Theory]
    [InlineData(9, 10)] // most of the directory, but fewer than MassDeleteMinimum
    [InlineData(10, 20)] // MassDeleteMinimum entries, but exactly the allowed share
    public async Task PurgesBelowTheGuardGoThrough(int removed, int files)
    {
        await SyncFilesAsync(files);
        RemoveMasterFiles(removed);

        var result = await DirectoryCrawler().RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Empty(result.HeldPurges);
        Assert.Equal(removed, result.EntriesPurged);
        Assert.Equal(files - removed, Directory.GetFiles(SlaveDir.Path).Length);
    }

    [Fact]
    public async Task ANameTheListingLackedButTheMasterStillHasIsNotPurged()
    {
        await SyncFilesAsync(3);
        // Left out of the first listing only, as a name created again during the crawl is.
        var master = new ScriptedTree(new DirectoryMasterTree(MasterDir.Path)) { HiddenFromFirstListing = "f01" };

        var result = await new Crawler(master, Slave, Rsync, WithLog(null)).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(0, result.EntriesPurged);
        Assert.True(File.Exists(SlaveDir.Combine("f01")));
    }

    [Fact]
    public async Task ANameOnlyACachedLstatStillShowsIsPurged()
    {
        await SyncFilesAsync(3);
        var stale = new DirectoryMasterTree(MasterDir.Path).Lstat("f01");
        File.Delete(MasterDir.Combine("f01"));
        // A FUSE mount answers lstat from its entry cache for a while after another mount removed the file.
        var master = new ScriptedTree(new DirectoryMasterTree(MasterDir.Path)) { CachedStat = ("f01", stale!) };

        var result = await new Crawler(master, Slave, Rsync, WithLog(null)).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(1, result.EntriesPurged);
        Assert.False(File.Exists(SlaveDir.Combine("f01")));
    }

    [Theory]
    [InlineData(LinuxErrnoForTests.EIO)]
    [InlineData(LinuxErrnoForTests.ESTALE)]
    public async Task AMasterThatCannotConfirmANameIsGoneStopsThatDirectorysPurge(int errno)
    {
        await SyncFilesAsync(3);
        File.Delete(MasterDir.Combine("f00"));
        File.Delete(MasterDir.Combine("f02"));
        var master = new ScriptedTree(new DirectoryMasterTree(MasterDir.Path)) { LstatFailure = ("f02", errno) };

        var result = await new Crawler(master, Slave, Rsync, WithLog(null)).RunTurnAsync();

        Assert.Equal(0, result.EntriesPurged);
        Assert.True(File.Exists(SlaveDir.Combine("f00")));
        Assert.True(File.Exists(SlaveDir.Combine("f02")));
        var failure = Assert.Single(result.Failures);
        Assert.Equal(".", failure.Path);
        Assert.Contains("cannot vouch that 'f02' is gone", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMasterThatLostItsConnectionEndsTheTurnBeforeAnyPurge()
    {
        await SyncFilesAsync(3);
        File.Delete(MasterDir.Combine("f00"));
        var master = new ScriptedTree(new DirectoryMasterTree(MasterDir.Path)) { LstatFailure = ("f00", LinuxErrno.ENOTCONN) };

        var error = await Assert.ThrowsAsync<GeoSyncMasterUnavailableException>(() =>
            new Crawler(master, Slave, Rsync, WithLog(null)).RunTurnAsync());

        Assert.Contains("ENOTCONN", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(SlaveDir.Combine("f00")));
    }

    [Fact]
    public async Task GlusterInternalNamesAreNeitherCopiedNorPurgedWhenAVolumeIsInvolved()
    {
        MasterDir.CreateDirectory(".glusterfs");
        MasterDir.CreateDirectory(".trashcan/internal_op");
        MasterDir.CreateDirectory(".glusterfs-anonymous-inode-1111");
        MasterDir.CreateDirectory("data/.trashcan"); // only the root's names are GlusterFS's
        WriteFile("data/file", "payload");
        SlaveDir.CreateDirectory(".glusterfs-anonymous-inode-2222");
        SlaveDir.CreateDirectory(".trashcan");
        File.WriteAllText(SlaveDir.Combine(".trashcan/kept"), "the slave volume's own");

        var result = await DirectoryCrawler(new CrawlerOptions { SkipGlusterInternalNames = true }).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(0, result.EntriesPurged);
        Assert.Equal([".glusterfs-anonymous-inode-2222", ".trashcan", "data"],
            Directory.GetFileSystemEntries(SlaveDir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(File.Exists(SlaveDir.Combine(".trashcan/kept")));
        Assert.True(Directory.Exists(SlaveDir.Combine("data/.trashcan")));
        Assert.True(File.Exists(SlaveDir.Combine("data/file")));
    }

    [Fact]
    public async Task ADirectoryPairReplicatesTheSameNamesLikeAnyOther()
    {
        MasterDir.CreateDirectory(".trashcan");
        MasterDir.CreateDirectory(".glusterfs-anonymous-inode-1111");
        SlaveDir.CreateDirectory(".glusterfs-anonymous-inode-2222");

        var result = await DirectoryCrawler().RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(1, result.EntriesPurged);
        Assert.Equal([".glusterfs-anonymous-inode-1111", ".trashcan"],
            Directory.GetFileSystemEntries(SlaveDir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(".glusterfs", true)]
    [InlineData(".trashcan", true)]
    [InlineData(".shard", true)]
    [InlineData(".glusterfs-anonymous-inode-6f1c2b7e-0d1e-4f2a-9b8c-7d6e5f4a3b2c", true)]
    [InlineData(".glusterfs2", false)]
    [InlineData("glusterfs", false)]
    [InlineData(".trashcan-old", false)]
    public void GlusterInternalNamesAreDeclaredOnce(string name, bool isInternal) =>
        Assert.Equal(isInternal, GlusterInternalNames.IsInternal(name));

    [Fact]
    public async Task WithoutPruningAHealedFileIsSentOnceNotEveryTurn()
    {
        MasterDir.CreateDirectory("dir");
        WriteFile("dir/healed", "healed content");
        WriteFile("dir/other", "other");
        StampWholeMaster();
        var options = new CrawlerOptions { PruneByDirectoryXtime = false };
        Assert.Empty((await GlusterCrawler(options).RunTurnAsync()).Failures);
        Rsync.ForgetSent();

        // A heal re-stamps the healed copy, not its directory.
        Stamp("dir/healed", NextXtime());
        var first = await GlusterCrawler(options).RunTurnAsync();
        var second = await GlusterCrawler(options).RunTurnAsync();

        Assert.Empty(first.Failures);
        Assert.Empty(second.Failures);
        Assert.Equal(["dir/healed"], Rsync.Sent);
        Assert.Equal(0, second.FilesSynced);
    }

    [Fact]
    public async Task WithoutPruningAFileChangedAgainIsStillSent()
    {
        MasterDir.CreateDirectory("dir");
        WriteFile("dir/file", "one");
        StampWholeMaster();
        var options = new CrawlerOptions { PruneByDirectoryXtime = false };
        Assert.Empty((await GlusterCrawler(options).RunTurnAsync()).Failures);
        Stamp("dir/file", NextXtime());
        Assert.Empty((await GlusterCrawler(options).RunTurnAsync()).Failures);
        Rsync.ForgetSent();

        WriteFile("dir/file", "two, changed");
        Stamp("dir/file", NextXtime());
        var result = await GlusterCrawler(options).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(["dir/file"], Rsync.Sent);
        Assert.Equal("two, changed", File.ReadAllText(SlaveDir.Combine("dir/file")));
    }

    [Fact]
    public void TheMasterTreeReadsTheOpenedRootAndRefusesAReplacedOne()
    {
        WriteFile("original", "x");
        using var tree = new DirectoryMasterTree(MasterDir.Path);
        tree.EnsureVouched();
        var moved = MasterDir.Path + ".moved";
        Assert.Equal(0, Stdlib.rename(MasterDir.Path, moved));
        try
        {
            Directory.CreateDirectory(MasterDir.Path);

            var error = Assert.Throws<GeoSyncMasterUnavailableException>(tree.EnsureVouched);

            Assert.Contains("no longer the directory or volume that was opened", error.Message, StringComparison.Ordinal);
            Assert.Equal(MasterDir.Path, error.RootPath);
            // Reads still go to the object that was opened, never to the empty directory now at the path.
            Assert.Equal(["original"], tree.Entries("."));
            Assert.NotNull(tree.Lstat("original"));
        }
        finally
        {
            Directory.Delete(MasterDir.Path);
            Assert.Equal(0, Stdlib.rename(moved, MasterDir.Path));
        }
    }

    [Fact]
    public async Task AMasterRootReplacedUnderTheCrawlFailsTheTurnAndPurgesNothing()
    {
        await SyncFilesAsync(12);
        using var tree = new DirectoryMasterTree(MasterDir.Path);
        var crawler = new Crawler(tree, Slave, Rsync, WithLog(new CrawlerOptions { MaxDeleteShare = 1 }));
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        var moved = MasterDir.Path + ".moved";
        Assert.Equal(0, Stdlib.rename(MasterDir.Path, moved));
        try
        {
            Directory.CreateDirectory(MasterDir.Path);

            await Assert.ThrowsAsync<GeoSyncMasterUnavailableException>(() => crawler.RunTurnAsync());

            Assert.Equal(12, Directory.GetFiles(SlaveDir.Path).Length);
        }
        finally
        {
            Directory.Delete(MasterDir.Path);
            Assert.Equal(0, Stdlib.rename(moved, MasterDir.Path));
        }
    }

    [Fact]
    public void ABindMountOverTheMasterRootIsRefused()
    {
        // Root, like the harness's chown of sample files.
        using var other = new TempDirectory("geosync-other-");
        using var tree = new DirectoryMasterTree(MasterDir.Path);
        Run("mount", "--bind", other.Path, MasterDir.Path);
        try
        {
            Assert.Throws<GeoSyncMasterUnavailableException>(tree.EnsureVouched);
        }
        finally
        {
            Run("umount", MasterDir.Path);
        }
        tree.EnsureVouched();
    }

    private static void Run(params string[] argv)
    {
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardError = true };
        foreach (var arg in argv.Skip(1)) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{string.Join(' ', argv)} failed: {stderr}");
    }

    /// <summary>A master tree that leaves one name out of its listings, or fails the lstat of one name.</summary>
    private sealed class ScriptedTree(DirectoryMasterTree inner) : IMasterTree
    {
        private int _listings;

        public string? HiddenFromFirstListing { get; init; }

        public (string Path, EntryStat Stat)? CachedStat { get; init; }

        public (string Path, int Errno)? LstatFailure { get; init; }

        public string RootPath => inner.RootPath;

        public IMasterXtimes? Xtimes => null;

        public IReadOnlyList<string> Entries(string path) =>
            Interlocked.Increment(ref _listings) == 1 ? inner.Entries(path).Where(n => n != HiddenFromFirstListing).ToList() : inner.Entries(path);

        public EntryStat? Lstat(string path)
        {
            if (LstatFailure is ({ } failing, var errno) && failing == path)
            {
                if (LinuxErrno.MeansSessionDown(errno)) throw new GeoSyncMasterUnavailableException(RootPath, $"lstat of '{path}' answered ENOTCONN");
                throw new GeoSyncMasterTreeException(path, "lstat", errno, $"cannot lstat '{path}': errno {errno}");
            }
            if (CachedStat is ({ } cached, var stat) && cached == path) return stat;
            return inner.Lstat(path);
        }

        public void EnsureVouched() => inner.EnsureVouched();
    }
}

internal static class LinuxErrnoForTests
{
    public const int EIO = 5;
    public const int ESTALE = 116;
}
