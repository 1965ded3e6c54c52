using System.Diagnostics;
using Mono.Unix;

namespace GeoSync.Engine.Transport.Mounting;

/// <summary>
/// Makes auxiliary GlusterFS mounts (client-pid -1) directly or through glusterd's mountbroker (docs/protocol.md, "Transport"), waits until
/// they answer, and puts each under a guard that unmounts it lazily when this process ends (docs/protocol.md, "Transport").
/// </summary>
public sealed class GlusterMounter
{
    private const string TempDirectoryPrefix = "geosync-aux-mount-";
    private const int LogTailBytes = 64 * 1024;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ClientTerminationGrace = TimeSpan.FromSeconds(1);

    private readonly IProcessRunner _runner;
    private readonly IMountSystem _system;
    private readonly string _guardScript;
    private readonly string _mountInfo;

    public GlusterMounter()
        : this(new ProcessRunner())
    {
    }

    public GlusterMounter(IProcessRunner runner)
        : this(runner, new LinuxMountSystem(), MountGuard.DefaultScriptPath, LinuxMountSystem.MountInfoPath)
    {
    }

    internal GlusterMounter(IProcessRunner runner, IMountSystem system, string guardScript, string mountInfo)
    {
        this._runner = runner;
        this._system = system;
        this._guardScript = guardScript;
        this._mountInfo = mountInfo;
    }

    /// <summary>Receives a line for each step, naming its target; called on any thread.</summary>
    public Action<string>? Verbose { get; init; }

    /// <summary>Receives internals: each argv run; called on any thread.</summary>
    public Action<string>? Debug { get; init; }

    /// <summary>
    /// Mounts <see cref="GlusterMountOptions.Volume"/> and returns once the mount answers, within
    /// <see cref="GlusterMountOptions.Timeout"/>. Throws <see cref="GlusterMountException"/> naming the cause; on any
    /// failure or cancellation nothing is left mounted and the directory the mounter made is removed.
    /// </summary>
    public Task<AuxMount> MountAsync(GlusterMountOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Mode == GlusterMountMode.Direct
            ? MountDirectAsync(options, cancellationToken)
            : MountWithBrokerAsync(options, cancellationToken);
    }

    /// <summary>The log file the direct mounter uses when none is given, or null when the log directory is missing.</summary>
    public static string? DefaultDirectLogFile(string volume) =>
        Directory.Exists(GlusterMountOptions.DefaultLogDirectory)
            ? Path.Combine(GlusterMountOptions.DefaultLogDirectory, $"{TempDirectoryPrefix}{volume}.log")
            : null;

    private async Task<AuxMount> MountDirectAsync(GlusterMountOptions options, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var namespacePath = ResolveNetworkNamespace(options);
        var glusterfs = RequireProgram(options, "glusterfs", options.GlusterCommandDirectory);
        var nsenter = namespacePath is null ? null : RequireProgram(options, "nsenter");
        var unmount = GlusterMountArgv.DirectUnmount(RequireProgram(options, "umount"));
        var logFile = options.LogFile ?? DefaultDirectLogFile(options.Volume);

        var (mountPoint, created) = PrepareMountPoint(options);
        MountGuard guard;
        try
        {
            guard = StartGuard(options, created ? MountGuardMode.RemoveDirectory : MountGuardMode.KeepDirectory, unmount);
        }
        catch
        {
            if (created)
            {
                _system.TryRemoveDirectory(mountPoint);
            }

            throw;
        }

        try
        {
            await guard.AnnounceAsync(mountPoint).ConfigureAwait(false);
            var logOffset = logFile is null ? 0 : _system.FileLength(logFile);
            string ClientLog() => logFile is null ? "" : _system.ReadFileFrom(logFile, logOffset, LogTailBytes);
            if (options.ReadOnlyUnderlay)
            {
                await MountUnderlayAsync(options, mountPoint, deadline, cancellationToken).ConfigureAwait(false);
            }

            var argv = GlusterMountArgv.InNetworkNamespace(nsenter, namespacePath,
                GlusterMountArgv.DirectMount(glusterfs, options, logFile, mountPoint));
            Verbose?.Invoke($"mounting {options.Server}:{options.Volume} on {mountPoint}");
            Debug?.Invoke($"running: {string.Join(' ', argv)}");
            var result = await RunBeforeDeadlineAsync(argv, options, deadline, cancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                throw ClientFailure(options, mountPoint, ClientLog(), null, "",
                    $"glusterd on {options.Server} did not answer within {Seconds(options.Timeout)}");
            }

            if (result.ExitCode != 0)
            {
                throw ClientFailure(options, mountPoint, ClientLog(), result.ExitCode, result.StderrTail.Trim(), null);
            }

            // The client daemonized: its parent's success means the volume file arrived and the mount is in place.
            await guard.ConfirmMountedAsync().ConfigureAwait(false);
            await WaitUntilAnswersAsync(options, mountPoint, mountPoint, deadline, ClientLog, cancellationToken).ConfigureAwait(false);
            var processId = _system.FindClientProcesses(mountPoint).Cast<int?>().FirstOrDefault();
            Verbose?.Invoke($"{options.Server}:{options.Volume} answers on {mountPoint} after {deadline.ElapsedMilliseconds} ms (client pid {processId}, guard pid {guard.ProcessId})");
            return new AuxMount(GlusterMountMode.Direct, options.Volume, options.Server, mountPoint, processId, logFile, guard);
        }
        catch (Exception failure)
        {
            var reported = await AbandonAsync(guard, options, mountPoint, killClients: true, failure).ConfigureAwait(false);
            if (ReferenceEquals(reported, failure))
            {
                throw;
            }

            throw reported;
        }
    }

    /// <summary>The read-only tmpfs under the volume mount; the guard unmounts it after the volume (it loops while mounted).</summary>
    private async Task MountUnderlayAsync(GlusterMountOptions options, string mountPoint, Stopwatch deadline, CancellationToken cancellationToken)
    {
        var argv = GlusterMountArgv.ReadOnlyUnderlay(RequireProgram(options, "mount"), mountPoint);
        Debug?.Invoke($"running: {string.Join(' ', argv)}");
        var result = await RunBeforeDeadlineAsync(argv, options, deadline, cancellationToken).ConfigureAwait(false);
        if (result is not { ExitCode: 0 })
        {
            var why = result is null ? "it did not finish in time" : $"it exited with {result.ExitCode}: {result.StderrTail.Trim()}";
            throw new GlusterMountException(GlusterMountFailure.MountFailed, options.Volume, options.Server, mountPoint,
                $"cannot put the read-only underlay (an empty tmpfs) on {mountPoint} before mounting {options.Volume}: {why}. " +
                "It keeps writes from reaching the host's file system if the volume mount goes away; mounting needs root.");
        }
    }

    private async Task<AuxMount> MountWithBrokerAsync(GlusterMountOptions options, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var namespacePath = ResolveNetworkNamespace(options);
        var gluster = RequireProgram(options, "gluster", options.GlusterCommandDirectory);
        var nsenter = namespacePath is null ? null : RequireProgram(options, "nsenter");
        var user = options.MountBrokerUser ?? _system.CurrentUserName;
        var cli = GlusterMountArgv.MountBrokerCli(gluster, options);
        var unmount = GlusterMountArgv.InNetworkNamespace(nsenter, namespacePath, GlusterMountArgv.MountBrokerUnmount(cli));
        var guard = StartGuard(options, MountGuardMode.MountBroker, unmount);

        string? mountPoint = null;
        try
        {
            var logOffset = options.LogFile is null ? 0 : _system.FileLength(options.LogFile);
            string ClientLog() => options.LogFile is null ? "" : _system.ReadFileFrom(options.LogFile, logOffset, LogTailBytes);

            var argv = GlusterMountArgv.InNetworkNamespace(nsenter, namespacePath,
                GlusterMountArgv.MountBrokerMount(cli, user, options, options.LogFile));
            Verbose?.Invoke($"asking glusterd on {options.Server} to mount {options.Volume} for {user}");
            Debug?.Invoke($"running: {string.Join(' ', argv)}");
            var result = await RunBeforeDeadlineAsync(argv, options, deadline, cancellationToken).ConfigureAwait(false)
                ?? throw new GlusterMountException(GlusterMountFailure.ServerUnreachable, options.Volume, options.Server, null,
                    $"glusterd on {options.Server} did not answer the mountbroker request for volume {options.Volume} within " +
                    $"{Seconds(options.Timeout)}. Check that glusterd runs and that {options.Server} is reachable from here.");

            var answer = FirstLine(result.StandardOutputText);
            if (result.ExitCode != 0)
            {
                throw BrokerRefusal(options, user, answer, result.StderrTail);
            }

            if (!answer.StartsWith('/'))
            {
                throw new GlusterMountException(GlusterMountFailure.MountFailed, options.Volume, options.Server, null,
                    $"glusterd answered '{answer}' instead of a mount point when asked to mount {options.Volume} for {user}.");
            }

            mountPoint = answer;
            await guard.AnnounceAsync(mountPoint).ConfigureAwait(false);
            await guard.ConfirmMountedAsync().ConfigureAwait(false);
            var tablePath = MountTablePath(mountPoint);
            await WaitUntilAnswersAsync(options, mountPoint, tablePath, deadline, ClientLog, cancellationToken).ConfigureAwait(false);
            var processId = _system.FindClientProcesses(tablePath).Cast<int?>().FirstOrDefault();
            Verbose?.Invoke($"{options.Volume} answers on {mountPoint} ({tablePath}) after {deadline.ElapsedMilliseconds} ms (client pid {processId}, guard pid {guard.ProcessId})");
            return new AuxMount(GlusterMountMode.MountBroker, options.Volume, options.Server, mountPoint, processId,
                options.LogFile, guard);
        }
        catch (Exception failure)
        {
            var reported = await AbandonAsync(guard, options, mountPoint, killClients: false, failure).ConfigureAwait(false);
            if (ReferenceEquals(reported, failure))
            {
                throw;
            }

            throw reported;
        }
    }

    // glusterd answers with a cookie symlink in its mb_hive; the mount table lists the directory it points to.
    private string MountTablePath(string mountPoint)
    {
        var target = _system.ReadSymbolicLink(mountPoint);
        return target is null
            ? mountPoint
            : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(mountPoint) ?? "/", target));
    }

    private (string MountPoint, bool Created) PrepareMountPoint(GlusterMountOptions options)
    {
        if (options.MountPoint is null)
        {
            return (_system.CreateTempDirectory(TempDirectoryPrefix), true);
        }

        var path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.MountPoint));
        // The mount table first: a directory that is a hung mount would block any look at it.
        ThrowIfMounted(options, path);
        if (!_system.DirectoryExists(path))
        {
            throw new GlusterMountException(GlusterMountFailure.MountFailed, options.Volume, options.Server, path,
                $"the mount point {path} does not exist or is not a directory. Create it, or omit it to mount on a temporary directory.");
        }

        var canonical = _system.CanonicalPath(path);
        ThrowIfMounted(options, canonical);
        if (!_system.IsEmptyDirectory(canonical))
        {
            throw new GlusterMountException(GlusterMountFailure.MountPointBusy, options.Volume, options.Server, canonical,
                $"the mount point {canonical} is busy: it is not empty, and mounting {options.Volume} over it would hide its files. " +
                "Choose an empty directory, or omit the mount point to mount on a temporary directory.");
        }

        return (canonical, false);
    }

    private void ThrowIfMounted(GlusterMountOptions options, string path)
    {
        if (_system.FindMount(path) is { } existing)
        {
            throw new GlusterMountException(GlusterMountFailure.MountPointBusy, options.Volume, options.Server, path,
                $"the mount point {path} is busy: {existing.Source} ({existing.FileSystemType}) is mounted there already. " +
                "Unmount it first, or choose another directory.");
        }
    }

    private string? ResolveNetworkNamespace(GlusterMountOptions options)
    {
        if (options.NetworkNamespace is not { } name)
        {
            return null;
        }

        var path = name.Contains('/', StringComparison.Ordinal) ? name : Path.Combine("/var/run/netns", name);
        if (!_system.FileExists(path))
        {
            throw new GlusterMountException(GlusterMountFailure.NetworkNamespaceNotFound, options.Volume, options.Server, null,
                $"the network namespace '{name}' does not exist ({path} is missing). List the namespaces with 'ip netns list', " +
                "or give the path of one, such as /proc/<pid>/ns/net.");
        }

        return path;
    }

    private string RequireProgram(GlusterMountOptions options, string name, string? directory = null)
    {
        if (_system.FindProgram(name, directory) is { } path)
        {
            return path;
        }

        var where = directory is null ? "on PATH, in /usr/sbin or in /sbin" : $"in {directory}";
        var hint = name switch
        {
            "glusterfs" or "gluster" => directory is null
                ? "Install the GlusterFS client (Debian: apt-get install glusterfs-client), or give the directory that holds it."
                : "Install the GlusterFS client there, or give the directory that holds it.",
            _ => "Install util-linux and bash.",
        };
        throw new GlusterMountException(GlusterMountFailure.ClientNotInstalled, options.Volume, options.Server, null,
            $"cannot mount {options.Server}:{options.Volume}: '{name}' was not found {where}. {hint}");
    }

    private MountGuard StartGuard(GlusterMountOptions options, MountGuardMode mode, IReadOnlyList<string> unmountCommand)
    {
        if (!_system.FileExists(_guardScript))
        {
            throw new GlusterMountException(GlusterMountFailure.MountFailed, options.Volume, options.Server, null,
                $"the mount guard script {_guardScript} is missing, so a mount could outlive this process. Reinstall GeoSync.");
        }

        var spec = MountGuard.BuildSpec(RequireProgram(options, "setsid"), RequireProgram(options, "bash"), _guardScript,
            _mountInfo, mode, unmountCommand);
        Debug?.Invoke($"starting the mount guard: {string.Join(' ', spec.Argv)}");
        return MountGuard.Start(_runner, spec);
    }

    // Null when the deadline passed first; the runner then has terminated the command and its children.
    private async Task<ProcessResult?> RunBeforeDeadlineAsync(IReadOnlyList<string> argv, GlusterMountOptions options,
        Stopwatch deadline, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Remaining(options, deadline));
        try
        {
            return await _runner.RunAsync(GlusterMountArgv.ToSpec(argv), cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (GeoSyncProcessException e) when (e.ExitCode is null)
        {
            throw new GlusterMountException(GlusterMountFailure.ClientNotInstalled, options.Volume, options.Server, null, e.Message, e);
        }
    }

    private async Task WaitUntilAnswersAsync(GlusterMountOptions options, string mountPoint, string tablePath, Stopwatch deadline,
        Func<string> clientLog, CancellationToken cancellationToken)
    {
        var last = (MountProbe?)null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var mounted = _system.FindMount(tablePath) is { IsFuse: true };
            if (mounted)
            {
                // A FUSE client that does not answer blocks stat in the kernel, so the probe gets a thread of its own.
                var probe = Task.Factory.StartNew(() => _system.ProbeRoot(tablePath), CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default);
                try
                {
                    last = await probe.WaitAsync(Remaining(options, deadline), cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    throw NotAnswering(options, mountPoint, clientLog(), "stat of its root is still waiting for the client");
                }

                // A client that gives up unmounts itself: if that happened meanwhile, the probe answered from the bare
                // directory underneath, so the mount must still be in the table after it.
                mounted = _system.FindMount(tablePath) is { IsFuse: true };
                if (mounted && last.Value.State == MountProbeState.Ready)
                {
                    return;
                }
            }

            var state = mounted && last is { } answer ? Describe(answer) : "it is not in the mount table";
            // The client logs a definite cause (no brick port, no volume file) at once; waiting longer cannot help.
            var diagnosis = GlusterClientLog.Diagnose(clientLog());
            if (diagnosis.Cause is { } cause)
            {
                throw FromDiagnosis(options, mountPoint, cause, diagnosis, state);
            }

            if (!mounted && _system.FindClientProcesses(tablePath).Count == 0)
            {
                throw new GlusterMountException(GlusterMountFailure.MountFailed, options.Volume, options.Server, mountPoint,
                    $"the glusterfs client of {options.Server}:{options.Volume} exited and left nothing mounted on {mountPoint}." +
                    $"{Evidence(diagnosis, options)} See the client log for the cause.");
            }

            if (Remaining(options, deadline) <= TimeSpan.Zero)
            {
                throw NotAnswering(options, mountPoint, clientLog(), state);
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Describe(MountProbe probe) => probe.State == MountProbeState.SubvolumesDown
        ? "dht.subvol.status says a subvolume is down"
        : $"its root answers {probe.Error} ({UnixMarshal.GetErrorDescription(probe.Error)})";

    private static GlusterMountException NotAnswering(GlusterMountOptions options, string mountPoint, string log, string state)
    {
        var diagnosis = GlusterClientLog.Diagnose(log);
        if (diagnosis.Cause is { } cause)
        {
            return FromDiagnosis(options, mountPoint, cause, diagnosis, state);
        }

        return new GlusterMountException(GlusterMountFailure.Timeout, options.Volume, options.Server, mountPoint,
            $"the mount of {options.Server}:{options.Volume} on {mountPoint} did not answer within {Seconds(options.Timeout)}: " +
            $"{state}.{Evidence(diagnosis, options)} Check the volume with 'gluster volume status {options.Volume}', or raise the timeout.");
    }

    private static GlusterMountException ClientFailure(GlusterMountOptions options, string mountPoint, string log, int? exitCode,
        string stderr, string? timeout)
    {
        var diagnosis = GlusterClientLog.Diagnose(log);
        var state = timeout ?? $"glusterfs exited with {exitCode}";
        if (diagnosis.Cause is { } cause)
        {
            return FromDiagnosis(options, mountPoint, cause, diagnosis, state);
        }

        // ENOTCONN (107) before anything was mounted: the client never got a volume file from the server.
        if (timeout is not null || exitCode == 107)
        {
            return Unreachable(options, mountPoint, state, Evidence(diagnosis, options));
        }

        var saying = stderr.Length > 0 ? $" It said: {stderr}" : "";
        return new GlusterMountException(GlusterMountFailure.MountFailed, options.Volume, options.Server, mountPoint,
            $"mounting {options.Server}:{options.Volume} on {mountPoint} failed: {state}.{saying}{Evidence(diagnosis, options)}");
    }

    private static GlusterMountException FromDiagnosis(GlusterMountOptions options, string mountPoint, GlusterMountFailure cause,
        ClientLogDiagnosis diagnosis, string state)
    {
        var evidence = Evidence(diagnosis, options);
        return cause switch
        {
            GlusterMountFailure.VolumeNotFound => new GlusterMountException(cause, options.Volume, options.Server, mountPoint,
                $"volume '{options.Volume}' does not exist on {options.Server}: glusterd has no volume file for it ({state}).{evidence} " +
                "Check the name with 'gluster volume list'."),
            GlusterMountFailure.VolumeNotStarted => new GlusterMountException(cause, options.Volume, options.Server, mountPoint,
                $"volume '{options.Volume}' on {options.Server} is not started, or none of its bricks runs: the mount does not " +
                $"answer ({state}).{evidence} Start it with 'gluster volume start {options.Volume}' and check " +
                $"'gluster volume status {options.Volume}'."),
            _ => Unreachable(options, mountPoint, state, evidence),
        };
    }

    private static GlusterMountException Unreachable(GlusterMountOptions options, string mountPoint, string state, string evidence)
    {
        var where = options.NetworkNamespace is null ? "" : $" from network namespace '{options.NetworkNamespace}'";
        return new GlusterMountException(GlusterMountFailure.ServerUnreachable, options.Volume, options.Server, mountPoint,
            $"cannot reach glusterd on {options.Server}{where} to mount volume '{options.Volume}' ({state}).{evidence} " +
            "Check the server name, that glusterd runs there, and that port 24007 is reachable.");
    }

    private static string Evidence(ClientLogDiagnosis diagnosis, GlusterMountOptions options)
    {
        var log = options.LogFile is null ? "the client log" : options.LogFile;
        return diagnosis.Evidence.Count == 0 ? "" : $" From {log}: {string.Join("; ", diagnosis.Evidence)}.";
    }

    private static GlusterMountException BrokerRefusal(GlusterMountOptions options, string user, string answer, string stderr)
    {
        // With --log-file=- the CLI logs to stderr too; glusterd's own answer is the line that is not a log line.
        var said = answer.Length > 0
            ? answer
            : string.Join(" ", stderr.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('[')));
        if (said.Contains("Connection failed", StringComparison.Ordinal))
        {
            return new GlusterMountException(GlusterMountFailure.ServerUnreachable, options.Volume, options.Server, null,
                $"cannot reach glusterd on {options.Server} to mount volume '{options.Volume}' through the mountbroker: glusterd answered: {said} " +
                "Check that glusterd runs, listens on port 24007 of that address, and allows unprivileged clients " +
                "('option rpc-auth-allow-insecure on' in glusterd.vol).");
        }

        return new GlusterMountException(GlusterMountFailure.MountBrokerRefused, options.Volume, options.Server, null,
            $"glusterd on {options.Server} refused to mount volume '{options.Volume}' for user {user}: glusterd answered: {said}. " +
            $"Check glusterd.vol: 'option mountbroker-root <dir>', 'option mountbroker-geo-replication.{user} <volumes>' " +
            $"listing {options.Volume}, and that a log file, if given, lies in a geo-replication*/ directory under glusterd's " +
            "logging directory.");
    }

    /// <summary>Kills what is left of a failed mount, lets the guard clean up, and returns the exception to throw.</summary>
    private async Task<Exception> AbandonAsync(MountGuard guard, GlusterMountOptions options, string? mountPoint, bool killClients,
        Exception failure)
    {
        if (killClients && mountPoint is not null)
        {
            // A client still connecting (or serving a mount that does not answer) would keep the mount alive.
            var clients = _system.FindClientProcesses(mountPoint);
            if (clients.Count > 0)
            {
                Verbose?.Invoke($"stopping glusterfs client(s) {string.Join(", ", clients)} of {mountPoint}");
                await Task.Run(() => _system.TerminateProcesses(clients, ClientTerminationGrace)).ConfigureAwait(false);
            }
        }

        var outcome = await guard.ReleaseAsync(MountGuard.ReleaseTimeout).ConfigureAwait(false);
        if (outcome.Succeeded)
        {
            return failure;
        }

        var cleanup = $" Cleaning up {mountPoint ?? "the mount"} afterwards failed too " +
            $"({(outcome.ExitCode is { } code ? $"status {code}" : "timed out")}{(outcome.Stderr.Length > 0 ? ": " + outcome.Stderr : "")}); " +
            "a stale mount may be left behind, check /proc/mounts.";
        if (failure is GlusterMountException mount)
        {
            return new GlusterMountException(mount.Reason, mount.Volume, mount.Server, mount.MountPoint, mount.Message + cleanup, failure);
        }

        // Cancellation and unexpected errors keep their type; the stale mount is still worth a word.
        Verbose?.Invoke(cleanup.Trim());
        return failure;
    }

    private static TimeSpan Remaining(GlusterMountOptions options, Stopwatch deadline)
    {
        var remaining = options.Timeout - deadline.Elapsed;
        return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
    }

    private static string Seconds(TimeSpan timeout) => $"{timeout.TotalSeconds:0.#} s";

    private static string FirstLine(string text)
    {
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return (end < 0 ? text : text[..end]).Trim();
    }
}
