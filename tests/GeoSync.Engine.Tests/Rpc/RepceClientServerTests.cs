using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Tests.Rpc;

public class RepceClientServerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task HandshakeReturnsThePeersVersions()
    {
        await using var loop = new Loopback();
        var versions = await loop.Client.HandshakeAsync();
        Assert.Equal(new RepceVersions(1.0, 1.0), versions);
    }

    [Fact]
    public async Task HandshakeIgnoresMinorVersions()
    {
        await using var loop = new Loopback(new TestHandler(version: 1.7));
        Assert.Equal(new RepceVersions(1.0, 1.7), await loop.Client.HandshakeAsync());
    }

    [Fact]
    public async Task HandshakeReportsAMajorMismatch()
    {
        await using var loop = new Loopback(new TestHandler(version: 2.5));
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => loop.Client.HandshakeAsync());
        Assert.StartsWith("RePCe major version mismatch: local {'proto': 1.0, 'object': 1.0}, remote {'proto': 1.0, 'object': 2.5}", error.Message);
    }

    [Fact]
    public async Task HandshakeToleratesAMissingVersionMethodButCountsItAsADifference()
    {
        await using var loop = new Loopback(new TestHandler(hasVersion: false));
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => loop.Client.HandshakeAsync());
        Assert.StartsWith("RePCe major version mismatch: local {'proto': 1.0, 'object': 1.0}, remote {'proto': 1.0}", error.Message);
        // The AttributeError did not break the connection.
        Assert.Equal(5L, await loop.Client.CallAsync("add", [2L, 3L]));
    }

    [Fact]
    public async Task ConcurrentCallsGetTheirOwnAnswers()
    {
        await using var loop = new Loopback();
        var random = new Random(31);
        var delays = Enumerable.Range(0, 16 * 25).Select(_ => (long)random.Next(0, 4)).ToArray();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(thread => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                var tag = $"t{thread}-c{i}";
                var answer = await loop.Client.CallAsync("sleep", [delays[thread * 25 + i], tag]);
                if (!Equals(answer, tag)) return $"{tag} got {PyRepr.Format(answer)}";
            }
            return null;
        })));
        Assert.All(results, Assert.Null);
    }

    [Fact]
    public async Task AnswersArriveOutOfOrderAsCallsFinish()
    {
        await using var loop = new Loopback();
        var finished = new ConcurrentQueue<string>();
        var slow = loop.Client.CallAsync("sleep", [600L, "slow"]).ContinueWith(t => finished.Enqueue((string)t.Result!), TaskScheduler.Default);
        await Task.Delay(50);
        var fast = loop.Client.CallAsync("sleep", [1L, "fast"]).ContinueWith(t => finished.Enqueue((string)t.Result!), TaskScheduler.Default);
        await Task.WhenAll(slow, fast);
        Assert.Equal(["fast", "slow"], finished.ToArray());
    }

    [Fact]
    public async Task LargeConcurrentFramesNeverInterleave()
    {
        await using var loop = new Loopback();
        var payloads = Enumerable.Range(0, 12).Select(i => new string((char)('a' + i), 200_000 + i)).ToArray();
        var answers = await Task.WhenAll(payloads.Select(p => loop.Client.CallAsync("echo", [p])));
        Assert.Equal(payloads, answers.Cast<string>());
    }

    [Fact]
    public async Task RemoteExceptionsAreRethrownByKind()
    {
        await using var loop = new Loopback();
        var os = await Assert.ThrowsAsync<RemoteOsException>(() => loop.Client.CallAsync("fail_os"));
        Assert.Equal((2, "No such file or directory", "fail_os"), (os.Errno, os.StrError, os.Method));
        var value = await Assert.ThrowsAsync<RemoteValueException>(() => loop.Client.CallAsync("fail_value"));
        Assert.Equal(new PyTuple("unsafe path"), value.Exception.Args);
        var missing = await Assert.ThrowsAsync<RemoteAttributeException>(() => loop.Client.CallAsync("nosuch"));
        Assert.Contains("has no attribute 'nosuch'", (string)missing.Exception.Args[0]!);
        var crash = await Assert.ThrowsAsync<RemoteException>(() => loop.Client.CallAsync("crash"));
        Assert.Equal("Exception", crash.Exception.TypeName);
        Assert.True(loop.ServerLog.Contains(RepceLogLevel.Error, "handler bug"), loop.ServerLog.ToString());
        var unencodable = await Assert.ThrowsAsync<RemoteException>(() => loop.Client.CallAsync("unencodable"));
        Assert.Contains("cannot encode the answer", (string)unencodable.Exception.Args[0]!);
        // None of these broke the connection.
        Assert.Equal(3L, await loop.Client.CallAsync("add", [1L, 2L]));
    }

    [Theory]
    [InlineData("_secret")]
    [InlineData("__init__")]
    [InlineData("_create")]
    public async Task UnderscoreNamesAreNeverDispatched(string method)
    {
        await using var loop = new Loopback();
        await Assert.ThrowsAsync<RemoteAttributeException>(() => loop.Client.CallAsync(method));
        Assert.Equal(1.0, await loop.Client.CallAsync(RepceProtocol.VersionMethod));
    }

    [Fact]
    public async Task APython2ClientGetsByteStringsBack()
    {
        await using var loop = new Loopback(clientOptions: new RepceClientOptions { Dialect = PeerDialect.Python2 });
        // The server saw byte strings (the client's dialect) and answered with byte strings (the request's dialect).
        var types = Assert.IsType<List<object?>>(await loop.Client.CallAsync("argtypes", ["h\u00e9", 1L]));
        Assert.Equal(["Byte[]", "Int64"], types.Select(t => Encoding.UTF8.GetString(Assert.IsType<byte[]>(t))));
        Assert.Equal("h\u00e9"u8.ToArray(), await loop.Client.CallAsync("echo", ["h\u00e9"]));
        var os = await Assert.ThrowsAsync<RemoteOsException>(() => loop.Client.CallAsync("fail_os"));
        Assert.Equal("No such file or directory", os.StrError);
    }

    [Fact]
    public async Task APython3ClientGetsTextBack()
    {
        await using var loop = new Loopback();
        Assert.Equal(new List<object?> { "String", "String" }, await loop.Client.CallAsync("argtypes", ["h\u00e9", new byte[] { 0xff }]));
        Assert.Equal("\udcff", await loop.Client.CallAsync("echo", [new byte[] { 0xff }]));
    }

    [Fact]
    public async Task ACallThatTimesOutClosesTheConnection()
    {
        await using var loop = new Loopback();
        var bystander = loop.Client.CallAsync("block");
        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => loop.Client.CallAsync("block", timeout: TimeSpan.FromMilliseconds(200)));
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(150), Patience);
        Assert.Contains("got no answer within", error.Message);
        var bystanderError = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => bystander.WaitAsync(Patience));
        Assert.StartsWith("connection to peer is broken", bystanderError.Message);
        var later = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => loop.Client.CallAsync("add", [1L]));
        Assert.StartsWith("connection to peer is broken", later.Message);
        Assert.Same(error, await loop.Client.Closed.WaitAsync(Patience));
        // The client closed its streams, so the server saw a clean end of input.
        Assert.Equal(RepceServeOutcome.EndOfInput, (await loop.Serving.WaitAsync(Patience)).Outcome);
    }

    [Fact]
    public async Task TheDefaultTimeoutComesFromTheOptions()
    {
        // Long enough for the first call's answer on a loaded machine (150 ms was not).
        await using var loop = new Loopback(clientOptions: new RepceClientOptions { CallTimeout = TimeSpan.FromMilliseconds(1500) });
        Assert.Equal(3L, await loop.Client.CallAsync("add", [1L, 2L]));
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => loop.Client.CallAsync("block"));
        Assert.Contains("00:00:01.5", error.Message);
    }

    [Fact]
    public async Task CancellingACallKeepsTheConnectionAndDropsTheLateAnswer()
    {
        await using var loop = new Loopback();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.Client.CallAsync("sleep", [400L, "late"], cancellationToken: cancel.Token));
        Assert.Equal(7L, await loop.Client.CallAsync("add", [3L, 4L]));
        await WaitUntil(() => loop.ClientLog.Contains(RepceLogLevel.Warning, "dropping an answer for unknown call"));
        Assert.Equal(1L, await loop.Client.CallAsync("add", [1L]));
    }

    [Fact]
    public async Task EndOfInputFailsPendingCalls()
    {
        using var pipes = DuplexPipes.Create();
        await using var client = new RepceClient(pipes.ClientInput, pipes.ClientOutput);
        var pending = client.CallAsync("anything");
        pipes.ServerOutput.Dispose();
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => pending.WaitAsync(Patience));
        Assert.Equal("connection to peer is broken: the peer closed the connection (EOF)", error.Message);
        Assert.Equal(error.Message, (await client.Closed.WaitAsync(Patience))!.Message);
    }

    [Fact]
    public async Task AHostileAnswerFailsPendingCallsWithAProtocolError()
    {
        using var pipes = DuplexPipes.Create();
        var log = new LogCollector();
        await using var client = new RepceClient(pipes.ClientInput, pipes.ClientOutput, new RepceClientOptions { Log = log.Sink });
        var pending = client.CallAsync("anything");
        await pipes.ServerOutput.WriteAsync(Frames.Build(0x80, 2, "cos\nsystem\n", Frames.BinUnicode("touch /tmp/x"), 0x85, 'R', '.'));
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => pending.WaitAsync(Patience));
        Assert.StartsWith("connection to peer is broken: protocol error: GLOBAL 'os system' is not allowed", error.Message);
        Assert.True(log.Contains(RepceLogLevel.Error, "protocol error"), log.ToString());
    }

    [Fact]
    public async Task AResponseOfTheWrongShapeIsAProtocolError()
    {
        using var pipes = DuplexPipes.Create();
        await using var client = new RepceClient(pipes.ClientInput, pipes.ClientOutput);
        var pending = client.CallAsync("anything");
        await pipes.ServerOutput.WriteAsync(PickleWriter.Encode(new PyTuple(1L, 2L)));
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => pending.WaitAsync(Patience));
        Assert.Contains("a response must be a tuple (rid, is_exception, payload)", error.Message);
    }

    [Fact]
    public async Task ServerEndsCleanlyAtEndOfInput()
    {
        await using var loop = new Loopback();
        Assert.Equal(1.0, await loop.Client.CallAsync(RepceProtocol.VersionMethod));
        await loop.Client.DisposeAsync();
        var result = await loop.Serving.WaitAsync(Patience);
        Assert.Equal(new RepceServeResult(RepceServeOutcome.EndOfInput, "terminating on reaching EOF."), result);
        Assert.True(loop.ServerLog.Contains(RepceLogLevel.Information, "terminating on reaching EOF."));
    }

    [Fact]
    public async Task ServerCancelsCallsStillRunningWhenInputEnds()
    {
        using var pipes = DuplexPipes.Create();
        var serving = new RepceServer(new TestHandler()).ServeAsync(pipes.ServerInput, pipes.ServerOutput);
        await pipes.ClientOutput.WriteAsync(new RepceRequest(new PyTuple(1L, 1L, 0.5), "block", [], PeerDialect.Python3).Encode());
        await Task.Delay(100);
        pipes.ClientOutput.Dispose();
        Assert.Equal(RepceServeOutcome.EndOfInput, (await serving.WaitAsync(Patience)).Outcome);
    }

    [Fact]
    public async Task ServerAnswersAPython2RequestWithByteStrings()
    {
        using var pipes = DuplexPipes.Create();
        var serving = new RepceServer(new TestHandler()).ServeAsync(pipes.ServerInput, pipes.ServerOutput);
        // cPickle's request for version(): ((pid, thread, time), 'version') with memo opcodes.
        await pipes.ClientOutput.WriteAsync(Frames.Build(0x80, 2, '(', 'M', 0xd2, 0x04, "I140000000000\n", 'G', 0x41, 0xd9, 0x54, 0xfc,
            0x40, 0x20, 0x00, 0x00, 0x87, 'q', 1, Frames.ShortBinString("echo"), 'q', 2, Frames.ShortBinString("name"), 't', '.'));
        var reader = new PickleReader(pipes.ClientInput);
        var answer = RepceResponse.FromMessage((await reader.ReadAsync().AsTask().WaitAsync(Patience))!.Value.Value);
        Assert.Equal(new PyTuple(1234L, 140000000000L, 1700000000.5), answer.Rid);
        Assert.Equal("name"u8.ToArray(), Assert.IsType<byte[]>(answer.Payload));
        pipes.ClientOutput.Dispose();
        Assert.Equal(RepceServeOutcome.EndOfInput, (await serving.WaitAsync(Patience)).Outcome);
    }

    [Fact]
    public async Task ServerStopsPromptlyWhenCancelled()
    {
        using var pipes = DuplexPipes.Create();
        using var cancel = new CancellationTokenSource();
        var serving = new RepceServer(new TestHandler()).ServeAsync(pipes.ServerInput, pipes.ServerOutput, cancel.Token);
        await using var client = new RepceClient(pipes.ClientInput, pipes.ClientOutput, new RepceClientOptions { LeaveOpen = true });
        var blocked = client.CallAsync("block");
        Assert.Equal(3L, await client.CallAsync("add", [1L, 2L]));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving.WaitAsync(Patience));
        Assert.False(blocked.IsCompleted);
    }

    [Fact]
    public async Task ServerReportsALostOutput()
    {
        using var pipes = DuplexPipes.Create();
        var log = new LogCollector();
        var serving = new RepceServer(new TestHandler(), new RepceServerOptions { Log = log.Sink }).ServeAsync(pipes.ServerInput, pipes.ServerOutput);
        pipes.ClientInput.Dispose();
        await pipes.ClientOutput.WriteAsync(new RepceRequest(PyTuple.Empty, "add", [1L], PeerDialect.Python3).Encode());
        var result = await serving.WaitAsync(Patience);
        Assert.Equal(RepceServeOutcome.ConnectionLost, result.Outcome);
        Assert.StartsWith("writing to the peer failed", result.Message);
        Assert.True(log.Contains(RepceLogLevel.Error, "writing to the peer failed"), log.ToString());
    }

    [Fact]
    public async Task OneServerServesSeveralConnectionsAtOnce()
    {
        var server = new RepceServer(new TestHandler());
        var pipes = Enumerable.Range(0, 3).Select(_ => DuplexPipes.Create()).ToArray();
        try
        {
            var serving = pipes.Select(p => server.ServeAsync(p.ServerInput, p.ServerOutput)).ToArray();
            var clients = pipes.Select(p => new RepceClient(p.ClientInput, p.ClientOutput)).ToArray();
            var sums = await Task.WhenAll(clients.Select((c, i) => c.CallAsync("add", [(long)i, 10L])));
            Assert.Equal([10L, 11L, 12L], sums.Cast<long>());
            foreach (var client in clients) await client.DisposeAsync();
            Assert.All(await Task.WhenAll(serving).WaitAsync(Patience), r => Assert.Equal(RepceServeOutcome.EndOfInput, r.Outcome));
        }
        finally
        {
            foreach (var p in pipes) p.Dispose();
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(20);
        }
    }
}
