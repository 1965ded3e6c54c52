using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace GeoSync.Host;

/// <summary><c>geosync verify MASTER SLAVE [--checksum] [--repair] [--json] [connection options]</c>.</summary>
internal sealed record RunVerifyCommand(string Master, string Slave) : HostCommand
{
    public bool Checksum { get; init; }
    public bool Repair { get; init; }
    public bool Json { get; init; }
    public bool Xattrs { get; init; }
    public int? SshPort { get; init; }
    public string? SshCommand { get; init; }
    public string? IdentityFile { get; init; }
    public string? KnownHostsFile { get; init; }
    public IReadOnlyList<string>? RemoteCommand { get; init; }
    public string? SlaveMode { get; init; }
    public string? NetworkNamespace { get; init; }
}

/// <summary>
/// Parses <c>geosync verify</c> and runs Test-GeoSyncReplica in a runspace of its own: one line per difference on stdout
/// and a summary line per pass (or JSON lines with --json), errors on stderr, and the exit code of docs/verify.md.
/// </summary>
internal static class VerifyCommandLine
{
    public const int Matches = 0;
    public const int CouldNotCompare = 1;
    public const int DifferencesFound = 4;

    private static readonly Dictionary<string, string> SlaveModes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["auto"] = "Auto",
        ["in-process"] = "InProcess",
        ["child"] = "Child",
        ["ssh"] = "Ssh",
    };

    public static HostCommand Parse(string[] args)
    {
        var urls = new List<string>();
        var command = new RunVerifyCommand("", "");
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var (name, inlineValue) = arg.StartsWith("--", StringComparison.Ordinal) && eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, (string?)null);
            string Value(ref int index)
            {
                if (inlineValue is not null) return inlineValue;
                if (index + 1 >= args.Length) throw new HostUsageException($"verify: {name} needs a value");
                var value = args[++index];
                return string.IsNullOrWhiteSpace(value) ? throw new HostUsageException($"verify: {name} needs a non-empty value") : value;
            }
            switch (name)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand();
                case "--checksum" or "-c" when inlineValue is null:
                    command = command with { Checksum = true };
                    break;
                case "--repair" when inlineValue is null:
                    command = command with { Repair = true };
                    break;
                case "--json" when inlineValue is null:
                    command = command with { Json = true };
                    break;
                case "--xattrs" when inlineValue is null:
                    command = command with { Xattrs = true };
                    break;
                case "--ssh-port":
                    var port = Value(ref i);
                    command = command with
                    {
                        SshPort = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535 ? p
                            : throw new HostUsageException($"verify: --ssh-port takes a whole number from 1 to 65535, not '{port}'"),
                    };
                    break;
                case "--ssh-command":
                    command = command with { SshCommand = Value(ref i) };
                    break;
                case "--identity-file":
                    command = command with { IdentityFile = Value(ref i) };
                    break;
                case "--known-hosts-file":
                    command = command with { KnownHostsFile = Value(ref i) };
                    break;
                case "--remote-command":
                    command = command with { RemoteCommand = Value(ref i).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries) };
                    break;
                case "--slave-mode":
                    var mode = Value(ref i);
                    command = command with
                    {
                        SlaveMode = SlaveModes.TryGetValue(mode, out var parsed) ? parsed
                            : throw new HostUsageException($"verify: --slave-mode takes auto, in-process, child or ssh, not '{mode}'"),
                    };
                    break;
                case "--network-namespace":
                    command = command with { NetworkNamespace = Value(ref i) };
                    break;
                default:
                    if (arg.StartsWith('-') && arg.Length > 1) throw new HostUsageException($"verify: unknown option '{arg}'");
                    urls.Add(arg);
                    break;
            }
        }
        if (urls.Count != 2)
        {
            throw new HostUsageException(
                $"verify: takes the master and the slave URL (e.g. gluster://server:mvol file:///srv/copy), got {urls.Count} URL(s)");
        }
        return command with { Master = urls[0], Slave = urls[1] };
    }

    /// <summary>The Test-GeoSyncReplica call; every value is a single-quoted literal.</summary>
    public static string ToScript(RunVerifyCommand command)
    {
        var script = new StringBuilder("Test-GeoSyncReplica");
        Add("Master", MasterCommandLine.Quote(command.Master));
        Add("Slave", MasterCommandLine.Quote(command.Slave));
        if (command.Checksum) Add("Checksum");
        // The command line is the confirmation: --repair is asked for explicitly, and no prompt can be answered here.
        if (command.Repair) script.Append(" -Repair -Confirm:$false");
        if (command.Xattrs) Add("Xattrs");
        if (command.SshCommand is { } sshCommand) Add("SshCommand", MasterCommandLine.Quote(sshCommand));
        if (command.SshPort is { } port) Add("SshPort", port.ToString(CultureInfo.InvariantCulture));
        if (command.IdentityFile is { } identity) Add("IdentityFile", MasterCommandLine.Quote(identity));
        if (command.KnownHostsFile is { } knownHosts) Add("KnownHostsFile", MasterCommandLine.Quote(knownHosts));
        if (command.RemoteCommand is { } remote) Add("RemoteCommand", string.Join(',', remote.Select(MasterCommandLine.Quote)));
        if (command.SlaveMode is { } mode) Add("SlaveMode", MasterCommandLine.Quote(mode));
        if (command.NetworkNamespace is { } netns) Add("NetworkNamespace", MasterCommandLine.Quote(netns));
        return script.ToString();

        void Add(string parameter, string? value = null)
        {
            script.Append(" -").Append(parameter);
            if (value is not null) script.Append(' ').Append(value);
        }
    }

    /// <summary>Runs the verify and returns the exit code: 0 the replica matches, 4 differences, 1 it could not compare.</summary>
    public static int Run(RunVerifyCommand command)
    {
        var manifest = ScriptRunner.ModuleManifestPath;
        if (!File.Exists(manifest))
        {
            Console.Error.WriteLine($"geosync: the GeoSync module is missing: {manifest} does not exist. Reinstall geosync; its build lays the module out next to the executable.");
            return CouldNotCompare;
        }
        var sessionState = InitialSessionState.CreateDefault();
        sessionState.ImportPSModule(manifest);
        sessionState.ThrowOnRunspaceOpenError = true;
        using var runspace = RunspaceFactory.CreateRunspace(sessionState);
        try
        {
            runspace.Open();
        }
        catch (RuntimeException e)
        {
            Console.Error.WriteLine($"geosync: could not import the GeoSync module from {manifest}: {e.Message}");
            return CouldNotCompare;
        }

        using var shell = PowerShell.Create(runspace);
        shell.AddScript(ToScript(command));
        shell.Streams.Warning.DataAdded += (_, e) => Console.Error.WriteLine($"WARNING: {shell.Streams.Warning[e.Index].Message}");
        shell.Streams.Error.DataAdded += (_, e) => Console.Error.WriteLine($"ERROR: {Describe(shell.Streams.Error[e.Index])}");

        PSObject? lastSummary = null;
        using var output = new PSDataCollection<PSObject>();
        output.DataAdded += (_, e) =>
        {
            var item = output[e.Index];
            var isSummary = item.TypeNames.Count > 0 && item.TypeNames[0].EndsWith(".GeoSyncReplicaSummary", StringComparison.Ordinal);
            if (isSummary) lastSummary = item;
            Console.Out.WriteLine(command.Json ? ToJson(item, isSummary) : isSummary ? SummaryLine(item) : DifferenceLine(item));
        };

        var stopping = 0;
        void Stop(PosixSignalContext context)
        {
            if (Interlocked.Exchange(ref stopping, 1) != 0) return;
            context.Cancel = true;
            Console.Error.WriteLine($"geosync: {context.Signal} received, stopping the verify");
            shell.BeginStop(null, null);
        }
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

        try
        {
            shell.Invoke(null, output);
        }
        catch (PipelineStoppedException)
        {
            return CouldNotCompare;
        }
        catch (RuntimeException e)
        {
            Console.Error.WriteLine($"geosync: {Describe(e.ErrorRecord)}");
            return CouldNotCompare;
        }
        if (lastSummary is null) return CouldNotCompare;
        return Property<long>(lastSummary, "Differences") > 0 ? DifferencesFound
            : Property<long>(lastSummary, "Unreadable") > 0 ? CouldNotCompare
            : Matches;
    }

    private static string DifferenceLine(PSObject item)
    {
        var kind = item.Properties["Kind"].Value?.ToString() ?? "";
        var path = Property<string>(item, "Path");
        var master = Property<string>(item, "MasterValue");
        var slave = Property<string>(item, "SlaveValue");
        return kind switch
        {
            "Missing" => $"{kind,-7} {path} ({master})",
            "Extra" => $"{kind,-7} {path} ({slave})",
            _ => $"{kind,-7} {path}: master {master}, slave {slave}",
        };
    }

    private static string SummaryLine(PSObject item)
    {
        var pass = Property<bool>(item, "AfterRepair") ? "after repair: " : "";
        var duration = Property<TimeSpan>(item, "Duration");
        var unreadable = Property<long>(item, "Unreadable");
        return string.Create(CultureInfo.InvariantCulture,
            $"{pass}{Property<long>(item, "EntriesCompared")} entries compared, {Property<long>(item, "Differences")} differences" +
            $"{(unreadable > 0 ? $", {unreadable} not compared" : "")}, {Property<long>(item, "BytesHashed")} bytes hashed, {duration.TotalSeconds:F1} s");
    }

    private static string ToJson(PSObject item, bool isSummary)
    {
        var fields = new Dictionary<string, object?> { ["type"] = isSummary ? "summary" : "difference" };
        foreach (var property in item.Properties)
        {
            var value = property.Value;
            fields[char.ToLowerInvariant(property.Name[0]) + property.Name[1..]] = value switch
            {
                TimeSpan span => span.TotalSeconds,
                Enum kind => kind.ToString(),
                _ => value,
            };
        }
        return JsonSerializer.Serialize(fields);
    }

    private static T Property<T>(PSObject item, string name) => item.Properties[name]?.Value is T value ? value : default!;

    private static string Describe(ErrorRecord record)
    {
        var id = record.FullyQualifiedErrorId.Split(',')[0];
        var target = record.TargetObject is string path ? $"{path}: " : "";
        return $"{target}{record.ErrorDetails?.Message ?? record.Exception.Message} ({id})";
    }
}
