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

    private readonly Process _process;
    private readonly ByteRing _tail;
    private readonly Action<string>? _stderrLine;
    private readonly Task _pump;
    private readonly object _terminating = new();
    private long _stderrBytesRead;
    private ExceptionDispatchInfo? _stderrLineFailure;
    private int _disposed;

    public RunningProcess(Process process, ProcessSpec spec)
    {
        this._process = process;
        Id = process.Id;
        Argv = spec.Argv;
        _tail = new ByteRing(spec.StderrTailBytes);
        _stderrLine = spec.StderrLine;
        StandardInput = spec.RedirectStandardInput ? process.StandardInput.BaseStream : null;
        StandardOutput = spec.RedirectStandardOutput ? process.StandardOutput.BaseStream : null;
        _pump = Task.Run(() => PumpStderrAsync(process.StandardError.BaseStream));
    }

    public int Id { get; }

    public IReadOnlyList<string> Argv { get; }

    public Stream? StandardInput { get; }

    public Stream? StandardOutput { get; }

    public string StderrTail
    {
        get
        {
            lock (_tail)
            {
                return Encoding.UTF8.GetString(_tail.ToArray());
            }
        }
    }

    /// <summary>For tests: the stderr bytes held, and the memory behind them.</summary>
    internal (byte[] Bytes, int Allocated) StderrTailBytes
    {
        get
        {
            lock (_tail)
            {
                return (_tail.ToArray(), _tail.AllocatedBytes);
            }
        }
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Task.Run(Kill, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await DrainStderrAsync().ConfigureAwait(false);
        _stderrLineFailure?.Throw();
        return _process.ExitCode;
    }

    public void Kill()
    {
        lock (_terminating)
        {
            if (Volatile.Read(ref _disposed) == 0 && !_process.HasExited)
            {
                ProcessTree.Terminate(_process, TerminationGrace);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.Run(Kill, CancellationToken.None).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await DrainStderrAsync().ConfigureAwait(false);
        lock (_terminating)
        {
            _process.Dispose();
        }
    }

    private async Task DrainStderrAsync()
    {
        var clock = Stopwatch.StartNew();
        while (!_pump.IsCompleted && clock.Elapsed < DrainLimit)
        {
            var before = Interlocked.Read(ref _stderrBytesRead);
            await Task.WhenAny(_pump, Task.Delay(DrainQuiet)).ConfigureAwait(false);
            if (Interlocked.Read(ref _stderrBytesRead) == before)
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
                lock (_tail)
                {
                    _tail.Write(buffer.AsSpan(0, read));
                }

                Interlocked.Add(ref _stderrBytesRead, read);
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
        if (_stderrLine is null)
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
        if (_stderrLineFailure is not null)
        {
            return;
        }

        try
        {
            _stderrLine!(ProcessResult.PrefixStderrLine(Argv[0], text));
        }
        catch (Exception e)
        {
            // The pump must keep draining or the child blocks on a full pipe; the failure surfaces from WaitForExitAsync.
            _stderrLineFailure = ExceptionDispatchInfo.Capture(e);
        }
    }
}
