using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;
using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Xattrs;

/// <summary>A volume mark (docs/protocol.md, "Extended attributes: names and layouts"): the native 27-byte mark of a GlusterFS volume, or a 31-byte foreign mark with an expiry.</summary>
public sealed partial record VolumeMark(byte VersionMajor, byte VersionMinor, Guid VolumeId, byte Retval, Xtime Mark, uint? Expiry)
{
    public const int NativeLength = 27;
    public const int ForeignLength = 31;

    private const int UuidOffset = 2;
    private const int RetvalOffset = 18;
    private const int MarkOffset = 19;
    private const int ExpiryOffset = 27;

    public bool IsForeign => Expiry is not null;

    /// <summary>The marker translator could not use its timestamp file; xtimes of this volume cannot be trusted.</summary>
    public bool IsCorrupt => Retval != 0;

    public static VolumeMark Decode(ReadOnlySpan<byte> value)
    {
        if (value.Length is not (NativeLength or ForeignLength))
        {
            throw new GeoSyncException(
                $"a volume mark must be {NativeLength} bytes (native) or {ForeignLength} bytes (foreign), got {value.Length}; " +
                "the attribute was not written by GlusterFS's marker or a gsyncd keep-alive");
        }
        return new VolumeMark(
            value[0],
            value[1],
            new Guid(value.Slice(UuidOffset, 16), bigEndian: true),
            value[RetvalOffset],
            Xtime.FromBytes(value.Slice(MarkOffset, Xtime.EncodedLength)),
            value.Length == ForeignLength ? BinaryPrimitives.ReadUInt32BigEndian(value[ExpiryOffset..]) : null);
    }

    public byte[] Encode()
    {
        var bytes = new byte[IsForeign ? ForeignLength : NativeLength];
        bytes[0] = VersionMajor;
        bytes[1] = VersionMinor;
        VolumeId.TryWriteBytes(bytes.AsSpan(UuidOffset, 16), bigEndian: true, out _);
        bytes[RetvalOffset] = Retval;
        Mark.ToBytes().CopyTo(bytes, MarkOffset);
        if (Expiry is uint expiry) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(ExpiryOffset), expiry);
        return bytes;
    }

    /// <summary>The dict gsyncd exchanges: <c>version</c>, <c>uuid</c>, <c>retval</c>, <c>volume_mark</c>, and <c>timeout</c> for foreign marks.</summary>
    public Dictionary<object, object?> ToWireDictionary()
    {
        var dict = new Dictionary<object, object?>(PyEquality.Instance)
        {
            ["version"] = new PyTuple((long)VersionMajor, (long)VersionMinor),
            ["uuid"] = XattrNames.FormatUuid(VolumeId),
            ["retval"] = (long)Retval,
            ["volume_mark"] = new PyTuple((long)Mark.Seconds, (long)Mark.Microseconds),
        };
        if (Expiry is uint expiry) dict["timeout"] = (long)expiry;
        return dict;
    }

    /// <summary>Reads the wire dict; keys may be text or (from Python 2 peers) byte strings; <c>timeout</c> is optional.</summary>
    public static VolumeMark FromWireDictionary(IReadOnlyDictionary<object, object?> d)
    {
        ArgumentNullException.ThrowIfNull(d);
        var byName = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in d)
        {
            var name = key switch
            {
                string s => s,
                byte[] b => Encoding.UTF8.GetString(b),
                _ => null,
            };
            if (name is not null) byName[name] = value;
        }

        var version = Pair(byName, "version", exact: true);
        var mark = Pair(byName, "volume_mark", exact: false);
        byName.TryGetValue("timeout", out var timeout);
        return new VolumeMark(
            (byte)Integer("version", version[0], byte.MaxValue),
            (byte)Integer("version", version[1], byte.MaxValue),
            Uuid(Required(byName, "uuid")),
            (byte)Integer("retval", Required(byName, "retval"), byte.MaxValue),
            new Xtime((uint)Integer("volume_mark", mark[0], uint.MaxValue), (uint)Integer("volume_mark", mark[1], uint.MaxValue)),
            timeout is null ? null : (uint)Integer("timeout", timeout, uint.MaxValue));
    }

    private static object Required(Dictionary<string, object?> byName, string key) =>
        byName.TryGetValue(key, out var value) && value is not null
            ? value
            : throw new GeoSyncException($"the volume mark dict has no '{key}' entry; a keep-alive payload needs version, uuid, retval, volume_mark and timeout");

    private static IReadOnlyList<object?> Pair(Dictionary<string, object?> byName, string key, bool exact)
    {
        var value = Required(byName, key);
        if (value is IReadOnlyList<object?> items && (exact ? items.Count == 2 : items.Count >= 2)) return items;
        throw new GeoSyncException($"the volume mark dict's '{key}' must be a pair of integers, got {PyRepr.Format(value)}");
    }

    private static long Integer(string key, object? value, long max)
    {
        long? number = value switch
        {
            long l => l,
            int i => i,
            BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
            // Python 2's struct truncated floats (with a warning); a 3.3 master may have sent one.
            double f when double.IsFinite(f) && Math.Abs(f) < 1e18 => (long)f,
            _ => null,
        };
        if (number is long n && n >= 0 && n <= max) return n;
        throw new GeoSyncException($"the volume mark dict's '{key}' must hold integers from 0 to {max}, got {PyRepr.Format(value)}");
    }

    private static Guid Uuid(object value)
    {
        var text = value switch
        {
            string s => s,
            byte[] b => Encoding.UTF8.GetString(b),
            _ => null,
        };
        // The original packs the uuid's lower-case hex pairs; anything else cannot be a mark it wrote or would read.
        if (text is not null && CanonicalUuid().IsMatch(text)) return Guid.ParseExact(text, "D");
        throw new GeoSyncException($"the volume mark dict's 'uuid' must be a lower-case 8-4-4-4-12 uuid, got {PyRepr.Format(value)}");
    }

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex CanonicalUuid();
}
