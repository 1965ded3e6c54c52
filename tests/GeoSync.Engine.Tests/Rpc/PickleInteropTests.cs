using System.Numerics;
using System.Text;
using GeoSync.Engine.Rpc;
using static GeoSync.Engine.Tests.Rpc.Frames;

namespace GeoSync.Engine.Tests.Rpc;

/// <summary>Compatibility with CPython's own pickle module, in both directions (one python3 launch per test).</summary>
public class PickleInteropTests
{
    [Fact]
    public void DecodesWhatPythonPicklesAtProtocols0To2()
    {
        var script = PythonOracle.CanonPython + """
            class GsyncdError(Exception): pass
            with_state = ValueError('with state'); with_state.detail = 1
            shared = [1, 'x']
            stat = os.stat_result((16877, 2, 65024, 21, 0, 0, 4096, 1795641558, 1795641510, 1795641510),
                {'st_atime': 1795641558.500637, 'st_mtime': 1795641510.5766394, 'st_ctime': 1795641510.5766394,
                 'st_atime_ns': 1795641558500637130, 'st_mtime_ns': 1795641510576639375, 'st_ctime_ns': 1795641510576639375,
                 'st_blksize': 4096, 'st_blocks': 8, 'st_rdev': 0})
            cases = {
                'none': None, 'true': True, 'false': False,
                'ints': (0, 1, 255, 256, 65535, 65536, -1, -256, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**32, 2**63 - 1, -2**63),
                'bigints': (2**63, -2**63 - 1, 2**64, -2**70 - 5, 10**40, -(10**60), 2**1000),
                'floats': (0.0, -0.0, 1.5, -0.1, 1e300, 5e-324, 1700000000.5, float('inf'), float('-inf'), float('nan')),
                'text': ('', 'xtime', 'h\u00e9llo w\u00f6rld \u20ac', '\U0001f600', 'a\udcffb\udc80', '\ud800', 'line\nbreak\\ \x00 \x1a \r'),
                'bytes': (b'', b'abc', b'\xff\x00\x80abc', '\u00e9'.encode(), bytes(range(256))),
                'tuples': ((), (1,), (1, 'a'), (1, 2, 3), (1, 2, 3, 4), tuple(range(10)), ((),), ((1,), (2, (3,)))),
                'lists': ([], [1, 'a', None], list(range(2500)), [[1, [2, [3]]]]),
                'dicts': ({}, {'u1': None, 'u2': (1, 2)}, {1: 'a', 2: 'b'}, {(1, 2): 'x', b'k': 'bytes key'},
                          {str(i): i for i in range(1500)}),
                'sets': (set(), {'a', 'b'}, frozenset([1, 2]), {(1, 2), b'x'}),
                'keepalive': {'version': (1, 0), 'uuid': '0a1b2c3d-0000-1111-2222-333344445555', 'retval': 0,
                              'volume_mark': (1700000000, 5), 'timeout': 1700000120},
                'request': ((1234, 140000000000, 1700000000.5), 'xtime', '.', 'a1b2'),
                'response_ok': ((1234, 1, 1.5), False, (1700000000, 123456)),
                'oserror': OSError(2, 'No such file or directory'),
                'oserror3': OSError(13, 'Permission denied', 'a/b'),
                'oserror5': OSError(17, 'File exists', 'a', None, 'b'),
                'ioerror': IOError(5, 'Input/output error'),
                'valueerror': ValueError('unsafe path'),
                'attributeerror': AttributeError("type object 'FILEServer' has no attribute 'nosuch'"),
                'others': (TypeError('t'), KeyError('k'), IndexError('i'), RuntimeError('r'), EOFError(), AssertionError('a'),
                           NotImplementedError('n'), Exception('plain')),
                'structerror': struct.error('argument out of range'),
                'with_state': with_state,
                'stat': stat,
                'shared': (shared, shared, 'dup', 'dup'),
            }
            for name, value in cases.items():
                for proto in (0, 1, 2):
                    print(name, proto, canon(value), pickle.dumps(value, proto).hex())
            """;
        var failures = new List<string>();
        var lines = PythonOracle.Run(script).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 3 * 26, $"python printed {lines.Length} lines for 26 cases at 3 protocols");
        foreach (var line in lines)
        {
            var fields = line.Split(' ');
            var (name, proto, expected, frame) = (fields[0], fields[1], fields[2], PythonOracle.Unhex(fields[3]));
            try
            {
                var actual = PythonOracle.Canon(PickleReader.Decode(frame));
                if (actual != expected) failures.Add($"{name} protocol {proto}: expected {expected}, got {actual}");
            }
            catch (GeoSyncProtocolException e)
            {
                failures.Add($"{name} protocol {proto}: {e.Message}");
            }
        }
        Assert.Empty(failures);
    }

    [Fact]
    public void DecodesPython2StyleFramesAsPythonDoes()
    {
        // What Python 2's cPickle writes (byte strings, text INT, memo PUT/GET, STRING), checked against
        // pickle.loads(..., encoding='bytes'), which is how Python 3 reads Python 2 pickles.
        var cases = Python2StyleFrames();
        var stdin = string.Join("\n", cases.Select(c => $"{c.Name} {PythonOracle.Hex(c.Frame)}")) + "\n";
        var script = PythonOracle.CanonPython + """
            for line in sys.stdin:
                name, frame = line.split()
                print(name, canon(pickle.loads(bytes.fromhex(frame), encoding='bytes')))
            """;
        var expected = PythonOracle.Run(script, stdin).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(f => f[0], f => f[1]);
        Assert.Equal(cases.Count, expected.Count);
        foreach (var (name, frame) in cases)
        {
            Assert.Equal((name, expected[name]), (name, PythonOracle.Canon(PickleReader.Decode(frame))));
        }
    }

    [Fact]
    public void SpecExampleRequestFromCPickleDecodesToTypedValues()
    {
        var request = Python2StyleFrames().Single(c => c.Name == "spec_request").Frame;
        var value = Assert.IsType<PyTuple>(PickleReader.Decode(request));
        Assert.Equal(new PyTuple(1234L, 140000000000L, 1700000000.5), value[0]);
        Assert.Equal("xtime"u8.ToArray(), Assert.IsType<byte[]>(value[1]));
        Assert.Equal("."u8.ToArray(), Assert.IsType<byte[]>(value[2]));
        Assert.Equal("a1b2"u8.ToArray(), Assert.IsType<byte[]>(value[3]));
    }

    [Fact]
    public void PythonLoadsWhatWeWriteInBothDialects()
    {
        var values = WriterCases();
        var lines = new List<string>();
        foreach (var (name, value) in values)
        {
            foreach (var dialect in new[] { PeerDialect.Python3, PeerDialect.Python2 })
            {
                if (dialect == PeerDialect.Python2 && value is PyStatResult) continue; // 3.3 peers never see stat results
                lines.Add($"{name} {dialect} {PythonOracle.Hex(PickleWriter.Encode(value, dialect))}");
            }
        }
        var script = PythonOracle.CanonPython + """
            import pickletools
            allowed = {'PROTO', 'MARK', 'TUPLE', 'EMPTY_TUPLE', 'TUPLE1', 'TUPLE2', 'TUPLE3', 'EMPTY_LIST', 'APPENDS',
                       'EMPTY_DICT', 'SETITEMS', 'NONE', 'NEWTRUE', 'NEWFALSE', 'BININT', 'BININT1', 'BININT2', 'LONG1',
                       'BINFLOAT', 'STOP', 'SHORT_BINSTRING', 'BINSTRING', 'BINUNICODE', 'GLOBAL', 'REDUCE'}
            for line in sys.stdin:
                name, dialect, frame = line.split()
                data = bytes.fromhex(frame)
                used = {op.name for op, arg, pos in pickletools.genops(data)}
                if used - allowed: print(name, dialect, 'FORBIDDEN', sorted(used - allowed)); continue
                if dialect == 'Python3' and used & {'SHORT_BINSTRING', 'BINSTRING'}: print(name, dialect, 'BYTES-TO-PY3'); continue
                value = pickle.loads(data, encoding='bytes') if dialect == 'Python2' else pickle.loads(data)
                print(name, dialect, canon(value), pickle.dumps(value, 2).hex())
            """;
        var output = PythonOracle.Run(script, string.Join("\n", lines) + "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Count, output.Length);
        var byName = values.ToDictionary(v => v.Name, v => v.Value);
        var failures = new List<string>();
        foreach (var line in output)
        {
            var fields = line.Split(' ');
            var (name, dialect) = (fields[0], Enum.Parse<PeerDialect>(fields[1]));
            var expected = PythonOracle.Canon(byName[name], dialect);
            if (fields[2] != expected)
            {
                failures.Add($"{name} to {dialect}: python saw {string.Join(' ', fields[2..])}, expected {expected}");
                continue;
            }
            // And back: Python's own re-pickling of what it loaded decodes to the same value here.
            var again = PythonOracle.Canon(PickleReader.Decode(PythonOracle.Unhex(fields[3])));
            if (again != expected) failures.Add($"{name} to {dialect} and back: got {again}, expected {expected}");
        }
        Assert.Empty(failures);
    }

    private static List<(string Name, object? Value)> WriterCases()
    {
        var statExtras = new Dictionary<object, object?>(PyEquality.Instance)
        {
            ["st_atime"] = 1795641558.5,
            ["st_mtime"] = 1795641510.25,
            ["st_ctime"] = 1795641510.25,
            ["st_atime_ns"] = 1795641558500000000L,
            ["st_mtime_ns"] = 1795641510250000000L,
            ["st_ctime_ns"] = 1795641510250000000L,
            ["st_blksize"] = 4096L,
            ["st_blocks"] = 8L,
            ["st_rdev"] = 0L,
        };
        return
        [
            ("none", null), ("true", true), ("false", false),
            ("ints", new PyTuple(0L, 1, 255, 256, 65535, 65536, -1, -256, int.MaxValue, int.MinValue, 2147483648L,
                -2147483649L, 4294967296L, long.MaxValue, long.MinValue, (byte)7, (short)-7, (ushort)60000, 3u)),
            ("bigints", new PyTuple(BigInteger.Pow(2, 64), -BigInteger.Pow(2, 100) - 5, BigInteger.Pow(10, 40), ulong.MaxValue,
                new BigInteger(42))),
            ("floats", new PyTuple(0.0, -0.0, 1.5, -0.1, 1e300, double.Epsilon, 1700000000.5, double.PositiveInfinity,
                double.NegativeInfinity, 0.25f)),
            ("text", new PyTuple("", "xtime", "h\u00e9llo w\u00f6rld \u20ac", "\U0001f600", "a\udcffb\udc80", "\ud800x",
                "line\nbreak\\ \0 '\"")),
            ("bytes", new PyTuple(Array.Empty<byte>(), "abc"u8.ToArray(), new byte[] { 0xff, 0x00, 0x80, 0x61 },
                Encoding.UTF8.GetBytes("\u00e9"), Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(),
                new byte[] { 0xed, 0xb3, 0xbf })),
            ("long_string", new string('x', 300) + "\u00e9"),
            ("long_bytes", Enumerable.Repeat((byte)0xfe, 70000).ToArray()),
            ("tuples", new PyTuple(PyTuple.Empty, new PyTuple(1L), new PyTuple(1L, "a"), new PyTuple(1L, 2L, 3L),
                new PyTuple(1L, 2L, 3L, 4L), new PyTuple(1L, 2L, 3L, 4L, 5L), new PyTuple(new PyTuple(new PyTuple())))),
            ("lists", new PyTuple(new List<object?>(), new List<object?> { 1L, "a", null }, new object?[] { "array" },
                new List<string> { "x", "y" }, Enumerable.Range(0, 2500).Select(i => (object?)(long)i).ToList())),
            ("dicts", new PyTuple(new Dictionary<object, object?>(),
                new Dictionary<string, object?> { ["u1"] = null, ["u2"] = new PyTuple(1L, 2L) },
                new Dictionary<object, object?> { [1L] = "a", [new PyTuple(1L, 2L)] = "x" })),
            ("sets", new PyTuple(new HashSet<object>(), new HashSet<object> { 1L, 2L }, new HashSet<string> { "sub" })),
            ("keepalive", new Dictionary<string, object?>
            {
                ["version"] = new PyTuple(1L, 0L), ["uuid"] = "0a1b2c3d-0000-1111-2222-333344445555", ["retval"] = 0L,
                ["volume_mark"] = new PyTuple(1700000000L, 5L), ["timeout"] = 1700000120L,
            }),
            ("request", new PyTuple(new PyTuple(1234L, 140000000000L, 1700000000.5), "xtime", ".", "a1b2")),
            ("oserror", new PyException("exceptions", "OSError", new PyTuple(2L, "No such file or directory"))),
            ("oserror3", new PyException("exceptions", "OSError", new PyTuple(13L, "Permission denied", "a/b"))),
            ("valueerror", new PyException("exceptions", "ValueError", new PyTuple("unsafe path"))),
            ("attributeerror", new PyException("exceptions", "AttributeError", new PyTuple("no attribute 'nosuch'"))),
            ("exception", new PyException("exceptions", "Exception", new PyTuple("internal error"))),
            ("structerror", new PyException("struct", "error", new PyTuple("argument out of range"))),
            ("response", new PyTuple(new PyTuple(1L, 2L, 3.5), true,
                new PyException("exceptions", "OSError", new PyTuple(20L, "Not a directory")))),
            ("stat", new PyStatResult(new PyTuple(16877L, 2L, 65024L, 21L, 0L, 0L, 4096L, 1795641558L, 1795641510L, 1795641510L), statExtras)),
        ];
    }

    private static List<(string Name, byte[] Frame)> Python2StyleFrames()
    {
        var p2 = new object[] { 0x80, 2 };
        return
        [
            // The example frame of docs/protocol.md ("RePCe framing and messages") as cPickle writes it, memo opcodes included.
            ("spec_request", Build(p2, (byte)'(', 0x4d, 0xd2, 0x04, "I140000000000\n", 0x47, 0x41, 0xd9, 0x54, 0xfc, 0x40, 0x20, 0x00, 0x00,
                0x87, (byte)'q', 1, ShortBinString("xtime"), (byte)'q', 2, ShortBinString("."), (byte)'q', 3,
                ShortBinString("a1b2"), (byte)'q', 4, (byte)'t', (byte)'q', 5, (byte)'.')),
            ("repeated_string", Build(p2, (byte)'(', ShortBinString("a"), (byte)'q', 1, (byte)'h', 1, (byte)'h', 1, (byte)'t', (byte)'.')),
            ("two_sets_one_global", Build(p2, "c__builtin__\nset\n", (byte)'q', 1, (byte)']', (byte)'q', 2, ShortBinString("sub"),
                (byte)'a', 0x85, (byte)'R', (byte)'q', 3, (byte)'h', 1, (byte)']', (byte)'(', ShortBinString("x"), ShortBinString("y"),
                (byte)'e', 0x85, (byte)'R', 0x86, (byte)'.')),
            ("binstring", Build(p2, (byte)'T', U32(300), Enumerable.Repeat((byte)0xe9, 300).ToArray(), (byte)'.')),
            ("string_escapes", Build("S'it\\'s \\x00\\n\\\\ \\101\\7 \\q'\n", (byte)'.')),
            ("string_double_quoted", Build("S\"it's\"\n", (byte)'.')),
            ("long4", Build(p2, 0x8b, U32(9), 0x01, 0, 0, 0, 0, 0, 0, 0, 0x80, (byte)'.')),
            ("long_text", Build("L123456789012345678901234567890L\n", (byte)'.')),
            ("long_text_negative", Build("L-5L\n", (byte)'.')),
            ("int_text", Build("(I01\nI00\nI-140000000000\nI7\nt.")),
            ("float_text", Build("(F1.5\nF-1e+300\nFinf\nt.")),
            ("unicode_raw_escape", Build("Vcaf", 0xe9, " \\u20ac \\U0001f600 a\\b \\\\u0041 \\udcff\n", (byte)'.')),
            ("binunicode_surrogates", Build(p2, (byte)'X', U32(7), 0x61, 0xed, 0xb3, 0xbf, 0xed, 0xb2, 0x80, (byte)'.')),
            ("long_memo", Build(p2, (byte)'(', ShortBinString("k"), (byte)'r', U32(70000), (byte)'j', U32(70000), (byte)'t', (byte)'.')),
            ("text_memo", Build("(S'k'\np7\ng7\nt.")),
            ("exception_response", Build(p2, (byte)'(', (byte)'K', 1, (byte)'K', 2, "G?\xf8\x00\x00\x00\x00\x00\x00", 0x87, 0x88,
                "cexceptions\nOSError\n", (byte)'q', 1, (byte)'K', 2, ShortBinString("No such file or directory"), 0x86, (byte)'R',
                (byte)'t', (byte)'.')),
            ("dict_setitems", Build(p2, (byte)'}', (byte)'q', 1, (byte)'(', ShortBinString("u1"), (byte)'N', ShortBinString("u2"),
                (byte)'N', (byte)'u', (byte)'.')),
            ("dict_setitem", Build(p2, (byte)'}', ShortBinString("mode"), (byte)'M', 0xed, 0x41, (byte)'s', (byte)'.')),
            ("dict_and_list_opcodes", Build("((S'a'\nI1\nd(I1\nI2\nlt.")),
            ("append", Build(p2, (byte)']', (byte)'K', 1, (byte)'a', (byte)'K', 2, (byte)'a', (byte)'.')),
            ("empty_bytes", Build(p2, "c__builtin__\nbytes\n)R.")),
            ("codecs_bytes", Build(p2, "c_codecs\nencode\n", BinUnicode("\u00ff\u0001a"), BinUnicode("latin1"), 0x86, (byte)'R', (byte)'.')),
            ("build_on_exception", Build(p2, "cexceptions\nValueError\n", ShortBinString("x"), 0x85, (byte)'R', (byte)'}',
                BinUnicode("detail"), (byte)'K', 1, (byte)'s', (byte)'b', (byte)'.')),
            ("struct_error", Build(p2, "cstruct\nerror\n", ShortBinString("bad"), 0x85, (byte)'R', (byte)'.')),
            ("no_proto", Build("N.")),
        ];
    }
}
