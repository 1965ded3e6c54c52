using System.Text.RegularExpressions;

namespace GeoSync.Engine.Transport.Mounting;

/// <summary>How an auxiliary mount is made (docs/protocol.md, "Transport").</summary>
public enum GlusterMountMode
{
    /// <summary>The glusterfs client runs from this process on a directory of ours; needs root.</summary>
    Direct,

    /// <summary>glusterd mounts on behalf of an unprivileged geo-replication user (<c>gluster system:: mount</c>).</summary>
    MountBroker,
}

/// <summary>What to mount and how; the defaults follow gsyncd's tunables (docs/protocol.md, "Transport").</summary>
public sealed partial record GlusterMountOptions
{
    /// <summary>glusterd's own gluster_params for the direct mounter: a down DHT child fails the mount (docs/protocol.md, "Extended attributes: names and layouts").</summary>
    public const string AssertNoChildDown = "xlator-option=*-dht.assert-no-child-down=true";

    /// <summary>gsyncd's connection_timeout: the bound of the whole mount, readiness included (docs/protocol.md, "Transport").</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Where the direct mounter logs when no log file is given: the glusterfs client's own log directory.</summary>
    public const string DefaultLogDirectory = "/var/log/glusterfs";

    /// <summary>The volume to mount.</summary>
    public required string Volume { get; init; }

    /// <summary>Direct: the volfile server. MountBroker: the glusterd asked to mount (it serves the volume as localhost).</summary>
    public required string Server { get; init; }

    public GlusterMountMode Mode { get; init; } = GlusterMountMode.Direct;

    /// <summary>
    /// A network namespace to run the client (direct) or the gluster CLI (mountbroker) in: a name under
    /// /var/run/netns or a path such as /proc/&lt;pid&gt;/ns/net. Only the network namespace is entered, so the mount
    /// stays visible to this process. Entering needs root.
    /// </summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>Bounds mounting and waiting until the mount answers; each mount gets its own deadline (docs/gsyncd-flaws.md, #20).</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>
    /// The client's log file. Direct: default <c>/var/log/glusterfs/geosync-aux-mount-&lt;volume&gt;.log</c>.
    /// MountBroker: glusterd accepts only files under its logging directory's <c>geo-replication*/</c>; default glusterd's choice.
    /// </summary>
    public string? LogFile { get; init; }

    /// <summary>The client's log level (gluster_log_level), e.g. INFO or DEBUG; the client's default when null.</summary>
    public string? LogLevel { get; init; }

    /// <summary>Direct only: an existing empty directory to mount on; a new temporary directory when null.</summary>
    public string? MountPoint { get; init; }

    /// <summary>Where glusterfs and gluster live (gluster_command_dir); PATH, then /usr/sbin and /sbin, when null.</summary>
    public string? GlusterCommandDirectory { get; init; }

    /// <summary>
    /// Direct only: mount an empty read-only tmpfs on the mount point first and the volume over it, so that when the volume
    /// mount goes away (its client exits and unmounts itself, or someone unmounts it) a path under the mount point answers
    /// from an empty read-only directory — writes fail with EROFS instead of landing on the host's file system.
    /// </summary>
    public bool ReadOnlyUnderlay { get; init; }

    /// <summary>
    /// Direct only: every lookup and attribute read goes to the volume (entry and attribute timeouts 0, and the client's
    /// md-cache off), so what another client changed is seen at once: on a master, a file is never copied with a size
    /// older than the xtime it is stamped with; on a slave, a repair's rsync never takes a file removed behind GeoSync's
    /// back for present (docs/gluster-notes.md, "Coherent reads"). Sessions mount both sides so.
    /// </summary>
    public bool UncachedMetadata { get; init; }

    /// <summary>Direct only: extra client options without the leading <c>--</c> (gluster_params).</summary>
    public IReadOnlyList<string> GlusterParams { get; init; } = [AssertNoChildDown];

    /// <summary>MountBroker only: the geo-replication user, used as label and user-map-root; the current user when null.</summary>
    public string? MountBrokerUser { get; init; }

    /// <summary>MountBroker only: options for the gluster CLI after <c>--remote-host</c> (gluster_cli_options).</summary>
    public IReadOnlyList<string> GlusterCliOptions { get; init; } = ["--log-file=-"];

    /// <summary>Throws <see cref="ArgumentException"/> for values that could not name a volume, host or user.</summary>
    public void Validate()
    {
        Require(VolumeName().IsMatch(Volume), nameof(Volume), $"'{Volume}' is not a GlusterFS volume name (letters, digits, '-', '_', '.')");
        Require(HostName().IsMatch(Server), nameof(Server), $"'{Server}' is not a host name or address");
        Require(Timeout > TimeSpan.Zero, nameof(Timeout), "the mount timeout must be positive");
        if (MountBrokerUser is not null)
        {
            Require(UserName().IsMatch(MountBrokerUser), nameof(MountBrokerUser), $"'{MountBrokerUser}' is not a user name");
        }

        if (Mode == GlusterMountMode.MountBroker)
        {
            Require(MountPoint is null, nameof(MountPoint), "glusterd chooses the mount point of a mountbroker mount");
            Require(!ReadOnlyUnderlay, nameof(ReadOnlyUnderlay), "glusterd mounts a mountbroker mount; only a direct mount (as root) can have an underlay");
        }

        if (MountPoint is not null)
        {
            Require(Path.IsPathRooted(MountPoint), nameof(MountPoint), $"the mount point '{MountPoint}' must be an absolute path");
        }

        if (LogFile is not null)
        {
            Require(Path.IsPathRooted(LogFile), nameof(LogFile), $"the log file '{LogFile}' must be an absolute path");
        }
    }

    private static void Require(bool condition, string name, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message, name);
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")]
    private static partial Regex VolumeName();

    [GeneratedRegex(@"^[A-Za-z0-9_.:\[\]][A-Za-z0-9_.:\[\]%-]*$")]
    private static partial Regex HostName();

    [GeneratedRegex(@"^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$")]
    private static partial Regex UserName();
}
