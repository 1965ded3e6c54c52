using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;

namespace GeoSync.Host;

/// <summary>
/// Runs <c>geosync master</c>: Invoke-GeoSyncMaster in a runspace of its own (not the console host that runs scripts),
/// so SIGTERM and SIGINT stop the pipeline even where a shell started the process with SIGINT ignored, as it does for
/// background jobs. Turn results go to stdout as text; warnings, verbose lines and errors to stderr, like a daemon's log.
/// </summary>
internal static class MasterRunner
{
    private const int Success = 0;
    private const int Failure = 1;

    // Wide enough that a turn row is never wrapped in a log file.
    private const int OutputWidth = 200;

    public static int Run(string script)
    {
        var manifest = ScriptRunner.ModuleManifestPath;
        if (!File.Exists(manifest))
        {
            Console.Error.WriteLine($"geosync: the GeoSync module is missing: {manifest} does not exist. Reinstall geosync; its build lays the module out next to the executable.");
            return Failure;
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
            return Failure;
        }

        using var shell = PowerShell.Create(runspace);
        // A function's terminating error ends only its statement; rethrown, it ends the script and reaches Invoke as an
        // exception, which is what sets the exit code.
        shell.AddScript($"try {{ {script} }} catch {{ throw }}").AddCommand("Out-String").AddParameter("Stream").AddParameter("Width", OutputWidth);
        shell.Streams.Warning.DataAdded += (_, e) => Console.Error.WriteLine($"WARNING: {shell.Streams.Warning[e.Index].Message}");
        shell.Streams.Verbose.DataAdded += (_, e) => Console.Error.WriteLine($"VERBOSE: {shell.Streams.Verbose[e.Index].Message}");
        shell.Streams.Error.DataAdded += (_, e) => Console.Error.WriteLine($"ERROR: {Describe(shell.Streams.Error[e.Index])}");
        // A dry run's summary: the "What if:" line needs a host UI, which this runspace does not have.
        shell.Streams.Information.DataAdded += (_, e) =>
        {
            var record = shell.Streams.Information[e.Index];
            if (record.Tags.Contains(GeoSync.Engine.Master.TurnPlan.SummaryTag)) Console.Out.WriteLine(record.MessageData);
        };

        using var output = new PSDataCollection<PSObject>();
        output.DataAdded += (_, e) => Console.Out.WriteLine(output[e.Index]);

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
            return Success;
        }
        catch (PipelineStoppedException)
        {
            return Success;
        }
        catch (RuntimeException e)
        {
            Console.Error.WriteLine($"geosync: {Describe(e.ErrorRecord)}");
            return Failure;
        }
    }

    private static string Describe(ErrorRecord record)
    {
        var id = record.FullyQualifiedErrorId.Split(',')[0];
        return $"{record.ErrorDetails?.Message ?? record.Exception.Message} ({id})";
    }
}
