using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;
using GeoSync.Engine.Master;

namespace GeoSync.Host;

/// <summary>
/// Runs <c>geosync master</c>: Invoke-GeoSyncMaster in a runspace of its own (not the console host that runs scripts),
/// so SIGTERM and SIGINT stop the pipeline even where a shell started the process with SIGINT ignored, as it does for
/// background jobs. Turn results go to stdout as text; warnings, verbose lines and errors to stderr, like a daemon's log.
/// </summary>
/// <remarks>
/// The exit code (the table in --help, the README and about_GeoSync): <see cref="Success"/> when the last turn's changes
/// all reached the slave or the loop was stopped by a signal; <see cref="Fatal"/> on a terminating error;
/// <see cref="NotConverged"/> when the run ended normally but its last turn wrote error records that say entries did not
/// arrive (<see cref="ReplicationErrorIds"/>). The loop writes a turn's result before its records, so a turn line
/// starts the count afresh and only the last turn decides.
/// </remarks>
internal static class MasterRunner
{
    private const int Success = 0;
    private const int Fatal = 1;
    private const int NotConverged = 3;

    public static int Run(RunMasterCommand command)
    {
        using var runspace = ScriptRunner.OpenModuleRunspace(ModuleScope.WholeModule);
        if (runspace is null) return Fatal;

        using var shell = PowerShell.Create(runspace);
        // The command and its parameters, bound as values: nothing the user typed becomes PowerShell source text.
        shell.AddCommand("Invoke-GeoSyncMaster");
        if (command.Replication is { } replication) shell.AddParameter("Replication", replication);
        else shell.AddParameter("Master", command.Master).AddParameter("Slave", command.Slave);
        if (command.StateDirectory is { } stateDirectory) shell.AddParameter("StateDirectory", stateDirectory);
        if (command.HeartbeatFile is { } heartbeat) shell.AddParameter("HeartbeatPath", heartbeat);
        foreach (var (parameter, value) in command.Options) shell.AddParameter(parameter, value);
        if (command.Verbose) shell.AddParameter("Verbose", true);
        if (command.DryRun) shell.AddParameter("WhatIf", true);
        shell.Streams.Warning.DataAdded += (_, e) => Console.Error.WriteLine($"WARNING: {shell.Streams.Warning[e.Index].Message}");
        shell.Streams.Verbose.DataAdded += (_, e) => Console.Error.WriteLine($"VERBOSE: {shell.Streams.Verbose[e.Index].Message}");
        var notSynced = 0;
        shell.Streams.Error.DataAdded += (_, e) =>
        {
            var record = shell.Streams.Error[e.Index];
            Console.Error.WriteLine($"ERROR: {Describe(record)}");
            if (ReplicationErrorIds.MeansNotConverged(IdOf(record))) Interlocked.Increment(ref notSynced);
        };
        // A dry run's summary: the "What if:" line needs a host UI, which this runspace does not have.
        shell.Streams.Information.DataAdded += (_, e) =>
        {
            var record = shell.Streams.Information[e.Index];
            if (record.Tags.Contains(TurnPlan.SummaryTag)) Console.Out.WriteLine(record.MessageData);
        };

        using var output = new PSDataCollection<PSObject>();
        output.DataAdded += (_, e) =>
        {
            // Each output line is one turn (or, in a dry run, one planned change): what earlier turns failed on was
            // retried by it. Written as it happens: a table would hold rows back to size its columns.
            Interlocked.Exchange(ref notSynced, 0);
            var item = output[e.Index];
            Console.Out.WriteLine(command.DryRun ? item.BaseObject.ToString() : TurnLine(item));
        };

        var stopping = 0;
        void Stop(PosixSignalContext context)
        {
            // The first signal stops the loop cleanly; the default action of a second one ends the process at once.
            if (Interlocked.Exchange(ref stopping, 1) == 0)
            {
                context.Cancel = true;
                Console.Error.WriteLine($"geosync: {context.Signal} received, stopping the master loop");
                shell.BeginStop(null, null);
            }
        }
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

        try
        {
            shell.Invoke(null, output);
        }
        catch (PipelineStoppedException)
        {
            // Stopped by SIGINT or SIGTERM, as asked: the ledger keeps what had not arrived yet.
            return Success;
        }
        catch (RuntimeException e)
        {
            Console.Error.WriteLine($"geosync: {Describe(e.ErrorRecord)}");
            return Fatal;
        }

        if (Volatile.Read(ref stopping) != 0) return Success;
        var count = Volatile.Read(ref notSynced);
        if (count == 0) return Success;
        Console.Error.WriteLine($"geosync: {count} {(count == 1 ? "entry" : "entries")} did not reach the slave (listed above); 'geosync failures MASTER SLAVE' shows the pair's failure ledger");
        return NotConverged;
    }

    /// <summary>One turn as a log line: time, session, turn, what it synced and how long it took.</summary>
    private static string TurnLine(PSObject turn)
    {
        object? Property(string name) => turn.Properties[name]?.Value;
        var failures = Property("Failures") is Array array ? array.Length : 0;
        var seconds = Property("Duration") is TimeSpan duration ? duration.TotalSeconds : 0;
        return string.Format(CultureInfo.InvariantCulture,
            "{0:yyyy-MM-dd HH:mm:ss} {1} turn {2}: {3} files ({4} bytes) synced, {5} entries created, {6} purged, {7} failures, {8:0.000} s",
            DateTime.Now, Property("SessionName"), Property("Turn"), Property("FilesSynced"), Property("BytesSynced"),
            Property("EntriesCreated"), Property("EntriesPurged"), failures, seconds);
    }

    private static string IdOf(ErrorRecord record) => record.FullyQualifiedErrorId.Split(',')[0];

    private static string Describe(ErrorRecord record)
    {
        var hint = record.ErrorDetails?.RecommendedAction is { Length: > 0 } action ? $" Hint: {action}" : "";
        return $"{record.ErrorDetails?.Message ?? record.Exception.Message} ({IdOf(record)}){hint}";
    }
}
