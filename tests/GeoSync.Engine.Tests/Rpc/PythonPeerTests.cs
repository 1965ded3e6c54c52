using System.Diagnostics;
using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Tests.Rpc;

/// <summary>RePCe against a peer written with CPython's own pickle, over a real child process's pipes.</summary>
public class PythonPeerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task APythonMasterTalksToOurServer()
    {
        // The Python side pickles requests as 10.x does, pipelines 20 slow calls before reading any answer, and sends
        // one request as Python 2's cPickle would. It reports each check on stderr.
        var script = """
            import pickle, struct, sys
            out, inp = sys.stdout.buffer, sys.stdin.buffer
            def send(message):
                out.write(pickle.dumps(message, 2)); out.flush()
            def call(method, *args):
                rid = (4242, call.counter, 1700000000.5); call.counter += 1
                send((rid, method) + args)
                answer_rid, is_exc, payload = pickle.load(inp)
                assert answer_rid == rid, (answer_rid, rid)
                return is_exc, payload
            call.counter = 0
            def check(name, condition):
                print(('ok ' if condition else 'FAILED ') + name, file=sys.stderr)
            check('repce_version', call('__repce_version__') == (False, 1.0))
            check('version', call('version') == (False, 1.0))
            check('echo_text', call('echo', 'h\u00e9llo \U0001f600') == (False, 'h\u00e9llo \U0001f600'))
            check('echo_surrogates', call('echo', 'a\udcff') == (False, 'a\udcff'))
            check('bytes_come_back_as_text', call('echo', b'\xff\xfe') == (False, '\udcff\udcfe'))
            check('echo_nested', call('echo', {'k': [1, (2, None)], 'big': 2**80}) == (False, {'k': [1, (2, None)], 'big': 2**80}))
            check('arg_types', call('argtypes', {'a'}, b'', 1.5, True) == (False, ['HashSet`1', 'Byte[]', 'Double', 'Boolean']))
            is_exc, error = call('fail_os')
            check('oserror', is_exc and isinstance(error, FileNotFoundError) and error.errno == 2 and error.strerror == 'No such file or directory')
            is_exc, error = call('fail_value')
            check('valueerror', is_exc and type(error) is ValueError and error.args == ('unsafe path',))
            is_exc, error = call('nosuch')
            check('attributeerror', is_exc and type(error) is AttributeError and 'nosuch' in error.args[0])
            is_exc, error = call('_secret')
            check('underscore', is_exc and type(error) is AttributeError)
            for i in range(20):
                send(((4242, 1000 + i, 0.0), 'sleep', (20 - i) * 10, 'v%d' % i))
            answers = [pickle.load(inp) for i in range(20)]
            check('pipelined', sorted(a[0][1] for a in answers) == list(range(1000, 1020)) and all(a[2] == 'v%d' % (a[0][1] - 1000) for a in answers))
            check('out_of_order', [a[0][1] for a in answers] != list(range(1000, 1020)))
            out.write(b'\x80\x02(M\xd2\x04I140000000000\nG\x41\xd9\x54\xfc\x40\x20\x00\x00\x87q\x01U\x04echoq\x02U\x04nameq\x03t.')
            out.flush()
            check('python2_request', pickle.load(inp, encoding='bytes') == ((1234, 140000000000, 1700000000.5), False, b'name'))
            print('done', file=sys.stderr)
            """;
        using var python = StartPython(script);
        var stderr = python.StandardError.ReadToEndAsync();
        var log = new LogCollector();
        var server = new RepceServer(new TestHandler(), new RepceServerOptions { Workers = 3, Log = log.Sink });
        var result = await server.ServeAsync(python.StandardOutput.BaseStream, python.StandardInput.BaseStream).WaitAsync(Patience);
        var report = (await stderr.WaitAsync(Patience)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            ["ok repce_version", "ok version", "ok echo_text", "ok echo_surrogates", "ok bytes_come_back_as_text", "ok echo_nested",
             "ok arg_types", "ok oserror", "ok valueerror", "ok attributeerror", "ok underscore", "ok pipelined", "ok out_of_order",
             "ok python2_request", "done"],
            report);
        Assert.Equal(RepceServeOutcome.EndOfInput, result.Outcome);
        await python.WaitForExitAsync().WaitAsync(Patience);
        Assert.Equal(0, python.ExitCode);
    }

    [Fact]
    public async Task OurClientTalksToAPythonSlave()
    {
        // A threaded server like the original: a reader thread, three workers, answers in completion order,
        // exceptions sent as the payload.
        var script = """
            import os, pickle, queue, sys, threading, time
            inp, out = sys.stdin.buffer, sys.stdout.buffer
            lock = threading.Lock()
            class Slave:
                def version(self): return 1.0
                def echo(self, value): return value
                def sleep(self, ms, value): time.sleep(ms / 1000.0); return value
                def fail(self): raise OSError(2, 'No such file or directory')
                def unsafe(self): raise ValueError('unsafe path')
                def lstat(self, path): return os.lstat(path)
                def raw(self): return b'\xffname'
            slave = Slave()
            jobs = queue.Queue()
            def work():
                while True:
                    rid, method, args = jobs.get()
                    try:
                        result = 1.0 if method == '__repce_version__' else getattr(slave, method)(*args)
                        answer = (rid, False, result)
                    except Exception as e:
                        answer = (rid, True, e)
                    data = pickle.dumps(answer, 2)
                    with lock:
                        out.write(data); out.flush()
            for _ in range(3):
                threading.Thread(target=work, daemon=True).start()
            while True:
                try:
                    request = pickle.load(inp)
                except EOFError:
                    break
                jobs.put((request[0], request[1], request[2:]))
            """;
        using var python = StartPython(script);
        var stderr = python.StandardError.ReadToEndAsync();
        var log = new LogCollector();
        var client = new RepceClient(python.StandardOutput.BaseStream, python.StandardInput.BaseStream,
            new RepceClientOptions { Log = log.Sink, CallTimeout = Patience });
        try
        {
            Assert.Equal(new RepceVersions(1.0, 1.0), await client.HandshakeAsync());
            var nested = new Dictionary<object, object?> { ["k"] = new List<object?> { 1L, new PyTuple(2L, null) }, ["t"] = "h\u00e9\udcff" };
            Assert.Equal(PythonOracle.Canon(nested), PythonOracle.Canon(await client.CallAsync("echo", [nested])));
            Assert.Equal("\udcffname", await client.CallAsync("raw") is byte[] raw ? PyText.DecodeSurrogateEscape(raw) : null);
            var os = await Assert.ThrowsAsync<RemoteOsException>(() => client.CallAsync("fail"));
            Assert.Equal((2, "No such file or directory"), (os.Errno, os.StrError));
            await Assert.ThrowsAsync<RemoteValueException>(() => client.CallAsync("unsafe"));
            await Assert.ThrowsAsync<RemoteAttributeException>(() => client.CallAsync("nosuch"));
            var stat = Assert.IsType<PyStatResult>(await client.CallAsync("lstat", ["."]));
            Assert.Equal(10, stat.Fields.Count);
            Assert.True(stat.Extras.ContainsKey("st_mtime_ns"));

            var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(thread => Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    var tag = $"{thread}/{i}";
                    if (!Equals(await client.CallAsync("sleep", [(long)((thread + i) % 4), tag]), tag)) return tag;
                }
                return null;
            })));
            Assert.All(results, Assert.Null);
        }
        finally
        {
            await client.DisposeAsync();
        }
        await python.WaitForExitAsync().WaitAsync(Patience);
        Assert.True(python.ExitCode == 0, await stderr);
    }

    private static Process StartPython(string script)
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        return Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
    }
}
