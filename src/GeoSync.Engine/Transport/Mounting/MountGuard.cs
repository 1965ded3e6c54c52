using System.Text;

namespace GeoSync.Engine.Transport.Mounting;

/// <summary>What the guard does with the directory after unmounting (its MODE argument).</summary>
internal enum MountGuardMode
{
    /// <summary>The mounter created the directory: remove it.</summary>
    RemoveDirectory,

    /// <summary>The caller's directory: leave it.</summary>
    KeepDirectory,

    /// <summary>glusterd's cookie symlink: glusterd removes the directory when it unmounts.</summary>
    MountBroker,
}

/// <summary>How a released guard ended: its exit code (null when it had to be killed) and its stderr.</summary>
internal sealed record MountGuardOutcome(int? ExitCode, string Stderr)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// The owner's side of the mount guard (docs/protocol.md, "Transport"): a bash script in a session of its own that holds the read end of a
/// pipe from this process and cleans the mount up when the pipe ends — on release, on exit, and on SIGKILL alike.
/// </summary>
internal sealed class MountGuard
{
    internal const string ScriptFileName = "mount-guard.sh";

    // Time for the guard to unmount after the pipe closed: a lazy umount is immediate, gluster's umount is one RPC.
    internal static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(30);

    private readonly IRunningProcess _process;
    private readonly Stream _pipe;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly object _releasing = new();
    private Task<MountGuardOutcome>? _release;

    private MountGuard(IRunningProcess process)
    {
        this._process = process;
        _pipe = process.StandardInput ?? throw new InvalidOperationException("the guard must be started with a stdin pipe");
    }

    /// <summary>The script shipped next to the engine assembly (copied there by the engine project).</summary>
    public static string DefaultScriptPath =>
        Path.Combine(Path.GetDirectoryName(typeof(MountGuard).Assembly.Location) ?? AppContext.BaseDirectory, ScriptFileName);

    public int ProcessId => _process.Id;

    /// <summary>The argv that starts the guard: <c>setsid bash SCRIPT MOUNTINFO MODE UNMOUNT_COMMAND...</c>.</summary>
    public static ProcessSpec BuildSpec(string setsid, string bash, string script, string mountInfo, MountGuardMode mode,
        IReadOnlyList<string> unmountCommand)
    {
        var modeArgument = mode switch
        {
            MountGuardMode.RemoveDirectory => "remove-dir",
            MountGuardMode.KeepDirectory => "keep-dir",
            _ => "mountbroker",
        };
        return new ProcessSpec(setsid, [bash, script, mountInfo, modeArgument, .. unmountCommand])
        {
            RedirectStandardInput = true,
            // Never inherit the owner's stdout: a reader waiting for its end would wait for the guard too.
            RedirectStandardOutput = true,
            WorkingDirectory = "/",
            StderrTailBytes = 64 * 1024,
        };
    }

    public static MountGuard Start(IProcessRunner runner, ProcessSpec spec) => new(runner.Start(spec));

    /// <summary>Tells the guard the mount point: <c>&lt;bytes&gt; NUL</c>.</summary>
    public Task AnnounceAsync(string mountPoint) => WriteAsync([.. Encoding.UTF8.GetBytes(mountPoint), 0]);

    /// <summary>Tells the guard the mount is in place: <c>M</c>.</summary>
    public Task ConfirmMountedAsync() => WriteAsync("M"u8.ToArray());

    private async Task WriteAsync(byte[] data)
    {
        await _writing.WaitAsync().ConfigureAwait(false);
        try
        {
            await _pipe.WriteAsync(data).ConfigureAwait(false);
            await _pipe.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            throw new IOException($"the mount guard (pid {_process.Id}) is gone: {_process.StderrTail.Trim()}", e);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>
    /// Ends the pipe, so the guard unmounts and cleans up, and waits for it (bounded). Idempotent: later calls return
    /// the same outcome.
    /// </summary>
    public Task<MountGuardOutcome> ReleaseAsync(TimeSpan timeout)
    {
        lock (_releasing)
        {
            return _release ??= ReleaseCoreAsync(timeout);
        }
    }

    private async Task<MountGuardOutcome> ReleaseCoreAsync(TimeSpan timeout)
    {
        await _writing.WaitAsync().ConfigureAwait(false);
        try
        {
            await _pipe.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The guard is gone already; its exit code tells what happened.
        }
        finally
        {
            _writing.Release();
        }

        await using (_process.ConfigureAwait(false))
        {
            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                var exitCode = await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
                return new MountGuardOutcome(exitCode, _process.StderrTail.Trim());
            }
            catch (OperationCanceledException)
            {
                // WaitForExitAsync has terminated the guard; whatever it was doing is unfinished.
                return new MountGuardOutcome(null, _process.StderrTail.Trim());
            }
        }
    }
}
