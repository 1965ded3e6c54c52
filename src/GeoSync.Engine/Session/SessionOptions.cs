using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Session;

/// <summary>How a session reaches its slave.</summary>
public enum SlaveMode
{
    /// <summary>By URL: ssh:// over ssh, file:// and gluster:// in this process.</summary>
    Auto,

    /// <summary>A <see cref="Slave.SlaveServer"/> in this process (file:// on its directory, gluster:// on an aux mount).</summary>
    InProcess,

    /// <summary>A local <c>geosync slave URL --listen</c> child speaking RePCe over its stdin and stdout.</summary>
    Child,

    /// <summary><c>ssh</c> running the remote command on the slave host (docs/protocol.md, "Transport"); needs an ssh:// slave URL.</summary>
    Ssh,
}

/// <summary>How a session of a directory master finds changes between turns (docs/master-loop.md, "Watching a directory master").</summary>
public enum MasterWatch
{
    /// <summary>
    /// Watch a directory master's tree with inotify and compare only what changed after a first full comparison; a full
    /// comparison whenever the watch cannot be trusted, and every turn where watching is not possible.
    /// </summary>
    Auto,

    /// <summary>Compare both trees in full every turn.</summary>
    Disabled,
}

/// <summary>Whether the crawl of a GlusterFS master skips subtrees whose directory xtime says they are in sync (docs/master-loop.md, "The crawl").</summary>
public enum DirectoryPruning
{
    /// <summary>Prune unless the master volume is distributed over several subvolumes (or its layout cannot be read).</summary>
    Auto,

    /// <summary>
    /// Always prune: right for a master that answers a directory's xtime as the newest over its subvolumes (GlusterFS
    /// 3.3); on a distributed GlusterFS 10.x volume it can miss changes.
    /// </summary>
    Enabled,

    /// <summary>Never prune: list every directory each turn and send files by their own xtimes.</summary>
    Disabled,
}

/// <summary>How important a session log message is.</summary>
public enum SessionLogLevel
{
    Debug,
    Verbose,
    Warning,
    Error,
}

/// <summary>What a <see cref="GeoSyncSession"/> connects and how (docs/master-loop.md, "The crawl"; docs/protocol.md, "Transport").</summary>
public sealed record SessionOptions
{
    /// <summary>Seconds a slave waits for a keep-alive before it ends itself when none is given (docs/protocol.md, "Keep-alive and the watchdog").</summary>
    public const int DefaultTimeoutSeconds = SshSlaveArguments.DefaultTimeoutSeconds;

    /// <summary>Seconds each connection phase may take when none is given (the catalog's connection-timeout default).</summary>
    public const int DefaultConnectionTimeoutSeconds = 60;

    /// <summary>The default local slave command: <c>geosync slave</c> on PATH.</summary>
    public static IReadOnlyList<string> DefaultSlaveCommand { get; } = ["geosync", "slave"];

    /// <summary>The master URL: <c>gluster://host:vol</c> (or <c>:vol</c>), or <c>file:///dir</c> with <see cref="AllowDirectoryMaster"/>.</summary>
    public required string Master { get; init; }

    /// <summary>The slave URL: <c>file:///dir</c>, <c>gluster://host:vol</c>, or <c>ssh://[user@]host:...</c>.</summary>
    public required string Slave { get; init; }

    /// <summary>A name to find the session by; <c>Session&lt;Id&gt;</c> when null.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Accept a <c>file://</c> master: GeoSync's extension of the URL pairing rules (docs/protocol.md, "URLs"; no marker, the crawl compares entries with the slave).
    /// </summary>
    public bool AllowDirectoryMaster { get; init; }

    /// <summary>How the slave is reached; <see cref="SlaveMode.Auto"/> chooses by the slave URL.</summary>
    public SlaveMode SlaveMode { get; init; } = SlaveMode.Auto;

    /// <summary>
    /// rsync processes that may run at once (<c>sync_jobs</c>; <see cref="GeoSync.Engine.Master.SyncerOptions.DefaultSyncJobs"/> unless
    /// set), and the RePCe workers of a child slave (never fewer than the slave's default).
    /// </summary>
    public int SyncJobs { get; init; } = GeoSync.Engine.Master.SyncerOptions.DefaultSyncJobs;

    /// <summary>
    /// Seconds the slave keeps serving without a keep-alive (<c>--timeout</c>); the master sends one every half of it.
    /// 0: no keep-alives, and the slave never ends itself.
    /// </summary>
    public int TimeoutSeconds { get; init; } = DefaultTimeoutSeconds;

    /// <summary>Keep entries on the slave that the master no longer has (<c>ignore_deletes</c>).</summary>
    public bool IgnoreDeletes { get; init; }

    /// <summary>
    /// The mass-deletion guard (<see cref="Master.CrawlerOptions.MaxDeleteShare"/>): a purge of more than this share (0..1)
    /// of a directory's slave entries in one turn is held back and reported; 1 allows any.
    /// </summary>
    public double MaxDeleteShare { get; init; } = 0.5;

    /// <summary>
    /// Allow the first sync into a slave that holds entries this master did not put there (those the master lacks are
    /// deleted); without it the first turn refuses with <see cref="SessionFailure.SlaveNotEmpty"/>.
    /// </summary>
    public bool Force { get; init; }

    /// <summary>
    /// Whether the crawl skips subtrees by their directory's xtime; <see cref="DirectoryPruning.Auto"/> decides by the
    /// master volume's layout. Ignored for a directory master, which has no xtimes.
    /// </summary>
    public DirectoryPruning DirectoryPruning { get; init; } = DirectoryPruning.Auto;

    /// <summary>
    /// Whether a directory master is watched (<see cref="MasterWatch.Auto"/>) or compared in full every turn. Ignored for
    /// a GlusterFS master, whose xtimes say where changes are.
    /// </summary>
    public MasterWatch Watch { get; init; } = MasterWatch.Auto;

    /// <summary>rsync copies extended attributes too (<c>--xattrs</c>, <c>use_rsync_xattrs</c>); the slave must run as root.</summary>
    public bool Xattrs { get; init; }

    /// <summary>The ssh client, key, known hosts and remote command for an ssh slave.</summary>
    public SshOptions Ssh { get; init; } = new();

    /// <summary>
    /// The local slave command for <see cref="SlaveMode.Child"/>, one word per element; the session appends
    /// <c>[--network-namespace NS] [--gluster-command-dir DIR] [--gluster-log-file FILE] --sync-jobs N
    /// [--session-owner UUID] [--use-rsync-xattrs] -N --listen --timeout T URL</c>.
    /// </summary>
    public IReadOnlyList<string> SlaveCommand { get; init; } = DefaultSlaveCommand;

    /// <summary>The network namespace in which this host's glusterfs clients reach glusterd (a name under /var/run/netns, or a path).</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>Where <c>glusterfs</c> lives (<c>gluster_command_dir</c>); PATH, /usr/sbin and /sbin when null.</summary>
    public string? GlusterCommandDirectory { get; init; }

    /// <summary>
    /// The directory for the aux mounts' client logs (<c>geosync-master-&lt;vol&gt;.log</c>, <c>geosync-slave-&lt;vol&gt;.log</c>);
    /// the glusterfs client's default log directory when null.
    /// </summary>
    public string? GlusterLogDirectory { get; init; }

    /// <summary>Bounds each connection phase: a mount until it answers, the slave until its handshake (docs/protocol.md, "Transport"; docs/gsyncd-flaws.md, #20).</summary>
    public TimeSpan ConnectionTimeout { get; init; } = TimeSpan.FromSeconds(DefaultConnectionTimeoutSeconds);

    /// <summary>
    /// How long one call to the slave may take before the connection counts as hung and is closed (docs/gsyncd-flaws.md, #7). Generous: a
    /// slave may purge a large tree in one call.
    /// </summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>rsync_command: the rsync program and any leading arguments.</summary>
    public string RsyncCommand { get; init; } = "rsync";

    /// <summary>After failing in this many consecutive turns a path is reported as a persistent failure.</summary>
    public int PersistentFailureAttempts { get; init; } = 3;

    /// <summary>
    /// The file that keeps the pair's failed paths across sessions (<see cref="GeoSync.Engine.Master.FailureLedger"/>); the master loop puts it
    /// next to its state file. Null: failures are remembered for the session's life only.
    /// </summary>
    public string? FailureLedgerPath { get; init; }

    /// <summary>
    /// A file whose modification time is set to now whenever the slave answers a keep-alive: the worker's sign of life
    /// that a supervisor watches (<see cref="GeoSync.Engine.Operations.Heartbeat"/>). Null: none is kept.
    /// </summary>
    public string? HeartbeatPath { get; init; }

    /// <summary>Receives the session's log (opening, keep-alives, the crawl, the slave's stderr), from any thread.</summary>
    public Action<SessionLogLevel, string>? Log { get; init; }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Master);
        ArgumentException.ThrowIfNullOrEmpty(Slave);
        if (Name is not null) ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        ArgumentOutOfRangeException.ThrowIfLessThan(SyncJobs, 1, nameof(SyncJobs));
        ArgumentOutOfRangeException.ThrowIfNegative(TimeoutSeconds, nameof(TimeoutSeconds));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectionTimeout, TimeSpan.Zero, nameof(ConnectionTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CallTimeout, TimeSpan.Zero, nameof(CallTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(PersistentFailureAttempts, 1, nameof(PersistentFailureAttempts));
        if (!(MaxDeleteShare is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDeleteShare), MaxDeleteShare,
                "MaxDeleteShare is a share of a directory's slave entries, from 0 to 1 (1 disables the mass-deletion guard)");
        }
        // Ranges, not Enum.IsDefined: its reflection and generic code cost a short verify's start (docs/performance.md).
        if (DirectoryPruning is < DirectoryPruning.Auto or > DirectoryPruning.Disabled)
        {
            throw new ArgumentOutOfRangeException(nameof(DirectoryPruning), DirectoryPruning, "not a DirectoryPruning value");
        }
        if (Watch is < MasterWatch.Auto or > MasterWatch.Disabled) throw new ArgumentOutOfRangeException(nameof(Watch), Watch, "not a MasterWatch value");
        if (SlaveCommand.Count == 0 || SlaveCommand.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("the local slave command is empty or has an empty word; give the geosync host, e.g. 'geosync slave'", nameof(SlaveCommand));
        }
    }
}
