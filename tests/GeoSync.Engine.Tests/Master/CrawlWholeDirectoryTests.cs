using System.Collections.Concurrent;
using GeoSync.Engine.Master;
using GeoSync.Engine.Transport;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// A directory master with the real <see cref="Syncer"/>: a directory the slave lacks goes to rsync whole
/// (docs/master-loop.md, "Whole new directories"), and the turn's counters, ledger and marks stay what the walk gives.
/// </summary>
public sealed class CrawlWholeDirectoryTests : CrawlHarness
{
    private readonly ConcurrentQueue<SyncBatchReport> _runs = new();
    private Syncer? _syncer;

    private Syncer WholeSyncer(string? rsyncCommand = null, bool excludeGlusterNames = false) =>
        _syncer ??= new Syncer(
            new RsyncClient(new ProcessRunner(), new RsyncOptions(MasterDir.Path, new LocalDirectoryTarget(SlaveDir.Path))
            {
                Command = rsyncCommand ?? "rsync",
                ExcludeGlusterInternalNames = excludeGlusterNames,
            }),
            new SyncerOptions { SyncJobs = 1 }, _runs.Enqueue);

    protected override void Dispose(bool disposing)
    {
        if (disposing && _syncer is not null) _syncer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    [Fact]
    public async Task TheSampleTreeGoesWholeWithTheWalksCounts()
    {
        BuildSampleTree();
        var crawler = DirectoryCrawler(syncer: WholeSyncer());

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        // The same counts as the walk gives (CrawlDirectoryMasterTests): 6 files; 5 directories and 3 symlinks made;
        // the root and the 5 directories rsync listed.
        Assert.Equal(6, result.FilesSynced);
        Assert.Equal(8, result.EntriesCreated);
        Assert.Equal(6, result.DirectoriesScanned);
        Assert.Equal(0, Slave.Count("mkdir"));
        Assert.Contains(_runs, run => run.Argv.Contains("--recursive"));

        var runs = _runs.Count;
        var idle = await crawler.RunTurnAsync();
        Assert.Empty(idle.Failures);
        Assert.False(idle.ChangesSeen);
        Assert.Equal(runs, _runs.Count);
    }

    [Fact]
    public async Task NestedNewDirectoriesWithASymlinkAndAFifoArriveAndAreCounted()
    {
        MasterDir.CreateDirectory("old");
        var crawler = DirectoryCrawler(syncer: WholeSyncer());
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        _runs.Clear();
        Slave.Reset();

        MasterDir.CreateDirectory("old/new/deeper/deepest");
        WriteFile("old/new/a.txt", "a");
        WriteFile("old/new/deeper/deepest/b.txt", "bb");
        MasterDir.CreateSymlink("old/new/deeper/link", "../a.txt");
        Assert.Equal(0, Syscall.mkfifo(MasterDir.Combine("old/new/fifo"), FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        Assert.Equal(2, result.FilesSynced);
        Assert.Equal(3, result.BytesSynced);
        Assert.Equal(1, result.SpecialFiles);
        Assert.Equal(4, result.EntriesCreated); // new, deeper, deepest, link
        // One name went to rsync: the top new directory.
        var run = Assert.Single(_runs, r => r.Argv.Contains("--recursive"));
        Assert.Equal(1, run.Files);
        Assert.Equal(0, Slave.Count("mkdir") + Slave.Count("symlink"));
    }

    [Fact]
    public async Task GlusterInternalNamesAtTheRootStayBehindAndANestedOneIsData()
    {
        foreach (var name in new[] { ".glusterfs", ".trashcan", ".glusterfs-anonymous-inode-1234" })
        {
            MasterDir.CreateDirectory(name + "/inside");
            WriteFile(name + "/inside/f", "internal");
        }
        MasterDir.CreateDirectory("new/.glusterfs");
        WriteFile("new/.glusterfs/f", "user data that happens to have the name");

        var result = await DirectoryCrawler(new CrawlerOptions { SkipGlusterInternalNames = true },
            WholeSyncer(excludeGlusterNames: true)).RunTurnAsync();

        Assert.Empty(result.Failures);
        Assert.Equal(["new"], Directory.GetFileSystemEntries(SlaveDir.Path).Select(Path.GetFileName));
        // Only the volume root's names are GlusterFS's own; below it the name is the user's, as in the walk.
        Assert.True(File.Exists(SlaveFull("new/.glusterfs/f")));
    }

    [Fact]
    public async Task TheFilterRulesKeepTheRootsInternalNamesOutOfAWholeRootSend()
    {
        // Whole sends never name the root; the rules are checked against rsync itself for the day one does.
        foreach (var name in new[] { ".glusterfs", ".trashcan", ".shard", ".glusterfs-anonymous-inode-1234" })
        {
            MasterDir.CreateDirectory(name);
            WriteFile(name + "/f", "internal");
        }
        MasterDir.CreateDirectory("d/.glusterfs");
        WriteFile("d/.glusterfs/f", "data");

        var result = await new ProcessRunner().RunAsync(new ProcessSpec("rsync",
            ["-a", .. RsyncCommand.GlusterInternalFilters, MasterDir.Path + "/", SlaveDir.Path + "/"]));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["d"], Directory.GetFileSystemEntries(SlaveDir.Path).Select(Path.GetFileName));
        Assert.True(File.Exists(SlaveFull("d/.glusterfs/f")));
    }

    [Fact]
    public async Task AFileThatFailsInAWholeSendIsInTheLedgerAndItsAncestorsAreNotFinished()
    {
        // Root reads any file; without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH rsync cannot open a mode-0 file.
        var rsync = Syscall.geteuid() == 0 ? "setpriv --bounding-set -dac_override,-dac_read_search rsync" : "rsync";
        MasterDir.CreateDirectory("p");
        var crawler = DirectoryCrawler(syncer: WholeSyncer(rsync));
        Assert.Empty((await crawler.RunTurnAsync()).Failures);
        Assert.Equal(0, Syscall.chmod(MasterDir.Combine("p"), (FilePermissions)0b111_000_000));
        MasterDir.CreateDirectory("p/new/sub");
        WriteFile("p/new/ok", "ok");
        WriteFile("p/new/sub/bad", "unreadable", mode: 0);

        var failed = await crawler.RunTurnAsync();

        var failure = Assert.Single(failed.Failures);
        Assert.Equal("p/new/sub/bad", failure.Path);
        Assert.Equal(13, failure.Errno);
        Assert.Contains("Permission denied", failure.Reason, StringComparison.Ordinal);
        Assert.Equal("ok", File.ReadAllText(SlaveFull("p/new/ok")));
        Assert.False(File.Exists(SlaveFull("p/new/sub/bad")));
        // p's attributes wait until everything below it arrived.
        Assert.NotEqual(0b111_000_000, (int)(Lstat(SlaveFull("p")).st_mode & (FilePermissions)0xFFF));
        Assert.Equal(1, failed.FilesSynced);

        Assert.Equal(0, Syscall.chmod(MasterDir.Combine("p/new/sub/bad"), (FilePermissions)0b110_100_100));
        var healed = await crawler.RunTurnAsync();

        Assert.Empty(healed.Failures);
        Assert.Empty(crawler.Ledger.Entries);
        AssertSlaveMatchesMaster();
        Assert.Equal(0b111_000_000, (int)(Lstat(SlaveFull("p")).st_mode & (FilePermissions)0xFFF));
    }

    [Fact]
    public async Task WhatIsInTheWayOfANewDirectoryIsRemovedWithoutFollowingASymlink()
    {
        using var outside = new Xattrs.TempDirectory("geosync-outside-");
        MasterDir.CreateDirectory("d");
        WriteFile("d/x", "x");
        MasterDir.CreateDirectory("e");
        WriteFile("e/y", "y");
        File.WriteAllText(SlaveFull("d"), "a file where the master has a directory");
        Assert.Equal(0, Syscall.symlink(outside.Path, SlaveFull("e")));

        var result = await DirectoryCrawler(new CrawlerOptions { IgnoreDeletes = true }, WholeSyncer()).RunTurnAsync();
        Assert.Empty(result.Failures);
        Assert.Equal(2, result.EntriesPurged);
        AssertSlaveMatchesMaster();
        Assert.Empty(Directory.GetFileSystemEntries(outside.Path));
    }

    [Fact]
    public async Task StoppingTheSyncerKillsAWholeDirectorysRsync()
    {
        // An "rsync" that records its pid and hangs: disposing the syncer, as a stopped session does, must end it.
        var pidFile = MasterDir.Combine("rsync.pid");
        var script = MasterDir.Combine("hanging-rsync");
        File.WriteAllText(script, $"#!/bin/sh\necho $$ > {pidFile}\nexec sleep 300\n");
        Assert.Equal(0, Syscall.chmod(script, (FilePermissions)0b111_000_000));
        MasterDir.CreateDirectory("new");
        var syncer = WholeSyncer(script);

        var outcome = syncer.AddTree("new");
        syncer.SendQueued();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(pidFile) || File.ReadAllText(pidFile).Trim().Length == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the rsync stand-in never started");
            await Task.Delay(20);
        }
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await syncer.DisposeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => outcome);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"rsync's process {pid} outlived the syncer");
    }

    private static Stat Lstat(string path)
    {
        Assert.Equal(0, Syscall.lstat(path, out var stat));
        return stat;
    }
}
