using GeoSync.Engine.Session;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Session;

public class MasterVolumeInfoTests
{
    private const uint Now = 1_700_000_000;
    private static readonly Guid Native = Guid.Parse("6b9c1f3e-0a64-4c1d-9f0e-3d2a5b7c8e91");
    private static readonly Guid Upstream = Guid.Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    private static readonly Guid Other = Guid.Parse("11111111-2222-3333-4444-555555555555");

    private static VolumeMark Mark(Guid id, byte retval = 0, uint? expiry = null) => new(1, 0, id, retval, new Xtime(1_600_000_000, 5), expiry);

    [Fact]
    public void WithoutForeignMarksTheNativeMarkKeysTheXtimes()
    {
        var chosen = MasterVolumeInfo.Select("mvol", Mark(Native), [], Now);
        Assert.Equal(Native, chosen.VolumeId);
        Assert.False(chosen.IsForeign);
    }

    [Fact]
    public void OneLiveForeignMarkWinsOverTheNativeOne()
    {
        var chosen = MasterVolumeInfo.Select("mvol", Mark(Native), [Mark(Upstream, expiry: Now + 60)], Now);
        Assert.Equal(Upstream, chosen.VolumeId);
        Assert.True(chosen.IsForeign);
    }

    [Fact]
    public void ExpiredForeignMarksAreIgnored()
    {
        var chosen = MasterVolumeInfo.Select("mvol", Mark(Native), [Mark(Upstream, expiry: Now), Mark(Other, expiry: Now - 5)], Now);
        Assert.Equal(Native, chosen.VolumeId);
    }

    [Fact]
    public void SeveralLiveForeignMastersAreRefusedNamingThem()
    {
        var error = Assert.Throws<GeoSyncSessionException>(() =>
            MasterVolumeInfo.Select("mvol", Mark(Native), [Mark(Upstream, expiry: Now + 9), Mark(Other, expiry: Now + 9)], Now));
        Assert.Equal(SessionFailure.MultipleForeignMasters, error.Reason);
        Assert.Contains("cannot work with multiple foreign masters", error.Message, StringComparison.Ordinal);
        Assert.Contains(Upstream.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(Other.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACorruptMarkIsFatal()
    {
        var error = Assert.Throws<GeoSyncSessionException>(() => MasterVolumeInfo.Select("mvol", Mark(Native, retval: 1), [], Now));
        Assert.Equal(SessionFailure.MasterCorrupt, error.Reason);
        Assert.StartsWith("master is corrupt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoMarkMeansIndexingIsOffAndSaysHowToTurnItOn()
    {
        var error = Assert.Throws<GeoSyncSessionException>(() => MasterVolumeInfo.Select("mvol", null, [], Now));
        Assert.Equal(SessionFailure.VolumeMarkNotFound, error.Reason);
        Assert.Contains("gluster volume set mvol geo-replication.indexing on", error.Message, StringComparison.Ordinal);
    }
}
