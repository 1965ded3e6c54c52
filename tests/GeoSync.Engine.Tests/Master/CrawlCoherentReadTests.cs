using System.Collections.Concurrent;
using GeoSync.Engine.Master;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// An entry sent because its xtime moved has its attributes refreshed first, so that rsync's copy is at least as new as
/// the xtime it is stamped with (docs/gluster-notes.md, "Coherent reads"); nothing else pays that round trip.
/// </summary>
public sealed class CrawlCoherentReadTests : CrawlHarness
{
    [Fact]
    public async Task OnlyEntriesWhoseXtimeMovedAreRefreshedAndBeforeTheyAreSent()
    {
        MasterDir.CreateDirectory("d");
        WriteFile("d/f", "first");
        WriteFile("d/g", "untouched");
        WriteFile("top", "untouched");
        StampWholeMaster();
        var tree = new RecordingTree(GlusterMaster(), Rsync);
        var first = await new Crawler(tree, Slave, Rsync, WithLog(null)).RunTurnAsync();
        Assert.True(first.Converged);
        Assert.Empty(tree.Refreshed); // a first sync: every entry is missing on the slave

        WriteFile("d/f", "second, longer");
        WriteFile("d/new", "the slave lacks it");
        Changed("d/f", "d/new");
        Rsync.ForgetSent();
        var second = await new Crawler(tree, Slave, Rsync, WithLog(null)).RunTurnAsync();

        Assert.True(second.Converged);
        Assert.Equal("second, longer", File.ReadAllText(SlaveDir.Combine("d/f")));
        Assert.Contains("d/f", tree.Refreshed);
        Assert.True(tree.RefreshedBeforeSent["d/f"], "d/f was refreshed before the syncer had it");
        // The directory's xtime moved too; an unchanged file, and a file the slave lacks (stamped with its directory's
        // xtime, read before the listing), are not refreshed.
        Assert.Contains("d", tree.Refreshed);
        Assert.DoesNotContain("d/g", tree.Refreshed);
        Assert.DoesNotContain("top", tree.Refreshed);
        Assert.DoesNotContain("d/new", tree.Refreshed);
    }

    /// <summary>A GlusterMasterTree that records which entries were refreshed, and whether the syncer had them yet.</summary>
    private sealed class RecordingTree(GlusterMasterTree inner, CrawlRsyncSyncer syncer) : IMasterTree, IMasterXtimes
    {
        public ConcurrentQueue<string> Refreshed { get; } = new();

        public ConcurrentDictionary<string, bool> RefreshedBeforeSent { get; } = new(StringComparer.Ordinal);

        public string RootPath => inner.RootPath;

        public IMasterXtimes Xtimes => this;

        public Guid VolumeId => inner.VolumeId;

        public void EnsureVouched() => inner.EnsureVouched();

        public IReadOnlyList<string> Entries(string path) => inner.Entries(path);

        public EntryStat? Lstat(string path) => inner.Lstat(path);

        public XtimeReading Read(string path) => inner.Read(path);

        public void Write(string path, Xtime value) => inner.Write(path, value);

        public void RefreshAttributes(string path)
        {
            inner.RefreshAttributes(path);
            Refreshed.Enqueue(path);
            RefreshedBeforeSent[path] = !syncer.Sent.Contains(path);
        }
    }
}
