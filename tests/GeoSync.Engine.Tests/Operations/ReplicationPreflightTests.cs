using GeoSync.Engine.Operations;
using GeoSync.Engine.Session;
using GeoSync.Engine.Tests.Xattrs;

namespace GeoSync.Engine.Tests.Operations;

/// <summary>The preflight against real directories, an in-process slave and a real local slave process.</summary>
public sealed class ReplicationPreflightTests : IDisposable
{
    private readonly TempDirectory _master = new("geosync-preflight-master-");
    private readonly TempDirectory _slave = new("geosync-preflight-slave-");

    public void Dispose()
    {
        _master.Dispose();
        _slave.Dispose();
    }

    private SessionOptions Options(string? slave = null, bool force = false) => new()
    {
        Master = "file://" + _master.Path,
        Slave = "file://" + (slave ?? _slave.Path),
        AllowDirectoryMaster = true,
        TimeoutSeconds = 0,
        Force = force,
    };

    private static PreflightCheck Check(IReadOnlyList<PreflightCheck> checks, string name) => Assert.Single(checks, c => c.Name == name);

    private string[] SlaveListing() => Directory.EnumerateFileSystemEntries(_slave.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task AGoodPairPassesEveryCheckAndTheSlaveIsLeftAsItWas()
    {
        File.WriteAllText(Path.Combine(_master.Path, "a.txt"), "a");

        var checks = await ReplicationPreflight.RunAsync(Options());

        Assert.Equal(ReplicationPreflight.CheckNames, checks.Select(c => c.Name));
        Assert.All(checks, c => Assert.Equal(PreflightResult.Passed, c.Result));
        Assert.Contains("empty", Check(checks, ReplicationPreflight.SlaveEmptyOrReplica).Detail, StringComparison.Ordinal);
        Assert.Contains("free of", Check(checks, ReplicationPreflight.SlaveFreeSpace).Detail, StringComparison.Ordinal);
        Assert.Contains("rsync", Check(checks, ReplicationPreflight.SlaveReachable).Detail, StringComparison.Ordinal);
        Assert.Empty(SlaveListing());
        Assert.DoesNotContain(new GeoSync.Engine.Xattrs.PosixXattrStore().List(_slave.Path), n => n.StartsWith("trusted.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMissingMasterFailsItsCheckAndSkipsTheRest()
    {
        var checks = await ReplicationPreflight.RunAsync(Options() with { Master = "file://" + Path.Combine(_master.Path, "typo") });

        var master = Check(checks, ReplicationPreflight.MasterReadable);
        Assert.Equal(PreflightResult.Failed, master.Result);
        Assert.Contains("typo", master.Detail, StringComparison.Ordinal);
        Assert.NotNull(master.Hint);
        Assert.All(checks.Where(c => c.Name is ReplicationPreflight.SlaveReachable or ReplicationPreflight.SlaveEmptyOrReplica),
            c => Assert.Equal(PreflightResult.Skipped, c.Result));
        Assert.Equal(ReplicationPreflight.CheckNames.Count, checks.Count);
    }

    [Fact]
    public async Task ASlaveInsideTheMasterFailsTheOverlapCheckAndNothingIsWritten()
    {
        var inner = Directory.CreateDirectory(Path.Combine(_master.Path, "replica")).FullName;

        var checks = await ReplicationPreflight.RunAsync(Options() with { Slave = "file://" + inner });

        var overlap = Check(checks, ReplicationPreflight.NoOverlap);
        Assert.Equal(PreflightResult.Failed, overlap.Result);
        Assert.Empty(Directory.EnumerateFileSystemEntries(inner));
        Assert.Equal(PreflightResult.Skipped, Check(checks, ReplicationPreflight.SlaveWritable).Result);
    }

    [Fact]
    public async Task ASlaveWithForeignEntriesFailsUnlessForcedAndKeepsThem()
    {
        File.WriteAllText(Path.Combine(_master.Path, "a.txt"), "a");
        File.WriteAllText(Path.Combine(_slave.Path, "precious.db"), "p");
        var before = SlaveListing();

        var refused = Check(await ReplicationPreflight.RunAsync(Options()), ReplicationPreflight.SlaveEmptyOrReplica);
        var forced = Check(await ReplicationPreflight.RunAsync(Options(force: true)), ReplicationPreflight.SlaveEmptyOrReplica);

        Assert.Equal(PreflightResult.Failed, refused.Result);
        Assert.False(refused.Passed);
        Assert.Contains("precious.db", refused.Detail, StringComparison.Ordinal);
        Assert.Contains("--force", refused.Hint, StringComparison.Ordinal);
        Assert.Equal(PreflightResult.Warning, forced.Result);
        Assert.True(forced.Passed);
        Assert.Equal(before, SlaveListing());
        Assert.Equal("p", File.ReadAllText(Path.Combine(_slave.Path, "precious.db")));
    }

    [Fact]
    public async Task ASlaveThisMasterSyncedIsItsReplica()
    {
        File.WriteAllText(Path.Combine(_master.Path, "a.txt"), "a");
        await using (var session = await GeoSyncSession.OpenAsync(Options()))
        {
            await session.RunTurnAsync();
        }

        var claim = Check(await ReplicationPreflight.RunAsync(Options()), ReplicationPreflight.SlaveEmptyOrReplica);

        Assert.Equal(PreflightResult.Passed, claim.Result);
        Assert.Contains("replica", claim.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingSlaveDirectoryFailsReachabilityWithAHint()
    {
        var checks = await ReplicationPreflight.RunAsync(Options(slave: Path.Combine(_slave.Path, "nope")));

        var reach = Check(checks, ReplicationPreflight.SlaveReachable);
        Assert.Equal(PreflightResult.Failed, reach.Result);
        Assert.Contains("nope", reach.Detail, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_slave.Path, "nope")));
    }

    [Fact]
    public async Task ABadUrlFailsTheFirstCheck()
    {
        var checks = await ReplicationPreflight.RunAsync(Options() with { Slave = "ftp://example/x" });

        Assert.Equal(PreflightResult.Failed, Check(checks, ReplicationPreflight.Urls).Result);
        Assert.All(checks.Skip(1), c => Assert.Equal(PreflightResult.Skipped, c.Result));
    }
}
