using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Mono.Unix.Native;

namespace GeoSync.Engine.Xattrs;

/// <summary>Extended attributes of the path itself (symlinks are never followed); an absent attribute is null.</summary>
public interface IXattrStore
{
    byte[]? Get(string path, string name);
    void Set(string path, string name, ReadOnlySpan<byte> value);
    IReadOnlyList<string> List(string path);
    bool Remove(string path, string name);
}

/// <summary>The real xattrs through l*xattr system calls.</summary>
public sealed class PosixXattrStore : IXattrStore
{
    private const int ENODATA = 61;

    public byte[]? Get(string path, string name)
    {
        if (Syscall.lgetxattr(path, name, out byte[] value) >= 0) { return value; }
        var errno = Marshal.GetLastPInvokeError();
        return errno == ENODATA ? null : throw Failure("read", path, name, errno);
    }

    public void Set(string path, string name, ReadOnlySpan<byte> value)
    {
        if (Syscall.lsetxattr(path, name, value.ToArray()) < 0) { throw Failure("write", path, name, Marshal.GetLastPInvokeError()); }
    }

    public IReadOnlyList<string> List(string path)
    {
        if (Syscall.llistxattr(path, out string[] names) < 0) { throw Failure("list", path, "", Marshal.GetLastPInvokeError()); }
        return names;
    }

    public bool Remove(string path, string name)
    {
        if (Syscall.lremovexattr(path, name) >= 0) { return true; }
        var errno = Marshal.GetLastPInvokeError();
        return errno == ENODATA ? false : throw Failure("remove", path, name, errno);
    }

    private static GeoSyncXattrException Failure(string op, string path, string name, int errno) =>
        new(path, name, errno, $"cannot {op} extended attribute '{name}' of '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
}

/// <summary>The attribute names gsyncd uses (spec §4.2).</summary>
public static class XattrNames
{
    public const string TrustedNamespace = "trusted.glusterfs";
    public const string SystemNamespace = "system.glusterfs";

    public static string DefaultNamespace => Syscall.geteuid() == 0 ? TrustedNamespace : SystemNamespace;

    public static string Xtime(Guid volumeId, string? ns = null) => $"{ns ?? DefaultNamespace}.{volumeId:D}.xtime";
    public static string VolumeMark(string? ns = null) => $"{ns ?? DefaultNamespace}.volume-mark";
    public static string ForeignVolumeMark(Guid volumeId, string? ns = null) => $"{VolumeMark(ns)}.{volumeId:D}";
}

/// <summary>A native (27-byte) or foreign (31-byte, with expiry) volume mark (spec §4.4).</summary>
public sealed record VolumeMark(byte VersionMajor, byte VersionMinor, Guid VolumeId, byte Retval, Xtime Mark, uint? Expiry)
{
    public bool IsForeign => Expiry.HasValue;
    public bool IsCorrupt => Retval != 0;

    public static VolumeMark Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length is not (27 or 31)) { throw new ArgumentException($"a volume mark is 27 or 31 bytes, got {bytes.Length}", nameof(bytes)); }
        return new VolumeMark(bytes[0], bytes[1], new Guid(bytes.Slice(2, 16), bigEndian: true), bytes[18],
            Xtime.FromBytes(bytes.Slice(19, 8)), bytes.Length == 31 ? BinaryPrimitives.ReadUInt32BigEndian(bytes[27..]) : null);
    }

    public byte[] Encode()
    {
        var bytes = new byte[Expiry.HasValue ? 31 : 27];
        bytes[0] = VersionMajor;
        bytes[1] = VersionMinor;
        VolumeId.TryWriteBytes(bytes.AsSpan(2, 16), bigEndian: true, out _);
        bytes[18] = Retval;
        Mark.ToBytes().CopyTo(bytes, 19);
        if (Expiry is { } expiry) { BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(27), expiry); }
        return bytes;
    }
}

/// <summary>Reads and writes xtimes and volume marks through an <see cref="IXattrStore"/>.</summary>
public sealed class XtimeStore
{
    private readonly IXattrStore _store;
    private readonly string? _ns;

    public XtimeStore(IXattrStore store, string? ns = null)
    {
        _store = store;
        _ns = ns;
    }

    public Xtime? Get(string path, Guid volumeId) =>
        _store.Get(path, XattrNames.Xtime(volumeId, _ns)) is { } bytes ? Xtime.FromBytes(bytes) : null;

    public void Set(string path, Guid volumeId, Xtime value) => _store.Set(path, XattrNames.Xtime(volumeId, _ns), value.ToBytes());

    public VolumeMark? GetNativeMark(string path) =>
        _store.Get(path, XattrNames.VolumeMark(_ns)) is { } bytes ? VolumeMark.Decode(bytes) : null;

    public IReadOnlyList<VolumeMark> GetForeignMarks(string path)
    {
        var prefix = XattrNames.VolumeMark(_ns) + ".";
        var marks = new List<VolumeMark>();
        foreach (var name in _store.List(path).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            if (_store.Get(path, name) is { } bytes) { marks.Add(VolumeMark.Decode(bytes)); }
        }
        return marks;
    }
}
