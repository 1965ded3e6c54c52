using System.Diagnostics;

namespace GeoSync.Engine.Tests.Interop;

/// <summary>
/// tests/interop/gsyncd_peer.py, a RePCe peer built on the gsyncd Python package GlusterFS installs, run as a child
/// process whose stdin/stdout carry RePCe.
/// </summary>
internal static class GsyncdPeer
{
    /// <summary>Where Debian's glusterfs-common (10.3) installs gsyncd's Python package.</summary>
    public const string DefaultPythonDirectory = "/usr/lib/x86_64-linux-gnu/glusterfs/python/syncdaemon";

    public const string DirectoryVariable = "GEOSYNC_GSYNCD_PYDIR";

    private const string ScriptRelativePath = "tests/interop/gsyncd_peer.py";

    public static string PythonDirectory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } overridden ? overridden : DefaultPythonDirectory;

    private static bool IsInstalled => File.Exists(Path.Combine(PythonDirectory, "repce.py"));

    /// <summary>Why the peer cannot run here, or null when it can. Always null in CI, where a missing package must fail.</summary>
    public static string? UnavailableReason() =>
        Environment.GetEnvironmentVariable("CI") == "true" || IsInstalled
            ? null
            : $"GlusterFS's gsyncd Python package is not installed (no repce.py in {PythonDirectory}); install glusterfs-common "
              + $"(tests/testbed/testbed.sh does) or set {DirectoryVariable} to a syncdaemon directory";

    /// <summary>Starts <c>python3 gsyncd_peer.py</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static PeerProcess Start(IReadOnlyList<string> arguments, string workingDirectory)
    {
        if (!IsInstalled)
        {
            throw new InvalidOperationException(
                $"GlusterFS's gsyncd Python package is missing: there is no repce.py in {PythonDirectory}. Install glusterfs-common "
                + $"(tests/testbed/testbed.sh installs the GlusterFS packages) or set {DirectoryVariable} to the syncdaemon directory.");
        }
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Script());
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // Nothing may be written into the installed package.
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        start.Environment[DirectoryVariable] = PythonDirectory;
        var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        return new PeerProcess(process);
    }

    private static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ScriptRelativePath);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{ScriptRelativePath} not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>A running gsyncd_peer.py: its pipes, its collected stderr, and a kill if it outlives the test.</summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;

    public PeerProcess(Process process)
    {
        _process = process;
        StandardError = process.StandardError.ReadToEndAsync();
    }

    /// <summary>What the peer writes (its RePCe frames).</summary>
    public Stream FromPeer => _process.StandardOutput.BaseStream;

    /// <summary>What the peer reads.</summary>
    public Stream ToPeer => _process.StandardInput.BaseStream;

    /// <summary>The peer's log and tracebacks, complete once it has exited.</summary>
    public Task<string> StandardError { get; }

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Waits for the peer to exit and returns its exit code; fails the test if it does not exit in time.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan patience)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(patience);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"gsyncd_peer.py did not exit within {patience}; its stderr so far:\n{await StandardError.WaitAsync(TimeSpan.FromSeconds(5))}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>
/// A fact that needs GlusterFS's gsyncd Python package: skipped, with the reason, only outside CI and only when the
/// package is missing. In CI the test runs and fails, naming what to install.
/// </summary>
public sealed class GsyncdPeerFactAttribute : FactAttribute
{
    public GsyncdPeerFactAttribute()
    {
        if (GsyncdPeer.UnavailableReason() is { } reason) Skip = reason;
    }
}
