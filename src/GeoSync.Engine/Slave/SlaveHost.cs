using GeoSync.Engine.Rpc;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport.Mounting;
using GeoSync.Engine.Urls;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Slave;

/// <summary>What a slave process serves: the arguments of <c>geosync slave URL --listen</c> and Invoke-GeoSyncSlave.</summary>
public sealed record SlaveHostOptions
{
    /// <summary>gsyncd's default for sync_jobs (App. A), which is also its number of RePCe worker threads.</summary>
    public const int DefaultSyncJobs = 3;

    /// <summary>The slave root: file:///DIR, or gluster://HOST:VOL to mount and enter.</summary>
    public required string Url { get; init; }

    /// <summary>Seconds without a keep-alive after which the slave ends (docs/protocol.md, "Keep-alive and the watchdog"); 0 never.</summary>
    public int TimeoutSeconds { get; init; }

    /// <summary>Calls answered concurrently.</summary>
    public int SyncJobs { get; init; } = DefaultSyncJobs;

    /// <summary>The master volume's uuid (<c>--session-owner</c>), for the log.</summary>
    public string? SessionOwner { get; init; }

    /// <summary>The master's rsync carries the xattrs, which needs a privileged slave (docs/protocol.md, "Transport").</summary>
    public bool UseRsyncXattrs { get; init; }

    /// <summary>The network namespace the glusterfs client of a gluster:// slave runs in.</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>Where glusterfs lives (gluster_command_dir).</summary>
    public string? GlusterCommandDirectory { get; init; }

    /// <summary>The glusterfs client's log file for a gluster:// slave.</summary>
    public string? GlusterLogFile { get; init; }
}

/// <summary>
/// A slave process's job (docs/protocol.md): enters the slave root as gsyncd does (a directory, or a GlusterFS
/// volume it mounts and enters) and serves the slave primitives over RePCe on a pair of streams until the master closes
/// its end or stops sending keep-alives for the timeout. It changes the process's working directory: the master's rsync
/// writes to /proc/&lt;pid&gt;/cwd.
/// </summary>
public static class SlaveHost
{
    /// <summary>The result of a slave that served until its master left: input closed, or keep-alives stopped.</summary>
    public const int Success = 0;

    /// <summary>The result of a slave that could not start, or whose connection broke (a protocol error).</summary>
    public const int Failure = 1;

    private const string ClassName = "Slave";

    // The server works on the directory object the process is in, whatever happens to the path the URL named.
    private const string ProcessCwd = "/proc/self/cwd";

    /// <summary>Serves until the master leaves or <paramref name="cancellationToken"/> fires; returns <see cref="Success"/> or <see cref="Failure"/>, having logged why.</summary>
    public static async Task<int> RunAsync(SlaveHostOptions options, Stream input, Stream output, SlaveLog log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(log);

        if (options.UseRsyncXattrs && Syscall.geteuid() != 0)
        {
            log.Write(SlaveLogLevel.Error, ClassName, "using rsync for extended attributes is not supported: --use-rsync-xattrs needs a slave running as root");
            return Failure;
        }

        var (entered, root, mount) = await TryEnterRootAsync(options, log, cancellationToken).ConfigureAwait(false);
        if (!entered)
        {
            return Failure;
        }

        try
        {
            return await ServeAsync(options, input, output, log, root, mount?.MountPoint, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Killed instead, the mount's guard process unmounts it when this process is gone.
            if (mount is not null)
            {
                await mount.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<int> ServeAsync(SlaveHostOptions options, Stream input, Stream output, SlaveLog log, string root, string? mountPoint, CancellationToken cancellationToken)
    {
        SlaveServer slave;
        try
        {
            slave = new SlaveServer(ProcessCwd, new PosixXattrStore(), options: new SlaveServerOptions
            {
                ServesGlusterVolume = mountPoint is not null,
                // rsync writes to the mount point by its path; the server works in the cwd (docs/gluster-notes.md).
                RootPathToVouch = mountPoint,
                OnCallFailed = (method, e) => log.Write(SlaveLogLevel.Warning, ClassName,
                    $"call {method} failed: {(e is GeoSyncException ? e.Message : $"{e.GetType().Name}: {e.Message}")}"),
            });
        }
        catch (GeoSyncException e)
        {
            log.Write(SlaveLogLevel.Error, ClassName, e.Message);
            return Failure;
        }

        log.Write(SlaveLogLevel.Information, ClassName,
            $"serving {root} over RePCe on stdin/stdout with {options.SyncJobs} workers, xattr namespace {slave.XattrNamespace}" +
            (options.SessionOwner is { } owner ? $", for master volume {owner}" : ""));

        var server = new RepceServer(slave, new RepceServerOptions
        {
            Workers = options.SyncJobs,
            Log = (level, message) => log.WriteFrom(ToLogLevel(level), nameof(RepceServer), nameof(RepceServer.ServeAsync), message),
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var serving = server.ServeAsync(input, output, stop.Token);
        var watchdog = new SlaveWatchdog(slave, TimeSpan.FromSeconds(options.TimeoutSeconds)).WaitForInactivityAsync(stop.Token);
        var first = await Task.WhenAny(serving, watchdog).ConfigureAwait(false);
        if (first == watchdog && watchdog.IsCompletedSuccessfully)
        {
            // The master is gone (docs/protocol.md, "Keep-alive and the watchdog"); the reader may sit in a blocking read that nothing else would end.
            log.Write(SlaveLogLevel.Information, ClassName, await watchdog.ConfigureAwait(false));
            await stop.CancelAsync().ConfigureAwait(false);
            return Success;
        }
        await stop.CancelAsync().ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            log.Write(SlaveLogLevel.Information, ClassName, "stopped by the user");
            return Success;
        }
        var result = await serving.ConfigureAwait(false);
        return result.Outcome == RepceServeOutcome.EndOfInput ? Success : Failure;
    }

    /// <summary>Parses the URL and changes into its directory (or mounted volume), logging why not when it cannot.</summary>
    private static async Task<(bool Entered, string Root, AuxMount? Mount)> TryEnterRootAsync(SlaveHostOptions options, SlaveLog log, CancellationToken cancellationToken)
    {
        if (!GeoSyncUrl.TryParse(options.Url, out var url, out var error))
        {
            log.Write(SlaveLogLevel.Error, ClassName, error.Message);
            return (false, "", null);
        }

        switch (url.Scheme)
        {
            case UrlScheme.Gluster:
                return await TryEnterVolumeAsync(url, options, log, cancellationToken).ConfigureAwait(false);
            case UrlScheme.Ssh:
                log.Write(SlaveLogLevel.Error, ClassName,
                    $"cannot serve {url.Original}: ssh:// is not supported here; a slave serves a local resource, which the master reaches by running 'geosync slave {url.RemoteSide} --listen' on {url.RemoteAddress}");
                return (false, "", null);
        }

        var root = url.Path ?? throw new InvalidOperationException($"the file URL {url.Original} parsed without a path");
        if (!Directory.Exists(root))
        {
            log.Write(SlaveLogLevel.Error, ClassName, File.Exists(root)
                ? $"cannot serve {url.Original}: {root} is not a directory; give the directory that receives the replica"
                : $"cannot serve {url.Original}: the directory {root} does not exist; create it first");
            return (false, "", null);
        }

        try
        {
            Directory.SetCurrentDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Write(SlaveLogLevel.Error, ClassName, $"cannot serve {url.Original}: cannot enter {root}: {e.Message}");
            return (false, "", null);
        }
        return (true, root, null);
    }

    /// <summary>
    /// Mounts the volume (client-pid -1) and enters it; the master's rsync writes to /proc/&lt;pid&gt;/cwd. Unlike gsyncd (docs/protocol.md, "Transport")
    /// the mount is not detached at once: rsync 3.4 and later resolve that link by its text, which for a lazily unmounted
    /// cwd is "/", and would write into the host's root directory. The mount's guard unmounts it when this process ends.
    /// </summary>
    private static async Task<(bool Entered, string Root, AuxMount? Mount)> TryEnterVolumeAsync(GeoSyncUrl url, SlaveHostOptions options, SlaveLog log, CancellationToken cancellationToken)
    {
        var mounter = new GlusterMounter
        {
            Verbose = message => log.Write(SlaveLogLevel.Information, ClassName, message),
            Debug = message => log.Write(SlaveLogLevel.Debug, ClassName, message),
        };
        var mountOptions = new GlusterMountOptions
        {
            Volume = url.Volume!,
            Server = url.Host!,
            Mode = Syscall.geteuid() == 0 ? GlusterMountMode.Direct : GlusterMountMode.MountBroker,
            // Should the volume mount go away, rsync's writes to its path hit an empty read-only directory, not the host's.
            ReadOnlyUnderlay = Syscall.geteuid() == 0,
            // Verify and repair compare the slave as it is, changes made behind GeoSync's back included.
            UncachedMetadata = true,
            NetworkNamespace = options.NetworkNamespace,
            GlusterCommandDirectory = options.GlusterCommandDirectory,
            LogFile = options.GlusterLogFile,
        };
        AuxMount mount;
        try
        {
            mount = await mounter.MountAsync(mountOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is GeoSyncException or ArgumentException)
        {
            log.Write(SlaveLogLevel.Error, ClassName, $"cannot serve {url.Original}: {e.Message}");
            return (false, "", null);
        }

        try
        {
            Directory.SetCurrentDirectory(mount.MountPoint);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Write(SlaveLogLevel.Error, ClassName, $"cannot serve {url.Original}: cannot enter its mount {mount.MountPoint}: {e.Message}");
            await mount.DisposeAsync().ConfigureAwait(false);
            return (false, "", null);
        }

        log.Write(SlaveLogLevel.Information, ClassName, $"entered {url.Normalized}, mounted on {mount.MountPoint}");
        return (true, url.Normalized, mount);
    }

    private static SlaveLogLevel ToLogLevel(RepceLogLevel level) => level switch
    {
        RepceLogLevel.Debug => SlaveLogLevel.Debug,
        RepceLogLevel.Information => SlaveLogLevel.Information,
        RepceLogLevel.Warning => SlaveLogLevel.Warning,
        _ => SlaveLogLevel.Error,
    };
}
