using System.Globalization;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// The dry run (<see cref="Crawler.PlanTurnAsync"/>): the same walk as a turn on a real master and slave, with nothing
/// written on either side, and the changes it reports equal to what the real turn then does.
/// </summary>
public sealed class CrawlPlanTests : CrawlHarness
{
    private static readonly string[] ReadMethods = ["entries", "lstat_entries", "entry_types", "xtime"];

    [Fact]
    public async Task ADirectoryMastersFirstSyncPlansEveryEntryAndWritesNothing()
    {
        BuildSampleTree();
        SlaveDir.CreateDirectory("old/deeper");
        SlaveDir.CreateFile("old/deeper/file", "left over");
        SlaveDir.CreateFile("stale.txt", "stale");
        var before = Snapshot();

        var (plan, changes) = await PlanAsync(DirectoryCrawler());

        AssertNothingWritten(before);
        Assert.Empty(plan.Failures);
        Assert.Equal(
            [
                (PlannedAction.Purge, "old", EntryType.Directory, "gone from the master"),
                (PlannedAction.Purge, "stale.txt", EntryType.Regular, "gone from the master"),
                (PlannedAction.Create, "caf\uDCE9.txt", EntryType.Regular, "missing on the slave"),
                (PlannedAction.Create, "dangling", EntryType.Symlink, "missing on the slave"),
                (PlannedAction.Create, "docs", EntryType.Directory, "missing on the slave"),
                (PlannedAction.Create, "docs/deep", EntryType.Directory, "missing on the slave"),
                (PlannedAction.Create, "docs/deep/er", EntryType.Directory, "missing on the slave"),
                (PlannedAction.Create, "docs/deep/er/data.bin", EntryType.Regular, "missing on the slave"),
                (PlannedAction.Create, "docs/deep/note", EntryType.Regular, "missing on the slave"),
                (PlannedAction.Create, "docs/link-abs", EntryType.Symlink, "missing on the slave"),
                (PlannedAction.Create, "docs/readme.md", EntryType.Regular, "missing on the slave"),
                (PlannedAction.Create, "empty", EntryType.Directory, "missing on the slave"),
                (PlannedAction.Create, "link-rel", EntryType.Symlink, "missing on the slave"),
                (PlannedAction.Create, "private", EntryType.Directory, "missing on the slave"),
                (PlannedAction.Create, "private/secret", EntryType.Regular, "missing on the slave"),
                (PlannedAction.Create, "top.txt", EntryType.Regular, "missing on the slave"),
            ],
            changes.Select(c => (c.Action, c.Path, c.Type!.Value, c.Reason)));
        Assert.Equal(14, plan.Creates);
        Assert.Equal(2, plan.Purges);
        Assert.Equal(0, plan.Updates + plan.AttributeChanges);
        Assert.Equal(12 + 100_000 + 0 + 9 + 6 + 9, plan.BytesToSend);
        Assert.Equal(100_000, changes.Single(c => c.Path == "docs/deep/er/data.bin").Size);
        Assert.Equal("14 to create, 0 to update, 2 to purge, 0 attribute changes; 100036 bytes to send", plan.ToString());

        await AssertTheTurnDoesWhatWasPlannedAsync(DirectoryCrawler(), changes);
    }

    [Fact]
    public async Task ADirectoryMastersChangesArePlannedWithTheirReasons()
    {
        BuildSampleTree();
        Assert.Empty((await DirectoryCrawler().RunTurnAsync()).Failures);
        Slave.Reset();
        Rsync.ForgetSent();

        File.WriteAllText(MasterDir.Combine("top.txt"), "TOP LEVEL");
        File.SetLastWriteTimeUtc(MasterDir.Combine("top.txt"), new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        WriteFile("docs/readme.md", "# a longer readme\n", mode: 0b110_100_000, uid: 1234, gid: 5678);
        Assert.Equal(0, Syscall.lchown(MasterDir.Combine("private/secret"), 99, 98));
        File.Delete(MasterDir.Combine("docs/deep/note"));
        MasterDir.CreateDirectory("n/e");
        MasterDir.CreateFile("n/e/ed", "nested");
        Assert.Equal(0, Syscall.chmod(MasterDir.Combine("empty"), (FilePermissions)0b111_111_000));
        File.Delete(MasterDir.Combine("link-rel"));
        MasterDir.CreateSymlink("link-rel", "top.txt");
        // A symlink on the slave where the master now has a directory.
        File.Delete(MasterDir.Combine("dangling"));
        MasterDir.CreateDirectory("dangling");
        MasterDir.CreateFile("dangling/inside", "x");
        var before = Snapshot();

        var (plan, changes) = await PlanAsync(DirectoryCrawler());

        AssertNothingWritten(before);
        var byPath = changes.ToLookup(c => c.Path, c => (c.Action, c.Reason));
        Assert.Equal([(PlannedAction.Update, "mtime differs")], byPath["top.txt"]);
        Assert.Equal([(PlannedAction.Update, "size and mtime differ")], byPath["docs/readme.md"]);
        Assert.Equal([(PlannedAction.Update, "owner differs")], byPath["private/secret"]);
        Assert.Equal([(PlannedAction.Purge, "gone from the master")], byPath["docs/deep/note"]);
        Assert.Equal([(PlannedAction.Create, "missing on the slave")], byPath["n"]);
        Assert.Equal([(PlannedAction.Create, "missing on the slave")], byPath["n/e"]);
        Assert.Equal([(PlannedAction.Create, "missing on the slave")], byPath["n/e/ed"]);
        Assert.Equal([(PlannedAction.SetAttributes, "mode differs")], byPath["empty"]);
        Assert.Equal([(PlannedAction.Update, "target differs")], byPath["link-rel"]);
        Assert.Equal(
            [
                (PlannedAction.Purge, "type differs (master: directory)"),
                (PlannedAction.Create, "type differs (slave: symlink)"),
            ],
            byPath["dangling"]);
        Assert.Equal([(PlannedAction.Create, "missing on the slave")], byPath["dangling/inside"]);
        Assert.Equal(changes.Count, byPath.Sum(g => g.Count()));
        Assert.Equal(plan.Total, changes.Count);

        await AssertTheTurnDoesWhatWasPlannedAsync(DirectoryCrawler(), changes);
        // The plan left nothing out: the turn after it has nothing more to do.
        var (after, none) = await PlanAsync(DirectoryCrawler());
        Assert.Empty(none);
        Assert.Equal(0, after.Total);
    }

    [Fact]
    public async Task AGlusterMastersPlanStampsNoXtimeOnTheMasterAndMarksNothingOnTheSlave()
    {
        BuildSampleTree();
        StampWholeMaster();
        // Never indexed: a real turn stamps the directory on the master (the fix-up of a never-indexed entry); a dry run must not.
        MasterDir.CreateDirectory("unindexed");
        MasterDir.CreateFile("unindexed/new.txt", "new");
        SlaveDir.CreateFile("stale.txt", "stale");
        var before = Snapshot();

        var (plan, changes) = await PlanAsync(GlusterCrawler());

        AssertNothingWritten(before);
        Assert.Null(MasterXtime("unindexed"));
        Assert.Empty(plan.Failures);
        Assert.Equal(1, plan.Purges);
        Assert.Equal(16, plan.Creates);
        Assert.Contains(new PlannedChange(PlannedAction.Create, "unindexed", EntryType.Directory, "missing on the slave"), changes);
        Assert.Contains(new PlannedChange(PlannedAction.Create, "unindexed/new.txt", EntryType.Regular, "missing on the slave", 3), changes);

        await AssertTheTurnDoesWhatWasPlannedAsync(GlusterCrawler(), changes);
        Assert.NotNull(MasterXtime("unindexed"));
    }

    [Fact]
    public async Task AGlusterMastersChangedFilesArePlannedAsTheTurnThenSendsThem()
    {
        BuildSampleTree();
        StampWholeMaster();
        Assert.Empty((await GlusterCrawler().RunTurnAsync()).Failures);
        Slave.Reset();
        Rsync.ForgetSent();

        // Another size: rsync's quick check compares whole seconds, and this runs within the first sync's second.
        File.WriteAllText(MasterDir.Combine("docs/readme.md"), "# changed\n");
        File.Delete(MasterDir.Combine("private/secret"));
        MasterDir.CreateFile("docs/deep/added", "added");
        Changed("docs/readme.md", "private", "docs/deep/added");
        // Touched by the marker but not changed in any way the slave's lstat shows: sent again by its xtime.
        Changed("top.txt");
        var before = Snapshot();

        var (_, changes) = await PlanAsync(GlusterCrawler());

        AssertNothingWritten(before);
        var plan = changes.Where(c => c.Action != PlannedAction.SetAttributes).Select(c => (c.Action, c.Path, c.Reason));
        Assert.Equal(
            [
                (PlannedAction.Create, "docs/deep/added", "missing on the slave"),
                (PlannedAction.Update, "docs/readme.md", "size and mtime differ"),
                (PlannedAction.Purge, "private/secret", "gone from the master"),
                (PlannedAction.Update, "top.txt", "newer on the master (xtime)"),
            ],
            plan);

        await AssertTheTurnDoesWhatWasPlannedAsync(GlusterCrawler(), changes);
    }

    [Fact]
    public async Task WithoutLstatEntriesTheDryRunPlansWithoutTheSlavesTypes()
    {
        // A 3.3 or 10.x slave: 'entries' only.
        Slave.Fault = (method, _) => method is "lstat_entries" or "entry_types"
            ? new RemoteAttributeException(method, new PyException("exceptions", "AttributeError", new PyTuple("no lstat_entries")))
            : null;
        BuildSampleTree();
        StampWholeMaster();
        SlaveDir.CreateFile("stale.txt", "stale");
        var before = Snapshot();

        var (plan, changes) = await PlanAsync(GlusterCrawler());

        AssertNothingWritten(before);
        Assert.Equal(new PlannedChange(PlannedAction.Purge, "stale.txt", null, "gone from the master"), changes[0]);
        Assert.Equal(14, plan.Creates);
        await AssertTheTurnDoesWhatWasPlannedAsync(GlusterCrawler(), changes);
    }

    [Fact]
    public async Task ChangesStreamInWalkOrderAndThePlanKeepsOnlyTheFirstFewOfEach()
    {
        for (var i = 0; i < 30; i++) MasterDir.CreateFile($"f{i:D2}", "x");
        for (var i = 0; i < 5; i++) SlaveDir.CreateFile($"gone{i}", "y");

        var streamed = new List<PlannedChange>();
        var plan = await DirectoryCrawler().PlanTurnAsync(streamed.Add, examplesPerAction: 3);

        Assert.Equal(35, streamed.Count);
        Assert.Equal(30, plan.Creates);
        Assert.Equal(5, plan.Purges);
        Assert.Equal(["f00", "f01", "f02"], plan.Examples(PlannedAction.Create).Select(c => c.Path));
        Assert.Equal(["gone0", "gone1", "gone2"], plan.Examples(PlannedAction.Purge).Select(c => c.Path));
        Assert.Empty(plan.Examples(PlannedAction.Update));
        Assert.Equal(streamed.Where(c => c.Action == PlannedAction.Create).Select(c => c.Path).Order(StringComparer.Ordinal),
            streamed.Where(c => c.Action == PlannedAction.Create).Select(c => c.Path));
    }

    [Fact]
    public async Task ADryRunLeavesTheCrawlersFailureHistoryAndTurnCountAlone()
    {
        MasterDir.CreateFile("a", "a");
        var crawler = DirectoryCrawler(syncer: new InterceptingSyncer(Rsync, _ => FileSyncOutcome.Failed("injected")));
        Assert.Single((await crawler.RunTurnAsync()).Failures);

        await crawler.PlanTurnAsync();
        await crawler.PlanTurnAsync();

        Assert.Equal(1, crawler.TurnsCompleted);
        // The second failure of the real turn counts as the second attempt: the dry runs in between did not count.
        Assert.Equal(2, (await crawler.RunTurnAsync()).Failures.Single().Attempts);
    }

    [Fact]
    public void APlannedChangePrintsAsOneAlignedLine()
    {
        Assert.Equal("create  file      a/b.txt  missing on the slave",
            new PlannedChange(PlannedAction.Create, "a/b.txt", EntryType.Regular, "missing on the slave", 3).ToString());
        Assert.Equal("setattr directory docs  mode differs",
            new PlannedChange(PlannedAction.SetAttributes, "docs", EntryType.Directory, "mode differs").ToString());
        Assert.Equal("purge   entry     old  gone from the master",
            new PlannedChange(PlannedAction.Purge, "old", null, "gone from the master").ToString());
    }

    private int _rsyncBatchesBeforePlan;

    private async Task<(TurnPlan Plan, List<PlannedChange> Changes)> PlanAsync(Crawler crawler)
    {
        _rsyncBatchesBeforePlan = Rsync.Batches;
        var changes = new List<PlannedChange>();
        var plan = await crawler.PlanTurnAsync(changes.Add);
        return (plan, changes);
    }

    /// <summary>Only reads reached the slave, no rsync ran, and neither tree changed in any name, lstat or xattr.</summary>
    private void AssertNothingWritten(IReadOnlyList<string> before)
    {
        Assert.All(Slave.Calls, call => Assert.Contains(call.Method, ReadMethods));
        Assert.Empty(Rsync.Sent);
        Assert.Equal(_rsyncBatchesBeforePlan, Rsync.Batches);
        Assert.Equal(before, Snapshot());
    }

    /// <summary>
    /// Runs the real turn and checks it did what the plan said: the files rsync sent, the directories and symlinks made,
    /// the entries purged, and every planned attribute change among the setattr calls.
    /// </summary>
    private async Task AssertTheTurnDoesWhatWasPlannedAsync(Crawler crawler, IReadOnlyList<PlannedChange> planned)
    {
        Slave.Reset();
        Rsync.ForgetSent();

        var result = await crawler.RunTurnAsync();

        Assert.Empty(result.Failures);
        AssertSlaveMatchesMaster();
        var made = Rsync.Sent.Concat(Slave.Calls.Where(c => c.Method is "mkdir" or "symlink").Select(c => c.Path));
        Assert.Equal(made.Order(StringComparer.Ordinal),
            planned.Where(c => c.Action is PlannedAction.Create or PlannedAction.Update).Select(c => c.Path).Order(StringComparer.Ordinal));
        Assert.Equal(Slave.PurgedPaths.Order(StringComparer.Ordinal),
            planned.Where(c => c.Action == PlannedAction.Purge).Select(c => c.Path).Order(StringComparer.Ordinal));
        var attributesSet = Slave.Calls.Where(c => c.Method == "setattr").Select(c => c.Path).ToHashSet(StringComparer.Ordinal);
        Assert.All(planned.Where(c => c.Action == PlannedAction.SetAttributes), c => Assert.Contains(c.Path, attributesSet));
        Assert.Equal(result.EntriesPurged, planned.Count(c => c.Action == PlannedAction.Purge));
    }

    /// <summary>Every entry of both trees (the roots included) with its type, mode, owner, size, mtime, link target and xattrs.</summary>
    private List<string> Snapshot()
    {
        var lines = new List<string>();
        foreach (var (side, root, walk) in new[] { ("master", MasterDir.Path, WalkMaster(".")), ("slave", SlaveDir.Path, WalkSlave(".")) })
        {
            var tree = new DirectoryMasterTree(root);
            foreach (var path in walk.Prepend("."))
            {
                var stat = tree.Lstat(path)!;
                var full = path == "." ? root : root + "/" + OpenDirectory.NativePath(path);
                var xattrs = Xattrs.List(full).Order(StringComparer.Ordinal)
                    .Select(name => name + "=" + Convert.ToHexString(Xattrs.Get(full, name) ?? []));
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{side} {path} {stat.Type} {stat.Mode} {stat.Uid}:{stat.Gid} {stat.Size} {stat.ModifyTimeNs} {stat.LinkTarget} [{string.Join(' ', xattrs)}]"));
            }
        }
        return lines;
    }
}
