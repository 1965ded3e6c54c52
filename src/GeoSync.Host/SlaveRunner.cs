using GeoSync.Engine;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Session;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Transport.Mounting;
using GeoSync.Engine.Urls;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Host;

/// <summary>
/// <c>geosync slave URL --listen</c>: enters the slave root as gsyncd does (a directory, or a GlusterFS volume it mounts,
/// enters and lazily unmounts, §6.6) and serves the slave primitives over RePCe on stdin/stdout until the master closes
/// its end or stops sending keep-alives for <c>--timeout</c> seconds (§1.3 step 5, §3, §4.3, §4.5).
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
        if (command.UseRsyncXattrs && Syscall.geteuid() != 0)
        {
            log.Write(LogLevel.Error, ClassName, "using rsync for extended attributes is not supported: --use-rsync-xattrs needs a slave running as root");
            return Failure;
        }

        if (!TryEnterRoot(command, log, out var root, out var mount))
        {
            return Failure;
        }

        try
        {
            return ServeRoot(command, log, root, mount is not null);
        }
        finally
        {
            // Killed instead, the mount's guard process unmounts it when this process is gone.
            mount?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static int ServeRoot(ServeSlaveCommand command, StderrLog log, string root, bool isVolume)
    {
        // RePCe owns stdout. Anything that writes to Console.Out by mistake lands in the log instead of corrupting a frame.
        using var output = Console.OpenStandardOutput();
        using var input = Console.OpenStandardInput();
        Console.SetOut(Console.Error);

        SlaveServer slave;
        try
        {
            slave = new SlaveServer(ProcessCwd, new PosixXattrStore(), options: new SlaveServerOptions
            {
                ServesGlusterVolume = isVolume,
                OnCallFailed = (method, e) => log.Write(LogLevel.Warning, ClassName,
                    $"call {method} failed: {(e is GeoSyncException ? e.Message : $"{e.GetType().Name}: {e.Message}")}"),
            });
        }
        catch (GeoSyncException e)
        {
            log.Write(LogLevel.Error, ClassName, e.Message);
            return Failure;
        }

        log.Write(LogLevel.Information, ClassName,
            $"serving {root} over RePCe on stdin/stdout with {command.SyncJobs} workers, xattr namespace {slave.XattrNamespace}" +
            (command.SessionOwner is { } owner ? $", for master volume {owner}" : ""));

        var server = new RepceServer(slave, new RepceServerOptions
        {
            Workers = command.SyncJobs,
            Log = (level, message) => log.WriteFrom(ToLogLevel(level), nameof(RepceServer), nameof(RepceServer.ServeAsync), message),
        });
        using var stop = new CancellationTokenSource();
        var serving = server.ServeAsync(input, output, stop.Token);
        var watchdog = new SlaveWatchdog(slave, TimeSpan.FromSeconds(command.TimeoutSeconds ?? 0)).WaitForInactivityAsync(stop.Token);
        if (Task.WhenAny(serving, watchdog).GetAwaiter().GetResult() == watchdog)
        {
            // The master is gone (§4.5); the reader may sit in a blocking read that nothing else would end.
            log.Write(LogLevel.Information, ClassName, watchdog.GetAwaiter().GetResult());
            stop.Cancel();
            return Success;
        }
        stop.Cancel();
        var result = serving.GetAwaiter().GetResult();
        return result.Outcome == RepceServeOutcome.EndOfInput ? Success : Failure;
    }

    /// <summary>Parses the URL and changes into its directory (or mounted volume), logging why not when it cannot.</summary>
    private static bool TryEnterRoot(ServeSlaveCommand command, StderrLog log, out string root, out AuxMount? mount)
    {
        root = string.Empty;
        mount = null;
        if (!GeoSyncUrl.TryParse(command.Url, out var url, out var error))
        {
            log.Write(LogLevel.Error, ClassName, error.Message);
            return false;
        }

        switch (url.Scheme)
        {
            case UrlScheme.Gluster:
                return TryEnterVolume(url, command, log, out root, out mount);
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

    /// <summary>
    /// Mounts the volume (client-pid -1) and enters it; the master's rsync writes to /proc/&lt;pid&gt;/cwd. Unlike §6.6
    /// the mount is not detached at once: rsync 3.4 and later resolve that link by its text, which for a lazily unmounted
    /// cwd is "/", and would write into the host's root directory. The mount's guard unmounts it when this process ends.
    /// </summary>
    private static bool TryEnterVolume(GeoSyncUrl url, ServeSlaveCommand command, StderrLog log, out string root, out AuxMount? entered)
    {
        root = url.Normalized;
        entered = null;
        var mounter = new GlusterMounter
        {
            Verbose = message => log.Write(LogLevel.Information, ClassName, message),
            Debug = message => log.Write(LogLevel.Debug, ClassName, message),
        };
        var options = new GlusterMountOptions
        {
            Volume = url.Volume!,
            Server = url.Host!,
            Mode = Syscall.geteuid() == 0 ? GlusterMountMode.Direct : GlusterMountMode.MountBroker,
            NetworkNamespace = command.NetworkNamespace,
            GlusterCommandDirectory = command.GlusterCommandDirectory,
            LogFile = command.GlusterLogFile,
        };
        AuxMount mount;
        try
        {
            mount = mounter.MountAsync(options).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is GeoSyncException or ArgumentException)
        {
            log.Write(LogLevel.Error, ClassName, $"cannot serve {url.Original}: {e.Message}");
            return false;
        }

        try
        {
            Directory.SetCurrentDirectory(mount.MountPoint);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Write(LogLevel.Error, ClassName, $"cannot serve {url.Original}: cannot enter its mount {mount.MountPoint}: {e.Message}");
            mount.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return false;
        }

        log.Write(LogLevel.Information, ClassName, $"entered {url.Normalized}, mounted on {mount.MountPoint}");
        entered = mount;
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
