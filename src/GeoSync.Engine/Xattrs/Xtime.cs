using System.Buffers.Binary;
using System.Globalization;

namespace GeoSync.Engine.Xattrs;

/// <summary>A GlusterFS xtime: seconds and microseconds since the Unix epoch, ordered lexicographically (docs/protocol.md, "Extended attributes: names and layouts").</summary>
public readonly record struct Xtime(uint Seconds, uint Microseconds) : IComparable<Xtime>
{
    /// <summary>Size of the on-disk value (struct <c>!II</c>).</summary>
    public const int EncodedLength = 8;

    public static Xtime Now(TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        var sinceEpoch = now - DateTimeOffset.UnixEpoch;
        var seconds = sinceEpoch.Ticks / TimeSpan.TicksPerSecond;
        if (seconds < 0 || seconds > uint.MaxValue)
        {
            throw new GeoSyncException($"the clock reads {now:O}, which an xtime (unsigned 32-bit Unix seconds) cannot represent; fix the system clock");
        }
        var microseconds = sinceEpoch.Ticks % TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond;
        return new Xtime((uint)seconds, (uint)microseconds);
    }

    public static Xtime FromBytes(ReadOnlySpan<byte> value)
    {
        if (value.Length != EncodedLength)
        {
            throw new GeoSyncException($"an xtime value must be exactly {EncodedLength} bytes (big-endian seconds, microseconds), got {value.Length}; the attribute was not written by GlusterFS or GeoSync");
        }
        return new Xtime(BinaryPrimitives.ReadUInt32BigEndian(value), BinaryPrimitives.ReadUInt32BigEndian(value[4..]));
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[EncodedLength];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, Seconds);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), Microseconds);
        return bytes;
    }

    public DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.UnixEpoch.AddTicks(Seconds * TimeSpan.TicksPerSecond + Microseconds * TimeSpan.TicksPerMicrosecond);

    public int CompareTo(Xtime other)
    {
        var bySeconds = Seconds.CompareTo(other.Seconds);
        return bySeconds != 0 ? bySeconds : Microseconds.CompareTo(other.Microseconds);
    }

    public static bool operator <(Xtime left, Xtime right) => left.CompareTo(right) < 0;
    public static bool operator >(Xtime left, Xtime right) => left.CompareTo(right) > 0;
    public static bool operator <=(Xtime left, Xtime right) => left.CompareTo(right) <= 0;
    public static bool operator >=(Xtime left, Xtime right) => left.CompareTo(right) >= 0;

    public override string ToString() =>
        Seconds.ToString(CultureInfo.InvariantCulture) + "." + Microseconds.ToString("D6", CultureInfo.InvariantCulture);
}
