using GeoSync.Engine;
using GeoSync.Engine.Operations;

namespace GeoSync.Host;

/// <summary><c>geosync create NAME MASTER SLAVE [--option value]...</c>.</summary>
internal sealed record CreateReplicationCommand(string Name, string Master, string Slave, string? StateDirectory) : HostCommand
{
    /// <summary>The options given, by key, in their option's type.</summary>
    public IReadOnlyDictionary<string, object> Options { get; init; } = new Dictionary<string, object>();
}

/// <summary><c>geosync config NAME [KEY [VALUE]]</c> or <c>geosync config NAME --reset KEY</c>.</summary>
internal sealed record ConfigReplicationCommand(string Name, string? Key, string? Value, string? ResetKey, string? StateDirectory) : HostCommand;

/// <summary><c>geosync delete NAME [--force]</c>.</summary>
internal sealed record DeleteReplicationCommand(string Name, bool Force, string? StateDirectory) : HostCommand;

/// <summary>
/// The replication store from the command line. The host calls the engine's <see cref="ReplicationStore"/> directly: the
/// same validation as New-/Set-/Remove-GeoSyncReplication, without a runspace.
/// </summary>
internal static class ReplicationCommandLine
{
    private const int Success = 0;
    private const int Failure = 1;
    private const int UsageError = 2;

    public const string Help = """
          geosync create <name> <master-url> <slave-url> [--state-dir <dir>] [--<option> <value>]...
              Define a named replication: its pair and options are stored in
              <state dir>/replications/<name>/config.json (nothing runs yet; 'geosync master --replication <name>'
              runs it). The options are those of 'geosync master' not marked (per run), e.g. --sync-jobs 4,
              --ssh-port 2222, --xattrs. Every value is checked first; nothing is written when one is refused.
          geosync config <name> [--state-dir <dir>]
              Print the replication's master, slave and every option ('key: value'; '(default)' marks one not set).
          geosync config <name> <key>
              Print one option's value (or the master or slave URL).
          geosync config <name> <key> <value>
              Set an option (a switch takes true or false), e.g. 'geosync config mvol-dr sync-jobs 8'.
          geosync config <name> --reset <key>
              Return an option to its default.
          geosync delete <name> [--force] [--state-dir <dir>]
              Remove the replication's configuration, state, failure ledger and log (the slave's data stays).
              Refused while it runs (its supervisor is alive or a master loop holds its lock) unless --force.
        """;

    public static HostCommand ParseCreate(string[] args)
    {
        var words = new List<string>();
        string? stateDirectory = null;
        var options = new Dictionary<string, object>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var (name, inlineValue) = MasterCommandLine.SplitOption(args[i]);
            switch (name)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand("create");
                case "--state-dir":
                    stateDirectory = MasterCommandLine.NonEmpty(name, inlineValue ?? MasterCommandLine.NextValue("create", args, ref i, name), "create");
                    break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        var option = MasterCommandLine.CatalogOption("create", name, storing: true);
                        if (!option.Stored)
                        {
                            throw new HostUsageException($"create: {option.Flag} is given per run (geosync master --replication NAME {option.Flag}), not stored with a replication");
                        }
                        options[option.Key] = MasterCommandLine.ParseOptionValue("create", option, inlineValue, args, ref i);
                        break;
                    }
                    words.Add(args[i]);
                    break;
            }
        }
        if (words.Count != 3)
        {
            throw new HostUsageException(
                $"create: takes a name, the master and the slave URL (e.g. geosync create mvol-dr gluster://server:mvol ssh://backup1:/srv/mvol), got {words.Count} word(s)");
        }
        return new CreateReplicationCommand(words[0], words[1], words[2], stateDirectory) { Options = options };
    }

    public static HostCommand ParseConfig(string[] args)
    {
        var words = new List<string>();
        string? stateDirectory = null, reset = null;
        for (var i = 0; i < args.Length; i++)
        {
            var (name, inlineValue) = MasterCommandLine.SplitOption(args[i]);
            switch (name)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand("config");
                case "--state-dir":
                    stateDirectory = MasterCommandLine.NonEmpty(name, inlineValue ?? MasterCommandLine.NextValue("config", args, ref i, name), "config");
                    break;
                case "--reset":
                    reset = MasterCommandLine.NonEmpty(name, inlineValue ?? MasterCommandLine.NextValue("config", args, ref i, name), "config");
                    break;
                default:
                    // A value may start with a single dash (a negative number); only '--words' are options.
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        throw new HostUsageException($"config: unknown option '{args[i]}' (to set an option: geosync config NAME KEY VALUE, e.g. geosync config mvol-dr {args[i].TrimStart('-')} VALUE)");
                    }
                    words.Add(args[i]);
                    break;
            }
        }
        return (words.Count, reset) switch
        {
            (0, _) => throw new HostUsageException("config: the replication's name is missing (geosync config NAME [KEY [VALUE]])"),
            (1, _) => new ConfigReplicationCommand(words[0], null, null, reset, stateDirectory),
            (2 or 3, not null) => throw new HostUsageException($"config: --reset {reset} takes no other key or value"),
            (2, null) => new ConfigReplicationCommand(words[0], words[1], null, null, stateDirectory),
            (3, null) => new ConfigReplicationCommand(words[0], words[1], words[2], null, stateDirectory),
            _ => throw new HostUsageException(
                $"config: takes a name, a key and one value, got {words.Count} words (a command with blanks is one quoted value: geosync config NAME remote-command '/opt/geosync/geosync slave')"),
        };
    }

    public static HostCommand ParseDelete(string[] args)
    {
        if (VerbArguments.Read("delete", args, "--force") is not { } read) return new ShowHelpCommand("delete");
        return read.Words is [var name]
            ? new DeleteReplicationCommand(name, read.Has("--force"), read.StateDirectory)
            : throw new HostUsageException($"delete: takes the name of one replication, got {read.Words.Count} word(s)");
    }

    public static int Run(HostCommand command)
    {
        var verb = command switch
        {
            CreateReplicationCommand => "create",
            DeleteReplicationCommand => "delete",
            _ => "config",
        };
        try
        {
            switch (command)
            {
                case CreateReplicationCommand create:
                    Create(create);
                    break;
                case ConfigReplicationCommand config:
                    Config(config);
                    break;
                case DeleteReplicationCommand delete:
                    new ReplicationStore(delete.StateDirectory).Remove(delete.Name, delete.Force);
                    break;
            }
            return Success;
        }
        catch (GeoSyncReplicationNameException e) when (command is CreateReplicationCommand)
        {
            Console.Error.WriteLine($"geosync: create: {e.Message} Usage: geosync create NAME MASTER SLAVE [--option value]...");
            return UsageError;
        }
        catch (Exception e) when (e is InvalidReplicationOptionException or GeoSyncReplicationNameException or GeoSyncUrlException)
        {
            Console.Error.WriteLine($"geosync: {verb}: {e.Message}");
            return UsageError;
        }
        catch (Exception e) when (e is GeoSyncException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"geosync: {verb}: {e.Message}");
            return Failure;
        }
    }

    private static void Create(CreateReplicationCommand create)
    {
        var options = create.Options.Select(pair => new KeyValuePair<string, object?>(pair.Key, pair.Value));
        new ReplicationStore(create.StateDirectory).Create(create.Name, create.Master, create.Slave, options);
    }

    private static void Config(ConfigReplicationCommand config)
    {
        var store = new ReplicationStore(config.StateDirectory);
        if (config.ResetKey is { } reset)
        {
            store.Update(config.Name, [], [reset]);
            return;
        }
        if (config.Key is null)
        {
            var definition = store.Get(config.Name);
            Console.Out.WriteLine($"master: {definition.Master}");
            Console.Out.WriteLine($"slave: {definition.Slave}");
            foreach (var stored in ReplicationOptions.Stored) Console.Out.WriteLine($"{stored.Key}: {Describe(definition, stored)}");
            return;
        }
        if (config.Value is null)
        {
            var definition = store.Get(config.Name);
            var value = config.Key.ToLowerInvariant() switch
            {
                "master" => definition.Master,
                "slave" => definition.Slave,
                _ => definition.Effective(ReplicationOptions.GetStored(config.Key)) is { } effective
                    ? ReplicationOptions.GetStored(config.Key).Format(effective) : null,
            };
            if (value is not null) Console.Out.WriteLine(value);
            return;
        }
        var option = config.Key.ToLowerInvariant() is "master" or "slave"
            ? throw new InvalidReplicationOptionException(config.Key, config.Value, "an option key",
                $"the {config.Key.ToLowerInvariant()} of a replication is fixed: delete it and create it again with the new pair")
            : ReplicationOptions.GetStored(config.Key);
        store.Update(config.Name, [new(option.Key, option.Parse(config.Value))], []);
    }

    /// <summary>A stored value, or the default marked as one.</summary>
    private static string Describe(ReplicationDefinition definition, ReplicationOption option)
    {
        if (definition.Options.TryGetValue(option.Key, out var value)) return option.Format(value);
        if (option.Default is { } fallback) return $"{option.Format(fallback)} (default)";
        return option.DefaultText is { } text ? $"(default: {text})" : "(not set)";
    }
}
