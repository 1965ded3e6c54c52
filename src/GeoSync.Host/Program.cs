using System.Reflection;

namespace GeoSync.Host;

internal static class Program
{
    private const int UsageError = 2;

    private static int Main(string[] args)
    {
        HostCommand command;
        try
        {
            command = HostCommandLine.Parse(args);
        }
        catch (HostUsageException e)
        {
            Console.Error.WriteLine($"geosync: {e.Message}");
            // The help of the command that was mistyped, when the first word names one.
            var verb = args.Length > 0 && HostCommandLine.HasOwnHelp(args[0]) ? args[0] + " " : "";
            Console.Error.WriteLine($"Run 'geosync {verb}--help' for usage.");
            return UsageError;
        }

        switch (command)
        {
            case ShowHelpCommand help:
                Console.Out.WriteLine(HostCommandLine.HelpFor(help.Verb));
                return 0;
            case ShowVersionCommand:
                Console.Out.WriteLine($"geosync {ProductVersion}");
                return 0;
            case ServeSlaveCommand slave:
                return SlaveRunner.Run(slave);
            case RunMasterCommand master:
                return MasterRunner.Run(master);
            case CreateReplicationCommand or ConfigReplicationCommand or DeleteReplicationCommand:
                return ReplicationCommandLine.Run(command);
            case ShowStatusCommand { StateDirectory: { } stateDirectory } when !Directory.Exists(stateDirectory):
                // An explicit directory that is not there is a mistake, not an empty list (the exit code --help promises).
                Console.Error.WriteLine($"geosync: status: the state directory '{Path.GetFullPath(stateDirectory)}' does not exist");
                return 1;
            case RunVerifyCommand verify:
                return VerifyCommandLine.Run(verify);
            case ShowStatusCommand status:
                return StatusCommandLine.Run(status);
            case CheckpointCommand checkpoint:
                return StatusCommandLine.Run(checkpoint);
            case CheckReplicationCommand check:
                return PreflightCommandLine.Run(check);
            case ReplicationCommand replication:
                return SupervisorCommandLine.Run(replication);
            case ShowFailuresCommand failures:
                return MasterCommandLine.RunFailures(failures);
            default:
                return ScriptRunner.Run(command);
        }
    }

    /// <summary>The ModuleVersion the build stamped in, without the source revision the SDK appends after '+'.</summary>
    private static string ProductVersion
    {
        get
        {
            var informational = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? throw new InvalidOperationException("the geosync assembly carries no informational version");
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? informational : informational[..plus];
        }
    }
}
