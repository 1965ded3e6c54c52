using System.Threading.Channels;

namespace GeoSync.Engine.Rpc;

/// <summary>Settings of a <see cref="RepceServer"/>.</summary>
public sealed class RepceServerOptions
{
    /// <summary>Calls run concurrently on this many workers (the original's <c>sync_jobs</c>, default 3).</summary>
    public int Workers { get; init; } = 3;

    /// <summary>Bounds on every request read from the peer.</summary>
    public PickleLimits Limits { get; init; } = PickleLimits.Default;

    /// <summary>Receives the server's log messages; null discards them.</summary>
    public Action<RepceLogLevel, string>? Log { get; init; }
}

/// <summary>Why <see cref="RepceServer.ServeAsync"/> returned.</summary>
public enum RepceServeOutcome
{
    /// <summary>The input ended between messages: the peer is gone, a clean end (a slave exits 0).</summary>
    EndOfInput,

    /// <summary>The peer sent something outside the protocol; the connection was dropped (a slave exits 1).</summary>
    ProtocolError,

    /// <summary>Reading or writing a stream failed, e.g. the peer vanished mid-answer (a slave exits 1).</summary>
    ConnectionLost,
}

/// <summary>How a connection ended, with the message that was logged for it.</summary>
public sealed record RepceServeResult(RepceServeOutcome Outcome, string Message);

/// <summary>
/// Serves RePCe calls from a byte stream to an <see cref="IRepceHandler"/> (docs/protocol.md, "Dispatch, handshake and timeouts"). One reader decodes requests;
/// <see cref="RepceServerOptions.Workers"/> workers run them and answer as each finishes, so answers may be out of
/// order. Stateless between connections: one instance may serve several connections, one after another or at once.
/// </summary>
public sealed class RepceServer
{
    private readonly IRepceHandler _handler;
    private readonly RepceServerOptions _options;

    /// <summary>A server dispatching to <paramref name="handler"/>'s method table.</summary>
    public RepceServer(IRepceHandler handler, RepceServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
        _options = options ?? new RepceServerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Workers, 1, "options.Workers");
    }

    /// <summary>
    /// Reads requests from <paramref name="input"/> and writes answers to <paramref name="output"/> until the input
    /// ends or the peer breaks the protocol. Either way the peer is gone, so calls still running are cancelled (the
    /// original slave simply exited). The streams are left open for the caller to dispose.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<RepceServeResult> ServeAsync(Stream input, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        using var connection = new Connection(output, cancellationToken);
        var queue = Channel.CreateBounded<RepceRequest>(new BoundedChannelOptions(_options.Workers * 2) { SingleWriter = true });
        var workers = Enumerable.Range(0, _options.Workers)
            .Select(_ => StartWorker(queue.Reader, connection))
            .ToArray();
        RepceServeResult? result = null;
        try
        {
            var reader = new PickleReader(input, _options.Limits);
            while (true)
            {
                var message = await reader.ReadAsync(connection.Token).ConfigureAwait(false);
                if (message is null)
                {
                    result = new RepceServeResult(RepceServeOutcome.EndOfInput, "terminating on reaching EOF.");
                    Log(RepceLogLevel.Information, result.Message);
                    break;
                }
                await queue.Writer.WriteAsync(RepceRequest.FromMessage(message.Value.Value), connection.Token).ConfigureAwait(false);
            }
        }
        catch (GeoSyncProtocolException e)
        {
            result = connection.Fail(RepceServeOutcome.ProtocolError, e.Message);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            result = connection.Fail(RepceServeOutcome.ConnectionLost, $"reading from the peer failed: {e.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A worker failed to write and stopped the connection; its failure is the result.
        }
        finally
        {
            queue.Writer.TryComplete();
            connection.Stop();
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
        result = connection.Failure ?? result!;
        if (result.Outcome != RepceServeOutcome.EndOfInput) Log(RepceLogLevel.Error, result.Message);
        return result;
    }

    // Slave calls are synchronous file-system work that can take long (a purge of a big tree). Each worker owns a
    // thread so a quick call is answered beside a slow one at once, instead of waiting for the thread pool to grow.
    private Task StartWorker(ChannelReader<RepceRequest> queue, Connection connection)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Work(queue, connection);
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "RePCe worker",
        };
        thread.Start();
        return done.Task;
    }

    private void Work(ChannelReader<RepceRequest> queue, Connection connection)
    {
        try
        {
            // Everything runs on this worker's own thread: waits block it, which is what it is for.
            while (queue.WaitToReadAsync(connection.Token).AsTask().GetAwaiter().GetResult())
            {
                if (!queue.TryRead(out var request)) continue;
                var (isException, payload) = DispatchAsync(request, connection.Token).GetAwaiter().GetResult();
                if (connection.Token.IsCancellationRequested) return;
                var frame = EncodeAnswer(request, isException, payload);
                if (frame is null)
                {
                    connection.Fail(RepceServeOutcome.ProtocolError, $"protocol error: the rid of call {request.Method} cannot be echoed back");
                    return;
                }
                connection.WriteAsync(frame).GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException) when (connection.Token.IsCancellationRequested)
        {
            // The connection is closing; unanswered calls are abandoned with it.
        }
    }

    private async Task<(bool IsException, object? Payload)> DispatchAsync(RepceRequest request, CancellationToken cancellationToken)
    {
        var call = $"call {PyRepr.Format(request.Rid)} ({request.Method})";
        try
        {
            if (request.Method == RepceProtocol.VersionMethod) return (false, RepceProtocol.Version);
            // Names starting with '_' are internal in gsyncd; refusing them here keeps a handler from ever exposing one.
            if (request.Method.StartsWith('_') || !_handler.HasMethod(request.Method))
            {
                throw RepceCallException.AttributeError($"type object '{_handler.GetType().Name}' has no attribute '{request.Method}'");
            }
            Log(RepceLogLevel.Debug, $"{call} with {request.Args.Count} arguments");
            return (false, await _handler.InvokeAsync(request.Method, request.Args, cancellationToken).ConfigureAwait(false));
        }
        catch (RepceCallException e)
        {
            Log(RepceLogLevel.Debug, $"{call} failed: {e.Exception}");
            return (true, e.Exception);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            Log(RepceLogLevel.Error, $"{call} failed: {e}");
            return (true, InternalError($"{e.GetType().Name}: {e.Message}"));
        }
    }

    // The peer gets an answer even when a handler returns something RePCe cannot carry; only a rid that cannot be
    // echoed (null return) leaves the call unanswerable.
    private byte[]? EncodeAnswer(RepceRequest request, bool isException, object? payload)
    {
        try
        {
            return new RepceResponse(request.Rid, isException, payload).Encode(request.Dialect);
        }
        catch (ArgumentException e)
        {
            Log(RepceLogLevel.Error, $"cannot encode the answer to call {request.Method}: {e.Message}");
        }
        try
        {
            return new RepceResponse(request.Rid, true, InternalError($"cannot encode the answer to {request.Method}")).Encode(request.Dialect);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static PyException InternalError(string message) => new("exceptions", "Exception", new PyTuple(message));

    private void Log(RepceLogLevel level, string message) => _options.Log?.Invoke(level, message);

    /// <summary>One connection's shared state: the serialized output and the first failure, which stops everything.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly Stream _output;
        private readonly CancellationTokenSource _stop;
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private RepceServeResult? _failure;

        public Connection(Stream output, CancellationToken cancellationToken)
        {
            _output = output;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        }

        public CancellationToken Token => _stop.Token;

        public RepceServeResult? Failure => Volatile.Read(ref _failure);

        public RepceServeResult Fail(RepceServeOutcome outcome, string message)
        {
            Interlocked.CompareExchange(ref _failure, new RepceServeResult(outcome, message), null);
            Stop();
            return _failure!;
        }

        public void Stop() => _stop.Cancel();

        // Whole frames, one at a time (docs/protocol.md, "RePCe framing and messages": partial writes are what broke the original under load).
        public async Task WriteAsync(byte[] frame)
        {
            await _writeLock.WaitAsync(Token).ConfigureAwait(false);
            try
            {
                await _output.WriteAsync(frame, Token).ConfigureAwait(false);
                await _output.FlushAsync(Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
            {
                Fail(RepceServeOutcome.ConnectionLost, $"writing to the peer failed: {e.Message}");
            }
            finally
            {
                _writeLock.Release();
            }
        }

        public void Dispose()
        {
            _stop.Dispose();
            _writeLock.Dispose();
        }
    }
}
