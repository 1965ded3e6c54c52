using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Transport.Mounting;

namespace GeoSync.Engine.Session;

/// <summary>A connected slave: calls to its methods, where rsync writes, and how to end it.</summary>
internal abstract class SlaveEndpoint : IAsyncDisposable
{
    private readonly TaskCompletionSource<Exception> _broken = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The slave server's pid (this process for an in-process slave).</summary>
    public int ServerProcessId { get; protected set; }

    /// <summary>Where rsync writes: the slave directory, or the slave process's cwd (docs/protocol.md, "Transport").</summary>
    public RsyncTarget RsyncTarget { get; protected set; } = null!;

    /// <summary>The process carrying the connection (the child slave, or ssh); null in process.</summary>
    public int? ConnectionProcessId { get; protected init; }

    /// <summary>Completes with the reason once the connection to the slave is lost; never for an in-process slave.</summary>
    public Task<Exception> Broken => _broken.Task;

    /// <summary>Calls a slave method; <paramref name="timeout"/> null for the connection's default.</summary>
    public abstract Task<object?> CallAsync(string method, IReadOnlyList<object?> args, TimeSpan? timeout, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    protected void ReportBroken(Exception reason) => _broken.TrySetResult(reason);
}

/// <summary>A <see cref="SlaveServer"/> in this process, on a directory or on an aux mount of the slave volume.</summary>
internal sealed class InProcessSlaveEndpoint : SlaveEndpoint
{
    private readonly SlaveServer _server;
    private readonly AuxMount? _mount;
    private readonly IDisposable? _root;

    /// <param name="server">The slave server.</param>
    /// <param name="mount">The slave volume's mount, unmounted on disposal.</param>
    /// <param name="rsyncDirectory">Where rsync writes; the server's root when null.</param>
    /// <param name="root">What holds the server's root open (a <see cref="Master.VouchedRoot"/>), released before the unmount.</param>
    public InProcessSlaveEndpoint(SlaveServer server, AuxMount? mount, string? rsyncDirectory = null, IDisposable? root = null)
    {
        _server = server;
        _mount = mount;
        _root = root;
        ServerProcessId = Environment.ProcessId;
        RsyncTarget = new LocalDirectoryTarget(rsyncDirectory ?? server.Root);
    }

    public SlaveServer Server => _server;

    public override async Task<object?> CallAsync(string method, IReadOnlyList<object?> args, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await _server.InvokeAsync(method, args, cancellationToken).ConfigureAwait(false);
        }
        catch (RepceCallException ex)
        {
            throw WireSlaveChannel.AsRemote(method, ex.Exception);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _root?.Dispose();
        if (_mount is not null) await _mount.UnmountAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// A slave in another process reached over RePCe: a local <c>geosync slave</c> child on pipes, or the remote command
/// over ssh. The connection counts as lost when the RePCe stream ends; the reason then includes the process's exit.
/// </summary>
internal sealed class RepceSlaveEndpoint : SlaveEndpoint
{
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(5);

    private readonly RepceClient _client;
    private readonly IRunningProcess? _child;
    private readonly SshTransport? _ssh;
    private readonly string _description;
    private int _disposed;

    private RepceSlaveEndpoint(RepceClient client, IRunningProcess? child, SshTransport? ssh, string description)
    {
        _client = client;
        _child = child;
        _ssh = ssh;
        _description = description;
        ConnectionProcessId = child?.Id ?? ssh?.ProcessId;
        _ = WatchAsync();
    }

    /// <summary>
    /// Starts <c>geosync slave</c> as a child (<paramref name="argv"/> is its whole command line) and completes the
    /// handshake. <paramref name="directory"/> is the slave directory of a file:// slave, which rsync writes to; null for
    /// a gluster slave, whose cwd rsync writes to.
    /// </summary>
    public static async Task<RepceSlaveEndpoint> StartChildAsync(IProcessRunner runner, IReadOnlyList<string> argv, string slaveUrl,
        string? directory, SessionOptions options, Action<SessionLogLevel, string> log, CancellationToken cancellationToken)
    {
        log(SessionLogLevel.Debug, $"starting the local slave: {string.Join(' ', argv)}");
        var child = runner.Start(new ProcessSpec(argv[0], argv.Skip(1).ToList())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            StderrLine = line => log(SessionLogLevel.Debug, line),
        });
        var client = new RepceClient(child.StandardOutput!, child.StandardInput!, ClientOptions(options, log));
        var endpoint = new RepceSlaveEndpoint(client, child, null, $"the local slave {slaveUrl} (pid {child.Id})");
        await endpoint.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        if (directory is null)
        {
            await endpoint.EnsureAttachedCwdAsync().ConfigureAwait(false);
            endpoint.RsyncTarget = new LocalSlaveTarget(endpoint.ServerProcessId);
        }
        else
        {
            endpoint.RsyncTarget = new LocalDirectoryTarget(directory);
        }
        return endpoint;
    }

    /// <summary>Starts the slave over ssh (docs/protocol.md, "Transport") and completes the handshake.</summary>
    public static async Task<RepceSlaveEndpoint> StartSshAsync(SshTransport ssh, SshSlaveArguments arguments, SessionOptions options,
        Action<SessionLogLevel, string> log, CancellationToken cancellationToken)
    {
        log(SessionLogLevel.Debug, $"starting the slave over ssh: {string.Join(' ', ssh.SlaveArgv(arguments))}");
        ssh.StartSlave(arguments);
        var client = new RepceClient(ssh.FromSlave, ssh.ToSlave, ClientOptions(options, log));
        var endpoint = new RepceSlaveEndpoint(client, null, ssh, $"the slave {ssh.Slave.Normalized} (over ssh, pid {ssh.ProcessId})");
        await endpoint.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        var inner = ssh.Slave.Inner!;
        var directory = inner.Scheme == Urls.UrlScheme.File ? inner.Path! : RsyncTarget.ProcessWorkingDirectory(endpoint.ServerProcessId);
        endpoint.RsyncTarget = SshTarget.Over(ssh, directory);
        return endpoint;
    }

    public override Task<object?> CallAsync(string method, IReadOnlyList<object?> args, TimeSpan? timeout, CancellationToken cancellationToken) =>
        _client.CallAsync(method, args, timeout, cancellationToken);

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _client.DisposeAsync().ConfigureAwait(false);
        if (_ssh is not null)
        {
            await _ssh.DisposeAsync().ConfigureAwait(false);
        }
        else if (_child is not null)
        {
            await using (_child.ConfigureAwait(false))
            {
                // EOF tells the slave to end on its own (docs/protocol.md, "Dispatch, handshake and timeouts"); one that does not is terminated with its tree.
                try
                {
                    await _child.StandardInput!.DisposeAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // EPIPE: the child is gone already.
                }
                using var grace = new CancellationTokenSource(ExitGrace);
                try
                {
                    await _child.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (grace.IsCancellationRequested)
                {
                    // The runner terminated it: what the grace was for.
                }
            }
        }
    }

    /// <summary>
    /// rsync 3.4 and later resolve /proc/&lt;pid&gt;/cwd by its link text; a slave that lazily unmounted its volume (as
    /// gsyncd does, docs/protocol.md, "Transport") shows "/" there, and rsync would write into this host's root directory. Such a slave is refused.
    /// </summary>
    private async Task EnsureAttachedCwdAsync()
    {
        var link = $"/proc/{ServerProcessId}/cwd";
        string? target;
        try
        {
            target = new FileInfo(link).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            target = null;
        }
        if (target is not null && target != "/") return;
        await DisposeAsync().ConfigureAwait(false);
        throw new GeoSyncSessionException(SessionFailure.OpenFailed,
            $"{_description} works in a directory that {link} does not name ({(target is null ? "unreadable" : "it reads '/'")}): it " +
            "detached its mount. rsync would resolve that link by name and write into this host's root directory, so the " +
            "session is refused. Run a GeoSync slave ('geosync slave'), which keeps its mount attached while it serves.");
    }

    private static RepceClientOptions ClientOptions(SessionOptions options, Action<SessionLogLevel, string> log) => new()
    {
        CallTimeout = options.CallTimeout,
        LeaveOpen = true,
        Log = (level, message) => log(level switch
        {
            // A broken connection is the session's error (LastError, SessionFaulty), not a warning of its own.
            RepceLogLevel.Error => SessionLogLevel.Verbose,
            RepceLogLevel.Warning => SessionLogLevel.Warning,
            _ => SessionLogLevel.Debug,
        }, message),
    };

    /// <summary>The handshake with version check (docs/protocol.md, "Dispatch, handshake and timeouts") and <c>pid()</c>, within the connection timeout.</summary>
    private async Task ConnectAsync(SessionOptions options, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ConnectionTimeout);
        try
        {
            await _client.HandshakeAsync(cancellationToken: deadline.Token).ConfigureAwait(false);
            var pid = await _client.CallAsync("pid", [], cancellationToken: deadline.Token).ConfigureAwait(false);
            ServerProcessId = pid is long value and > 0 and <= int.MaxValue
                ? (int)value
                : throw new GeoSyncProtocolException($"{_description} answered pid() with {PyRepr.Format(pid)}, which is not a process id");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await DisposeAsync().ConfigureAwait(false);
            throw new GeoSyncSessionException(SessionFailure.OpenFailed,
                $"{_description} did not complete the RePCe handshake within {options.ConnectionTimeout.TotalSeconds:0} s. " +
                "Check that the slave command starts a GeoSync or gsyncd slave and that the slave's file system answers.");
        }
        catch (GeoSyncProtocolException ex) when (_client.Closed.IsCompleted)
        {
            // The slave ended before it answered: its exit explains more than the EOF does.
            var explained = await Task.WhenAny(Broken, Task.Delay(ExitGrace, CancellationToken.None)).ConfigureAwait(false) == Broken
                ? Broken.Result
                : ex;
            await DisposeAsync().ConfigureAwait(false);
            throw new GeoSyncSessionException(SessionFailure.OpenFailed, $"cannot connect to {_description}: {explained.Message}", explained);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task WatchAsync()
    {
        var reason = await _client.Closed.ConfigureAwait(false);
        if (reason is null) return; // disposed by us
        Exception explained = reason;
        try
        {
            if (_ssh is not null)
            {
                using var grace = new CancellationTokenSource(ExitGrace);
                var sshError = await _ssh.GetExitErrorAsync(grace.Token).ConfigureAwait(false);
                explained = new GeoSyncSessionException(SessionFailure.Faulty, $"{reason.Message}. {sshError.Message}", sshError);
            }
            else if (_child is not null)
            {
                using var grace = new CancellationTokenSource(ExitGrace);
                var exitCode = await _child.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                explained = new GeoSyncSessionException(SessionFailure.Faulty,
                    $"{reason.Message}. {_description} ended: {ProcessResult.DescribeFailure(_child.Argv, exitCode, _child.StderrTail)}",
                    reason);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // The process did not end (or is already disposed): the stream's own reason stands.
        }
        ReportBroken(explained);
    }
}
