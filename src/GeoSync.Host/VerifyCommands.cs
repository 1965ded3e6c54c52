using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using GeoSync.Engine;
using GeoSync.Engine.Operations;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Verify;

namespace GeoSync.Host;

/// <summary>
/// <c>geosync verify MASTER SLAVE [--checksum] [--repair] [--json] [connection options]</c>, or
/// <c>geosync verify NAME [...]</c> for a named replication (its pair and stored options; flags given here win).
/// </summary>
internal sealed record RunVerifyCommand : HostCommand
{
    public string? Master { get; init; }
    public string? Slave { get; init; }
    public string? Replication { get; init; }
    public string? StateDirectory { get; init; }
    public bool Checksum { get; init; }
    public bool Repair { get; init; }
    public bool Json { get; init; }

    /// <summary>The connection options given (catalog keys of <see cref="ReplicationSessionOptions.ConnectionKeys"/>), in their option's type.</summary>
    public IReadOnlyDictionary<string, object> Options { get; init; } = new Dictionary<string, object>();
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
        var words = new List<string>();
        var command = new RunVerifyCommand();
        var options = new Dictionary<string, object>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var (name, inlineValue) = MasterCommandLine.SplitOption(arg);
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
                case "--state-dir":
                    command = command with
                    {
                        StateDirectory = MasterCommandLine.NonEmpty(name, inlineValue ?? MasterCommandLine.NextValue("verify", args, ref i, name), "verify"),
                    };
                    break;
                default:
                    if (arg.StartsWith('-') && arg.Length > 1)
                    {
                        // The connection options are the catalog's, parsed by the same rules and messages as master's.
                        if (!ReplicationSessionOptions.ConnectionKeys.Contains(arg.StartsWith("--", StringComparison.Ordinal) ? name[2..] : ""))
                        {
                            throw new HostUsageException($"verify: unknown option '{arg}'");
                        }
                        var option = MasterCommandLine.CatalogOption("verify", name);
                        options[option.Key] = MasterCommandLine.ParseOptionValue("verify", option, inlineValue, args, ref i);
                        break;
                    }
                    words.Add(arg);
                    break;
            }
        }
        command = command with { Options = options };
        return words.Count switch
        {
            1 when ReplicationPaths.IsValidName(words[0]) => command with { Replication = words[0] },
            2 => command with { Master = words[0], Slave = words[1] },
            _ => throw new HostUsageException(
                $"verify: takes a replication's name, or the master and the slave URL (e.g. gluster://server:mvol file:///srv/copy); got '{string.Join(' ', words)}'"),
        };
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
        // A repair sends through the session's syncer; a verify alone opens only what it compares with.
        var options = ToSessionOptions(command);
        var session = await (command.Repair
            ? GeoSyncSession.OpenAsync(options, cancellationToken)
            : GeoSyncSession.OpenForVerifyAsync(options, cancellationToken)).ConfigureAwait(false);
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

    /// <summary>The session of the pair given, or of the named replication with the flags given here over its stored options.</summary>
    private static SessionOptions ToSessionOptions(RunVerifyCommand command)
    {
        // A child slave is this very executable.
        IReadOnlyList<string> slaveCommand = Environment.ProcessPath is { } self ? [self, "slave"] : SessionOptions.DefaultSlaveCommand;
        if (command.Replication is not { } name)
        {
            return ReplicationSessionOptions.From(command.Master!, command.Slave!, "verify", command.Options, slaveCommand);
        }
        var definition = new ReplicationStore(command.StateDirectory).Get(name);
        var options = new Dictionary<string, object>(definition.Options, StringComparer.Ordinal);
        foreach (var (key, value) in command.Options) options[key] = value;
        return ReplicationSessionOptions.From(definition.Master, definition.Slave, name, options, slaveCommand);
    }

    private static string DifferenceLine(ReplicaDifference difference) => difference.Kind switch
    {
        DifferenceKind.Missing => $"{KindName(difference.Kind),-7} {difference.Path} ({difference.MasterValue})",
        DifferenceKind.Extra => $"{KindName(difference.Kind),-7} {difference.Path} ({difference.SlaveValue})",
        _ => $"{KindName(difference.Kind),-7} {difference.Path}: master {difference.MasterValue}, slave {difference.SlaveValue}",
    };

    // The enum's own names, without the reflection its formatting costs a short verify's start (docs/performance.md).
    private static string KindName(DifferenceKind kind) => kind switch
    {
        DifferenceKind.Missing => nameof(DifferenceKind.Missing),
        DifferenceKind.Extra => nameof(DifferenceKind.Extra),
        DifferenceKind.Type => nameof(DifferenceKind.Type),
        DifferenceKind.Size => nameof(DifferenceKind.Size),
        DifferenceKind.Mode => nameof(DifferenceKind.Mode),
        DifferenceKind.Owner => nameof(DifferenceKind.Owner),
        DifferenceKind.Mtime => nameof(DifferenceKind.Mtime),
        DifferenceKind.Link => nameof(DifferenceKind.Link),
        DifferenceKind.Content => nameof(DifferenceKind.Content),
        _ => kind.ToString(),
    };

    private static string SummaryLine(bool afterRepair, ReplicaVerifyResult result) => string.Create(CultureInfo.InvariantCulture,
        $"{(afterRepair ? "after repair: " : "")}{result.EntriesCompared} entries compared, {result.Differences} differences" +
        $"{(result.Unreadable > 0 ? $", {result.Unreadable} not compared" : "")}, {result.BytesHashed} bytes hashed, {result.Duration.TotalSeconds:F1} s");

    // The field names are those of the cmdlet's GeoSyncReplicaDifference and GeoSyncReplicaSummary, camel-cased.
    private static string DifferenceJson(ReplicaDifference difference, bool afterRepair) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["type"] = "difference",
        ["path"] = difference.Path,
        ["kind"] = KindName(difference.Kind),
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
