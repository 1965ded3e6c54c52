using GeoSync.Engine;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Urls;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Host;

/// <summary>
/// <c>geosync slave URL --listen</c>: enters the slave root as gsyncd does and serves the slave primitives over RePCe
/// on stdin/stdout until the master closes its end (§1.3 step 5, §3, §4.3).
/// </summary>
internal static class SlaveRunner
{
    private const int Success = 0;
    private const int Failure = 1;
    private const string ClassName = "Slave";

    // The master rsyncs into /proc/<slave pid>/cwd, so the server works on the same directory object the process is in,
    // whatever happens to the path the URL named.
    private const string ProcessCwd = "/proc/self/cwd";

    public static int Run(ServeSlaveCommand command)
    {
        var log = new StderrLog("slave");
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            // A failure on a background thread must still end the slave the way gsyncd ends: logged, exit code 1.
            log.Write(LogLevel.Error, ClassName, $"internal error, exiting: {e.ExceptionObject}");
            Environment.Exit(Failure);
        };

        try
        {
            return Serve(command, log);
        }
        catch (Exception e)
        {
            log.Write(LogLevel.Error, ClassName, $"internal error, exiting: {e}");
            return Failure;
        }
    }

    private static int Serve(ServeSlaveCommand command, StderrLog log)
    {
        if (!TryEnterRoot(command.Url, log, out var root))
        {
            return Failure;
        }

        // RePCe owns stdout. Anything that writes to Console.Out by mistake lands in the log instead of corrupting a frame.
        using var output = Console.OpenStandardOutput();
        using var input = Console.OpenStandardInput();
        Console.SetOut(Console.Error);

        SlaveServer slave;
        try
        {
            slave = new SlaveServer(ProcessCwd, new PosixXattrStore(), options: new SlaveServerOptions
            {
                ServesGlusterVolume = false,
                OnCallFailed = (method, e) => log.Write(LogLevel.Warning, ClassName,
                    $"call {method} failed: {(e is GeoSyncException ? e.Message : $"{e.GetType().Name}: {e.Message}")}"),
            });
        }
        catch (GeoSyncException e)
        {
            log.Write(LogLevel.Error, ClassName, e.Message);
            return Failure;
        }

        if (command.TimeoutSeconds is > 0)
        {
            log.Write(LogLevel.Warning, ClassName,
                $"--timeout {command.TimeoutSeconds}: the inactivity watchdog is not implemented yet; this slave stops when its input ends");
        }
        log.Write(LogLevel.Information, ClassName,
            $"serving {root} over RePCe on stdin/stdout with {command.SyncJobs} workers, xattr namespace {slave.XattrNamespace}");

        var server = new RepceServer(slave, new RepceServerOptions
        {
            Workers = command.SyncJobs,
            Log = (level, message) => log.WriteFrom(ToLogLevel(level), nameof(RepceServer), nameof(RepceServer.ServeAsync), message),
        });
        var result = server.ServeAsync(input, output).GetAwaiter().GetResult();
        return result.Outcome == RepceServeOutcome.EndOfInput ? Success : Failure;
    }

    /// <summary>Parses the URL and changes into its directory, logging why not when it cannot.</summary>
    private static bool TryEnterRoot(string text, StderrLog log, out string root)
    {
        root = string.Empty;
        if (!GeoSyncUrl.TryParse(text, out var url, out var error))
        {
            log.Write(LogLevel.Error, ClassName, error.Message);
            return false;
        }

        switch (url.Scheme)
        {
            case UrlScheme.Gluster:
                log.Write(LogLevel.Error, ClassName,
                    $"cannot serve {url.Original}: a GlusterFS volume slave (gluster://) is not supported yet; serve a directory with file:///DIR");
                return false;
            case UrlScheme.Ssh:
                log.Write(LogLevel.Error, ClassName,
                    $"cannot serve {url.Original}: ssh:// is not supported here; a slave serves a local resource, which the master reaches by running 'geosync slave {url.RemoteSide} --listen' on {url.RemoteAddress}");
                return false;
        }

        root = url.Path ?? throw new InvalidOperationException($"the file URL {url.Original} parsed without a path");
        if (!Directory.Exists(root))
        {
            log.Write(LogLevel.Error, ClassName, File.Exists(root)
                ? $"cannot serve {url.Original}: {root} is not a directory; give the directory that receives the replica"
                : $"cannot serve {url.Original}: the directory {root} does not exist; create it first");
            return false;
        }

        try
        {
            Directory.SetCurrentDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Write(LogLevel.Error, ClassName, $"cannot serve {url.Original}: cannot enter {root}: {e.Message}");
            return false;
        }
        return true;
    }

    private static LogLevel ToLogLevel(RepceLogLevel level) => level switch
    {
        RepceLogLevel.Debug => LogLevel.Debug,
        RepceLogLevel.Information => LogLevel.Information,
        RepceLogLevel.Warning => LogLevel.Warning,
        _ => LogLevel.Error,
    };
}
