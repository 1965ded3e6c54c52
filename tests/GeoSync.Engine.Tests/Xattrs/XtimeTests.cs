using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Xattrs;

public class XtimeTests
{
    [Fact]
    public void DecodesBigEndianSecondsThenMicroseconds()
    {
        byte[] bytes = [0x65, 0x53, 0xF1, 0x00, 0x00, 0x00, 0x00, 0x7B];
        var xtime = Xtime.FromBytes(bytes);
        Assert.Equal(1700000000u, xtime.Seconds);
        Assert.Equal(123u, xtime.Microseconds);
        Assert.Equal(bytes, xtime.ToBytes());
        Assert.Equal("1700000000.000123", xtime.ToString());
    }

    [Fact]
    public void EncodesTheFullUnsignedRange()
    {
        var xtime = new Xtime(uint.MaxValue, 999999);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x0F, 0x42, 0x3F }, xtime.ToBytes());
        Assert.Equal(xtime, Xtime.FromBytes(xtime.ToBytes()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(27)]
    public void RejectsValuesThatAreNotEightBytes(int length)
    {
        var ex = Assert.Throws<GeoSyncException>(() => Xtime.FromBytes(new byte[length]));
        Assert.Contains("exactly 8 bytes", ex.Message);
        Assert.Contains($"got {length}", ex.Message);
    }

    [Fact]
    public void OrdersBySecondsThenMicroseconds()
    {
        var a = new Xtime(10, 999999);
        var b = new Xtime(11, 0);
        var c = new Xtime(11, 1);
        Assert.True(a < b && b < c && a < c);
        var same = new Xtime(11, 0);
        Assert.True(c > b && b >= same && b <= same && !(b > same) && !(b < same));
        Assert.Equal(0, b.CompareTo(new Xtime(11, 0)));
        Assert.Equal(new[] { a, b, c }, new[] { c, a, b }.Order().ToArray());
    }

    [Fact]
    public void NowReadsTheGivenClockToTheMicrosecond()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1700000000).AddTicks(1234567));
        var now = Xtime.Now(clock);
        Assert.Equal(new Xtime(1700000000, 123456), now);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000).AddTicks(1234560), now.ToDateTimeOffset());
    }

    [Fact]
    public void NowRefusesAClockBeforeTheEpoch()
    {
        var clock = new ManualClock(new DateTimeOffset(1969, 12, 31, 0, 0, 0, TimeSpan.Zero));
        var ex = Assert.Throws<GeoSyncException>(() => Xtime.Now(clock));
        Assert.Contains("fix the system clock", ex.Message);
    }
}
