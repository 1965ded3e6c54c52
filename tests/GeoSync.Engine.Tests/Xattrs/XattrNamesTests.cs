using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Xattrs;

public class XattrNamesTests
{
    private static readonly Guid VolumeId = Guid.Parse("ABCDEF01-2345-6789-ABCD-EF0123456789");

    [Fact]
    public void BuildsLowerCaseNamesInTheGivenNamespace()
    {
        Assert.Equal("trusted.glusterfs.abcdef01-2345-6789-abcd-ef0123456789.xtime", XattrNames.Xtime(VolumeId, XattrNames.TrustedNamespace));
        Assert.Equal("system.glusterfs.volume-mark", XattrNames.VolumeMark(XattrNames.SystemNamespace));
        Assert.Equal("system.glusterfs.volume-mark.abcdef01-2345-6789-abcd-ef0123456789", XattrNames.ForeignVolumeMark(VolumeId, XattrNames.SystemNamespace));
    }

    [Fact]
    public void DefaultNamespaceFollowsTheEffectiveUser()
    {
        var expected = Syscall.geteuid() == 0 ? "trusted.glusterfs" : "system.glusterfs";
        Assert.Equal(expected, XattrNames.DefaultNamespace);
        Assert.Equal(expected + ".volume-mark", XattrNames.VolumeMark());
    }
}
