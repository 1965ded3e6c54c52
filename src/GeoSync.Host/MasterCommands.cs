using System.Globalization;
using System.Text;
using GeoSync.Engine.Operations;

namespace GeoSync.Host;

/// <summary>
/// <c>geosync master MASTER SLAVE [options]</c> or <c>geosync master --replication NAME [options]</c>: the master loop,
/// Invoke-GeoSyncMaster in the hosted runspace.
/// </summary>
internal sealed record RunMasterCommand : HostCommand
{
    public string? Master { get; init; }
    public string? Slave { get; init; }

    /// <summary><c>--replication NAME</c>: the pair and options come from the named replication's configuration.</summary>
    public string? Replication { get; init; }

    /// <summary><c>--dry-run</c>: plan one turn and print its changes, writing nothing (implies <c>--once</c>).</summary>
    public bool DryRun { get; init; }
    public string? StateDirectory { get; init; }
    public bool Verbose { get; init; }

    /// <summary><c>--heartbeat-file</c>: touched at every turn end and keep-alive answer, for the supervisor.</summary>
    public string? HeartbeatFile { get; init; }

    /// <summary>The catalog options given on the command line, by PowerShell parameter name, in their option's type.</summary>
    public IReadOnlyDictionary<string, object> Options { get; init; } = new Dictionary<string, object>();
}

/// <summary>
/// <c>geosync failures NAME</c> or <c>geosync failures MASTER SLAVE</c> <c>[--state-dir DIR] [--json]</c>: Get-GeoSyncFailure,
/// by replication name or by pair.
/// </summary>
internal sealed record ShowFailuresCommand(string? Name, string? Master, string? Slave, string? StateDirectory, bool Json) : HostCommand;

/// <summary>
/// Parses <c>geosync master</c> and <c>geosync failures</c> and turns them into the script the host runs, so the loop and
/// the state files have one implementation: the module's functions.
/// </summary>
internal static class MasterCommandLine
{
    private static readonly Dictionary<string, string> SlaveModes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["auto"] = "Auto",
        ["in-process"] = "InProcess",
        ["child"] = "Child",
        ["ssh"] = "Ssh",
    };

    /// <summary>
    /// <c>geosync master --help</c>. The options come from the option catalog, so a new option is a flag and a help line
    /// as soon as it is declared.
    /// </summary>
    public static string MasterHelp { get; } = BuildMasterHelp();

    public static HostCommand ParseMaster(string[] args)
    {
        var urls = new List<string>();
        var command = new RunMasterCommand();
        var options = new Dictionary<string, object>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var (name, inlineValue) = SplitOption(arg);
            string Value(ref int index) => inlineValue ?? NextValue("master", args, ref index, name);
            switch (name)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand("master");
                case "--dry-run" when inlineValue is null:
                    command = command with { DryRun = true };
                    break;
                case "--verbose" or "-v" when inlineValue is null:
                    command = command with { Verbose = true };
                    break;
                case "--state-dir":
                    command = command with { StateDirectory = NonEmpty(name, Value(ref i)) };
                    break;
                case "--replication":
                    command = command with { Replication = NonEmpty(name, Value(ref i)) };
                    break;
                case "--heartbeat-file":
                    command = command with { HeartbeatFile = NonEmpty(name, Value(ref i)) };
                    break;
                default:
                    if (arg.StartsWith('-') && arg.Length > 1)
                    {
                        var option = CatalogOption("master", name);
                        options[option.ParameterName] = ParseOptionValue("master", option, inlineValue, args, ref i);
                        break;
                    }
                    urls.Add(arg);
                    break;
            }
        }
        if (command.DryRun) options["Once"] = true;

        if (command.Replication is not null)
        {
            if (urls.Count != 0)
            {
                throw new HostUsageException(
                    $"master: give the master and slave URL or --replication NAME, not both (the replication's configuration names its pair); got '{string.Join(' ', urls)}'");
            }
            return command with { Options = options };
        }
        if (urls.Count != 2)
        {
            throw new HostUsageException(
                $"master: takes the master and the slave URL (e.g. gluster://server:mvol file:///srv/copy), or --replication NAME, got {urls.Count} URL(s)");
        }
        return command with { Master = urls[0], Slave = urls[1], Options = options };
    }

    /// <summary>The catalog option a <c>--flag</c> names; an unknown flag is a usage error with the nearest flag as a suggestion.</summary>
    internal static ReplicationOption CatalogOption(string verb, string flag, bool storing = false)
    {
        if (flag.StartsWith("--", StringComparison.Ordinal) && ReplicationOptions.Find(flag[2..]) is { } option
            && string.Equals(option.Key, flag[2..], StringComparison.Ordinal))
        {
            if (storing || !option.ForSupervisor) return option;
            throw new HostUsageException(
                $"{verb}: {option.Flag} is the supervisor's: give it to 'geosync monitor' or 'geosync start', or store it with 'geosync config NAME {option.Key} VALUE'");
        }
        var suggestion = ReplicationOptions.Suggest(flag);
        throw new HostUsageException($"{verb}: unknown option '{flag}'{(suggestion is null ? "" : $" (did you mean '--{suggestion}'?)")}");
    }

    /// <summary>The value of a catalog option's flag: none for a switch, else the next word (or the text after '=').</summary>
    internal static object ParseOptionValue(string verb, ReplicationOption option, string? inlineValue, string[] args, ref int i)
    {
        if (option.Kind == ReplicationOptionKind.Switch)
        {
            return inlineValue is null ? true : throw new HostUsageException($"{verb}: {option.Flag} takes no value");
        }
        var text = inlineValue ?? NextValue(verb, args, ref i, option.Flag);
        try
        {
            return option.Parse(text);
        }
        catch (InvalidReplicationOptionException e)
        {
            throw new HostUsageException($"{verb}: {option.Flag} takes {e.Allowed}, not '{text}'");
        }
    }

    private static string BuildMasterHelp()
    {
        var text = new StringBuilder();
        text.AppendLine("  geosync master <master-url> <slave-url> [--once] [--interval <seconds>] [<master options>]");
        text.AppendLine("  geosync master --replication <name> [--state-dir <dir>] [<master options>]");
        foreach (var line in """
            Replicate the master (gluster://HOST:VOL, or a directory) to the slave (file:///DIR,
            gluster://HOST:VOL, ssh://[USER@]HOST:/DIR or ssh://[USER@]HOST::VOL) until stopped
            (Ctrl+C or SIGTERM stop it cleanly): crawl turns, a pause after a turn that found nothing, and on a
            failure a new session after 1, 2, 4 ... 60 s. Each turn that changed something is printed.
            With --replication, the master, the slave and the options come from the named replication
            ('geosync create'); an option given here wins for this run. Its state file and failure ledger
            are kept in its folder under the state directory.
            """.Split('\n'))
        {
            text.Append("      ").AppendLine(line.TrimEnd());
        }
        Option("--replication <name>", "run the named replication (defaults < its stored configuration < this command line).");
        Option("--dry-run", "plan one turn and exit, changing nothing on the master or the slave and writing no state file: one line per change it would make ('create  file      a/b.txt  missing on the slave'; actions create, update, purge, setattr) and a summary line; exit 0 once printed. Implies --once.");
        Option("--state-dir <dir>", "where the loop keeps its state file and finds replications (default $GEOSYNC_STATE_DIR, else /var/lib/geosync as root, else ~/.local/state/geosync).");
        Option("--heartbeat-file <file>", "touch this file at every turn end and keep-alive answer: the sign of life 'geosync monitor' watches to tell a hung worker.");
        Option("--verbose", "narrate every turn, idle ones included, on stderr.");
        text.AppendLine("      The options below are also the keys of 'geosync create' and 'geosync config', except those marked (per run):");
        text.AppendLine(OptionLines(ReplicationOptions.ForWorker));
        return text.ToString().TrimEnd();

        void Option(string flag, string help) => AppendOption(text, flag, help);
    }

    /// <summary>The help lines of catalog options: flag, what it does, what it takes, its default, and (per run) if it is not stored.</summary>
    internal static string OptionLines(IEnumerable<ReplicationOption> options)
    {
        var text = new StringBuilder();
        foreach (var option in options)
        {
            var defaultText = option.DefaultText ?? (option.Default is { } value && option.Kind != ReplicationOptionKind.Switch ? option.Format(value) : null);
            AppendOption(text, option.FlagUsage,
                option.Help + (option.Kind is ReplicationOptionKind.Integer or ReplicationOptionKind.Number ? $"; {option.Allowed}" : "")
                + (defaultText is null ? "" : $" (default {defaultText})") + (option.Stored ? "." : ". (per run)"));
        }
        return text.ToString().TrimEnd();
    }

    private static void AppendOption(StringBuilder text, string flag, string help)
    {
        const int Indent = 6, Column = 29, Width = 112;
        var line = new StringBuilder(new string(' ', Indent)).Append(flag);
        line.Append(' ', Math.Max(2, Column - line.Length));
        if (line.Length > Column + 1)
        {
            // A long flag gets its text on the next line.
            text.AppendLine(line.ToString().TrimEnd());
            line.Clear().Append(' ', Column);
        }
        foreach (var word in help.Split(' '))
        {
            if (line.Length + word.Length + 1 > Width && line.Length > Column)
            {
                text.AppendLine(line.ToString().TrimEnd());
                line.Clear().Append(' ', Column);
            }
            line.Append(word).Append(' ');
        }
        text.AppendLine(line.ToString().TrimEnd());
    }

    public static HostCommand ParseFailures(string[] args)
    {
        if (VerbArguments.Read("failures", args, "--json") is not { } read) return new ShowHelpCommand("failures");
        var json = read.Has("--json");
        return read.Words switch
        {
            [var name] when ReplicationPaths.IsValidName(name) => new ShowFailuresCommand(name, null, null, read.StateDirectory, json),
            [var master, var slave] => new ShowFailuresCommand(null, master, slave, read.StateDirectory, json),
            _ => throw new HostUsageException(
                $"failures: takes a replication's name, or the master and the slave URL of a pair as given to 'geosync master'; got '{string.Join(' ', read.Words)}'"),
        };
    }

    /// <summary>Runs Get-GeoSyncFailure with the command's parameters: a table, or with <c>--json</c> a JSON array.</summary>
    public static int RunFailures(ShowFailuresCommand command)
    {
        var parameters = new Dictionary<string, object>();
        if (command.Name is { } name) parameters["Name"] = name;
        if (command.Master is { } master) parameters["Master"] = master;
        if (command.Slave is { } slave) parameters["Slave"] = slave;
        if (command.StateDirectory is { } directory) parameters["StateDirectory"] = directory;
        if (!command.Json)
        {
            return StatusCommandLine.Invoke(ModuleScope.WholeModule, "Get-GeoSyncFailure", parameters, line => Console.Out.WriteLine(line), formatWidth: StatusCommandLine.Width()) ? 1 : 0;
        }
        var written = false;
        var failed = StatusCommandLine.Invoke(ModuleScope.WholeModule, "Get-GeoSyncFailure", parameters, json =>
        {
            written = true;
            Console.Out.WriteLine(json);
        }, asJson: true);
        // ConvertTo-Json writes nothing for no input; a program reading the output still gets an array.
        if (!written) Console.Out.WriteLine("[]");
        return failed ? 1 : 0;
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The SlaveMode value of a <c>--slave-mode</c> word.</summary>
    internal static string ParseSlaveMode(string verb, string mode) =>
        SlaveModes.TryGetValue(mode, out var parsed) ? parsed
            : throw new HostUsageException($"{verb}: --slave-mode takes auto, in-process, child or ssh, not '{mode}'");

    internal static (string Name, string? Value) SplitOption(string arg)
    {
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
    }

    internal static string NextValue(string verb, string[] args, ref int i, string name)
    {
        if (i + 1 >= args.Length)
        {
            throw new HostUsageException($"{verb}: {name} needs a value");
        }
        return args[++i];
    }

    internal static string NonEmpty(string name, string value, string verb = "master") =>
        string.IsNullOrWhiteSpace(value) ? throw new HostUsageException($"{verb}: {name} needs a non-empty value") : value;

    // A command line such as "/opt/geosync/geosync slave": words separated by blanks, as gsyncd's remote_gsyncd.
    internal static string[] Words(string name, string value, string verb = "master")
    {
        var words = value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return words.Length > 0 ? words : throw new HostUsageException($"{verb}: {name} needs a command, e.g. '/usr/local/bin/geosync slave'");
    }

    internal static int ParseCount(string verb, string name, string value, int minimum, int maximum = int.MaxValue)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < minimum || count > maximum)
        {
            var range = maximum == int.MaxValue ? $"of at least {minimum}" : $"from {minimum} to {maximum}";
            throw new HostUsageException($"{verb}: {name} takes a whole number {range}, not '{value}'");
        }
        return count;
    }
}
