using System.Globalization;

namespace GeoSync.Engine.Rpc;

/// <summary>Settings of a <see cref="RepceClient"/>.</summary>
public sealed class RepceClientOptions
{
    /// <summary>
    /// How long a call may wait for its answer unless the call gives its own timeout. RePCe has no cancel message, so
    /// a call that times out closes the connection. Generous by default because a slave may purge a large tree in one
    /// call; <see cref="Timeout.InfiniteTimeSpan"/> waits forever, as the original did.
    /// </summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How strings are sent: Python 3 text (10.x slaves, GeoSync) or Python 2 byte strings (3.3 slaves).</summary>
    public PeerDialect Dialect { get; init; } = PeerDialect.Python3;

    /// <summary>Bounds on every answer read from the peer.</summary>
    public PickleLimits Limits { get; init; } = PickleLimits.Default;

    /// <summary>Receives the client's log messages; null discards them.</summary>
    public Action<RepceLogLevel, string>? Log { get; init; }

    /// <summary>False (default): the client disposes both streams when the connection ends, which also unblocks a
    /// pending read. True: the owner of the streams (e.g. of the ssh process) disposes them.</summary>
    public bool LeaveOpen { get; init; }
}

/// <summary>The two sides' versions as exchanged by the RePCe handshake (docs/protocol.md, "Dispatch, handshake and timeouts").</summary>
/// <param name="Protocol">The answer to <c>__repce_version__</c>.</param>
/// <param name="Api">The answer to <c>version</c>; null when the peer has no such method.</param>
public sealed record RepceVersions(double Protocol, double? Api)
{
    internal bool SameMajorAs(RepceVersions other) =>
        Major(Protocol) == Major(other.Protocol) && Api.HasValue == other.Api.HasValue
        && (!Api.HasValue || Major(Api.Value) == Major(other.Api!.Value));

    /// <summary>The Python dict the original prints in its mismatch message.</summary>
    public override string ToString() => Api.HasValue
        ? $"{{'proto': {PythonFloat(Protocol)}, 'object': {PythonFloat(Api.Value)}}}"
        : $"{{'proto': {PythonFloat(Protocol)}}}";

    private static string PythonFloat(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return double.IsFinite(value) && !text.Contains('.', StringComparison.Ordinal) && !text.Contains('E', StringComparison.Ordinal) ? text + ".0" : text;
    }

    private static long Major(double version) => (long)Math.Truncate(version);
}

/// <summary>
/// Calls methods on a RePCe peer over a pair of byte streams (docs/protocol.md, "RePCe framing and messages"). Any number of callers may call concurrently;
/// one reader loop decodes answers frame after frame from the same buffered stream and wakes the caller whose rid
/// matches. When the connection breaks (EOF, protocol error, write failure, a call timing out) every pending and
/// later call fails with <see cref="GeoSyncProtocolException"/>.
/// </summary>
public sealed class RepceClient : IAsyncDisposable
{
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly RepceClientOptions _options;
    private readonly PickleReader _reader;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly object _gate = new();
    private readonly Dictionary<object, TaskCompletionSource<RepceResponse>> _pending = new(PyEquality.Instance);
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<GeoSyncProtocolException?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _processId = Environment.ProcessId;
    private readonly Task _readLoop;
    private long _callCounter;
    private GeoSyncProtocolException? _broken;

    /// <summary>Starts a client reading answers from <paramref name="input"/> and writing calls to <paramref name="output"/>.</summary>
    public RepceClient(Stream input, Stream output, RepceClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        _input = input;
        _output = output;
        _options = options ?? new RepceClientOptions();
        _reader = new PickleReader(input, _options.Limits);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>Completes when the connection has ended, with the reason it broke (null after <see cref="DisposeAsync"/>).</summary>
    public Task<GeoSyncProtocolException?> Closed => _closed.Task;

    /// <summary>
    /// Calls <paramref name="method"/> with positional <paramref name="args"/> and returns the peer's answer as plain
    /// values. Cancelling abandons the call only (its late answer is dropped); a timeout closes the connection.
    /// </summary>
    /// <exception cref="RemoteException">The peer raised an exception; <see cref="RemoteOsException"/> carries errno.</exception>
    /// <exception cref="GeoSyncProtocolException">The call timed out, or the connection is broken.</exception>
    /// <exception cref="ArgumentException">An argument is of a type RePCe cannot carry.</exception>
    public async Task<object?> CallAsync(string method, IReadOnlyList<object?>? args = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        cancellationToken.ThrowIfCancellationRequested();
        var rid = new PyTuple(_processId, Interlocked.Increment(ref _callCounter), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        var frame = new RepceRequest(rid, method, args ?? [], _options.Dialect).Encode();
        var call = new TaskCompletionSource<RepceResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_broken is not null) throw _broken;
            _pending.Add(rid, call);
        }
        var limit = timeout ?? _options.CallTimeout;
        try
        {
            await WriteAsync(frame, method, rid, cancellationToken).ConfigureAwait(false);
            Log(RepceLogLevel.Debug, () => $"call {PyRepr.Format(rid)} {method} ...");
            var response = await call.Task.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            if (!response.IsException)
            {
                Log(RepceLogLevel.Debug, () => $"call {PyRepr.Format(rid)} {method} -> {Abbreviate(PyRepr.Format(response.Payload))}");
                return response.Payload;
            }
            var exception = (PyException)response.Payload!;
            Log(RepceLogLevel.Debug, () => $"call {PyRepr.Format(rid)} ({method}) failed on peer with {exception.TypeName}");
            throw ToRemoteException(method, exception);
        }
        catch (TimeoutException)
        {
            var error = new GeoSyncProtocolException(
                $"connection to peer is broken: call {PyRepr.Format(rid)} ({method}) got no answer within {limit}; "
                + "RePCe cannot cancel a call, so the connection was closed; reconnect to continue");
            TearDown(error);
            throw error;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate) _pending.Remove(rid);
            Log(RepceLogLevel.Debug, () => $"call {PyRepr.Format(rid)} ({method}) cancelled; its answer will be dropped");
            throw;
        }
    }

    /// <summary>
    /// The handshake a master runs right after connecting (docs/protocol.md, "Dispatch, handshake and timeouts"): <c>__repce_version__</c>, then <c>version</c>
    /// (a missing method is tolerated but then counts as a difference); the major versions must match.
    /// </summary>
    /// <returns>The peer's versions.</returns>
    /// <exception cref="GeoSyncProtocolException">The major versions differ, or an answer is not a number.</exception>
    public async Task<RepceVersions> HandshakeAsync(double localApiVersion = 1.0, CancellationToken cancellationToken = default)
    {
        var protocol = ToVersion(RepceProtocol.VersionMethod, await CallAsync(RepceProtocol.VersionMethod, cancellationToken: cancellationToken).ConfigureAwait(false));
        double? api = null;
        try
        {
            api = ToVersion("version", await CallAsync("version", cancellationToken: cancellationToken).ConfigureAwait(false));
        }
        catch (RemoteAttributeException)
        {
            Log(RepceLogLevel.Debug, () => "the peer has no 'version' method");
        }
        var local = new RepceVersions(RepceProtocol.Version, localApiVersion);
        var remote = new RepceVersions(protocol, api);
        if (!local.SameMajorAs(remote))
        {
            throw new GeoSyncProtocolException(
                $"RePCe major version mismatch: local {local}, remote {remote}; install versions of GeoSync/gsyncd that speak the same RePCe major version on both hosts");
        }
        return remote;
    }

    /// <summary>Closes the connection: pending calls fail, and the streams are disposed unless LeaveOpen was set.</summary>
    public async ValueTask DisposeAsync()
    {
        TearDown(new GeoSyncProtocolException("connection to peer is broken: the RePCe client was disposed"), disposing: true);
        await _readLoop.ConfigureAwait(false);
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var message = await _reader.ReadAsync(_closing.Token).ConfigureAwait(false);
                if (message is null)
                {
                    TearDown(new GeoSyncProtocolException("connection to peer is broken: the peer closed the connection (EOF)"));
                    return;
                }
                var response = RepceResponse.FromMessage(message.Value.Value);
                TaskCompletionSource<RepceResponse>? call = null;
                lock (_gate)
                {
                    if (response.Rid is not null) _pending.Remove(response.Rid, out call);
                }
                if (call is null)
                {
                    Log(RepceLogLevel.Warning, () => $"dropping an answer for unknown call {Abbreviate(PyRepr.Format(response.Rid))} (timed out or cancelled earlier)");
                    continue;
                }
                call.TrySetResult(response);
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // Torn down from elsewhere; the reason is already recorded.
        }
        catch (GeoSyncProtocolException e)
        {
            TearDown(new GeoSyncProtocolException($"connection to peer is broken: {e.Message}", e));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            TearDown(new GeoSyncProtocolException($"connection to peer is broken: reading from the peer failed: {e.Message}", e));
        }
    }

    // Frames go out whole and one at a time. Cancellation only applies while waiting for the lock: a frame cut in half
    // would corrupt the stream for every other caller.
    private async Task WriteAsync(byte[] frame, string method, PyTuple rid, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _output.WriteAsync(frame, _closing.Token).ConfigureAwait(false);
            await _output.FlushAsync(_closing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or NotSupportedException)
        {
            var error = _broken ?? new GeoSyncProtocolException(
                $"connection to peer is broken: sending call {PyRepr.Format(rid)} ({method}) failed: {e.Message}", e);
            TearDown(error);
            throw error;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void TearDown(GeoSyncProtocolException reason, bool disposing = false)
    {
        List<TaskCompletionSource<RepceResponse>> abandoned;
        lock (_gate)
        {
            if (_broken is not null) return;
            _broken = reason;
            abandoned = [.. _pending.Values];
            _pending.Clear();
        }
        if (!disposing) Log(RepceLogLevel.Error, () => reason.Message);
        _closing.Cancel();
        foreach (var call in abandoned) call.TrySetException(reason);
        if (!_options.LeaveOpen)
        {
            _input.Dispose();
            _output.Dispose();
        }
        _closed.TrySetResult(disposing ? null : reason);
    }

    internal static RemoteException ToRemoteException(string method, PyException exception)
    {
        if (exception.Module != "exceptions") return new RemoteException(method, exception);
        var args = exception.Args;
        return exception.TypeName switch
        {
            "OSError" or "IOError" or "EnvironmentError" when args.Count >= 2 && args[0] is long errno and >= int.MinValue and <= int.MaxValue =>
                new RemoteOsException(method, exception, (int)errno, args[1] switch
                {
                    string text => text,
                    byte[] bytes => PyText.DecodeSurrogateEscape(bytes),
                    var other => PyRepr.Format(other),
                }),
            "ValueError" => new RemoteValueException(method, exception),
            "AttributeError" => new RemoteAttributeException(method, exception),
            _ => new RemoteException(method, exception),
        };
    }

    private static double ToVersion(string method, object? answer) => answer switch
    {
        double d => d,
        long l => l,
        _ => throw new GeoSyncProtocolException($"the peer answered {method} with {PyRepr.Format(answer)} instead of a version number"),
    };

    private static string Abbreviate(string text) => text.Length <= 200 ? text : text[..200] + "...";

    // Messages are built only when someone listens: formatting every payload would cost more than the call.
    private void Log(RepceLogLevel level, Func<string> message) => _options.Log?.Invoke(level, message());
}
