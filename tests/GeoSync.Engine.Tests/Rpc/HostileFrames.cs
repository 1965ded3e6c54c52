using static GeoSync.Engine.Tests.Rpc.Frames;

namespace GeoSync.Engine.Tests.Rpc;

/// <summary>Malformed or hostile frames and a fragment of the protocol error each must raise.</summary>
internal static class HostileFrames
{
    private static readonly object[] P2 = [0x80, 2];

    /// <summary>Pickles that make CPython run a command creating <c>marker-&lt;name&gt;</c> in its working directory.</summary>
    public static IReadOnlyList<(string Name, byte[] Frame)> CodeExecution { get; } =
    [
        ("os-system", Build(P2, "cos\nsystem\n", BinUnicode("touch marker-os-system"), 0x85, 'R', '.')),
        ("posix-system", Build("cposix\nsystem\n(S'touch marker-posix-system'\ntR.")),
        ("subprocess", Build(P2, "csubprocess\ncheck_call\n", ']', '(', BinUnicode("touch"), BinUnicode("marker-subprocess"), 'e', 0x85, 'R', '.')),
        ("builtin-eval", Build("c__builtin__\neval\n(S'__import__(\"os\").system(\"touch marker-builtin-eval\")'\ntR.")),
        ("builtins-exec", Build(P2, "cbuiltins\nexec\n", BinUnicode("import os; os.system('touch marker-builtins-exec')"), 0x85, 'R', '.')),
        ("inst", Build("(S'touch marker-inst'\nios\nsystem\n.")),
        ("obj", Build("(cos\nsystem\nS'touch marker-obj'\no.")),
        ("stack-global", Build(BinUnicode("os"), BinUnicode("system"), 0x93, BinUnicode("touch marker-stack-global"), 0x85, 'R', '.')),
        // The dangerous call hidden inside an otherwise well-formed request.
        ("inside-request", Build(P2, '(', 'N', BinUnicode("entries"), "cos\nsystem\n", BinUnicode("touch marker-inside-request"), 0x85, 'R', 't', '.')),
        // An allowed name first, so a lazy check of only the first GLOBAL would miss the second.
        ("after-allowed-global", Build(P2, "c__builtin__\nset\n", ']', 0x85, 'R', "cos\nsystem\n", BinUnicode("touch marker-after-allowed-global"), 0x85, 'R', 0x86, '.')),
    ];

    /// <summary>Frames the codec itself must refuse.</summary>
    public static FrameTable Codec { get; } = BuildCodec();

    /// <summary>Well-formed pickles that are not RePCe requests.</summary>
    public static FrameTable MessageShape { get; } = new()
    {
        { "not-a-tuple", Build(P2, 'K', 1, '.'), "a request must be a tuple (rid, method, args...), got a int" },
        { "none", Build(P2, 'N', '.'), "got a None" },
        { "list", Build(P2, ']', BinUnicode("version"), 'a', '.'), "got a list" },
        { "one-element", Build(P2, 'N', 0x85, '.'), "got a tuple of 1" },
        { "method-not-string", Build(P2, 'N', 'K', 5, 0x86, '.'), "the method name of a request must be a string, got a int" },
        { "method-is-exception", Build(P2, 'N', "cexceptions\nValueError\n", ')', 'R', 0x86, '.'), "got a exception" },
    };

    /// <summary>Theory rows carry only the name, so test discovery never serializes the (sometimes large) frames.</summary>
    public static TheoryData<string> Names(params FrameTable[] tables)
    {
        var names = new TheoryData<string>();
        foreach (var name in tables.SelectMany(t => t.Keys)) names.Add(name);
        return names;
    }

    public static (byte[] Frame, string Expected) Find(string name) =>
        Codec.TryGetValue(name, out var row) ? row : MessageShape[name];

    private static FrameTable BuildCodec()
    {
        var data = new FrameTable();
        foreach (var (name, frame) in CodeExecution) data.Add("exec-" + name, frame, "not allowed");
        data.Add("global-getattr", Build(P2, "c__builtin__\ngetattr\n", '.'), "GLOBAL '__builtin__ getattr' is not allowed");
        data.Add("global-name-injection", Build(P2, "cexceptions\nOSError\\x0a\n", ')', 'R', '.'), "GLOBAL 'exceptions OSError\\x5cx0a' is not allowed");
        data.Add("newobj", Build(P2, "c__builtin__\nset\n", ')', 0x81, '.'), "opcode NEWOBJ (0x81) is not allowed");
        data.Add("newobj-ex", Build(P2, "c__builtin__\nset\n", ')', '}', 0x92, '.'), "NEWOBJ_EX");
        data.Add("stack-global-known-name", Build(BinUnicode("__builtin__"), BinUnicode("set"), 0x93, '.'), "STACK_GLOBAL");
        data.Add("persid", Build("Pfoo\n."), "PERSID");
        data.Add("binpersid", Build(P2, 'K', 1, 'Q', '.'), "BINPERSID");
        data.Add("ext1", Build(P2, 0x82, 1, '.'), "EXT1");
        data.Add("ext2", Build(P2, 0x83, 1, 0, '.'), "EXT2");
        data.Add("ext4", Build(P2, 0x84, 1, 0, 0, 0, '.'), "EXT4");
        data.Add("proto3", Build(0x80, 3, 'N', '.'), "unsupported pickle protocol 3");
        data.Add("proto4", Build(0x80, 4, 0x95, U32(3), U32(0), 'N', '.'), "unsupported pickle protocol 4");
        data.Add("proto5", Build(0x80, 5, 'N', '.'), "unsupported pickle protocol 5");
        data.Add("frame-without-proto", Build(0x95, U32(3), U32(0), 'N', '.'), "FRAME");
        data.Add("proto-mid-frame", Build(P2, 'N', 0x80, 2, '.'), "PROTO at offset 3");
        data.Add("unknown-opcode", Build(P2, 0xff, '.'), "unknown opcode 0xff");
        data.Add("pop", Build(P2, 'N', 'N', '0', '.'), "POP");
        data.Add("dup", Build(P2, 'N', '2', 't', '.'), "DUP");
        data.Add("huge-binunicode", Build(P2, 'X', U32(0xffffffff), "abc"), "length 4294967295 of opcode 0x58 exceeds the 16777216-byte message limit");
        data.Add("huge-binstring", Build(P2, 'T', U32(0x7fffffff), "abc"), "exceeds the 16777216-byte message limit");
        data.Add("huge-long4", Build(P2, 0x8b, U32(0x7ffffff0), 1), "exceeds the 16777216-byte message limit");
        data.Add("big-long4", Build(P2, 0x8b, U32(4096), new byte[4096], '.'), "4096-byte integer exceeds");
        data.Add("huge-text-int", Build(P2, 'I', new string('9', 5000), "\n."), "at most 4300 digits");
        data.Add("deep-marks", Build(P2, Repeat(70, '('), '.'), "nesting deeper than 64 levels");
        data.Add("deep-tuple1-chain", Build(P2, 'N', Repeat(100, 0x85), '.'), "nesting deeper than 64 levels");
        data.Add("deep-lists", Build(P2, Repeat(70, ']'), Repeat(69, 'a'), '.'), "nesting deeper than 64 levels");
        data.Add("deep-dicts", Build(P2, Repeat(69, '}', 'K', 0), '}', Repeat(69, 's'), '.'), "nesting deeper than 64 levels");
        data.Add("memo-get-unset", Build(P2, 'h', 5, '.'), "GET of memo slot 5, which was never set");
        data.Add("memo-long-get-unset", Build(P2, 'j', U32(70000), '.'), "memo slot 70000");
        data.Add("memo-text-get-unset", Build("g3\n."), "memo slot 3");
        data.Add("memo-put-empty-stack", Build(P2, 'q', 0, 'N', '.'), "stack underflow at PUT");
        data.Add("memo-cycle", Build(P2, ']', 'q', 0, 'h', 0, 'a', '.'), "a container holds itself");
        data.Add("memo-cycle-via-dict", Build(P2, '}', 'q', 0, 'K', 1, 'h', 0, 's', '.'), "a container holds itself");
        data.Add("memo-billion-laughs", BillionLaughs(), "expands to more than 4194304 values");
        data.Add("memo-key-blowup", KeyBlowup(), "dict key holds more than 64 values");
        data.Add("many-tiny-values", Build(P2, ']', '(', Repeat(4_200_000, 'N'), 'e', '.'), "creates more than 4194304 values");
        data.Add("stack-underflow", Build(P2, 0x85, '.'), "stack underflow at TUPLE1");
        data.Add("underflow-past-mark", Build(P2, 'N', '(', 0x86, '.'), "stack underflow at TUPLE2");
        data.Add("tuple-without-mark", Build(P2, 'N', 't', '.'), "TUPLE without a preceding MARK");
        data.Add("empty-stop", Build(P2, '.'), "STOP with 0 values");
        data.Add("two-values", Build(P2, 'N', 'N', '.'), "STOP with 2 values");
        data.Add("unclosed-mark", Build(P2, '(', 'N', '.'), "unclosed MARK");
        data.Add("unhashable-key", Build(P2, '}', ']', 'K', 1, 's', '.'), "dict key of type list is not hashable");
        data.Add("unhashable-tuple-key", Build(P2, '}', ']', 0x85, 'K', 1, 's', '.'), "dict key of type tuple is not hashable");
        data.Add("none-key", Build(P2, '}', 'N', 'K', 1, 's', '.'), "dict key None is not supported");
        data.Add("odd-setitems", Build(P2, '}', '(', 'K', 1, 'u', '.'), "odd number of items");
        data.Add("append-to-dict", Build(P2, '}', 'K', 1, 'a', '.'), "APPEND needs a list to add to, found a dict");
        data.Add("setitem-to-list", Build(P2, ']', 'K', 1, 'K', 2, 's', '.'), "SETITEM needs a dict to add to, found a list");
        data.Add("global-as-value", Build(P2, "c__builtin__\nset\n", 0x85, '.'), "GLOBAL '__builtin__ set' used as a value by TUPLE1");
        data.Add("global-as-result", Build(P2, "cexceptions\nOSError\n", '.'), "used as a value by STOP");
        data.Add("reduce-non-global", Build(P2, 'K', 1, ')', 'R', '.'), "only an allowed GLOBAL may be called");
        data.Add("reduce-args-not-tuple", Build(P2, "cexceptions\nOSError\n", 'K', 1, 'R', '.'), "the arguments must be a tuple");
        data.Add("set-of-two-args", Build(P2, "c__builtin__\nset\n", ']', ']', 0x86, 'R', '.'), "needs exactly one list argument");
        data.Add("set-unhashable-member", Build(P2, "c__builtin__\nset\n", ']', ']', 'a', 0x85, 'R', '.'), "set member of type list is not hashable");
        data.Add("bytes-with-args", Build(P2, "c__builtin__\nbytes\n", 'K', 1, 0x85, 'R', '.'), "only b'' travels this way");
        data.Add("codecs-other-encoding", Build(P2, "c_codecs\nencode\n", BinUnicode("x"), BinUnicode("rot13"), 0x86, 'R', '.'), "only latin1 is accepted");
        data.Add("codecs-not-latin1", Build(P2, "c_codecs\nencode\n", BinUnicode("\u20ac"), BinUnicode("latin1"), 0x86, 'R', '.'), "not encodable as latin1");
        data.Add("stat-wrong-shape", Build(P2, "cos\nstat_result\n", 'K', 1, 0x85, 'R', '.'), "needs (a tuple of 10 integers, a dict)");
        data.Add("build-on-list", Build(P2, ']', '}', 'b', '.'), "BUILD at offset 4 on a list");
        data.Add("build-state-not-dict", Build(P2, "cexceptions\nValueError\n", ')', 'R', 'K', 1, 'b', '.'), "with a int as state");
        data.Add("invalid-utf8", Build(P2, 'X', U32(2), 0xc3, 0x28, '.'), "BINUNICODE at offset 2 is not valid UTF-8");
        data.Add("overlong-utf8", Build(P2, 'X', U32(2), 0xc0, 0xaf, '.'), "not valid UTF-8");
        data.Add("int-garbage", Build(P2, "Iabc\n."), "INT operand 'abc' is not a decimal integer");
        data.Add("float-garbage", Build(P2, "Fone\n."), "FLOAT operand 'one' is not a number");
        data.Add("string-unquoted", Build("Sabc\n."), "STRING operand is not quoted");
        data.Add("string-bad-hex", Build("S'\\x4'\n."), "invalid \\x escape");
        data.Add("unicode-bad-escape", Build("V\\u12\n."), "truncated \\u escape");
        data.Add("negative-binstring", Build(P2, 'T', U32(0xfffffffe), '.'), "exceeds the 16777216-byte message limit");
        data.Add("truncated-mid-string", Build(P2, 'X', U32(5), "ab"), "truncated frame");
        data.Add("truncated-no-stop", Build(P2, 'N'), "truncated frame");
        data.Add("truncated-line", Build(P2, "I12"), "truncated frame");
        return data;
    }

    // Forty levels of tuples that each hold the previous one twice (all from one list): tiny on the wire, 2^40 values
    // when expanded. Each level consumes the previous one from the stack and takes its twin from the memo.
    private static byte[] BillionLaughs()
    {
        var parts = new List<object> { P2, ']', 'q', 0 };
        for (var i = 0; i < 40; i++) parts.AddRange(['h', i, 0x86, 'q', i + 1]);
        parts.Add('.');
        return Build([.. parts]);
    }

    // The same doubling with integers, then used as a dict key: hashing it would take 2^30 steps.
    private static byte[] KeyBlowup()
    {
        var parts = new List<object> { P2, '}', 'K', 1, 'q', 0 };
        for (var i = 0; i < 30; i++) parts.AddRange(['h', i, 0x86, 'q', i + 1]);
        parts.AddRange(['K', 1, 's', '.']);
        return Build([.. parts]);
    }

    /// <summary>Frames by name, each with a fragment of the protocol error it must raise.</summary>
    public sealed class FrameTable : Dictionary<string, (byte[] Frame, string Expected)>
    {
        public void Add(string name, byte[] frame, string expected) => Add(name, (frame, expected));
    }
}
