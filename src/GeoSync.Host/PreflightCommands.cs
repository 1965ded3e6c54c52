using System.Text.Json;
using GeoSync.Engine;
using GeoSync.Engine.Operations;
using GeoSync.Engine.Session;

namespace GeoSync.Host;

/// <summary><c>geosync check NAME [--state-dir DIR] [--json]</c>: the preflight of a named replication.</summary>
internal sealed record CheckReplicationCommand(string Name, string? StateDirectory, bool Json) : HostCommand;

/// <summary>
/// The preflight from the command line: the engine's <see cref="ReplicationPreflight"/> run directly, with the
/// replication's stored options, as Test-GeoSyncReplication runs it (docs/operations.md, "Preflight").
/// </summary>
internal static class PreflightCommandLine
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public const string Help = """
          geosync check <name> [--state-dir <dir>] [--json]
              The preflight of a replication: one line per check (Urls, LocalTools, MasterReadable,
              SlaveReachable, NoOverlap, SlaveWritable, SlaveFreeSpace, XtimeAttributes, ClockSkew,
              SlaveEmptyOrReplica) with its result (passed, warning, FAILED, skipped), what was found and, for a
              failure, what to do. It connects as the replication's worker would and writes nothing but one
              probe directory on the slave, removed at once. --json prints the checks as a JSON array.
              Exit 0 when no check failed, 1 when one did or the replication does not exist.
        """;

    public static HostCommand Parse(string[] args)
    {
        if (VerbArguments.Read("check", args, "--json") is not { } read) return new ShowHelpCommand("check");
        return read.Words switch
        {
            [] => throw new HostUsageException("check: the replication's name is missing (geosync check NAME)"),
            [var name] when ReplicationPaths.IsValidName(name) => new CheckReplicationCommand(name, read.StateDirectory, read.Has("--json")),
            [var name] => throw new HostUsageException($"check: '{name}' is not a replication name (a letter or digit, then letters, digits, '.', '_' or '-')"),
            [var first, var second, ..] => throw new HostUsageException($"check: takes one replication name, got '{first}' and '{second}'"),
        };
    }

    public static int Run(CheckReplicationCommand command)
    {
        ReplicationDefinition definition;
        try
        {
            definition = new ReplicationStore(command.StateDirectory).Get(command.Name);
        }
        catch (GeoSyncException e)
        {
            Console.Error.WriteLine($"geosync: check: {e.Message}");
            return 1;
        }
        var slaveCommand = Environment.ProcessPath is { } self ? new[] { self, "slave" } : SessionOptions.DefaultSlaveCommand;
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        IReadOnlyList<PreflightCheck> checks;
        try
        {
            checks = ReplicationPreflight.RunAsync(ReplicationSessionOptions.From(definition, slaveCommand), cancel.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("geosync: check: interrupted");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (command.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(checks.Select(c => new { c.Name, Result = c.Result.ToString(), c.Passed, c.Detail, c.Hint }),
                JsonOptions));
        }
        else
        {
            foreach (var check in checks)
            {
                var result = check.Result == PreflightResult.Failed ? "FAILED" : check.Result.ToString().ToLowerInvariant();
                Console.Out.WriteLine($"{result,-8} {check.Name,-20} {check.Detail}");
                if (check.Hint is { } hint && check.Result is PreflightResult.Failed or PreflightResult.Warning)
                {
                    Console.Out.WriteLine($"{"",-8} {"",-20} hint: {hint}");
                }
            }
        }
        return checks.Any(c => !c.Passed) ? 1 : 0;
    }
}
