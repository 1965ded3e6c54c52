using System.Globalization;
using System.Runtime.InteropServices;
using GeoSync.Engine;
using GeoSync.Engine.Operations;

namespace GeoSync.Host;

/// <summary>What the supervisor commands share: the replication's name and the state directory it lives in.</summary>
internal abstract record ReplicationCommand(string Name, string? StateDirectory) : HostCommand
{
    public ReplicationPaths Paths => new(GeoSync.Engine.Operations.StateDirectory.Resolve(StateDirectory), Name);
}

/// <summary>
/// The supervisor options given on <c>geosync monitor</c> (and <c>geosync start</c>, which passes them on): catalog options
/// by key, which win over the replication's stored ones for this run.
/// </summary>
internal sealed record MonitorSettings
{
    public IReadOnlyDictionary<string, object> Overrides { get; init; } = new Dictionary<string, object>(StringComparer.Ordinal);

    /// <summary>Another worker command instead of <c>geosync master --replication NAME</c> (a wrapper, or a test's).</summary>
    public IReadOnlyList<string>? WorkerCommand { get; init; }

    public IEnumerable<string> ToArguments()
    {
        foreach (var (key, value) in Overrides) yield return $"--{key}={ReplicationOptions.Get(key).Format(value)}";
        if (WorkerCommand is { } worker) yield return $"--worker-command={string.Join(' ', worker)}";
    }
}

/// <summary><c>geosync monitor NAME</c>: the supervisor in the foreground (what systemd runs).</summary>
internal sealed record MonitorCommand(string Name, string? StateDirectory, MonitorSettings Settings) : ReplicationCommand(Name, StateDirectory);

/// <summary><c>geosync start NAME</c>: the supervisor, detached.</summary>
internal sealed record StartReplicationCommand(string Name, string? StateDirectory, MonitorSettings Settings, double? TimeoutSeconds) : ReplicationCommand(Name, StateDirectory);

/// <summary><c>geosync stop|pause|resume NAME</c>.</summary>
internal sealed record ControlReplicationCommand(string Name, string? StateDirectory, DesiredState Desired, double? TimeoutSeconds) : ReplicationCommand(Name, StateDirectory);

/// <summary><c>geosync unit NAME</c>: prints the systemd unit.</summary>
internal sealed record ShowUnitCommand(string Name, string? StateDirectory) : ReplicationCommand(Name, StateDirectory);

/// <summary><c>geosync log NAME [--tail K] [--level L]</c>: prints the replication's log lines.</summary>
internal sealed record ShowLogCommand(string Name, string? StateDirectory, int? Tail, ReplicationLogLevel Level) : ReplicationCommand(Name, StateDirectory);

/// <summary>Parses and runs the supervisor commands; they call the engine directly (no PowerShell runspace).</summary>
internal static class SupervisorCommandLine
{
    private const int Success = 0;
    private const int Failure = 1;

    public static HostCommand Parse(string verb, string[] args)
    {
        string? name = null, stateDirectory = null;
        double? timeout = null;
        int? tail = null;
        var level = ReplicationLogLevel.Verbose;
        var settings = new MonitorSettings();
        for (var i = 0; i < args.Length; i++)
        {
            var (option, inlineValue) = MasterCommandLine.SplitOption(args[i]);
            string Value(ref int index) => inlineValue ?? MasterCommandLine.NextValue(verb, args, ref index, option);
            switch (option)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand(verb);
                case "--state-dir":
                    stateDirectory = MasterCommandLine.NonEmpty(option, Value(ref i), verb);
                    break;
                case "--timeout" when verb is "start" or "stop" or "pause" or "resume":
                    timeout = Seconds(verb, option, Value(ref i));
                    break;
                case "--tail" when verb == "log":
                    tail = MasterCommandLine.ParseCount(verb, option, Value(ref i), minimum: 1);
                    break;
                case "--level" when verb == "log":
                    var word = Value(ref i);
                    if (!ReplicationLog.TryParseLevel(word, out level))
                    {
                        throw new HostUsageException($"log: --level takes verbose, info, warning or error, not '{word}'");
                    }
                    break;
                case var flag when verb is "monitor" or "start" && IsSupervisorFlag(flag):
                    var supervisorOption = ReplicationOptions.Get(flag[2..]);
                    settings = settings with
                    {
                        Overrides = new Dictionary<string, object>(settings.Overrides, StringComparer.Ordinal)
                        {
                            [supervisorOption.Key] = MasterCommandLine.ParseOptionValue(verb, supervisorOption, inlineValue, args, ref i),
                        },
                    };
                    break;
                case "--worker-command" when verb is "monitor" or "start":
                    settings = settings with { WorkerCommand = MasterCommandLine.Words(option, Value(ref i), verb) };
                    break;
                default:
                    if (args[i].StartsWith('-') && args[i].Length > 1) throw new HostUsageException($"{verb}: unknown option '{args[i]}'");
                    if (name is not null) throw new HostUsageException($"{verb}: takes one replication name, got '{name}' and '{args[i]}'");
                    name = args[i];
                    break;
            }
        }
        if (name is null) throw new HostUsageException($"{verb}: the replication's name is missing (e.g. geosync {verb} mvol-dr)");
        if (!ReplicationPaths.IsValidName(name))
        {
            throw new HostUsageException($"{verb}: '{name}' is not a valid replication name (a letter or digit followed by up to 63 letters, digits, '.', '_' or '-')");
        }
        return verb switch
        {
            "monitor" => new MonitorCommand(name, stateDirectory, settings),
            "start" => new StartReplicationCommand(name, stateDirectory, settings, timeout),
            "stop" => new ControlReplicationCommand(name, stateDirectory, DesiredState.Stopped, timeout),
            "pause" => new ControlReplicationCommand(name, stateDirectory, DesiredState.Paused, timeout),
            "resume" => new ControlReplicationCommand(name, stateDirectory, DesiredState.Running, timeout),
            "unit" => new ShowUnitCommand(name, stateDirectory),
            "log" => new ShowLogCommand(name, stateDirectory, tail, level),
            _ => throw new ArgumentOutOfRangeException(nameof(verb), verb, "not a supervisor command"),
        };
    }

    private static bool IsSupervisorFlag(string flag) =>
        flag.StartsWith("--", StringComparison.Ordinal) && ReplicationOptions.Find(flag[2..]) is { ForSupervisor: true } option && option.Key == flag[2..];

    public static int Run(ReplicationCommand command)
    {
        try
        {
            return command switch
            {
                MonitorCommand monitor => RunMonitor(monitor),
                StartReplicationCommand start => RunStart(start),
                ControlReplicationCommand control => RunControl(control),
                ShowUnitCommand unit => Print(SystemdUnit.Render(GeosyncExecutable, unit.Paths)),
                ShowLogCommand log => RunLog(log),
                _ => throw new ArgumentOutOfRangeException(nameof(command), command, null),
            };
        }
        catch (GeoSyncException e)
        {
            Console.Error.WriteLine($"geosync: {e.Message}");
            return Failure;
        }
    }

    /// <summary>This geosync, as the supervisor and systemd must start it again.</summary>
    private static string GeosyncExecutable => Environment.ProcessPath ?? throw new GeoSyncException("cannot tell the path of this geosync executable");

    private static int RunMonitor(MonitorCommand command)
    {
        var paths = command.Paths;
        SupervisorControl.RequireDefined(paths);
        var settings = command.Settings;
        var definition = new ReplicationStore(paths.StateDirectory).Get(paths.Name);
        // Its lines also go to stderr: under systemd that is the journal (journalctl -u geosync-NAME); 'geosync start'
        // points it at /dev/null.
        var options = SupervisorOptions.For(definition, settings.Overrides,
            settings.WorkerCommand ?? SupervisorControl.WorkerArgv(GeosyncExecutable, paths)) with { LogEcho = Console.Error };
        using var stopping = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            // Every one of these means "stop cleanly": end the worker within the stop bound, then exit.
            context.Cancel = true;
            stopping.Cancel();
        }
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onHangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
        using var supervisor = new Supervisor(options);
        try
        {
            supervisor.RunAsync(stopping.Token).GetAwaiter().GetResult();
            return Success;
        }
        catch (GeoSyncReplicationRunningException e)
        {
            Console.Error.WriteLine($"geosync: {e.Message}");
            return Failure;
        }
        catch (Exception e) when (e is GeoSyncException or IOException or UnauthorizedAccessException)
        {
            // Detached, stderr goes nowhere: the log is where an administrator looks.
            supervisor.Log(ReplicationLogLevel.Error, $"the supervisor failed: {e.Message}");
            Console.Error.WriteLine($"geosync: {e.Message}");
            return Failure;
        }
    }

    private static int RunStart(StartReplicationCommand command)
    {
        var timeout = command.TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        var record = SupervisorControl.Start(command.Paths, GeosyncExecutable, timeout, [.. command.Settings.ToArguments()]);
        Console.Out.WriteLine($"geosync: replication '{command.Name}' started (supervisor process {record.SupervisorPid}, worker process {record.WorkerPid}); 'geosync log {command.Name}' shows its log");
        return Success;
    }

    private static int RunControl(ControlReplicationCommand command)
    {
        var paths = command.Paths;
        var timeout = command.TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        var running = SupervisorControl.IsSupervised(paths);
        switch (command.Desired)
        {
            case DesiredState.Stopped:
                SupervisorControl.Stop(paths, timeout);
                Console.Out.WriteLine(running ? $"geosync: replication '{command.Name}' stopped" : $"geosync: replication '{command.Name}' was not running");
                break;
            case DesiredState.Paused:
                SupervisorControl.Pause(paths, timeout);
                Console.Out.WriteLine(running ? $"geosync: replication '{command.Name}' paused" : $"geosync: replication '{command.Name}' is not running; it stays paused when started, until resumed");
                break;
            default:
                var record = SupervisorControl.Resume(paths, timeout);
                Console.Out.WriteLine(running
                    ? $"geosync: replication '{command.Name}' resumed (worker process {record?.WorkerPid})"
                    : $"geosync: replication '{command.Name}' is not running; 'geosync start {command.Name}' starts it");
                break;
        }
        return Success;
    }

    private static int RunLog(ShowLogCommand command)
    {
        var paths = command.Paths;
        SupervisorControl.RequireDefined(paths);
        foreach (var entry in ReplicationLog.Read(paths.LogFile, command.Tail, command.Level)) Console.Out.WriteLine(entry);
        return Success;
    }

    private static int Print(string text)
    {
        Console.Out.Write(text);
        return Success;
    }

    private static double Seconds(string verb, string name, string value) =>
        double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds <= 86400
            ? seconds
            : throw new HostUsageException($"{verb}: {name} takes seconds from 0 to 86400 (e.g. 300), not '{value}'");
}
