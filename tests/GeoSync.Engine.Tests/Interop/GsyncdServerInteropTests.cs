using System.Numerics;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Tests.Rpc;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Interop;

/// <summary>
/// One <c>gsyncd_peer.py server</c> process (GlusterFS's repce.RepceServer serving 10.x's resource.Server plus probes
/// on a temp directory) shared by the tests of a class, with GeoSync's <see cref="RepceClient"/> on its pipes.
/// </summary>
public sealed class GsyncdServerPeer : IAsyncLifetime
{
    private PeerProcess? _peer;
    private RepceClient? _client;

    internal static TimeSpan Patience { get; } = TimeSpan.FromSeconds(30);

    internal TempDirectory Root { get; } = new("geosync-gsyncd-server-");

    internal LogCollector Log { get; } = new();

    internal RepceClient Client => _client ?? throw new InvalidOperationException("the gsyncd peer was not started");

    public Task InitializeAsync()
    {
        // xunit builds class fixtures even when every test of the class is skipped; start nothing then.
        if (GsyncdPeer.UnavailableReason() is not null) return Task.CompletedTask;
        _peer = GsyncdPeer.Start(["server"], Root.Path);
        _client = new RepceClient(_peer.FromPeer, _peer.ToPeer, new RepceClientOptions { CallTimeout = Patience, Log = Log.Sink });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_peer is null) return;
            // Disposing the client closes the peer's stdin: repce's service loop ends on EOF and the script exits 0.
            await Client.DisposeAsync();
            var exitCode = await _peer.WaitForExitAsync(Patience);
            var stderr = await _peer.StandardError;
            if (exitCode != 0 || !stderr.Contains("terminating on reaching EOF.", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"gsyncd_peer.py server did not end cleanly on EOF (exit {exitCode}):\n{stderr}");
            }
        }
        finally
        {
            if (_peer is not null) await _peer.DisposeAsync();
            Root.Dispose();
        }
    }
}

/// <summary>GeoSync's RePCe client against GlusterFS's own Python RePCe server (the installed repce.py, 10.x).</summary>
public sealed class GsyncdServerInteropTests : IClassFixture<GsyncdServerPeer>
{
    private const string Uuid = "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    private readonly GsyncdServerPeer _peer;

    public GsyncdServerInteropTests(GsyncdServerPeer peer) => _peer = peer;

    private RepceClient Client => _peer.Client;

    [GsyncdPeerFact]
    public async Task HandshakeAgreesWithTheInstalledRepce()
    {
        Assert.Equal(new RepceVersions(1.0, 1.0), await Client.HandshakeAsync());

        // The answers come from GlusterFS's package, not from a look-alike.
        var origin = Assert.IsType<Dictionary<object, object?>>(await Client.CallAsync("origin"));
        Assert.Equal(Path.Combine(GsyncdPeer.PythonDirectory, "repce.py"), Assert.IsType<string>(origin["repce"]));
        Assert.Equal(Path.Combine(GsyncdPeer.PythonDirectory, "resource.py"), Assert.IsType<string>(origin["resource"]));
        Assert.Equal(2L, origin["pickle_proto"]);
        Assert.Equal(1.0, origin["repce_version"]);
    }

    [GsyncdPeerFact]
    public async Task ValuesPythonPicklesDecodeToPlainValues()
    {
        var samples = Assert.IsType<Dictionary<object, object?>>(await Client.CallAsync("samples"));
        var expected = new Dictionary<string, object?>
        {
            ["none"] = null,
            ["true"] = true,
            ["false"] = false,
            ["small"] = 7L,
            ["negative"] = -1L,
            ["int32_max"] = (long)int.MaxValue,
            ["int64_min"] = long.MinValue,
            ["big"] = BigInteger.Pow(2, 100),
            ["negative_big"] = -BigInteger.Pow(2, 70),
            ["float"] = 1.5,
            ["text"] = "h\u00e9llo \U0001f600",
            ["escaped_name"] = "name\udcff",
            ["bytes"] = new byte[] { 0x00, 0xff, (byte)'r', (byte)'a', (byte)'w' },
            ["empty_bytes"] = Array.Empty<byte>(),
            ["tuple"] = new PyTuple(1L, "a", null),
            ["empty_tuple"] = PyTuple.Empty,
            ["list"] = new List<object?> { 1L, new List<object?> { 2L, 3L } },
            ["dict"] = new Dictionary<object, object?> { ["k"] = new Dictionary<object, object?> { ["n"] = 1L } },
            ["set"] = new HashSet<object> { 1L, 2L, 3L },
            ["frozenset"] = new HashSet<object> { "a" },
        };
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), samples.Keys.Cast<string>().Order(StringComparer.Ordinal));
        foreach (var (key, value) in expected)
        {
            Assert.True(PythonOracle.Canon(value) == PythonOracle.Canon(samples[key]),
                $"{key}: expected {PythonOracle.Canon(value)}, decoded {PythonOracle.Canon(samples[key])}");
        }
        // The CLR types the engine hands to callers, not only their canonical text.
        Assert.IsType<BigInteger>(samples["big"]);
        Assert.IsType<long>(samples["int64_min"]);
        Assert.IsType<byte[]>(samples["empty_bytes"]);
        Assert.IsType<HashSet<object>>(samples["frozenset"]);
    }

    [GsyncdPeerFact]
    public async Task ValuesRoundTripThroughPython()
    {
        object?[] values =
        [
            null, true, false, 0L, 255L, 65536L, -1L, (long)int.MinValue, long.MaxValue, BigInteger.Pow(2, 100), -BigInteger.Pow(2, 70),
            1.5, -0.0, double.MaxValue, "", "h\u00e9llo \U0001f600", "name\udcff",
            new PyTuple(), new PyTuple(1L, new PyTuple("x", null)), new List<object?> { 1L, "a", new List<object?>() },
            new Dictionary<object, object?> { ["k"] = 1L, [new PyTuple(1L, 2L)] = "tuple key" }, new HashSet<object> { 1L, "a" },
        ];
        var echoed = Assert.IsType<PyTuple>(await Client.CallAsync("echo", values));
        Assert.Equal(values.Length, echoed.Count);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.True(PythonOracle.Canon(values[i]) == PythonOracle.Canon(echoed[i]),
                $"value {i}: sent {PythonOracle.Canon(values[i])}, got back {PythonOracle.Canon(echoed[i])}");
        }
        Assert.Equal(
            new List<object?>
            {
                "NoneType", "bool", "bool", "int", "int", "int", "int", "int", "int", "int", "int",
                "float", "float", "float", "str", "str", "str", "tuple", "tuple", "list", "dict", "set",
            },
            await Client.CallAsync("types", values));
    }

    [GsyncdPeerFact]
    public async Task NameBytesReachPythonAsSurrogateEscapedText()
    {
        // GeoSync sends byte strings to a Python 3 peer as text (surrogateescape): os.fsencode there gives back the
        // very bytes, and Python's bytes come back as byte[].
        byte[] name = [(byte)'n', 0xff, 0xc3, 0xa9, (byte)'\n'];
        Assert.Equal("str", Assert.IsType<List<object?>>(await Client.CallAsync("types", [name]))[0]);
        Assert.Equal(name, await Client.CallAsync("fsencode", [name]));
        Assert.Equal("caf\u00e9"u8.ToArray(), await Client.CallAsync("fsencode", ["caf\u00e9"]));
        Assert.Equal(PyText.DecodeSurrogateEscape(name), await Client.CallAsync("echo", [name]) is PyTuple { Count: 1 } t ? t[0] : null);
    }

    [GsyncdPeerFact]
    public async Task PythonOsErrorSurfacesWithItsErrno()
    {
        var raised = await Assert.ThrowsAsync<RemoteOsException>(() => Client.CallAsync("fail_os"));
        Assert.Equal((2, "No such file or directory"), (raised.Errno, raised.StrError));
        Assert.Equal(("exceptions", "OSError"), (raised.Exception.Module, raised.Exception.TypeName));

        // 10.x's own slave primitive: os.lstat's FileNotFoundError carries the file name as a third argument.
        var fromLstat = await Assert.ThrowsAsync<RemoteOsException>(() => Client.CallAsync("entries", ["nosuch"]));
        Assert.Equal(2, fromLstat.Errno);
        Assert.Equal(new PyTuple(2L, "No such file or directory", "nosuch"), fromLstat.Exception.Args);
        Assert.Equal(1.0, await Client.CallAsync("version"));
    }

    [GsyncdPeerFact]
    public async Task PythonValueErrorSurfacesAsRemoteValueException()
    {
        var raised = await Assert.ThrowsAsync<RemoteValueException>(() => Client.CallAsync("fail_value"));
        Assert.Equal(new PyTuple("unsafe path"), raised.Exception.Args);

        // 10.x's path guard refuses the same way 3.3's did.
        var guard = await Assert.ThrowsAsync<RemoteValueException>(() => Client.CallAsync("entries", ["/etc"]));
        Assert.Equal(new PyTuple("unsafe path"), guard.Exception.Args);
        await Assert.ThrowsAsync<RemoteValueException>(() => Client.CallAsync("entries", ["a/../.."]));
    }

    [GsyncdPeerFact]
    public async Task UnknownMethodSurfacesAsRemoteAttributeException()
    {
        var raised = await Assert.ThrowsAsync<RemoteAttributeException>(() => Client.CallAsync("nosuch", [1L]));
        Assert.Equal(new PyTuple("type object 'Peer' has no attribute 'nosuch'"), raised.Exception.Args);
    }

    [GsyncdPeerFact]
    public async Task GsyncdErrorSurfacesAsARemoteException()
    {
        var raised = await Assert.ThrowsAsync<RemoteException>(() => Client.CallAsync("fail_gsyncd"));
        Assert.Equal(new PyException("syncdutils", "GsyncdError", new PyTuple("raised by the peer on purpose")), raised.Exception);
        Assert.Equal(1.0, await Client.CallAsync("version"));
    }

    [GsyncdPeerFact]
    public async Task TenXSlavePrimitivesAnswerGeoSync()
    {
        // resource.Server's own methods, run by the peer on its working directory (our temp root).
        Directory.CreateDirectory(_peer.Root.Combine("made"));
        var stat = Assert.IsType<PyStatResult>(await Client.CallAsync("lstat", ["made"]));
        Assert.Equal(10, stat.Fields.Count);
        Assert.Equal((long)FileInfoOf.LStat(_peer.Root.Combine("made")).st_ino, stat.Fields[1]);
        Assert.True(stat.Extras.ContainsKey("st_mtime_ns"));
        Assert.Equal(2L, await Client.CallAsync("lstat", ["nosuch"]));

        Assert.Equal(61L, await Client.CallAsync("xtime", ["made", Uuid]));
        Assert.Null(await Client.CallAsync("set_xtime", ["made", Uuid, new PyTuple(1700000000L, 42L)]));
        Assert.Equal(new PyTuple(1700000000L, 42L), await Client.CallAsync("xtime", ["made", Uuid]));
        Assert.Equal(new Xtime(1700000000, 42).ToBytes(),
            new PosixXattrStore().Get(_peer.Root.Combine("made"), XattrNames.XtimeFor(Uuid, XattrNames.TrustedNamespace)));

        Assert.Null(await Client.CallAsync("mkdir", ["made/below"]));
        Assert.Equal(new List<object?> { "below" }, await Client.CallAsync("entries", ["made"]));
        Assert.True(Directory.Exists(_peer.Root.Combine("made/below")));

        // Where GeoSync's slave differs on purpose (docs/protocol.md, "The slave's API"): 10.x's purge with an empty set empties the directory.
        Assert.Null(await Client.CallAsync("purge", ["made", new HashSet<object>()]));
        Assert.True(Directory.Exists(_peer.Root.Combine("made")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_peer.Root.Combine("made")));
    }

    [GsyncdPeerFact]
    public async Task GeoSyncMasterChannelWorksWith10xSlavePrimitives()
    {
        // The calls GeoSync's crawl makes, with its argument shapes, answered by 10.x's resource.Server.
        var slave = new WireSlaveChannel((method, args, cancellationToken) => Client.CallAsync(method, args, cancellationToken: cancellationToken));
        await slave.MkdirAsync("channel");
        await slave.MkdirAsync("channel/sub");
        await slave.SymlinkAsync("../elsewhere", "channel/link");
        Assert.Equal(["link", "sub"], (await slave.EntriesAsync("channel")).Order(StringComparer.Ordinal));

        Assert.Equal(LinuxErrno.ENODATA, (await slave.XtimeAsync("channel", Uuid)).Errno);
        Assert.Equal(LinuxErrno.ENOENT, (await slave.XtimeAsync("channel/nosuch", Uuid)).Errno);
        await slave.SetXtimeAsync("channel", Uuid, new Xtime(1700000002, 7));
        Assert.Equal(new Xtime(1700000002, 7), (await slave.XtimeAsync("channel", Uuid)).Value);

        await slave.SetattrAsync("channel/sub", new SlaveAttributes
        {
            Owner = (1234, 5678),
            Mode = 0x1ED, // 0755
            Times = (1_600_000_000_500_000_000, 1_600_000_001_250_000_000),
        });
        var stat = FileInfoOf.LStat(_peer.Root.Combine("channel/sub"));
        Assert.Equal((1234u, 5678u, 0x1EDu), (stat.st_uid, stat.st_gid, (uint)stat.st_mode & 0xFFF));
        Assert.Equal((1_600_000_000L, 1_600_000_001L), (stat.st_atime, stat.st_mtime));

        await slave.PurgeAsync("channel", ["link"]);
        Assert.Equal(["sub"], await slave.EntriesAsync("channel"));
        await slave.PurgeAsync("channel");
        Assert.False(Directory.Exists(_peer.Root.Combine("channel")));
        await Assert.ThrowsAsync<RemoteValueException>(() => slave.EntriesAsync("../x"));
    }

    [GsyncdPeerFact]
    public async Task GeoSyncsBatchedCallsFallBackToWhat10xSlavesHave()
    {
        // entry_types and set_xtimes are GeoSync's own: 10.x's resource.Server answers AttributeError, and the channel
        // marks each path with its own set_xtime instead (docs/interop.md).
        var slave = new WireSlaveChannel((method, args, cancellationToken) => Client.CallAsync(method, args, cancellationToken: cancellationToken));
        await slave.MkdirAsync("batched");
        await slave.MkdirAsync("batched/sub");
        await Assert.ThrowsAsync<RemoteAttributeException>(() => slave.EntryTypesAsync("batched"));

        var results = await slave.SetXtimesAsync(["batched/sub", "batched/nosuch", "batched"], Uuid, new Xtime(1700000003, 9));
        var second = await slave.SetXtimesAsync(["batched/sub"], Uuid, new Xtime(1700000004, 1));

        // 10.x's set_xtime passes over a path that is gone (its errno_wrap ignores ENOENT), so all three are answered.
        Assert.Equal([null, null, null], results);
        Assert.Equal([null], second);
        Assert.Equal(new Xtime(1700000003, 9), (await slave.XtimeAsync("batched", Uuid)).Value);
        Assert.Equal(new Xtime(1700000004, 1), (await slave.XtimeAsync("batched/sub", Uuid)).Value);
        await slave.PurgeAsync("batched");
    }

    [GsyncdPeerFact]
    public async Task FramesLargerThanAPipeBufferCrossBothWays()
    {
        // About 1.2 MB each way: the installed repce writes a frame with one os.write and reads it with pickle.load.
        var names = Enumerable.Range(0, 20000).Select(i => (object?)$"{i:D6}-caf\u00e9-{new string('x', 40)}").ToList();
        var echoed = Assert.IsType<PyTuple>(await Client.CallAsync("echo", [names]));
        Assert.Equal(names, Assert.IsType<List<object?>>(echoed[0]));
    }

    [GsyncdPeerFact]
    public async Task ConcurrentCallsGetTheirOwnAnswers()
    {
        // 16 callers, 3 Python workers, sleeps of different lengths: answers come back out of order on one stream.
        var mismatches = await Task.WhenAll(Enumerable.Range(0, 16).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < 6; i++)
            {
                var tag = $"{caller}/{i}";
                var answer = await Client.CallAsync("sleep", [((caller + i) % 4) * 0.01, tag]);
                if (!Equals(answer, tag)) return $"{tag} got {PyRepr.Format(answer)}";
            }
            return null;
        })));
        Assert.All(mismatches, Assert.Null);
    }
}

/// <summary>Why GeoSync writes text to a Python 3 peer: the installed repce reads Python 2 byte strings as ASCII.</summary>
public sealed class GsyncdPython2DialectTests
{
    [GsyncdPeerFact]
    public async Task APython2ByteStringBeyondAsciiEndsTheInstalledServer()
    {
        using var root = new TempDirectory("geosync-gsyncd-py2-");
        await using var peer = GsyncdPeer.Start(["server"], root.Path);
        var client = new RepceClient(peer.FromPeer, peer.ToPeer,
            new RepceClientOptions { Dialect = PeerDialect.Python2, CallTimeout = GsyncdServerPeer.Patience });
        try
        {
            // ASCII byte strings decode to str there, so a 3.3-style master gets through the handshake ...
            Assert.Equal(new RepceVersions(1.0, 1.0), await client.HandshakeAsync());
            Assert.Equal(new PyTuple("plain"), await client.CallAsync("echo", ["plain"]));

            // ... but the first byte >= 0x80 makes unpickling fail and the server's loop dies with it.
            var broken = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => client.CallAsync("echo", ["caf\u00e9"]));
            Assert.Contains("connection to peer is broken", broken.Message, StringComparison.Ordinal);
        }
        finally
        {
            await client.DisposeAsync();
        }
        Assert.NotEqual(0, await peer.WaitForExitAsync(GsyncdServerPeer.Patience));
        Assert.Contains("UnicodeDecodeError: 'ascii' codec can't decode byte 0xc3", await peer.StandardError, StringComparison.Ordinal);
    }
}
