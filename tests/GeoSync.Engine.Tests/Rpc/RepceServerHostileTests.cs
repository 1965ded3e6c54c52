using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Tests.Rpc;

public class RepceServerHostileTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static TheoryData<string> AllFrames => HostileFrames.Names(HostileFrames.Codec, HostileFrames.MessageShape);

    [Theory]
    [MemberData(nameof(AllFrames))]
    public async Task ServerReportsAProtocolErrorAndANewConnectionStillWorks(string name)
    {
        var (frame, expected) = HostileFrames.Find(name);
        var log = new LogCollector();
        var server = new RepceServer(new TestHandler(), new RepceServerOptions { Log = log.Sink });
        using (var pipes = DuplexPipes.Create())
        {
            var serving = server.ServeAsync(pipes.ServerInput, pipes.ServerOutput);
            // A valid call first: the hostile frame arrives on a connection that was working.
            await using var client = new RepceClient(pipes.ClientInput, pipes.ClientOutput, new RepceClientOptions { LeaveOpen = true });
            Assert.Equal(3L, await client.CallAsync("add", [1L, 2L]));
            await pipes.ClientOutput.WriteAsync(frame);
            pipes.ClientOutput.Dispose(); // truncated frames only show as such at end of input
            var result = await serving.WaitAsync(Patience);
            Assert.Equal(RepceServeOutcome.ProtocolError, result.Outcome);
            Assert.StartsWith("protocol error: ", result.Message);
            Assert.True(result.Message.Contains(expected, StringComparison.Ordinal), $"{name}: '{result.Message}' lacks '{expected}'");
            Assert.True(log.Contains(RepceLogLevel.Error, result.Message), log.ToString());
        }
        await using var fresh = new Loopback(new TestHandler());
        Assert.Equal(new RepceVersions(1.0, 1.0), await fresh.Client.HandshakeAsync());
    }

    [Fact]
    public async Task PicklesThatRunCommandsInPythonRunNothingHere()
    {
        var directory = Directory.CreateTempSubdirectory("geosync-rpc-");
        try
        {
            var server = new RepceServer(new TestHandler());
            foreach (var (name, frame) in HostileFrames.CodeExecution)
            {
                Assert.Throws<GeoSyncProtocolException>(() => PickleReader.Decode(frame));
                using var pipes = DuplexPipes.Create();
                var serving = server.ServeAsync(pipes.ServerInput, pipes.ServerOutput);
                await pipes.ClientOutput.WriteAsync(frame);
                pipes.ClientOutput.Dispose();
                Assert.Equal(RepceServeOutcome.ProtocolError, (await serving.WaitAsync(Patience)).Outcome);
            }
            // Markers are relative names, so they would land in the test's working directory or here; neither has one.
            Assert.Empty(Directory.GetFiles(directory.FullName, "marker-*"));
            Assert.Empty(Directory.GetFiles(Environment.CurrentDirectory, "marker-*"));

            // The same frames in CPython's unpickler do run their commands: proof that the frames are real attacks.
            var stdin = string.Join("\n", HostileFrames.CodeExecution.Select(c => PythonOracle.Hex(c.Frame))) + "\n";
            PythonOracle.Run("""
                import pickle, sys
                for line in sys.stdin:
                    try:
                        pickle.loads(bytes.fromhex(line.strip()))
                    except Exception as e:
                        print(type(e).__name__, e, file=sys.stderr)
                """, stdin, directory.FullName);
            var created = Directory.GetFiles(directory.FullName, "marker-*").Select(Path.GetFileName).Order().ToArray();
            Assert.Equal(HostileFrames.CodeExecution.Select(c => "marker-" + c.Name).Order().ToArray(), created);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
