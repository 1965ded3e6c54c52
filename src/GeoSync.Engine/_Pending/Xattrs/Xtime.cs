using System.Buffers.Binary;
using System.Globalization;

namespace GeoSync.Engine.Xattrs;

/// <summary>A gsyncd xtime: seconds and microseconds, compared lexicographically, stored as 8 big-endian bytes.</summary>
public readonly record struct Xtime(uint Seconds, uint Microseconds) : IComparable<Xtime>
{
    public static Xtime Now(TimeProvider? clock = null)
    {
        var us = (clock ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        return new Xtime((uint)(us / 1_000_000), (uint)(us % 1_000_000));
    }

    public static Xtime FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 8) { throw new ArgumentException($"an xtime is 8 bytes, got {bytes.Length}", nameof(bytes)); }
        return new Xtime(BinaryPrimitives.ReadUInt32BigEndian(bytes), BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]));
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, Seconds);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), Microseconds);
        return bytes;
    }

    public DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.FromUnixTimeSeconds(Seconds).AddTicks(Microseconds * 10L);

    public int CompareTo(Xtime other) =>
        Seconds != other.Seconds ? Seconds.CompareTo(other.Seconds) : Microseconds.CompareTo(other.Microseconds);

    public static bool operator <(Xtime left, Xtime right) => left.CompareTo(right) < 0;
    public static bool operator >(Xtime left, Xtime right) => left.CompareTo(right) > 0;
    public static bool operator <=(Xtime left, Xtime right) => left.CompareTo(right) <= 0;
    public static bool operator >=(Xtime left, Xtime right) => left.CompareTo(right) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Seconds}.{Microseconds:D6}");
}
