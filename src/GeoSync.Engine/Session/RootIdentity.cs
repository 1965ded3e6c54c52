using System.Globalization;
using System.Numerics;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Transport.Mounting;

namespace GeoSync.Engine.Session;

/// <summary>
/// One directory on the way from <c>/</c> to a replica root: its device and inode, and where it lies in a GlusterFS
/// volume when it is on a glusterfs mount (null elsewhere): <see cref="Volume"/> by the server and volume name the
/// mount names (<c>gluster://&lt;address&gt;/&lt;volume&gt;:&lt;path&gt;</c>), <see cref="VolumeId"/> by the volume's
/// bricks where the mount reveals them (<c>gluster-bricks://&lt;host:/brick&gt;,...:&lt;path&gt;</c>), which no
/// spelling of the server changes.
/// </summary>
/// <remarks>
/// Device -1 marks a directory of the volume above the root of a mount (a subdirectory mount, a bind mount of a
/// directory inside a mount): it is not reachable here, so only its volume keys stand for it.
/// </remarks>
public sealed record RootElement(long Device, long Inode, string? Volume, string? VolumeId = null)
{
    /// <summary>The same directory: one of the volume keys is shared, or (on one kernel) device and inode.</summary>
    public bool IsSameDirectory(RootElement other, bool sameKernel)
    {
        ArgumentNullException.ThrowIfNull(other);
        return (Volume is not null && Volume == other.Volume) ||
            (VolumeId is not null && VolumeId == other.VolumeId) ||
            (sameKernel && Device >= 0 && Device == other.Device && Inode == other.Inode);
    }
}

/// <summary>
/// What a replica root IS, whatever its spelling (docs/sessions.md, "What a session refuses"): the kernel it was seen
/// on, its canonical path (for messages), and the chain of directories from <c>/</c> down to it. Two roots overlap when
/// the last element of one chain appears in the other (equal included): device and inode for the same kernel, which
/// catches symlinks, <c>..</c> and bind mounts; the GlusterFS volume key anywhere, which catches a second mount of the
/// same volume (another <c>st_dev</c>) even on another host.
/// </summary>
public sealed class RootIdentity
{
    /// <summary>The RePCe method of a GeoSync slave that answers its root's identity as <see cref="ToWire"/> values.</summary>
    public const string WireMethod = "root_identity";

    public RootIdentity(string host, string path, IReadOnlyList<RootElement> chain)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(chain);
        if (chain.Count == 0) throw new ArgumentException("a root identity needs at least the root's own element", nameof(chain));
        Host = host;
        Path = path;
        Chain = chain;
    }

    /// <summary>The kernel the chain was read on (its boot id): device numbers mean the same only on one kernel.</summary>
    public string Host { get; }

    /// <summary>The canonical path of the root on its host.</summary>
    public string Path { get; }

    /// <summary>From <c>/</c> down to the root itself (the last element).</summary>
    public IReadOnlyList<RootElement> Chain { get; }

    /// <summary>The root's own element.</summary>
    public RootElement Root => Chain[^1];

    /// <summary>This root is <paramref name="outer"/> or lies somewhere inside it.</summary>
    public bool IsWithin(RootIdentity outer)
    {
        ArgumentNullException.ThrowIfNull(outer);
        var sameKernel = Host == outer.Host;
        var root = outer.Root;
        return Chain.Any(element => root.IsSameDirectory(element, sameKernel));
    }

    /// <summary>One root is the other or contains it.</summary>
    public bool Overlaps(RootIdentity other) => IsWithin(other) || other.IsWithin(this);

    /// <summary>Plain pickle-able values: <c>(host, path, [(dev, ino, volume or None, volume id or None), ...])</c>.</summary>
    public object ToWire() => new PyTuple(Host, Path,
        Chain.Select(e => (object?)new PyTuple(e.Device, e.Inode, e.Volume, e.VolumeId)).ToList());

    /// <summary>Reads what <see cref="ToWire"/> made (on either side of the wire); null when it has another shape.</summary>
    public static RootIdentity? FromWire(object? value)
    {
        if (value is not IReadOnlyList<object?> { Count: 3 } fields || Text(fields[0]) is not { Length: > 0 } host ||
            Text(fields[1]) is not { Length: > 0 } path || fields[2] is not IReadOnlyList<object?> { Count: > 0 } items)
        {
            return null;
        }
        var chain = new List<RootElement>(items.Count);
        foreach (var item in items)
        {
            if (item is not IReadOnlyList<object?> { Count: 4 } e || Integer(e[0]) is not long dev || Integer(e[1]) is not long ino) return null;
            var volume = Text(e[2]);
            var volumeId = Text(e[3]);
            if ((e[2] is not null && volume is null) || (e[3] is not null && volumeId is null)) return null;
            chain.Add(new RootElement(dev, ino, volume, volumeId));
        }
        return new RootIdentity(host, path, chain);

        static string? Text(object? v) => v switch
        {
            string s => s,
            byte[] b => System.Text.Encoding.UTF8.GetString(b),
            _ => null,
        };

        static long? Integer(object? v) => v switch
        {
            long l => l,
            int i => i,
            BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
            _ => null,
        };
    }

    /// <summary>Reads the identity of the directory <paramref name="path"/> on this host.</summary>
    /// <exception cref="GeoSyncException">The path or one of its ancestors cannot be resolved or stat'ed.</exception>
    public static RootIdentity Read(string path) => Read(path, RootSystem.Local);

    internal static RootIdentity Read(string path, IRootSystem system)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(system);
        var real = system.RealPath(path);
        var mounts = MountTable.Parse(system.MountInfo()).ToList();
        return new RootIdentity(system.HostId(), real, ReadChain(real, mounts, system, depth: 0));
    }

    // A bind mount's root is reached through its other mounts at most this many times over (bind of a bind of ...).
    private const int MaxBindDepth = 4;

    private static List<RootElement> ReadChain(string real, IReadOnlyList<MountTableEntry> mounts, IRootSystem system, int depth)
    {
        var chain = new List<RootElement>();
        foreach (var prefix in Prefixes(real))
        {
            var (device, inode) = system.Stat(prefix);
            var mount = MountOf(mounts, prefix);
            if (mount is { FileSystemType: GlusterFileSystemType })
            {
                var (server, name, _) = SplitGlusterSource(mount.Source);
                var volume = system.GlusterVolumeKey(server, name);
                var bricks = system.GlusterBricks(mount.MountPoint);
                var id = bricks.Count > 0 ? $"gluster-bricks://{string.Join(',', bricks)}" : null;
                var inVolume = PathInVolume(mount, prefix);
                if (prefix == mount.MountPoint)
                {
                    // The volume's directories above what this mount shows: a bind mount of /mnt/vol/a is inside the volume too.
                    foreach (var above in Prefixes(inVolume).SkipLast(1)) chain.Add(new RootElement(-1, -1, $"{volume}:{above}"));
                }
                chain.Add(new RootElement(device, inode, $"{volume}:{inVolume}", id is null ? null : $"{id}:{inVolume}"));
                continue;
            }
            if (mount is not null && prefix == mount.MountPoint && mount.Root != "/" && depth < MaxBindDepth &&
                BindSource(mounts, mount) is { } source)
            {
                // A bind mount hides the directories above its root; where another mount shows them, they are ancestors too.
                try
                {
                    chain.AddRange(ReadChain(source, mounts, system, depth + 1).SkipLast(1));
                }
                catch (GeoSyncException)
                {
                    // That other mount cannot be read (gone, no permission): the bind mount's own element still counts.
                }
            }
            chain.Add(new RootElement(device, inode, null));
        }
        return chain;
    }

    /// <summary>Where another mount of the same file system shows a bind mount's root, or null.</summary>
    private static string? BindSource(IReadOnlyList<MountTableEntry> mounts, MountTableEntry bind)
    {
        var other = mounts
            .Where(m => m != bind && m.Device == bind.Device && m.Device.Length > 0 && IsAtOrBelow(bind.Root, m.Root) && m.Root != bind.Root)
            .OrderBy(m => m.Root.Length)
            .FirstOrDefault();
        if (other is null) return null;
        var below = bind.Root[(other.Root == "/" ? 0 : other.Root.Length)..].TrimStart('/');
        return other.MountPoint == "/" ? "/" + below : other.MountPoint + "/" + below;
    }

    internal const string GlusterFileSystemType = "fuse.glusterfs";

    /// <summary>"/", "/a", "/a/b" for "/a/b".</summary>
    internal static IEnumerable<string> Prefixes(string canonical)
    {
        yield return "/";
        var at = 0;
        while (at < canonical.Length)
        {
            var next = canonical.IndexOf('/', at + 1);
            if (next < 0) next = canonical.Length;
            if (next > at + 1) yield return canonical[..next];
            at = next;
        }
    }

    /// <summary>The mount a canonical path lies on: the longest mount point above it, the newest of stacked mounts.</summary>
    internal static MountTableEntry? MountOf(IReadOnlyList<MountTableEntry> mounts, string path)
    {
        MountTableEntry? best = null;
        foreach (var mount in mounts)
        {
            if (!IsAtOrBelow(path, mount.MountPoint)) continue;
            if (best is null || mount.MountPoint.Length >= best.MountPoint.Length) best = mount;
        }
        return best;
    }

    /// <summary>
    /// The path of a directory of a glusterfs mount inside its volume: the subdirectory the mount source names
    /// (<c>host:/vol/sub</c>), the bind root, then the path below the mount point.
    /// </summary>
    internal static string PathInVolume(MountTableEntry mount, string path)
    {
        var (_, _, subdirectory) = SplitGlusterSource(mount.Source);
        var below = path.Length > mount.MountPoint.Length ? path[mount.MountPoint.Length..].TrimStart('/') : "";
        var parts = new[] { subdirectory, mount.Root, below }
            .SelectMany(p => p.Split('/', StringSplitOptions.RemoveEmptyEntries));
        return "/" + string.Join('/', parts);
    }

    /// <summary><c>host:/vol/sub</c> or <c>host:vol</c> → (<c>host</c>, <c>vol</c>, <c>/sub</c>); the host is the part before the last colon.</summary>
    internal static (string Server, string Volume, string Subdirectory) SplitGlusterSource(string source)
    {
        // The volume part never holds a colon; a bracketed IPv6 server may.
        var slashAfterColon = source.IndexOf(":/", StringComparison.Ordinal);
        var colon = slashAfterColon >= 0 ? slashAfterColon : source.LastIndexOf(':');
        var server = colon > 0 ? source[..colon].Trim('[', ']') : "localhost";
        var rest = (colon < 0 ? source : source[(colon + 1)..]).TrimStart('/');
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (server, rest, "/") : (server, rest[..slash], rest[slash..]);
    }

    private static bool IsAtOrBelow(string path, string directory) =>
        directory == "/" || path == directory || (path.StartsWith(directory, StringComparison.Ordinal) && path[directory.Length] == '/');

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Path} ({Chain.Count} levels)");
}
