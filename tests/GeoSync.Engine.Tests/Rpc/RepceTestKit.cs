using System.Collections.Concurrent;
using System.IO.Pipes;
using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Tests.Rpc;

/// <summary>Two OS pipes, one per direction, as between a master and a slave process.</summary>
internal sealed class DuplexPipes : IDisposable
{
    private DuplexPipes()
    {
        (ClientOutput, ServerInput) = Pipe();
        (ServerOutput, ClientInput) = Pipe();
    }

    public Stream ClientInput { get; }
    public Stream ClientOutput { get; }
    public Stream ServerInput { get; }
    public Stream ServerOutput { get; }

    public static DuplexPipes Create() => new();

    public void Dispose()
    {
        foreach (var stream in new[] { ClientInput, ClientOutput, ServerInput, ServerOutput }) stream.Dispose();
    }

    private static (Stream Writer, Stream Reader) Pipe()
    {
        var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        var reader = new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle);
        return (writer, reader);
    }
}

/// <summary>Collects log lines from a client or server; thread-safe.</summary>
internal sealed class LogCollector
{
    private readonly ConcurrentQueue<(RepceLogLevel Level, string Message)> _lines = new();

    public Action<RepceLogLevel, string> Sink => (level, message) => _lines.Enqueue((level, message));

    public IReadOnlyList<(RepceLogLevel Level, string Message)> Lines => [.. _lines];

    public bool Contains(RepceLogLevel level, string fragment) =>
        _lines.Any(l => l.Level == level && l.Message.Contains(fragment, StringComparison.Ordinal));

    public override string ToString() => string.Join("\n", _lines.Select(l => $"{l.Level}: {l.Message}"));
}

/// <summary>A handler with an explicit method table, as the slave server has.</summary>
internal sealed class TestHandler : IRepceHandler
{
    private readonly Dictionary<string, Func<IReadOnlyList<object?>, CancellationToken, Task<object?>>> _methods;

    public TestHandler(object? version = null, bool hasVersion = true)
    {
        _methods = new()
        {
            ["echo"] = (args, _) => Task.FromResult<object?>(args.Count == 1 ? args[0] : new PyTuple([.. args])),
            ["add"] = (args, _) => Task.FromResult<object?>(args.Cast<long>().Sum()),
            ["sleep"] = async (args, ct) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds((long)args[0]!), ct);
                return args.Count > 1 ? args[1] : null;
            },
            ["block"] = async (_, ct) =>
            {
                await Task.Delay(Timeout.Infinite, ct);
                return null;
            },
            ["fail_os"] = (_, _) => throw RepceCallException.OsError(2, "No such file or directory"),
            ["fail_value"] = (_, _) => throw RepceCallException.ValueError("unsafe path"),
            ["crash"] = (_, _) => throw new InvalidOperationException("handler bug"),
            ["unencodable"] = (_, _) => Task.FromResult<object?>(new object()),
            ["argtypes"] = (args, _) => Task.FromResult<object?>(new List<object?>(args.Select(a => (object?)(a?.GetType().Name ?? "None")))),
            ["_secret"] = (_, _) => Task.FromResult<object?>("must never be reachable"),
        };
        if (hasVersion) _methods["version"] = (_, _) => Task.FromResult<object?>(version ?? 1.0);
    }

    public bool HasMethod(string method) => _methods.ContainsKey(method);

    public async ValueTask<object?> InvokeAsync(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken = default) =>
        await _methods[method](args, cancellationToken);
}

/// <summary>A server and a client wired together over <see cref="DuplexPipes"/>.</summary>
internal sealed class Loopback : IAsyncDisposable
{
    public Loopback(IRepceHandler? handler = null, RepceClientOptions? clientOptions = null, int workers = 3)
    {
        Pipes = DuplexPipes.Create();
        Server = new RepceServer(handler ?? new TestHandler(), new RepceServerOptions { Workers = workers, Log = ServerLog.Sink });
        Serving = Server.ServeAsync(Pipes.ServerInput, Pipes.ServerOutput);
        var options = clientOptions ?? new RepceClientOptions();
        Client = new RepceClient(Pipes.ClientInput, Pipes.ClientOutput, new RepceClientOptions
        {
            CallTimeout = options.CallTimeout,
            Dialect = options.Dialect,
            Limits = options.Limits,
            Log = ClientLog.Sink,
        });
    }

    public DuplexPipes Pipes { get; }
    public RepceServer Server { get; }
    public RepceClient Client { get; }
    public Task<RepceServeResult> Serving { get; }
    public LogCollector ServerLog { get; } = new();
    public LogCollector ClientLog { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Serving.WaitAsync(TimeSpan.FromSeconds(10));
        Pipes.Dispose();
    }
}
