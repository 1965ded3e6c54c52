using System.Text;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Xattrs;

public class VolumeMarkTests
{
    private static readonly Guid VolumeId = Guid.Parse("12345678-9abc-def0-1122-334455667788");

    // version 1.0, uuid raw in hex-digit order, retval 0, mark 1700000000.000123
    private static readonly byte[] Native =
    [
        0x01, 0x00,
        0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
        0x00,
        0x65, 0x53, 0xF1, 0x00,
        0x00, 0x00, 0x00, 0x7B,
    ];

    // the same plus expiry 1700000010
    private static readonly byte[] Foreign = [.. Native, 0x65, 0x53, 0xF1, 0x0A];

    [Fact]
    public void DecodesTheNativeLayout()
    {
        var mark = VolumeMark.Decode(Native);
        Assert.Equal(new VolumeMark(1, 0, VolumeId, 0, new Xtime(1700000000, 123), null), mark);
        Assert.False(mark.IsForeign);
        Assert.False(mark.IsCorrupt);
        Assert.Equal(Native, mark.Encode());
    }

    [Fact]
    public void DecodesTheForeignLayoutWithItsExpiry()
    {
        var mark = VolumeMark.Decode(Foreign);
        Assert.Equal(1700000010u, mark.Expiry);
        Assert.True(mark.IsForeign);
        Assert.Equal(VolumeId, mark.VolumeId);
        Assert.Equal(Foreign, mark.Encode());
    }

    [Fact]
    public void ANonZeroRetvalMeansCorrupt()
    {
        var bytes = (byte[])Native.Clone();
        bytes[18] = 5;
        var mark = VolumeMark.Decode(bytes);
        Assert.Equal(5, mark.Retval);
        Assert.True(mark.IsCorrupt);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(26)]
    [InlineData(28)]
    [InlineData(30)]
    [InlineData(32)]
    public void RejectsOtherLengths(int length)
    {
        var ex = Assert.Throws<GeoSyncException>(() => VolumeMark.Decode(new byte[length]));
        Assert.Contains("27 bytes (native) or 31 bytes (foreign)", ex.Message);
        Assert.Contains($"got {length}", ex.Message);
    }

    [Fact]
    public void WireDictionaryHasTheGsyncdShape()
    {
        var dict = VolumeMark.Decode(Foreign).ToWireDictionary();
        Assert.Equal(5, dict.Count);
        Assert.Equal(new PyTuple(1L, 0L), dict["version"]);
        Assert.Equal("12345678-9abc-def0-1122-334455667788", dict["uuid"]);
        Assert.Equal(0L, dict["retval"]);
        Assert.Equal(new PyTuple(1700000000L, 123L), dict["volume_mark"]);
        Assert.Equal(1700000010L, dict["timeout"]);

        Assert.False(VolumeMark.Decode(Native).ToWireDictionary().ContainsKey("timeout"));
    }

    [Fact]
    public void WireDictionaryRoundTrips()
    {
        var mark = VolumeMark.Decode(Foreign);
        Assert.Equal(mark, VolumeMark.FromWireDictionary(mark.ToWireDictionary()));
        var native = VolumeMark.Decode(Native);
        Assert.Equal(native, VolumeMark.FromWireDictionary(native.ToWireDictionary()));
    }

    [Fact]
    public void AcceptsAPython2DictWithByteStringKeysAndValues()
    {
        var dict = new Dictionary<object, object?>(PyEquality.Instance)
        {
            [Bytes("version")] = new PyTuple(1L, 0L),
            [Bytes("uuid")] = Bytes("12345678-9abc-def0-1122-334455667788"),
            [Bytes("retval")] = 0L,
            [Bytes("volume_mark")] = new PyTuple(1700000000L, 123L),
            [Bytes("timeout")] = 1700000010L,
        };
        Assert.Equal(Foreign, VolumeMark.FromWireDictionary(dict).Encode());
    }

    [Fact]
    public void RefusesAnUpperCaseUuidAsTheOriginalDid()
    {
        var dict = VolumeMark.Decode(Foreign).ToWireDictionary();
        dict["uuid"] = "12345678-9ABC-DEF0-1122-334455667788";
        var ex = Assert.Throws<GeoSyncException>(() => VolumeMark.FromWireDictionary(dict));
        Assert.Contains("lower-case", ex.Message);
    }

    [Theory]
    [InlineData("version")]
    [InlineData("uuid")]
    [InlineData("retval")]
    [InlineData("volume_mark")]
    public void NamesAMissingKey(string key)
    {
        var dict = VolumeMark.Decode(Foreign).ToWireDictionary();
        dict.Remove(key);
        var ex = Assert.Throws<GeoSyncException>(() => VolumeMark.FromWireDictionary(dict));
        Assert.Contains($"no '{key}' entry", ex.Message);
    }

    [Fact]
    public void RefusesOutOfRangeNumbers()
    {
        var dict = VolumeMark.Decode(Foreign).ToWireDictionary();
        dict["version"] = new PyTuple(256L, 0L);
        Assert.Contains("'version'", Assert.Throws<GeoSyncException>(() => VolumeMark.FromWireDictionary(dict)).Message);

        dict = VolumeMark.Decode(Foreign).ToWireDictionary();
        dict["timeout"] = -1L;
        Assert.Contains("'timeout'", Assert.Throws<GeoSyncException>(() => VolumeMark.FromWireDictionary(dict)).Message);

        dict = VolumeMark.Decode(Foreign).ToWireDictionary();
        dict["volume_mark"] = new PyTuple(1L);
        Assert.Contains("pair of integers", Assert.Throws<GeoSyncException>(() => VolumeMark.FromWireDictionary(dict)).Message);
    }

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);
}
