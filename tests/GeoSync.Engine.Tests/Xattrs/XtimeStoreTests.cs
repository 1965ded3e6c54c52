using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Xattrs;

public sealed class XtimeStoreTests : IDisposable
{
    private static readonly Guid VolumeA = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private static readonly Guid VolumeB = Guid.Parse("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");

    private readonly TempDirectory _dir = new();
    private readonly PosixXattrStore _xattrs = new();
    private readonly XtimeStore _store;

    public XtimeStoreTests() => _store = new XtimeStore(_xattrs, XattrNames.TrustedNamespace);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void StoresXtimesPerVolumeUnderTheirGsyncdNames()
    {
        var file = _dir.CreateFile("f");
        Assert.Null(_store.Get(file, VolumeA));

        _store.Set(file, VolumeA, new Xtime(1700000000, 5));
        _store.Set(file, VolumeB, new Xtime(1, 2));

        Assert.Equal(new Xtime(1700000000, 5), _store.Get(file, VolumeA));
        Assert.Equal(new Xtime(1, 2), _store.Get(file, VolumeB));
        Assert.Equal(
            new byte[] { 0x65, 0x53, 0xF1, 0x00, 0, 0, 0, 5 },
            _xattrs.Get(file, "trusted.glusterfs.11111111-2222-3333-4444-555555555555.xtime"));
    }

    [Fact]
    public void AMalformedXtimeNamesThePathAndAttribute()
    {
        var file = _dir.CreateFile("f");
        var name = XattrNames.Xtime(VolumeA, XattrNames.TrustedNamespace);
        _xattrs.Set(file, name, [1, 2, 3]);

        var ex = Assert.Throws<GeoSyncXattrException>(() => _store.Get(file, VolumeA));
        Assert.Equal(name, ex.AttributeName);
        Assert.Equal(0, ex.Errno);
        Assert.Contains(file, ex.Message);
        Assert.Contains("exactly 8 bytes", ex.Message);
    }

    [Fact]
    public void ReadsTheNativeMark()
    {
        var root = _dir.Path;
        Assert.Null(_store.GetNativeMark(root));

        var mark = new VolumeMark(1, 0, VolumeA, 0, new Xtime(1700000000, 1), null);
        _xattrs.Set(root, "trusted.glusterfs.volume-mark", mark.Encode());
        Assert.Equal(mark, _store.GetNativeMark(root));

        _xattrs.Set(root, "trusted.glusterfs.volume-mark", new VolumeMark(1, 0, VolumeA, 0, new Xtime(1, 1), 5).Encode());
        Assert.Contains("a native volume mark is 27", Assert.Throws<GeoSyncXattrException>(() => _store.GetNativeMark(root)).Message);
    }

    [Fact]
    public void ListsEveryForeignMarkAndNothingElse()
    {
        var root = _dir.Path;
        var a = new VolumeMark(1, 0, VolumeA, 0, new Xtime(10, 0), 100);
        var b = new VolumeMark(1, 0, VolumeB, 0, new Xtime(20, 0), 200);
        _xattrs.Set(root, XattrNames.ForeignVolumeMark(VolumeA, XattrNames.TrustedNamespace), a.Encode());
        _xattrs.Set(root, XattrNames.ForeignVolumeMark(VolumeB, XattrNames.TrustedNamespace), b.Encode());
        _xattrs.Set(root, "trusted.glusterfs.volume-mark", new VolumeMark(1, 0, VolumeA, 0, new Xtime(1, 1), null).Encode());
        _xattrs.Set(root, XattrNames.Xtime(VolumeA, XattrNames.TrustedNamespace), new Xtime(3, 3).ToBytes());

        var marks = _store.GetForeignMarks(root).OrderBy(m => m.Expiry).ToList();
        Assert.Equal(new[] { a, b }, marks);
    }
}
