using GeoSync.Engine.Master;
using GeoSync.Engine.Session;

namespace GeoSync.Engine.Operations;

/// <summary>
/// The option catalog: every option of the master loop, declared here once. The command line, the cmdlets, the stored
/// configuration and its validation all read this list (docs/operations.md, "Options").
/// </summary>
public static class ReplicationOptions
{
    private static readonly ReplicationOption[] Declared =
    [
        new("sync-jobs", "SyncJobs", ReplicationOptionKind.Integer, "rsync processes at once (sync_jobs)")
        {
            Minimum = 1, Maximum = 64, Default = SyncerOptions.DefaultSyncJobs, DefaultText = "3, or half the processors when fewer",
            Placeholder = "<n>",
        },
        new("interval", "Interval", ReplicationOptionKind.Number, "seconds to pause after a turn that found nothing; 0 runs turns back to back")
        {
            Minimum = 0, Maximum = 3600, Default = 1.0, Placeholder = "<seconds>",
        },
        new("timeout", "Timeout", ReplicationOptionKind.Integer,
            "the slave ends itself after this many seconds without a keep-alive (sent every half of it); 0: never")
        {
            Minimum = 0, Maximum = 86400, Default = SessionOptions.DefaultTimeoutSeconds, Placeholder = "<seconds>",
        },
        new("connection-timeout", "ConnectionTimeoutSec", ReplicationOptionKind.Integer,
            "seconds each connection phase (a mount, the slave's handshake) may take")
        {
            Minimum = 1, Maximum = 3600, Default = SessionOptions.DefaultConnectionTimeoutSeconds, Placeholder = "<seconds>",
        },
        new("slave-mode", "SlaveMode", ReplicationOptionKind.Choice,
            "how the slave is reached: auto (ssh for ssh:// slaves, else in this process), in-process, child (a local 'geosync slave') or ssh")
        {
            ChoiceType = typeof(SlaveMode), Default = SlaveMode.Auto, Placeholder = "<mode>",
        },
        new("ssh-command", "SshCommand", ReplicationOptionKind.Text, "the ssh client with options of its own, e.g. 'ssh -oConnectTimeout=10'")
        {
            DefaultText = "ssh", Placeholder = "<command>",
        },
        new("ssh-port", "SshPort", ReplicationOptionKind.Integer, "the slave host's ssh port")
        {
            Minimum = 1, Maximum = 65535, DefaultText = "ssh's own (22)", Placeholder = "<port>",
        },
        new("identity-file", "IdentityFile", ReplicationOptionKind.Path, "the private key that logs in to the slave host")
        {
            DefaultText = "ssh's own", Placeholder = "<key>",
        },
        new("known-hosts-file", "KnownHostsFile", ReplicationOptionKind.Path, "the known-hosts file that pins the slave host's key")
        {
            DefaultText = "~/.ssh/known_hosts", Placeholder = "<file>",
        },
        new("remote-command", "RemoteCommand", ReplicationOptionKind.Words, "the command the slave host runs")
        {
            Default = new[] { "geosync", "slave" }, Placeholder = "<command>",
        },
        new("slave-command", "SlaveCommand", ReplicationOptionKind.Words, "the local slave command of slave mode child")
        {
            DefaultText = "the geosync next to the module, with 'slave'", Placeholder = "<command>",
        },
        new("network-namespace", "NetworkNamespace", ReplicationOptionKind.Text,
            "the network namespace in which this host's glusterfs clients reach glusterd")
        {
            Placeholder = "<name|path>",
        },
        new("gluster-command-dir", "GlusterCommandDirectory", ReplicationOptionKind.Path, "the directory holding glusterfs")
        {
            DefaultText = "PATH, /usr/sbin, /sbin", Placeholder = "<dir>",
        },
        new("gluster-log-dir", "GlusterLogDirectory", ReplicationOptionKind.Path, "the directory for the aux mounts' client logs")
        {
            DefaultText = "the glusterfs client's", Placeholder = "<dir>",
        },
        new("ignore-deletes", "IgnoreDeletes", ReplicationOptionKind.Switch, "keep slave entries the master no longer has")
        {
            Default = false,
        },
        new("max-delete-share", "MaxDeleteShare", ReplicationOptionKind.Number,
            "hold back (and report) a purge of 10 or more entries that is more than this share of a directory's slave entries; 1 allows any")
        {
            Minimum = 0, Maximum = 1, Default = 0.5, Placeholder = "<0..1>",
        },
        new("directory-pruning", "DirectoryPruning", ReplicationOptionKind.Choice,
            "skip subtrees whose directory xtime did not change: auto (only on a master with one subvolume), enabled or disabled")
        {
            ChoiceType = typeof(DirectoryPruning), Default = DirectoryPruning.Auto, Placeholder = "<mode>",
        },
        new("watch", "Watch", ReplicationOptionKind.Choice,
            "how a directory master finds changes in loop mode: auto (inotify, a change starts a turn at once; a full comparison whenever a watch cannot be trusted) or disabled (compare both trees in full every turn); on a GlusterFS master read on its bricks, auto lets a change stamped on a brick root start a turn at once")
        {
            ChoiceType = typeof(MasterWatch), Default = MasterWatch.Auto, Placeholder = "<mode>",
        },
        new("xattrs", "Xattrs", ReplicationOptionKind.Switch, "copy extended attributes too (the slave must run as root)")
        {
            Default = false,
        },

        // Supervisor options: how 'geosync monitor' watches the worker and keeps the log (docs/operations.md, "Supervisor").
        new("hang-timeout", "HangTimeoutSec", ReplicationOptionKind.Number,
            "a worker whose heartbeat is older is hung: killed and restarted; keep it above the keep-alive interval, half of timeout")
        {
            ForSupervisor = true, Minimum = 1, Maximum = 86400, Default = SupervisorOptions.DefaultHangTimeout.TotalSeconds, Placeholder = "<seconds>",
        },
        new("stop-timeout", "StopTimeoutSec", ReplicationOptionKind.Number,
            "how long the worker may take to stop after SIGTERM before what is left of it is killed")
        {
            ForSupervisor = true, Minimum = 1, Maximum = 3600, Default = SupervisorOptions.DefaultStopTimeout.TotalSeconds, Placeholder = "<seconds>",
        },
        new("log-max-size", "LogMaxSize", ReplicationOptionKind.Integer, "rotate the replication's log before it grows past this many bytes")
        {
            ForSupervisor = true, Minimum = 1024, Default = (int)ReplicationLog.DefaultMaxBytes, Placeholder = "<bytes>",
        },
        new("log-keep", "LogKeep", ReplicationOptionKind.Integer, "rotated log files kept")
        {
            ForSupervisor = true, Minimum = 0, Maximum = 100, Default = ReplicationLog.DefaultKeep, Placeholder = "<n>",
        },

        // Run-mode options: they shape one run, not the replication, so a configuration never holds them.
        new("once", "Once", ReplicationOptionKind.Switch, "run one turn, print it and exit (failures are then not retried)")
        {
            Stored = false, Default = false,
        },
        new("max-turns", "MaxTurns", ReplicationOptionKind.Integer, "exit after this many turns")
        {
            Stored = false, Minimum = 1, DefaultText = "no limit", Placeholder = "<n>",
        },
        new("max-reconnects", "MaxReconnects", ReplicationOptionKind.Integer,
            "give up (exit 1) after this many consecutive failures; 0 with --once")
        {
            Stored = false, Minimum = 0, DefaultText = "never", Placeholder = "<n>",
        },
        new("force", "Force", ReplicationOptionKind.Switch,
            "allow the first sync into a slave holding entries this master did not put there (those the master lacks are deleted)")
        {
            Stored = false, Default = false,
        },
        new("name", "Name", ReplicationOptionKind.Text, "the session name used in messages")
        {
            Stored = false, DefaultText = "the replication's name, or Session<Id>", Placeholder = "<name>",
        },
    ];

    private static readonly Dictionary<string, ReplicationOption> ByName = Declared
        .SelectMany(option => new[] { (option.Key, option), (option.ParameterName, option) })
        .DistinctBy(pair => pair.Item1, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(pair => pair.Item1, pair => pair.option, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every option, in the order help lists them.</summary>
    public static IReadOnlyList<ReplicationOption> All => Declared;

    /// <summary>The options a replication's configuration may hold.</summary>
    public static IReadOnlyList<ReplicationOption> Stored { get; } = Declared.Where(option => option.Stored).ToArray();

    /// <summary>The master loop's options: the flags of <c>geosync master</c> and the parameters of Invoke-GeoSyncMaster.</summary>
    public static IReadOnlyList<ReplicationOption> ForWorker { get; } = Declared.Where(option => !option.ForSupervisor).ToArray();

    /// <summary>The supervisor's options: stored with a replication, and flags of <c>geosync monitor</c> and <c>geosync start</c>.</summary>
    public static IReadOnlyList<ReplicationOption> ForSupervisor { get; } = Declared.Where(option => option.ForSupervisor).ToArray();

    /// <summary>The option with this key or PowerShell name (any case), or null.</summary>
    public static ReplicationOption? Find(string name) =>
        ByName.TryGetValue(name.TrimStart('-'), out var option) ? option : null;

    /// <summary>The option with this key or PowerShell name; an unknown one is refused with the closest key as a suggestion.</summary>
    public static ReplicationOption Get(string name) => Find(name ?? throw new ArgumentNullException(nameof(name))) ?? throw Unknown(name, Declared);

    private static InvalidReplicationOptionException Unknown(string name, IEnumerable<ReplicationOption> candidates)
    {
        var suggestion = Suggest(name, candidates);
        var known = string.Join(", ", candidates.Select(o => o.Key));
        return new InvalidReplicationOptionException(name, "", known,
            $"'{name}' is not a GeoSync option{(suggestion is null ? "" : $" (did you mean '{suggestion}'?)")}; the options are: {known}");
    }

    /// <summary>An option that a configuration may hold; a run-mode option is refused, saying where it belongs.</summary>
    public static ReplicationOption GetStored(string name)
    {
        var option = Find(name ?? throw new ArgumentNullException(nameof(name))) ?? throw Unknown(name, Stored);
        if (option.Stored) return option;
        throw new InvalidReplicationOptionException(option.Key, "", string.Join(", ", Stored.Select(o => o.Key)),
            $"{option.Key} shapes one run and is not stored with a replication: give it when running (geosync master --replication NAME {option.Flag}, or Invoke-GeoSyncMaster -Replication NAME -{option.ParameterName})");
    }

    /// <summary>Validates options given by key or PowerShell name and returns them by key, in catalog order.</summary>
    public static IReadOnlyDictionary<string, object> ValidateStored(IEnumerable<KeyValuePair<string, object?>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var validated = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            var option = GetStored(name);
            validated[option.Key] = option.Validate(value);
        }
        return validated;
    }

    /// <summary>The known key nearest to a mistyped one (at most a third of its letters wrong), for the error message.</summary>
    public static string? Suggest(string name) => Suggest(name, Declared);

    private static string? Suggest(string name, IEnumerable<ReplicationOption> candidates)
    {
        var typed = name.TrimStart('-').ToLowerInvariant();
        var best = candidates
            .SelectMany(option => new[] { (option.Key, Distance(typed, option.Key)), (option.Key, Distance(typed, option.ParameterName.ToLowerInvariant())) })
            .MinBy(candidate => candidate.Item2);
        return best.Item2 <= Math.Max(2, typed.Length / 3) ? best.Key : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            previous = current;
        }
        return previous[b.Length];
    }
}
