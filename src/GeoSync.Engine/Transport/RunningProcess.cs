using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;

namespace GeoSync.Engine.Transport;

/// <summary>A child started by <see cref="ProcessRunner"/>, with its stderr pumped into a bounded tail.</summary>
internal sealed class RunningProcess : IRunningProcess
{
    // glusterd allows one second between SIGTERM and SIGKILL (docs/sessions.md, "Stopping"); rsync uses it to remove its temporary file.
    private static readonly TimeSpan TerminationGrace = TimeSpan.FromSeconds(1);

    // After the exit, stderr is drained until EOF; a descendant that outlives the child may hold the pipe open, so the
    // drain also ends once the pipe stays quiet this long, or after the limit.
    private static readonly TimeSpan DrainQuiet = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(5);

    // A stderr "line" without a newline is cut here, so logging stays bounded too.
    private const int MaxLogLineBytes = 64 * 1024;

    private readonly Process process;
    private readonly ByteRing tail;
    private readonly Action<string>? stderrLine;
    private readonly Task pump;
    private readonly object terminating = new();
    private long stderrBytesRead;
    private ExceptionDispatchInfo? stderrLineFailure;
    private int disposed;

    public RunningProcess(Process process, ProcessSpec spec)
    {
        this.process = process;
        Id = process.Id;
        Argv = spec.Argv;
        tail = new ByteRing(spec.StderrTailBytes);
        stderrLine = spec.StderrLine;
        StandardInput = spec.RedirectStandardInput ? process.StandardInput.BaseStream : null;
        StandardOutput = spec.RedirectStandardOutput ? process.StandardOutput.BaseStream : null;
        pump = Task.Run(() => PumpStderrAsync(process.StandardError.BaseStream));
    }

    public int Id { get; }

    public IReadOnlyList<string> Argv { get; }

    public Stream? StandardInput { get; }

    public Stream? StandardOutput { get; }

    public string StderrTail
    {
        get
        {
            lock (tail)
            {
                return Encoding.UTF8.GetString(tail.ToArray());
            }
        }
    }

    /// <summary>For tests: the stderr bytes held, and the memory behind them.</summary>
    internal (byte[] Bytes, int Allocated) StderrTailBytes
    {
        get
        {
            lock (tail)
            {
                return (tail.ToArray(), tail.AllocatedBytes);
            }
        }
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Task.Run(Kill, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await DrainStderrAsync().ConfigureAwait(false);
        stderrLineFailure?.Throw();
        return process.ExitCode;
    }

    public void Kill()
    {
        lock (terminating)
        {
            if (Volatile.Read(ref disposed) == 0 && !process.HasExited)
            {
                ProcessTree.Terminate(process, TerminationGrace);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.Run(Kill, CancellationToken.None).ConfigureAwait(false);
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await DrainStderrAsync().ConfigureAwait(false);
        lock (terminating)
        {
            process.Dispose();
        }
    }

    private async Task DrainStderrAsync()
    {
        var clock = Stopwatch.StartNew();
        while (!pump.IsCompleted && clock.Elapsed < DrainLimit)
        {
            var before = Interlocked.Read(ref stderrBytesRead);
            await Task.WhenAny(pump, Task.Delay(DrainQuiet)).ConfigureAwait(false);
            if (Interlocked.Read(ref stderrBytesRead) == before)
            {
                break;
            }
        }
    }

    private async Task PumpStderrAsync(Stream stderr)
    {
        var buffer = new byte[16 * 1024];
        var line = new MemoryStream();
        try
        {
            int read;
            while ((read = await stderr.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (tail)
                {
                    tail.Write(buffer.AsSpan(0, read));
                }

                Interlocked.Add(ref stderrBytesRead, read);
                SplitLines(buffer.AsSpan(0, read), line);
            }

            if (line.Length > 0)
            {
                EmitLine(line);
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException)
        {
            // The process was disposed while a descendant still held the pipe: nobody reads this tail any more.
        }
    }

    private void SplitLines(ReadOnlySpan<byte> data, MemoryStream line)
    {
        if (stderrLine is null)
        {
            return;
        }

        foreach (var b in data)
        {
            if (b == (byte)'\n')
            {
                EmitLine(line);
                continue;
            }

            line.WriteByte(b);
            if (line.Length >= MaxLogLineBytes)
            {
                EmitLine(line);
            }
        }
    }

    private void EmitLine(MemoryStream line)
    {
        var text = Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length).TrimEnd('\r');
        line.SetLength(0);
        if (stderrLineFailure is not null)
        {
            return;
        }

        try
        {
            stderrLine!(ProcessResult.PrefixStderrLine(Argv[0], text));
        }
        catch (Exception e)
        {
            // The pump must keep draining or the child blocks on a full pipe; the failure surfaces from WaitForExitAsync.
            stderrLineFailure = ExceptionDispatchInfo.Capture(e);
        }
    }
}
