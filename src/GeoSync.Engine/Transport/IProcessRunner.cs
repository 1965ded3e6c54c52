namespace GeoSync.Engine.Transport;

/// <summary>Starts child processes (rsync, ssh, glusterfs); the seam unit tests replace with a fake.</summary>
public interface IProcessRunner
{
    /// <summary>
    /// Starts <paramref name="spec"/> from its argv. Throws <see cref="GeoSyncProcessException"/> when it cannot be executed.
    /// </summary>
    IRunningProcess Start(ProcessSpec spec);
}

/// <summary>
/// A started child process. Its stderr is read continuously into a bounded tail; disposing it (or cancelling a wait)
/// terminates the whole process tree and reaps it.
/// </summary>
public interface IRunningProcess : IAsyncDisposable
{
    int Id { get; }

    /// <summary>The argv it was started with: the file name, then the arguments.</summary>
    IReadOnlyList<string> Argv { get; }

    /// <summary>The child's stdin as a binary stream when <see cref="ProcessSpec.RedirectStandardInput"/>; dispose it to send EOF.</summary>
    Stream? StandardInput { get; }

    /// <summary>The child's stdout as a binary stream when <see cref="ProcessSpec.RedirectStandardOutput"/>.</summary>
    Stream? StandardOutput { get; }

    /// <summary>The newest stderr output, at most <see cref="ProcessSpec.StderrTailBytes"/> bytes, decoded as UTF-8.</summary>
    string StderrTail { get; }

    /// <summary>
    /// Waits for the exit and for stderr to be drained, and returns the exit code (128 + signal number when a signal
    /// ended it). Cancelling terminates the process tree, reaps it, then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<int> WaitForExitAsync(CancellationToken cancellationToken = default);

    /// <summary>Terminates the process tree: SIGTERM, SIGKILL to whatever is left after a short grace, then reaps the child.</summary>
    void Kill();
}
