using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using GeoSync.Engine.Operations;

namespace GeoSync.Host;

/// <summary><c>geosync status [NAME] [--state-dir DIR] [--json]</c>: Get-GeoSyncStatus.</summary>
internal sealed record ShowStatusCommand(string? Name, string? StateDirectory, bool Json) : HostCommand;

/// <summary><c>geosync checkpoint NAME [now|TIME] [--wait [--timeout S]] [--state-dir DIR]</c>: Set- and Wait-GeoSyncCheckpoint.</summary>
internal sealed record CheckpointCommand(string Name, string? StateDirectory) : HostCommand
{
    /// <summary>The checkpoint to set: null to set none (only --wait), or the time (now when "now" or omitted).</summary>
    public DateTimeOffset? At { get; init; }
    public bool Set { get; init; }
    public bool Wait { get; init; }
    public int? TimeoutSeconds { get; init; }
}

/// <summary>
/// Parses <c>geosync status</c> and <c>geosync checkpoint</c> and runs them: the module's commands are invoked with
/// parameters in a runspace of their own, their objects printed as the format view (or as JSON), errors on stderr.
/// </summary>
internal static class StatusCommandLine
{
    private const int Success = 0;
    private const int Failure = 1;

    // The width a table is laid out for when no terminal says otherwise: the status view is made to fit it.
    private const int DefaultWidth = 80;

    public static HostCommand ParseStatus(string[] args)
    {
        if (VerbArguments.Read("status", args, "--json") is not { } read) return new ShowHelpCommand("status");
        return read.Words switch
        {
            [] => new ShowStatusCommand(null, read.StateDirectory, read.Has("--json")),
            [var name] => new ShowStatusCommand(ValidName("status", name), read.StateDirectory, read.Has("--json")),
            [var first, var second, ..] => throw new HostUsageException($"status: takes at most one replication name, got '{first}' and '{second}'"),
        };
    }

    public static HostCommand ParseCheckpoint(string[] args)
    {
        string? name = null, stateDirectory = null, time = null;
        var wait = false;
        int? timeout = null;
        for (var i = 0; i < args.Length; i++)
        {
            var (option, inlineValue) = MasterCommandLine.SplitOption(args[i]);
            switch (option)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand("checkpoint");
                case "--wait" when inlineValue is null:
                    wait = true;
                    break;
                case "--timeout":
                    timeout = MasterCommandLine.ParseCount("checkpoint", option, inlineValue ?? MasterCommandLine.NextValue("checkpoint", args, ref i, option), minimum: 0);
                    break;
                case "--state-dir":
                    stateDirectory = MasterCommandLine.NonEmpty(option, inlineValue ?? MasterCommandLine.NextValue("checkpoint", args, ref i, option), "checkpoint");
                    break;
                default:
                    if (args[i].StartsWith('-') && args[i].Length > 1) throw new HostUsageException($"checkpoint: unknown option '{args[i]}'");
                    if (name is null) name = ValidName("checkpoint", args[i]);
                    else if (time is null) time = args[i];
                    else throw new HostUsageException($"checkpoint: takes a name and a time, got also '{args[i]}'");
                    break;
            }
        }
        if (name is null) throw new HostUsageException("checkpoint: the replication's name is missing (e.g. geosync checkpoint mvol-dr now)");
        if (timeout is not null && !wait) throw new HostUsageException("checkpoint: --timeout goes with --wait");
        // Without a time and without --wait the checkpoint is set to now; with --wait alone the one already set is awaited.
        var set = time is not null || !wait;
        return new CheckpointCommand(name, stateDirectory)
        {
            Set = set,
            At = time is null || string.Equals(time, "now", StringComparison.OrdinalIgnoreCase) ? null : ParseTime(time),
            Wait = wait,
            TimeoutSeconds = timeout,
        };
    }

    public static int Run(ShowStatusCommand command)
    {
        var parameters = new Dictionary<string, object>();
        if (command.Name is { } name) parameters["Name"] = name;
        if (command.StateDirectory is { } directory) parameters["StateDirectory"] = directory;
        if (command.Json)
        {
            var statuses = new List<ReplicationStatus>();
            var jsonFailed = Invoke(ModuleScope.CompiledCmdlets, "Get-GeoSyncStatus", parameters, status => statuses.Add((ReplicationStatus)status));
            Console.Out.WriteLine(ReplicationStatusJson.Serialize(statuses));
            return jsonFailed ? Failure : Success;
        }
        // The table view's lines, without the blank lines around the table.
        var lines = new List<string>();
        var failed = Invoke(ModuleScope.CompiledCmdlets, "Get-GeoSyncStatus", parameters, line => lines.Add((string)line), formatWidth: Width());
        var first = lines.FindIndex(l => l.Length > 0);
        var last = lines.FindLastIndex(l => l.Length > 0);
        for (var i = Math.Max(first, 0); first >= 0 && i <= last; i++) Console.Out.WriteLine(lines[i]);
        return failed ? Failure : Success;
    }

    public static int Run(CheckpointCommand command)
    {
        var common = new Dictionary<string, object> { ["Name"] = command.Name };
        if (command.StateDirectory is { } directory) common["StateDirectory"] = directory;
        if (command.Set)
        {
            var set = new Dictionary<string, object>(common) { ["PassThru"] = true, ["Confirm"] = false };
            if (command.At is { } at) set["At"] = at;
            var failed = Invoke(ModuleScope.CompiledCmdlets, "Set-GeoSyncCheckpoint", set, status =>
                Console.Out.WriteLine($"checkpoint of {command.Name}: {Utc(((ReplicationStatus)status).Checkpoint)}"));
            if (failed) return Failure;
        }
        if (!command.Wait) return Success;

        var wait = new Dictionary<string, object>(common);
        if (command.TimeoutSeconds is { } timeout) wait["Timeout"] = timeout;
        var waitFailed = Invoke(ModuleScope.CompiledCmdlets, "Wait-GeoSyncCheckpoint", wait, status =>
        {
            var done = (ReplicationStatus)status;
            Console.Out.WriteLine($"checkpoint {Utc(done.Checkpoint)} of {command.Name} completed at {Utc(done.CheckpointCompletedAt ?? done.LastSynced)}");
        });
        return waitFailed ? Failure : Success;
    }

    /// <summary>
    /// Runs one module command, in a session of <paramref name="scope"/>, with <paramref name="parameters"/> (its output formatted as text lines of
    /// <paramref name="formatWidth"/> when given); objects go to <paramref name="onOutput"/>, errors and
    /// progress to stderr; with <paramref name="asJson"/>, the output is one JSON array. Returns whether it wrote an error or
    /// stopped on one.
    /// </summary>
    internal static bool Invoke(ModuleScope scope, string commandName, IDictionary parameters, Action<object> onOutput, int? formatWidth = null, bool asJson = false)
    {
        using var runspace = ScriptRunner.OpenModuleRunspace(scope);
        if (runspace is null) return true;

        using var shell = PowerShell.Create(runspace);
        shell.AddCommand(commandName).AddParameters(parameters);
        if (formatWidth is { } width) shell.AddCommand("Out-String").AddParameter("Stream").AddParameter("Width", width);
        if (asJson) shell.AddCommand("ConvertTo-Json").AddParameter("Depth", 3).AddParameter("AsArray");
        var errors = 0;
        shell.Streams.Error.DataAdded += (_, e) =>
        {
            Interlocked.Increment(ref errors);
            Console.Error.WriteLine($"ERROR: {Describe(shell.Streams.Error[e.Index])}");
        };
        shell.Streams.Warning.DataAdded += (_, e) => Console.Error.WriteLine($"WARNING: {shell.Streams.Warning[e.Index].Message}");
        shell.Streams.Progress.DataAdded += (_, e) =>
        {
            var progress = shell.Streams.Progress[e.Index];
            if (progress.RecordType != ProgressRecordType.Completed) Console.Error.WriteLine($"geosync: {progress.StatusDescription}");
        };
        using var output = new PSDataCollection<PSObject>();
        output.DataAdded += (_, e) => onOutput(output[e.Index].BaseObject);

        using var onInterrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            shell.BeginStop(null, null);
        });
        try
        {
            shell.Invoke(null, output);
        }
        catch (PipelineStoppedException)
        {
            return true;
        }
        catch (RuntimeException e)
        {
            Console.Error.WriteLine($"geosync: {Describe(e.ErrorRecord)}");
            return true;
        }
        return Volatile.Read(ref errors) > 0;
    }

    /// <summary>The width a table is laid out for: $COLUMNS, else the console's, else 80.</summary>
    internal static int Width()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var columns) && columns >= 40) return columns;
        if (!Console.IsOutputRedirected && Console.WindowWidth >= 40) return Console.WindowWidth;
        return DefaultWidth;
    }

    private static string ValidName(string verb, string name) =>
        ReplicationPaths.IsValidName(name) ? name
            : throw new HostUsageException($"{verb}: '{name}' is not a replication name (a letter or digit followed by up to 63 letters, digits, '.', '_' or '-')");

    private static DateTimeOffset ParseTime(string time) =>
        DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal | DateTimeStyles.AllowWhiteSpaces, out var at)
            ? at
            : throw new HostUsageException($"checkpoint: '{time}' is not a time: give 'now' or a date and time such as 2026-12-07T14:00 or '2026-12-07 14:00:00+01:00'");

    private static string Utc(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-";

    private static string Describe(ErrorRecord record)
    {
        var hint = record.ErrorDetails?.RecommendedAction is { Length: > 0 } action ? $" Hint: {action}" : "";
        return $"{record.ErrorDetails?.Message ?? record.Exception.Message} ({record.FullyQualifiedErrorId.Split(',')[0]}){hint}";
    }
}
