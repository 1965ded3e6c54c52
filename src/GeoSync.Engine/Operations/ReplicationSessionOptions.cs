using System.Globalization;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Operations;

/// <summary>
/// The session a named replication opens, from its stored definition: what the preflight and verify of a replication
/// connect with, so they reach the master and the slave exactly as its worker does (docs/operations.md).
/// </summary>
public static class ReplicationSessionOptions
{
    /// <summary>Catalog options that shape the loop, not the session.</summary>
    public static readonly IReadOnlySet<string> LoopOnlyKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "interval", "once", "max-turns", "max-reconnects", "name",
    };

    /// <summary>
    /// The catalog options that say how the master and the slave are reached and what the pair copies: the ones a verify
    /// of a pair given by its URLs takes (<c>geosync verify</c>, Test-GeoSyncReplica).
    /// </summary>
    public static readonly IReadOnlyList<string> ConnectionKeys =
    [
        "slave-mode", "ssh-command", "ssh-port", "identity-file", "known-hosts-file", "remote-command", "slave-command",
        "network-namespace", "gluster-command-dir", "gluster-log-dir", "connection-timeout", "xattrs",
    ];

    /// <summary>The catalog options a session takes (Start-GeoSyncSession's parameters): the master loop's, less those of the loop itself.</summary>
    public static IReadOnlyList<ReplicationOption> SessionOptionsOfCatalog { get; } =
        ReplicationOptions.ForWorker.Where(option => !LoopOnlyKeys.Contains(option.Key)).ToArray();

    /// <summary>The session options of <paramref name="definition"/>; <paramref name="defaultSlaveCommand"/> runs a local slave (slave mode child).</summary>
    public static SessionOptions From(ReplicationDefinition definition, IReadOnlyList<string> defaultSlaveCommand)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return From(definition.Master, definition.Slave, definition.Name, definition.Options, defaultSlaveCommand);
    }

    /// <summary>
    /// The session options of a pair and catalog options by key (in their option's type, as <see cref="ReplicationOption.Validate"/>
    /// returns them): the one mapping from the catalog to <see cref="SessionOptions"/>.
    /// </summary>
    public static SessionOptions From(string master, string slave, string? name, IReadOnlyDictionary<string, object> catalogOptions,
        IReadOnlyList<string> defaultSlaveCommand)
    {
        ArgumentNullException.ThrowIfNull(catalogOptions);
        var options = new SessionOptions
        {
            Master = master,
            Slave = slave,
            Name = name,
            AllowDirectoryMaster = true,
            SlaveCommand = defaultSlaveCommand,
        };
        var ssh = options.Ssh;
        foreach (var (key, value) in catalogOptions)
        {
            if (LoopOnlyKeys.Contains(key) || ReplicationOptions.Find(key) is { ForSupervisor: true }) continue;
            options = key switch
            {
                "sync-jobs" => options with { SyncJobs = Int(value) },
                "timeout" => options with { TimeoutSeconds = Int(value) },
                "connection-timeout" => options with { ConnectionTimeout = TimeSpan.FromSeconds(Int(value)) },
                "slave-mode" => options with { SlaveMode = Enum<SlaveMode>(value) },
                "slave-command" => options with { SlaveCommand = Words(value) },
                "network-namespace" => options with { NetworkNamespace = Text(value) },
                "gluster-command-dir" => options with { GlusterCommandDirectory = Text(value) },
                "gluster-log-dir" => options with { GlusterLogDirectory = Text(value) },
                "ignore-deletes" => options with { IgnoreDeletes = Switch(value) },
                "max-delete-share" => options with { MaxDeleteShare = Convert.ToDouble(value, CultureInfo.InvariantCulture) },
                "directory-pruning" => options with { DirectoryPruning = Enum<DirectoryPruning>(value) },
                "watch" => options with { Watch = Enum<MasterWatch>(value) },
                "xattrs" => options with { Xattrs = Switch(value) },
                "force" => options with { Force = Switch(value) },
                "ssh-command" or "ssh-port" or "identity-file" or "known-hosts-file" or "remote-command" => options,
                _ => throw new GeoSyncException($"the option '{key}' of '{name}' has no meaning for its session; this is a GeoSync bug"),
            };
            ssh = key switch
            {
                "ssh-command" => ssh with { SshCommand = Text(value) },
                "ssh-port" => ssh with { Port = Int(value) },
                "identity-file" => ssh with { IdentityFile = Text(value) },
                "known-hosts-file" => ssh with { KnownHostsFile = Text(value) },
                "remote-command" => ssh with { RemoteCommand = Words(value) },
                _ => ssh,
            };
        }
        return options with { Ssh = ssh };
    }

    private static int Int(object value) => Convert.ToInt32(value, CultureInfo.InvariantCulture);

    private static string Text(object value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    private static bool Switch(object value) => Convert.ToBoolean(value, CultureInfo.InvariantCulture);

    private static string[] Words(object value) => value switch
    {
        string[] words => words,
        IEnumerable<string> words => words.ToArray(),
        System.Collections.IEnumerable items => items.Cast<object>().Select(Text).ToArray(),
        _ => [Text(value)],
    };

    private static T Enum<T>(object value) where T : struct, Enum =>
        value is T typed ? typed : System.Enum.Parse<T>(Text(value), ignoreCase: true);
}
