namespace GeoSync.Engine.Transport;

/// <summary>Runs a command to completion, feeding its stdin and collecting its stdout.</summary>
public static class ProcessRunnerExtensions
{
    /// <summary>
    /// Runs <paramref name="spec"/> with <paramref name="standardInput"/> (or nothing) as stdin and collects stdout in memory.
    /// Does not check the exit code; chain <see cref="ProcessResult.EnsureSuccess"/> for that. Cancelling terminates the tree.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(this IProcessRunner runner, ProcessSpec spec,
        ReadOnlyMemory<byte> standardInput = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(spec);
        var running = runner.Start(spec with { RedirectStandardInput = true, RedirectStandardOutput = true });
        await using (running.ConfigureAwait(false))
        {
            var feeding = FeedAsync(running.StandardInput!, standardInput, cancellationToken);
            using var output = new MemoryStream();
            var reading = running.StandardOutput!.CopyToAsync(output, cancellationToken);
            var exitCode = await running.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await reading.ConfigureAwait(false);
            await feeding.ConfigureAwait(false);
            return new ProcessResult(running.Argv, exitCode, output.ToArray(), running.StderrTail);
        }
    }

    private static async Task FeedAsync(Stream stdin, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await using (stdin.ConfigureAwait(false))
        {
            try
            {
                if (!data.IsEmpty)
                {
                    await stdin.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (IOException)
            {
                // EPIPE: the command exited without reading all its input; its exit code says whether that was a failure.
            }
        }
    }
}
