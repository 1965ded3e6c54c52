using System.Text;
using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>Whole-directory sends (docs/master-loop.md, "Whole new directories"): their argv, itemized output and failures.</summary>
public class RsyncWholeTreeTests
{
    private const string Partial =
        "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]\n";

    [Fact]
    public void ATreeRunRecursesComparesNanosecondsAndItemizesAfterTheFixedOptions()
    {
        var options = new RsyncOptions("/m", new LocalDirectoryTarget("/s")) { ExcludeGlusterInternalNames = true };

        Assert.Equal(
        [
            "rsync", "-aR0", "--files-from=-", "--super", "--numeric-ids", "--no-implied-dirs",
            "--recursive", "--modify-window=-1", "--out-format=%i %l %n",
            "--filter=- /.glusterfs", "--filter=- /.trashcan", "--filter=- /.shard", "--filter=- /.glusterfs-anonymous-inode-*",
            "--sparse", ".", "/s",
        ], RsyncCommand.BuildArgv(options, wholeTrees: true));
        Assert.DoesNotContain("--recursive", RsyncCommand.BuildArgv(options));
    }

    [Fact]
    public void ItemsArePlacedUnderTheirDirectoryAndOthersAreSkipped()
    {
        var items = new List<(int Index, RsyncItem Item)>();
        var reader = new RsyncItemReader(["plain", "new", "caf\uDCE9"], [false, true, true], (i, item) => items.Add((i, item)));

        foreach (var line in new[]
        {
            "cd+++++++++ 4,096 new/", ">f+++++++++ 12 new/a.txt", "cL+++++++++ 5 new/sub/link", "cS+++++++++ 0 new/fifo",
            ">f+++++++++ 7 plain", ">f+++++++++ 3 newer/x", @">f+++++++++ 9 caf\#351/y", ".d..t...... 4096 new/sub/",
        })
        {
            reader.Parse(Encoding.UTF8.GetBytes(line));
        }

        Assert.Equal(
        [
            // Each with its path as wire text (the crawl marks them on a GlusterFS master), trailing slash dropped.
            (1, new RsyncItem(RsyncItemKind.Directory, true, 4096, "new")),
            (1, new RsyncItem(RsyncItemKind.File, true, 12, "new/a.txt")),
            (1, new RsyncItem(RsyncItemKind.Symlink, true, 5, "new/sub/link")),
            (1, new RsyncItem(RsyncItemKind.Special, true, 0, "new/fifo")),
            (2, new RsyncItem(RsyncItemKind.File, true, 9, "caf\uDCE9/y")),
            (1, new RsyncItem(RsyncItemKind.Directory, false, 4096, "new/sub")),
        ], items);
    }

    [Fact]
    public void AFailureBelowADirectoryFailsItWithThePathAndAVanishedOneDoesNot()
    {
        var results = RsyncStderrClassifier.Classify(["f", "d", "e", "g"], 23,
            "rsync: [sender] send_files failed to open \"/m/d/sub/bad file\": Permission denied (13)\n"
            + "file has vanished: \"/m/e/gone\"\n" + Partial, tailComplete: true, [false, true, true, true]).ToDictionary(r => r.RelativePath);

        Assert.Equal(RsyncFileStatus.Synced, results["f"].Status);
        Assert.Equal(RsyncFileStatus.Failed, results["d"].Status);
        var below = Assert.Single(results["d"].Below);
        Assert.Equal("d/sub/bad file", below.RelativePath);
        Assert.Equal(13, RsyncStderrClassifier.ErrnoIn(below.Reason));
        Assert.Equal(RsyncFileStatus.Synced, results["e"].Status);
        Assert.Equal(RsyncFileStatus.Vanished, Assert.Single(results["e"].Below).Status);
        Assert.Equal(RsyncFileStatus.Synced, results["g"].Status);
    }

    [Fact]
    public void ALineNoDirectoryExplainsFailsTheWholeBatch()
    {
        var results = RsyncStderrClassifier.Classify(["d"], 23, "rsync: something odd happened\n" + Partial, true, [true]);

        Assert.Equal(RsyncFileStatus.Failed, Assert.Single(results).Status);
        Assert.Empty(results[0].Below);
    }
}
