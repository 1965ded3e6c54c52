using System.Collections.Concurrent;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Session;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Session;

/// <summary>The claim on a slave root: refused when foreign, laid before the first write, honoured afterwards.</summary>
public sealed class SlaveClaimTests : IDisposable
{
    private const string Ns = XattrNames.TrustedNamespace;
    private const string SlaveUrl = "file:///slave";

    private readonly TempDirectory _slave = new("geosync-claim-slave-");
    private readonly ConcurrentQueue<(SessionLogLevel Level, string Message)> _log = new();
    private readonly Guid _claim = SlaveClaim.ForDirectory("machine-a", "/srv/master");
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _slave.Dispose();

    private WireSlaveChannel Channel() =>
        WireSlaveChannel.InProcess(new SlaveServer(_slave.Path, new PosixXattrStore(), Ns, options: new SlaveServerOptions { ServesGlusterVolume = false }));

    private Task EnsureAsync(bool force = false, Guid? volume = null, params string[] masterEntries) =>
        SlaveClaim.EnsureAsync(Channel(), _claim, volume, masterEntries, force, SlaveUrl, _clock, (l, m) => _log.Enqueue((l, m)), default);

    private byte[]? ClaimMark() => new PosixXattrStore().Get(_slave.Path, XattrNames.XtimeFor(XattrNames.FormatUuid(_claim), Ns));

    [Fact]
    public void ClaimUuidsAreStablePerMasterAndDifferBetweenMasters()
    {
        Assert.Equal(SlaveClaim.ForDirectory("m", "/a"), SlaveClaim.ForDirectory("m", "/a"));
        Assert.NotEqual(SlaveClaim.ForDirectory("m", "/a"), SlaveClaim.ForDirectory("m", "/b"));
        Assert.NotEqual(SlaveClaim.ForDirectory("m", "/a"), SlaveClaim.ForDirectory("n", "/a"));
        var volume = Guid.NewGuid();
        Assert.Equal(SlaveClaim.ForVolume(volume), SlaveClaim.ForVolume(volume));
        // Never the volume's own xtime key: the claim must not pass for a real xtime.
        Assert.NotEqual(volume, SlaveClaim.ForVolume(volume));
        Assert.Equal(5, SlaveClaim.ForVolume(volume).Version);
    }

    [Fact]
    public async Task AnEmptySlaveIsClaimedBeforeTheFirstWrite()
    {
        _slave.CreateDirectory(".glusterfs");
        _slave.CreateDirectory(".trashcan");
        _slave.CreateDirectory(".glusterfs-anonymous-inode-0d3b2c1a-0000-4000-8000-000000000001");

        await EnsureAsync();

        var mark = ClaimMark();
        Assert.NotNull(mark);
        Assert.Equal(Xtime.Now(_clock), Xtime.FromBytes(mark));
    }

    [Fact]
    public async Task AForeignNonEmptySlaveIsRefusedNamingItsEntriesAndNothingIsWritten()
    {
        _slave.CreateFile("keep.txt", "theirs");
        _slave.CreateDirectory("photos");
        _slave.CreateFile("shared.txt", "theirs");

        var refused = await Assert.ThrowsAsync<GeoSyncSessionException>(() => EnsureAsync(false, null, "shared.txt", "mine.txt"));

        Assert.Equal(SessionFailure.SlaveNotEmpty, refused.Reason);
        Assert.Contains("it holds 3 entries; a first sync would delete 2 of them: 2 root entries the master lacks ('keep.txt', 'photos').", refused.Message);
        Assert.Contains("--force", refused.Message);
        Assert.Contains("--dry-run", refused.Message);
        Assert.Null(ClaimMark());
        Assert.Equal(["keep.txt", "photos", "shared.txt"], Directory.EnumerateFileSystemEntries(_slave.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task ARefusalNamesAFewEntriesNotAll()
    {
        for (var i = 0; i < 8; i++) _slave.CreateFile($"f{i}", "x");

        var refused = await Assert.ThrowsAsync<GeoSyncSessionException>(() => EnsureAsync());

        Assert.Contains("it holds 8 entries; a first sync would delete 8 of them: 8 root entries", refused.Message);
        Assert.Contains("'f4', ...", refused.Message);
        Assert.DoesNotContain("'f5'", refused.Message);
    }

    [Fact]
    public async Task ARefusalCountsTheWholeTreeAndHowMuchOfItAFirstSyncWouldDelete()
    {
        _slave.CreateFile("keep.txt", "theirs");
        for (var d = 0; d < 2; d++)
        {
            _slave.CreateDirectory($"photos/{d}");
            for (var f = 0; f < 3; f++) _slave.CreateFile($"photos/{d}/{f}.jpg", "x");
        }
        _slave.CreateDirectory("docs");
        _slave.CreateFile("docs/a.txt", "theirs");
        _slave.CreateFile("docs/b.txt", "theirs");

        var refused = await Assert.ThrowsAsync<GeoSyncSessionException>(() => EnsureAsync(false, null, "docs"));

        // keep.txt, photos, its 2 directories and 6 files: 10; docs and its 2 files: 3.
        Assert.Contains("it holds 13 entries; a first sync would delete 10 of them: 2 root entries the master lacks ('keep.txt', 'photos') and everything below them.", refused.Message);
    }

    [Fact]
    public async Task ARefusalOfEntriesTheMasterHasTooSaysTheyWouldBeOverwritten()
    {
        _slave.CreateDirectory("docs");
        _slave.CreateFile("docs/a.txt", "theirs");

        var refused = await Assert.ThrowsAsync<GeoSyncSessionException>(() => EnsureAsync(false, null, "docs"));

        Assert.Contains("it holds 2 entries, below root entries the master has too ('docs'), which a first sync would overwrite where they differ.", refused.Message);
    }

    [Fact]
    public async Task TheCountStopsAtItsLimitsAndSaysAtLeast()
    {
        for (var d = 0; d < 10; d++)
        {
            _slave.CreateDirectory($"d{d}");
            for (var f = 0; f < 10; f++) _slave.CreateFile($"d{d}/{f}", "x");
        }

        var byCount = await SlaveContentCount.CountAsync(Channel(), [], _clock, default, maxEntries: 25);
        Assert.False(byCount.Complete);
        Assert.InRange(byCount.Total, 25, 109);
        Assert.StartsWith("at least ", SlaveContentCount.Describe(byCount.Total, byCount.Complete), StringComparison.Ordinal);

        var byTime = await SlaveContentCount.CountAsync(Channel(), [], _clock, default, maxTime: TimeSpan.Zero);
        Assert.False(byTime.Complete);
        Assert.Equal(10, byTime.Total);
        Assert.Equal(10, byTime.Doomed.Count);

        var whole = await SlaveContentCount.CountAsync(Channel(), [], _clock, default);
        Assert.True(whole.Complete);
        Assert.Equal(110, whole.Total);
        Assert.Equal("110 entries", SlaveContentCount.Describe(whole.Total, whole.Complete));
    }

    [Fact]
    public async Task AnEmptyLostAndFoundAtTheRootIsNoContentButAFullOneIs()
    {
        _slave.CreateDirectory("lost+found");

        await EnsureAsync();
        Assert.NotNull(ClaimMark());

        var other = SlaveClaim.ForDirectory("machine-b", "/other");
        _slave.CreateFile("lost+found/#1234", "recovered");
        var refused = await Assert.ThrowsAsync<GeoSyncSessionException>(() =>
            SlaveClaim.EnsureAsync(Channel(), other, null, [], false, SlaveUrl, _clock, (_, _) => { }, default));
        Assert.Contains("it holds 2 entries; a first sync would delete 2 of them: 1 root entry the master lacks ('lost+found')", refused.Message);
    }

    [Fact]
    public async Task ASlaveWithoutLstatEntriesIsCountedByName()
    {
        _slave.CreateDirectory("photos/2024");
        _slave.CreateFile("photos/2024/a.jpg", "x");
        _slave.CreateFile("photos/2024/b.jpg", "x");
        _slave.CreateSymlink("latest", "photos/2024/b.jpg");

        var count = await SlaveContentCount.CountAsync(new NoLstatEntriesChannel(Channel()), [], _clock, default);

        Assert.True(count.Complete);
        Assert.Equal(5, count.Total);
        Assert.Equal(["latest", "photos"], count.Doomed);
    }

    [Fact]
    public async Task ForceClaimsANonEmptySlaveAndWarns()
    {
        _slave.CreateFile("keep.txt", "theirs");

        await EnsureAsync(force: true);

        Assert.NotNull(ClaimMark());
        Assert.Contains(_log, e => e.Level == SessionLogLevel.Warning && e.Message.Contains("holds 1 entry this master did not put there"));
    }

    [Fact]
    public async Task AClaimedSlaveIsAcceptedHoweverFullItIs()
    {
        await EnsureAsync();
        var first = ClaimMark();
        // What an interrupted first sync leaves behind.
        _slave.CreateFile("half-copied.bin", "x");
        _clock.Now = _clock.Now.AddHours(1);

        await EnsureAsync();

        Assert.Equal(first, ClaimMark());
    }

    [Fact]
    public async Task AnotherMastersClaimDoesNotCount()
    {
        await SlaveClaim.EnsureAsync(Channel(), SlaveClaim.ForDirectory("machine-b", "/other"), null, [], false, SlaveUrl, _clock, (_, _) => { }, default);
        _slave.CreateFile("theirs.txt", "x");

        var refused = await Assert.ThrowsAsync<GeoSyncSessionException>(() => EnsureAsync());
        Assert.Equal(SessionFailure.SlaveNotEmpty, refused.Reason);
    }

    [Fact]
    public async Task ASlaveCarryingTheMasterVolumesXtimeWasSyncedBeforeAndCountsAsClaimed()
    {
        var volume = Guid.NewGuid();
        _slave.CreateFile("synced-before.txt", "x");
        new PosixXattrStore().Set(_slave.Path, XattrNames.Xtime(volume, Ns), new Xtime(1_700_000_000, 5).ToBytes());

        await EnsureAsync(volume: volume);

        // Nothing to prove: no claim is added to a pair that already has its xtimes.
        Assert.Null(ClaimMark());
    }

    [Fact]
    public async Task ASlaveThatCannotKeepTheClaimIsStillSyncedWithAWarning()
    {
        var channel = new NoXattrChannel(Channel());

        await SlaveClaim.EnsureAsync(channel, _claim, null, [], false, SlaveUrl, _clock, (l, m) => _log.Enqueue((l, m)), default);

        Assert.Contains(_log, e => e.Level == SessionLogLevel.Warning && e.Message.Contains("cannot keep this master's claim"));
    }

    /// <summary>A GlusterFS gsyncd slave: no lstat_entries.</summary>
    private sealed class NoLstatEntriesChannel(ISlaveChannel inner) : ISlaveChannel
    {
        public Task<IReadOnlyList<string>> EntriesAsync(string path, CancellationToken cancellationToken = default) => inner.EntriesAsync(path, cancellationToken);
        public Task<IReadOnlyList<SlaveEntry>> LstatEntriesAsync(string path, CancellationToken cancellationToken = default) =>
            throw new RemoteAttributeException("lstat_entries", new PyException("exceptions", "AttributeError", new PyTuple("lstat_entries")));
        public Task PurgeAsync(string path, IReadOnlyCollection<string>? entries = null, CancellationToken cancellationToken = default) => inner.PurgeAsync(path, entries, cancellationToken);
        public Task MkdirAsync(string path, CancellationToken cancellationToken = default) => inner.MkdirAsync(path, cancellationToken);
        public Task SymlinkAsync(string target, string path, CancellationToken cancellationToken = default) => inner.SymlinkAsync(target, path, cancellationToken);
        public Task<XtimeReading> XtimeAsync(string path, string uuid, CancellationToken cancellationToken = default) => inner.XtimeAsync(path, uuid, cancellationToken);
        public Task SetXtimeAsync(string path, string uuid, Xtime value, CancellationToken cancellationToken = default) => inner.SetXtimeAsync(path, uuid, value, cancellationToken);
        public Task SetattrAsync(string path, SlaveAttributes attributes, CancellationToken cancellationToken = default) => inner.SetattrAsync(path, attributes, cancellationToken);
    }

    /// <summary>A slave whose file system has no extended attributes: xtime and set_xtime fail with EOPNOTSUPP.</summary>
    private sealed class NoXattrChannel(ISlaveChannel inner) : ISlaveChannel
    {
        private static RemoteOsException NotSupported(string method) =>
            new(method, new PyException("exceptions", "OSError", new PyTuple(95L, "Operation not supported")), 95, "Operation not supported");

        public Task<IReadOnlyList<string>> EntriesAsync(string path, CancellationToken cancellationToken = default) => inner.EntriesAsync(path, cancellationToken);
        public Task<IReadOnlyList<SlaveEntry>> LstatEntriesAsync(string path, CancellationToken cancellationToken = default) => inner.LstatEntriesAsync(path, cancellationToken);
        public Task PurgeAsync(string path, IReadOnlyCollection<string>? entries = null, CancellationToken cancellationToken = default) => inner.PurgeAsync(path, entries, cancellationToken);
        public Task MkdirAsync(string path, CancellationToken cancellationToken = default) => inner.MkdirAsync(path, cancellationToken);
        public Task SymlinkAsync(string target, string path, CancellationToken cancellationToken = default) => inner.SymlinkAsync(target, path, cancellationToken);
        public Task<XtimeReading> XtimeAsync(string path, string uuid, CancellationToken cancellationToken = default) => throw NotSupported("xtime");
        public Task SetXtimeAsync(string path, string uuid, Xtime value, CancellationToken cancellationToken = default) => throw NotSupported("set_xtime");
        public Task SetattrAsync(string path, SlaveAttributes attributes, CancellationToken cancellationToken = default) => inner.SetattrAsync(path, attributes, cancellationToken);
    }
}
