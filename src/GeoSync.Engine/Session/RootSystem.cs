using GeoSync.Engine.Transport.Mounting;
using GeoSync.Engine.Urls;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Session;

/// <summary>What <see cref="RootIdentity.Read(string)"/> asks of the host; unit tests replace it with a fake.</summary>
internal interface IRootSystem
{
    /// <summary>The path with <c>.</c>, <c>..</c> and every symlink resolved; throws <see cref="GeoSyncException"/> when it does not resolve.</summary>
    string RealPath(string path);

    /// <summary>stat's device and inode of a canonical path; throws <see cref="GeoSyncException"/> on failure.</summary>
    (long Device, long Inode) Stat(string path);

    /// <summary>The text of /proc/self/mountinfo.</summary>
    string MountInfo();

    /// <summary>The running kernel's identity (boot id).</summary>
    string HostId();

    /// <summary>Names a GlusterFS volume the same way for every mount of it that names its server alike (docs/gluster-notes.md).</summary>
    string GlusterVolumeKey(string server, string volume);

    /// <summary>
    /// The volume's bricks (<c>host:/path</c>, sorted) from the pathinfo of a glusterfs mount's root; empty where the
    /// mount does not answer it. The same for every mount of the volume, whichever server it named.
    /// </summary>
    IReadOnlyList<string> GlusterBricks(string mountPoint);
}

/// <summary>This host: realpath(3), stat(2), /proc and the system resolver.</summary>
internal sealed class RootSystem : IRootSystem
{
    public static RootSystem Local { get; } = new(SystemHostResolver.Shared);

    private const string BootIdPath = "/proc/sys/kernel/random/boot_id";
    private const string MachineIdPath = "/etc/machine-id";

    private readonly IHostResolver _resolver;

    public RootSystem(IHostResolver resolver) => _resolver = resolver;

    public string RealPath(string path)
    {
        // The kernel's own name of the opened directory: every symlink and '..' resolved as the lookup went.
        var fd = Syscall.open(path, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0) throw new GeoSyncException($"cannot open the directory '{path}': {Stdlib.strerror(Stdlib.GetLastError())}");
        try
        {
            return Mono.Unix.UnixPath.ReadLink($"/proc/self/fd/{fd.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            throw new GeoSyncException($"cannot resolve '{path}': {e.Message}", e);
        }
        finally
        {
            _ = Syscall.close(fd);
        }
    }

    public (long Device, long Inode) Stat(string path) =>
        Syscall.stat(path, out var stat) == 0
            ? ((long)stat.st_dev, (long)stat.st_ino)
            : throw new GeoSyncException($"cannot stat '{path}': {Stdlib.strerror(Stdlib.GetLastError())}");

    public string MountInfo() => File.ReadAllText(LinuxMountSystem.MountInfoPath);

    public string HostId() => HostIdentity.BootId ?? HostIdentity.MachineId ?? Environment.MachineName;

    public string GlusterVolumeKey(string server, string volume)
    {
        string address;
        try
        {
            address = _resolver.ResolveIPv4(server);
        }
        catch (GeoSyncUrlException)
        {
            // Unresolvable here: the name as given still matches another mount that spells it alike.
            address = server;
        }
        return $"gluster://{address}/{volume}";
    }

    public IReadOnlyList<string> GlusterBricks(string mountPoint)
    {
        // Normal and aux mounts both answer it, unlike the volume mark (docs/gluster-notes.md).
        try
        {
            return new PosixXattrStore().Get(mountPoint, GlusterPathInfo.XattrName) is { } bytes
                ? GlusterPathInfo.Bricks(System.Text.Encoding.UTF8.GetString(bytes))
                : [];
        }
        catch (GeoSyncException)
        {
            return [];
        }
    }

    /// <summary>Identities of this host that stay the same from reboot to reboot (machine id) or for one boot (boot id).</summary>
    internal static class HostIdentity
    {
        public static string? BootId => ReadFirstLine(BootIdPath);

        public static string? MachineId => ReadFirstLine(MachineIdPath);

        private static string? ReadFirstLine(string path)
        {
            try
            {
                var text = File.ReadAllText(path).Trim();
                return text.Length > 0 ? text : null;
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }
    }
}
