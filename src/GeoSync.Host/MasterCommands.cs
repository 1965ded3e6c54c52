using System.Globalization;
using System.Text;

namespace GeoSync.Host;

/// <summary><c>geosync master MASTER SLAVE [options]</c>: the master loop, Invoke-GeoSyncMaster in the hosted runspace.</summary>
internal sealed record RunMasterCommand(string Master, string Slave) : HostCommand
{
    public bool Once { get; init; }

    /// <summary><c>--dry-run</c>: plan one turn and print its changes, writing nothing (implies <c>--once</c>).</summary>
    public bool DryRun { get; init; }
    public double? IntervalSeconds { get; init; }
    public int? MaxTurns { get; init; }
    public int? MaxReconnects { get; init; }
    public int? SyncJobs { get; init; }
    public int? TimeoutSeconds { get; init; }
    public int? SshPort { get; init; }
    public string? SshCommand { get; init; }
    public string? IdentityFile { get; init; }
    public string? KnownHostsFile { get; init; }
    public IReadOnlyList<string>? RemoteCommand { get; init; }
    public string? SlaveMode { get; init; }
    public string? NetworkNamespace { get; init; }
    public bool IgnoreDeletes { get; init; }
    public double? MaxDeleteShare { get; init; }
    public bool Force { get; init; }
    public bool Xattrs { get; init; }
    public string? StateDirectory { get; init; }
    public string? Name { get; init; }
    public bool Verbose { get; init; }

    /// <summary><c>--heartbeat-file</c>: touched at every turn end and keep-alive answer, for the supervisor.</summary>
    public string? HeartbeatFile { get; init; }
}

/// <summary><c>geosync status [--state-dir DIR] [--json]</c>: Get-GeoSyncStatus in the hosted runspace.</summary>
internal sealed record ShowStatusCommand(string? StateDirectory, bool Json) : HostCommand;

/// <summary><c>geosync failures MASTER SLAVE [--state-dir DIR] [--json]</c>: Get-GeoSyncFailure in the hosted runspace.</summary>
internal sealed record ShowFailuresCommand(string Master, string Slave, string? StateDirectory, bool Json) : HostCommand;

/// <summary>
/// Parses <c>geosync master</c>, <c>geosync status</c> and <c>geosync failures</c> and turns them into the script the host runs, so the loop and
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

    public static HostCommand ParseMaster(string[] args)
    {
        var urls = new List<string>();
        var command = new RunMasterCommand("", "");
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var (name, inlineValue) = SplitOption(arg);
            string Value(ref int index) => inlineValue ?? NextValue("master", args, ref index, name);
            switch (name)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand();
                case "--once" when inlineValue is null:
                    command = command with { Once = true };
                    break;
                case "--dry-run" when inlineValue is null:
                    command = command with { DryRun = true, Once = true };
                    break;
                case "--ignore-deletes" when inlineValue is null:
                    command = command with { IgnoreDeletes = true };
                    break;
                case "--force" when inlineValue is null:
                    command = command with { Force = true };
                    break;
                case "--xattrs" when inlineValue is null:
                    command = command with { Xattrs = true };
                    break;
                case "--verbose" or "-v" when inlineValue is null:
                    command = command with { Verbose = true };
                    break;
                case "--interval":
                    command = command with { IntervalSeconds = ParseSeconds(name, Value(ref i)) };
                    break;
                case "--max-turns":
                    command = command with { MaxTurns = ParseCount("master", name, Value(ref i), minimum: 1) };
                    break;
                case "--max-reconnects":
                    command = command with { MaxReconnects = ParseCount("master", name, Value(ref i), minimum: 0) };
                    break;
                case "--sync-jobs":
                    command = command with { SyncJobs = ParseCount("master", name, Value(ref i), minimum: 1, maximum: 64) };
                    break;
                case "--timeout":
                    command = command with { TimeoutSeconds = ParseCount("master", name, Value(ref i), minimum: 0, maximum: 86400) };
                    break;
                case "--ssh-port":
                    command = command with { SshPort = ParseCount("master", name, Value(ref i), minimum: 1, maximum: 65535) };
                    break;
                case "--ssh-command":
                    command = command with { SshCommand = NonEmpty(name, Value(ref i)) };
                    break;
                case "--identity-file":
                    command = command with { IdentityFile = NonEmpty(name, Value(ref i)) };
                    break;
                case "--known-hosts-file":
                    command = command with { KnownHostsFile = NonEmpty(name, Value(ref i)) };
                    break;
                case "--remote-command":
                    command = command with { RemoteCommand = Words(name, Value(ref i)) };
                    break;
                case "--slave-mode":
                    command = command with { SlaveMode = ParseSlaveMode("master", Value(ref i)) };
                    break;
                case "--max-delete-share":
                    command = command with { MaxDeleteShare = ParseShare(name, Value(ref i)) };
                    break;
                case "--network-namespace":
                    command = command with { NetworkNamespace = NonEmpty(name, Value(ref i)) };
                    break;
                case "--state-dir":
                    command = command with { StateDirectory = NonEmpty(name, Value(ref i)) };
                    break;
                case "--heartbeat-file":
                    command = command with { HeartbeatFile = NonEmpty(name, Value(ref i)) };
                    break;
                case "--name":
                    command = command with { Name = NonEmpty(name, Value(ref i)) };
                    break;
                default:
                    if (arg.StartsWith('-') && arg.Length > 1)
                    {
                        throw new HostUsageException($"master: unknown option '{arg}'");
                    }
                    urls.Add(arg);
                    break;
            }
        }

        if (urls.Count != 2)
        {
            throw new HostUsageException(
                $"master: takes the master and the slave URL (e.g. gluster://server:mvol file:///srv/copy), got {urls.Count} URL(s)");
        }
        return command with { Master = urls[0], Slave = urls[1] };
    }

    public static HostCommand ParseStatus(string[] args)
    {
        string? stateDirectory = null;
        var json = false;
        for (var i = 0; i < args.Length; i++)
        {
            var (name, inlineValue) = SplitOption(args[i]);
            switch (name)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand();
                case "--json" when inlineValue is null:
                    json = true;
                    break;
                case "--state-dir":
                    stateDirectory = NonEmpty(name, inlineValue ?? NextValue("status", args, ref i, name));
                    break;
                default:
                    throw new HostUsageException($"status: unknown argument '{args[i]}'");
            }
        }
        return new ShowStatusCommand(stateDirectory, json);
    }

    public static HostCommand ParseFailures(string[] args)
    {
        var urls = new List<string>();
        string? stateDirectory = null;
        var json = false;
        for (var i = 0; i < args.Length; i++)
        {
            var (name, inlineValue) = SplitOption(args[i]);
            switch (name)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand();
                case "--json" when inlineValue is null:
                    json = true;
                    break;
                case "--state-dir":
                    stateDirectory = NonEmpty(name, inlineValue ?? NextValue("failures", args, ref i, name));
                    break;
                default:
                    if (args[i].StartsWith('-') && args[i].Length > 1) throw new HostUsageException($"failures: unknown option '{args[i]}'");
                    urls.Add(args[i]);
                    break;
            }
        }
        if (urls.Count != 2)
        {
            throw new HostUsageException($"failures: takes the master and the slave URL of the pair, as given to 'geosync master', got {urls.Count} URL(s)");
        }
        return new ShowFailuresCommand(urls[0], urls[1], stateDirectory, json);
    }

    /// <summary>The PowerShell the host runs for a master loop; every value is a single-quoted literal.</summary>
    public static string ToScript(RunMasterCommand command)
    {
        var script = new StringBuilder("Invoke-GeoSyncMaster");
        Add("Master", Quote(command.Master));
        Add("Slave", Quote(command.Slave));
        if (command.Once) Add("Once");
        if (command.IntervalSeconds is { } interval) Add("Interval", interval.ToString("R", CultureInfo.InvariantCulture));
        if (command.MaxTurns is { } maxTurns) Add("MaxTurns", Number(maxTurns));
        if (command.MaxReconnects is { } maxReconnects) Add("MaxReconnects", Number(maxReconnects));
        if (command.SyncJobs is { } syncJobs) Add("SyncJobs", Number(syncJobs));
        if (command.TimeoutSeconds is { } timeout) Add("Timeout", Number(timeout));
        if (command.SshCommand is { } sshCommand) Add("SshCommand", Quote(sshCommand));
        if (command.SshPort is { } port) Add("SshPort", Number(port));
        if (command.IdentityFile is { } identity) Add("IdentityFile", Quote(identity));
        if (command.KnownHostsFile is { } knownHosts) Add("KnownHostsFile", Quote(knownHosts));
        if (command.RemoteCommand is { } remote) Add("RemoteCommand", string.Join(',', remote.Select(Quote)));
        if (command.SlaveMode is { } mode) Add("SlaveMode", Quote(mode));
        if (command.NetworkNamespace is { } netns) Add("NetworkNamespace", Quote(netns));
        if (command.IgnoreDeletes) Add("IgnoreDeletes");
        if (command.MaxDeleteShare is { } share) Add("MaxDeleteShare", share.ToString("R", CultureInfo.InvariantCulture));
        if (command.Force) Add("Force");
        if (command.Xattrs) Add("Xattrs");
        if (command.StateDirectory is { } stateDirectory) Add("StateDirectory", Quote(stateDirectory));
        if (command.Name is { } name) Add("Name", Quote(name));
        if (command.HeartbeatFile is { } heartbeat) Add("HeartbeatPath", Quote(heartbeat));
        if (command.Verbose) Add("Verbose");
        if (command.DryRun)
        {
            // One line per planned change as it is found; the summary is the "What if:" line, which MasterRunner prints.
            Add("WhatIf");
            script.Append(" | ForEach-Object { $_.ToString() }");
            return script.ToString();
        }
        // One line per busy turn, written as it happens: a table would hold rows back to size its columns, and a
        // stopped loop would lose them.
        script.Append(" | ForEach-Object { '{0:yyyy-MM-dd HH:mm:ss} {1} turn {2}: {3} files ({4} bytes) synced, {5} entries created, {6} purged, {7} failures, {8:0.000} s' -f ")
            .Append("[DateTime]::Now, $_.SessionName, $_.Turn, $_.FilesSynced, $_.BytesSynced, $_.EntriesCreated, $_.EntriesPurged, $_.Failures.Count, $_.Duration.TotalSeconds }");
        return script.ToString();

        void Add(string parameter, string? value = null)
        {
            script.Append(" -").Append(parameter);
            if (value is not null) script.Append(' ').Append(value);
        }
    }

    /// <summary>The PowerShell the host runs for <c>geosync status</c>.</summary>
    public static string ToScript(ShowStatusCommand command)
    {
        var call = command.StateDirectory is { } dir ? $"Get-GeoSyncStatus -StateDirectory {Quote(dir)}" : "Get-GeoSyncStatus";
        return command.Json
            ? $"@({call}) | ConvertTo-Json -Depth 4 -AsArray"
            // Redirected, the console host would cut the table at 80 columns; a log line may be longer.
            : Console.IsOutputRedirected ? $"{call} | Format-Table -Wrap | Out-String -Stream -Width 200" : $"{call} | Format-Table -Wrap";
    }

    /// <summary>The PowerShell the host runs for <c>geosync failures</c>.</summary>
    public static string ToScript(ShowFailuresCommand command)
    {
        var call = $"Get-GeoSyncFailure -Master {Quote(command.Master)} -Slave {Quote(command.Slave)}"
            + (command.StateDirectory is { } dir ? $" -StateDirectory {Quote(dir)}" : "");
        return command.Json
            ? $"@({call}) | ConvertTo-Json -Depth 3 -AsArray"
            : Console.IsOutputRedirected ? $"{call} | Format-Table -Wrap | Out-String -Stream -Width 200" : $"{call} | Format-Table -Wrap";
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal)
        .Replace("\u2018", "\u2018\u2018", StringComparison.Ordinal).Replace("\u2019", "\u2019\u2019", StringComparison.Ordinal)
        .Replace("\u201A", "\u201A\u201A", StringComparison.Ordinal).Replace("\u201B", "\u201B\u201B", StringComparison.Ordinal) + "'";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static double ParseShare(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var share) && share is >= 0 and <= 1
            ? share
            : throw new HostUsageException($"master: {name} takes a share from 0 to 1 (e.g. 0.5; 1 allows any purge), not '{value}'");

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
            var range = maximum == int.MaxValue ? $"at least {minimum}" : $"from {minimum} to {maximum}";
            throw new HostUsageException($"{verb}: {name} takes a whole number {range}, not '{value}'");
        }
        return count;
    }

    private static double ParseSeconds(string name, string value)
    {
        if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) || seconds > 3600)
        {
            throw new HostUsageException($"master: {name} takes seconds from 0 to 3600 (e.g. 0.5), not '{value}'");
        }
        return seconds;
    }
}
