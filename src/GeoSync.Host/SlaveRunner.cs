using GeoSync.Engine.Slave;

namespace GeoSync.Host;

/// <summary>
/// <c>geosync slave URL --listen</c>: the engine's <see cref="SlaveHost"/> on this process's stdin and stdout, logging to
/// stderr, where the master collects the lines.
/// </summary>
internal static class SlaveRunner
{
    private const string ClassName = "Slave";

    public static int Run(ServeSlaveCommand command)
    {
        var log = new SlaveLog(Console.Error, "slave");
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            // A failure on a background thread must still end the slave the way gsyncd ends: logged, exit code 1.
            log.Write(SlaveLogLevel.Error, ClassName, $"internal error, exiting: {e.ExceptionObject}");
            Environment.Exit(SlaveHost.Failure);
        };

        try
        {
            // RePCe owns stdout. Anything that writes to Console.Out by mistake lands in the log instead of corrupting a frame.
            using var output = Console.OpenStandardOutput();
            using var input = Console.OpenStandardInput();
            Console.SetOut(Console.Error);
            var options = new SlaveHostOptions
            {
                Url = command.Url,
                TimeoutSeconds = command.TimeoutSeconds ?? 0,
                SyncJobs = command.SyncJobs,
                SessionOwner = command.SessionOwner,
                UseRsyncXattrs = command.UseRsyncXattrs,
                NetworkNamespace = command.NetworkNamespace,
                GlusterCommandDirectory = command.GlusterCommandDirectory,
                GlusterLogFile = command.GlusterLogFile,
            };
            return SlaveHost.RunAsync(options, input, output, log).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            log.Write(SlaveLogLevel.Error, ClassName, $"internal error, exiting: {e}");
            return SlaveHost.Failure;
        }
    }
}
