using System.Runtime.InteropServices;
using System.Text;
using GeoSync.Engine.Slave;
using Mono.Unix.Native;

namespace GeoSync.Engine.Verify;

/// <summary>
/// The three system calls verify spends its time in — getdents64, statx and read — called on libc directly: through
/// Mono.Posix each costs several times more (string marshalling per name, converted stat structures), which made a
/// verify slower than rsync's own comparison (docs/verify.md). Both structures used are the same on every Linux
/// architecture; open flags still come from Mono's conversion, as they differ between architectures.
/// </summary>
internal static class NativeEntries
{
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtEmptyPath = 0x1000;
    public const int AtStatxForceSync = 0x2000;
    public const int AtFdCwd = -100;
    public const uint StatxBasicStats = 0x7FF;

    private const int DirentHeader = 19; // d_ino (8), d_off (8), d_reclen (2), d_type (1)

    // getdents64's buffer, one per thread: a verify lists thousands of directories.
    [ThreadStatic]
    private static byte[]? s_direntBuffer;

    /// <summary>
    /// The names in an open directory (without . and ..), each NUL-terminated as the *at calls take it, so a name costs
    /// one array; 0, or -errno on failure.
    /// </summary>
    public static int ReadNames(int directoryFd, List<byte[]> names)
    {
        var buffer = s_direntBuffer ??= new byte[32 * 1024];
        while (true)
        {
            var length = getdents64(directoryFd, buffer, buffer.Length);
            if (length < 0) return -Marshal.GetLastPInvokeError();
            if (length == 0) return 0;
            for (var offset = 0; offset < length;)
            {
                var recordLength = BitConverter.ToUInt16(buffer, offset + 16);
                var name = buffer.AsSpan(offset + DirentHeader, recordLength - DirentHeader);
                name = name[..(name.IndexOf((byte)0) + 1)];
                if (!(name.SequenceEqual(".\0"u8) || name.SequenceEqual("..\0"u8))) names.Add(name.ToArray());
                offset += recordLength;
            }
        }
    }

    /// <summary>statx of <paramref name="name"/> (NUL-terminated bytes) relative to a directory descriptor; 0 or errno.</summary>
    public static int Stat(int directoryFd, byte[] name, int flags, out StatxBuffer stat) =>
        statx(directoryFd, name, flags, StatxBasicStats, out stat) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Mono's open flags as this architecture's openat takes them (converted once, not per file).</summary>
    public static int NativeOpenFlags(OpenFlags flags) => NativeConvert.FromOpenFlags(flags);

    /// <summary>openat with flags from <see cref="NativeOpenFlags"/>; the descriptor, or -errno.</summary>
    public static int OpenAt(int directoryFd, byte[] name, int nativeFlags)
    {
        var fd = openat(directoryFd, name, nativeFlags);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>read(2) into the buffer from <paramref name="offset"/> on; bytes read, or -errno.</summary>
    public static int Read(int fd, byte[] buffer, int offset)
    {
        while (true)
        {
            var read = read_(fd, ref buffer[offset], buffer.Length - offset);
            if (read >= 0) return (int)read;
            var errno = Marshal.GetLastPInvokeError();
            if (errno != NativeConvert.FromErrno(Errno.EINTR)) return -errno;
        }
    }

    public static void Close(int fd) => _ = close(fd);

    /// <summary>A name in wire text as the NUL-terminated bytes the C calls expect, in one array when it needs no escapes.</summary>
    public static byte[] CString(string wireName)
    {
        if (WireText.HasSurrogates(wireName)) return CString(WireText.ToBytes(wireName));
        var bytes = new byte[Encoding.UTF8.GetByteCount(wireName) + 1];
        Encoding.UTF8.GetBytes(wireName, bytes);
        return bytes;
    }

    /// <summary>A name with the NUL the C calls expect.</summary>
    public static byte[] CString(ReadOnlySpan<byte> name)
    {
        var bytes = new byte[name.Length + 1];
        name.CopyTo(bytes);
        return bytes;
    }

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern nint getdents64(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int statx(int dirfd, byte[] path, int flags, uint mask, out StatxBuffer buffer);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int openat(int dirfd, byte[] path, int flags);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern nint read_(int fd, ref byte buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int close(int fd);
}

/// <summary>struct statx (linux/stat.h), the fields verify reads; 256 bytes on every architecture.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatxBuffer
{
    [FieldOffset(20)] public uint Uid;
    [FieldOffset(24)] public uint Gid;
    [FieldOffset(28)] public ushort Mode;
    [FieldOffset(40)] public ulong Size;
    [FieldOffset(112)] public long MtimeSeconds;
    [FieldOffset(120)] public uint MtimeNanoseconds;
    [FieldOffset(128)] public uint RdevMajor;
    [FieldOffset(132)] public uint RdevMinor;

    /// <summary>glibc's makedev, so a device number reads as st_rdev does.</summary>
    public readonly long DeviceNumber => (long)((((ulong)RdevMajor & 0xfffff000) << 32) | (((ulong)RdevMajor & 0xfff) << 8)
        | (((ulong)RdevMinor & 0xffffff00) << 12) | ((ulong)RdevMinor & 0xff));
}
