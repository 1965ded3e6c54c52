using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using GeoSync.Engine;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Verify;

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
/// Parses <c>geosync verify</c> and runs it as Test-GeoSyncReplica does: one line per difference on stdout and a summary
/// line per pass (or JSON lines with --json), errors on stderr, and the exit code of docs/verify.md.
/// </summary>
internal static class VerifyCommandLine
{
    public const int Matches = 0;
    public const int CouldNotCompare = 1;
    public const int DifferencesFound = 4;

    public static HostCommand Parse(string[] args)
    {
        var urls = new List<string>();
        var command = new RunVerifyCommand("", "");
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            // The connection options are master's: parsed by the same rules, with the same messages.
            var (name, inlineValue) = MasterCommandLine.SplitOption(arg);
            string Value(ref int index) =>
                MasterCommandLine.NonEmpty(name, inlineValue ?? MasterCommandLine.NextValue("verify", args, ref index, name), "verify");
            switch (name)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand("verify");
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
                    command = command with { SshPort = MasterCommandLine.ParseCount("verify", name, Value(ref i), minimum: 1, maximum: 65535) };
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
                    command = command with { RemoteCommand = MasterCommandLine.Words(name, Value(ref i), "verify") };
                    break;
                case "--slave-mode":
                    command = command with { SlaveMode = MasterCommandLine.ParseSlaveMode("verify", Value(ref i)) };
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

    /// <summary>
    /// Runs the verify on the engine directly — not through the module in a runspace, whose start would cost more than
    /// the comparison itself (docs/verify.md) — and returns the exit code: 0 the replica matches, 4 differences, 1 it
    /// could not compare.
    /// </summary>
    public static int Run(RunVerifyCommand command)
    {
        using var cancellation = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            if (cancellation.IsCancellationRequested) return;
            context.Cancel = true;
            Console.Error.WriteLine($"geosync: {context.Signal} received, stopping the verify");
            cancellation.Cancel();
        }
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        try
        {
            return RunAsync(command, cancellation.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return CouldNotCompare;
        }
        catch (GeoSyncException e)
        {
            Console.Error.WriteLine($"geosync: {e.Message}");
            return CouldNotCompare;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"geosync: {e.Message}");
            return CouldNotCompare;
        }
    }

    private static async Task<int> RunAsync(RunVerifyCommand command, CancellationToken cancellationToken)
    {
        var session = await GeoSyncSession.OpenAsync(ToSessionOptions(command), cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            using var warnings = session.AddLogListener((level, message) =>
            {
                if (level is SessionLogLevel.Warning or SessionLogLevel.Error) Console.Error.WriteLine($"WARNING: {message}");
            });
            var (result, contentDifferences) = await PassAsync(session, command, afterRepair: false, cancellationToken).ConfigureAwait(false);
            if (command.Repair && result.Differences > 0)
            {
                var turn = await session.RepairAsync(contentDifferences, cancellationToken).ConfigureAwait(false);
                foreach (var failure in turn.Failures)
                {
                    Console.Error.WriteLine($"ERROR: {failure.Path}: could not be repaired: {failure.Reason} (EntryNotRepaired)");
                }
                (result, _) = await PassAsync(session, command, afterRepair: true, cancellationToken).ConfigureAwait(false);
            }
            return result.Differences > 0 ? DifferencesFound : result.Unreadable > 0 ? CouldNotCompare : Matches;
        }
    }

    /// <summary>One verify pass: a line (or JSON object) per difference as the walk finds it, then the summary.</summary>
    private static async Task<(ReplicaVerifyResult Result, List<string> ContentDifferences)> PassAsync(GeoSyncSession session,
        RunVerifyCommand command, bool afterRepair, CancellationToken cancellationToken)
    {
        var contentDifferences = new List<string>();
        var verifier = session.CreateVerifier(new ReplicaVerifyOptions { Checksum = command.Checksum, Xattrs = true });
        var result = await verifier.VerifyAsync(
            difference =>
            {
                if (difference.Kind == DifferenceKind.Content) contentDifferences.Add(difference.Path);
                Console.Out.WriteLine(command.Json ? DifferenceJson(difference, afterRepair) : DifferenceLine(difference));
            },
            (path, reason) => Console.Error.WriteLine($"ERROR: {path}: not compared: {reason} (ReplicaEntryUnreadable)"),
            cancellationToken).ConfigureAwait(false);
        Console.Out.WriteLine(command.Json ? SummaryJson(session, command, afterRepair, result) : SummaryLine(afterRepair, result));
        return (result, contentDifferences);
    }

    private static SessionOptions ToSessionOptions(RunVerifyCommand command)
    {
        var ssh = new SshOptions
        {
            Port = command.SshPort,
            IdentityFile = command.IdentityFile is { } key ? Path.GetFullPath(key) : null,
            KnownHostsFile = command.KnownHostsFile is { } hosts ? Path.GetFullPath(hosts) : null,
        };
        if (command.SshCommand is not null) ssh = ssh with { SshCommand = command.SshCommand };
        if (command.RemoteCommand is not null) ssh = ssh with { RemoteCommand = command.RemoteCommand };
        return new SessionOptions
        {
            Master = command.Master,
            Slave = command.Slave,
            Name = "verify",
            AllowDirectoryMaster = true,
            SlaveMode = command.SlaveMode is { } mode ? Enum.Parse<SlaveMode>(mode) : SlaveMode.Auto,
            Xattrs = command.Xattrs,
            Ssh = ssh,
            // A child slave is this very executable.
            SlaveCommand = Environment.ProcessPath is { } self ? [self, "slave"] : SessionOptions.DefaultSlaveCommand,
            NetworkNamespace = command.NetworkNamespace,
        };
    }

    private static string DifferenceLine(ReplicaDifference difference) => difference.Kind switch
    {
        DifferenceKind.Missing => $"{difference.Kind,-7} {difference.Path} ({difference.MasterValue})",
        DifferenceKind.Extra => $"{difference.Kind,-7} {difference.Path} ({difference.SlaveValue})",
        _ => $"{difference.Kind,-7} {difference.Path}: master {difference.MasterValue}, slave {difference.SlaveValue}",
    };

    private static string SummaryLine(bool afterRepair, ReplicaVerifyResult result) => string.Create(CultureInfo.InvariantCulture,
        $"{(afterRepair ? "after repair: " : "")}{result.EntriesCompared} entries compared, {result.Differences} differences" +
        $"{(result.Unreadable > 0 ? $", {result.Unreadable} not compared" : "")}, {result.BytesHashed} bytes hashed, {result.Duration.TotalSeconds:F1} s");

    // The field names are those of the cmdlet's GeoSyncReplicaDifference and GeoSyncReplicaSummary, camel-cased.
    private static string DifferenceJson(ReplicaDifference difference, bool afterRepair) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["type"] = "difference",
        ["path"] = difference.Path,
        ["kind"] = difference.Kind.ToString(),
        ["masterValue"] = difference.MasterValue,
        ["slaveValue"] = difference.SlaveValue,
        ["afterRepair"] = afterRepair,
    });

    private static string SummaryJson(GeoSyncSession session, RunVerifyCommand command, bool afterRepair, ReplicaVerifyResult result) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["type"] = "summary",
            ["master"] = session.Master.ToString(),
            ["slave"] = session.Slave.ToString(),
            ["checksum"] = command.Checksum,
            ["afterRepair"] = afterRepair,
            ["entriesCompared"] = result.EntriesCompared,
            ["directoriesCompared"] = result.DirectoriesCompared,
            ["differences"] = result.Differences,
            ["unreadable"] = result.Unreadable,
            ["filesHashed"] = result.FilesHashed,
            ["bytesHashed"] = result.BytesHashed,
            ["duration"] = result.Duration.TotalSeconds,
            ["matches"] = result.Matches,
        });
}
