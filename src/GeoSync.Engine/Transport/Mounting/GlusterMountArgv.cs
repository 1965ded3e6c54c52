namespace GeoSync.Engine.Transport.Mounting;

/// <summary>The exact argv of every command the mounters run (docs/protocol.md, "Transport"); each is a list, never a shell string.</summary>
internal static class GlusterMountArgv
{
    /// <summary>The guard replaces this argument of an unmount command with the mount point.</summary>
    public const string MountPointPlaceholder = "{}";

    /// <summary>gsyncd's geo-replication client pid: operations through the mount stamp no xtime (docs/protocol.md, "Extended attributes: names and layouts").</summary>
    public const string ClientPid = "client-pid=-1";

    /// <summary>glusterd 10.3's mountbroker serves the volume from itself and refuses any other volfile server.</summary>
    public const string MountBrokerVolfileServer = "localhost";

    /// <summary>The gluster_params glusterd 10.3 accepts (and gsyncd 10.x sends) for a geo-replication mountbroker label.</summary>
    public static readonly IReadOnlyList<string> MountBrokerGlusterParams = ["aux-gfid-mount", "acl"];

    /// <summary>The client parameters in gsyncd's order, without the leading <c>--</c>.</summary>
    public static List<string> ClientParams(IReadOnlyList<string> glusterParams, string? logLevel, string? logFile,
        string volfileServer, string volume)
    {
        var parameters = new List<string>(glusterParams);
        if (logLevel is not null)
        {
            parameters.Add($"log-level={logLevel}");
        }

        if (logFile is not null)
        {
            parameters.Add($"log-file={logFile}");
        }

        parameters.Add($"volfile-server={volfileServer}");
        parameters.Add($"volfile-id={volume}");
        parameters.Add(ClientPid);
        return parameters;
    }

    /// <summary><c>glusterfs --param ... MOUNTPOINT</c>.</summary>
    public static List<string> DirectMount(string glusterfs, GlusterMountOptions options, string? logFile, string mountPoint) =>
        [glusterfs,
            .. ClientParams(options.GlusterParams, options.LogLevel, logFile, options.Server, options.Volume).Select(p => "--" + p),
            // No page cache kept across opens: rsync reads what the volume holds when it opens a file; with
            // UncachedMetadata no lookup or attribute either, neither in the kernel nor in the client's md-cache, which
            // otherwise answers a lookup of a file another client removed for a second (docs/gluster-notes.md, "Coherent reads").
            "--fopen-keep-cache=off",
            .. options.UncachedMetadata ? (string[])["--attribute-timeout=0", "--entry-timeout=0", NoMetadataCache] : [],
            mountPoint];

    /// <summary>
    /// The client's md-cache keeps no attributes: its default (performance.md-cache-timeout, 1 s) answers lookups and
    /// stats from the client process itself, whatever the kernel's timeouts say.
    /// </summary>
    public const string NoMetadataCache = "--xlator-option=*-md-cache.md-cache-timeout=0";

    /// <summary>The source name of the read-only underlay in the mount table.</summary>
    public const string UnderlaySource = "geosync-underlay";

    /// <summary>
    /// <c>mount -t tmpfs -o ro,size=4k,nr_inodes=8,mode=0555 geosync-underlay MOUNTPOINT</c>: an empty directory nothing
    /// can be written to, left under the volume mount (<see cref="GlusterMountOptions.ReadOnlyUnderlay"/>).
    /// </summary>
    public static List<string> ReadOnlyUnderlay(string mount, string mountPoint) =>
        [mount, "-t", "tmpfs", "-o", "ro,size=4k,nr_inodes=8,mode=0555", UnderlaySource, mountPoint];

    /// <summary><c>umount -l {}</c>.</summary>
    public static List<string> DirectUnmount(string umount) => [umount, "-l", MountPointPlaceholder];

    /// <summary><c>gluster --remote-host=SERVER CLI_OPTIONS system::</c>, the prefix of both mountbroker requests.</summary>
    public static List<string> MountBrokerCli(string gluster, GlusterMountOptions options) =>
        [gluster, $"--remote-host={options.Server}", .. options.GlusterCliOptions, "system::"];

    /// <summary><c>... system:: mount USER user-map-root=USER PARAM ...</c> (the label is the user, docs/protocol.md, "Transport").</summary>
    public static List<string> MountBrokerMount(IReadOnlyList<string> cli, string user, GlusterMountOptions options, string? logFile) =>
        [.. cli, "mount", user, $"user-map-root={user}",
            .. ClientParams(MountBrokerGlusterParams, options.LogLevel, logFile, MountBrokerVolfileServer, options.Volume)];

    /// <summary><c>... system:: umount {} lazy</c>.</summary>
    public static List<string> MountBrokerUnmount(IReadOnlyList<string> cli) => [.. cli, "umount", MountPointPlaceholder, "lazy"];

    /// <summary>Runs <paramref name="argv"/> in a network namespace when one is given: <c>nsenter --net=PATH -- ARGV</c>.</summary>
    public static List<string> InNetworkNamespace(string? nsenter, string? namespacePath, List<string> argv) =>
        namespacePath is null || nsenter is null ? argv : [nsenter, $"--net={namespacePath}", "--", .. argv];

    /// <summary>Runs from / so that no client keeps the caller's working directory (perhaps another mount) busy.</summary>
    public static ProcessSpec ToSpec(IReadOnlyList<string> argv) => new(argv[0], argv.Skip(1).ToList()) { WorkingDirectory = "/" };
}
