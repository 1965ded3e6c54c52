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
            Console.Error.WriteLine("Run 'geosync --help' for usage.");
            return UsageError;
        }

        switch (command)
        {
            case ShowHelpCommand:
                Console.Out.WriteLine(HostCommandLine.Usage);
                return 0;
            case ShowVersionCommand:
                Console.Out.WriteLine($"geosync {ProductVersion}");
                return 0;
            case ServeSlaveCommand slave:
                return SlaveRunner.Run(slave);
            case RunMasterCommand master:
                return MasterRunner.Run(MasterCommandLine.ToScript(master));
            case RunVerifyCommand verify:
                return VerifyCommandLine.Run(verify);
            case ShowStatusCommand status:
                return ScriptRunner.Run(new RunScriptTextCommand([MasterCommandLine.ToScript(status)]));
            case ReplicationCommand replication:
                return SupervisorCommandLine.Run(replication);
            case ShowFailuresCommand failures:
                return ScriptRunner.Run(new RunScriptTextCommand([MasterCommandLine.ToScript(failures)]));
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
