using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace GeoSync.Engine.Rpc;

/// <summary>
/// Decodes one complete pickle frame into plain values (the semantic half of <see cref="PickleReader"/>). Never
/// resolves a name to code: a whitelisted GLOBAL becomes a marker that only REDUCE may consume, producing data.
/// </summary>
internal sealed class PickleDecoder
{
    // Python itself refuses int/str conversions beyond 4300 digits; the same bound keeps parsing and printing linear.
    private const int MaxIntegerDigits = 4300;
    private const int MaxIntegerBytes = 1800;

    // Dict keys and set members are hashed while decoding; keeping them small keeps that cost linear in the frame size.
    private const int MaxKeyValues = 64;

    private const int MaxShownOperand = 80;

    private static readonly object[] SmallIntegers = Enumerable.Range(0, 256).Select(i => (object)(long)i).ToArray();
    private static readonly object BoxedTrue = true;
    private static readonly object BoxedFalse = false;

    private static readonly Dictionary<(string Module, string Name), GlobalKind> AllowedGlobals = BuildAllowedGlobals();

    private readonly byte[] _data;
    private readonly int _length;
    private readonly PickleLimits _limits;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private readonly Dictionary<PyTuple, TupleShape> _tupleShapes = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, (int Height, long Count)> _walked = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<object> _walking = new(ReferenceEqualityComparer.Instance);
    private int _pos;
    private long _values;

    private PickleDecoder(byte[] data, int length, PickleLimits limits)
    {
        _data = data;
        _length = length;
        _limits = limits;
    }

    private enum GlobalKind
    {
        EmptyBytes,
        Set,
        Exception,
        StatResult,
        CodecsEncode,
    }

    public static object? Decode(byte[] data, int length, PickleLimits limits)
    {
        if (length > limits.MaxFrameBytes)
        {
            throw Error($"a {length}-byte message exceeds the {limits.MaxFrameBytes}-byte message limit");
        }
        return new PickleDecoder(data, length, limits).Run();
    }

    internal static GeoSyncProtocolException Error(string what) => new($"protocol error: {what}");

    /// <summary>True for the exception GLOBALs a reader accepts, so a writer never sends one a GeoSync peer would refuse.</summary>
    internal static bool IsAllowedException(string module, string name) =>
        AllowedGlobals.TryGetValue((module, name), out var kind) && kind == GlobalKind.Exception;

    private object? Run()
    {
        while (_pos < _length)
        {
            var offset = _pos;
            var opcode = _data[_pos++];
            if (opcode == PickleOpcodes.Stop) return Finish();
            Execute(opcode, offset);
        }
        throw Error($"truncated frame: {_length} bytes without a STOP opcode");
    }

    private void Execute(byte opcode, int offset)
    {
        switch (opcode)
        {
            case PickleOpcodes.Proto:
                var version = ReadU8();
                if (offset != 0) throw Error($"PROTO at offset {offset}; it may only start a message");
                if (version > 2) throw Error($"unsupported pickle protocol {version}; RePCe peers use protocol 2");
                break;
            case PickleOpcodes.Mark:
                if (_marks.Count >= _limits.MaxDepth) throw Nesting();
                _marks.Push(_stack.Count);
                break;
            case PickleOpcodes.EmptyTuple:
                Push(PyTuple.Empty);
                break;
            case PickleOpcodes.Tuple1:
                Push(MakeTuple(PopValues(1, "TUPLE1")));
                break;
            case PickleOpcodes.Tuple2:
                Push(MakeTuple(PopValues(2, "TUPLE2")));
                break;
            case PickleOpcodes.Tuple3:
                Push(MakeTuple(PopValues(3, "TUPLE3")));
                break;
            case PickleOpcodes.Tuple:
                Push(MakeTuple(PopToMark("TUPLE")));
                break;
            case PickleOpcodes.EmptyList:
                Push(new List<object?>());
                break;
            case PickleOpcodes.List:
                Push(new List<object?>(PopToMark("LIST")));
                break;
            case PickleOpcodes.Append:
                var item = PopValue("APPEND");
                TopList("APPEND").Add(item);
                break;
            case PickleOpcodes.Appends:
                var items = PopToMark("APPENDS");
                TopList("APPENDS").AddRange(items);
                break;
            case PickleOpcodes.EmptyDict:
                Push(NewDict());
                break;
            case PickleOpcodes.Dict:
                var dict = NewDict();
                AddItems(dict, PopToMark("DICT"), "DICT");
                Push(dict);
                break;
            case PickleOpcodes.SetItem:
                var value = PopValue("SETITEM");
                var key = PopValue("SETITEM");
                TopDict("SETITEM")[CheckHashable(key, "dict key", allowNone: false)!] = value;
                break;
            case PickleOpcodes.SetItems:
                var pairs = PopToMark("SETITEMS");
                AddItems(TopDict("SETITEMS"), pairs, "SETITEMS");
                break;
            case PickleOpcodes.None:
                Push(null);
                break;
            case PickleOpcodes.NewTrue:
                Push(BoxedTrue);
                break;
            case PickleOpcodes.NewFalse:
                Push(BoxedFalse);
                break;
            case PickleOpcodes.Int:
                Push(ParseIntLine(ReadLine()));
                break;
            case PickleOpcodes.BinInt:
                Push(Box(BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))));
                break;
            case PickleOpcodes.BinInt1:
                Push(Box(ReadU8()));
                break;
            case PickleOpcodes.BinInt2:
                Push(Box(BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))));
                break;
            case PickleOpcodes.Long:
                var digits = ReadLine();
                if (digits.Length > 0 && digits[^1] == (byte)'L') digits = digits[..^1];
                Push(ParseDecimal(digits, "LONG"));
                break;
            case PickleOpcodes.Long1:
                Push(ParseTwosComplement(ReadBytes(ReadU8())));
                break;
            case PickleOpcodes.Long4:
                Push(ParseTwosComplement(ReadBytes(ReadLength(opcode))));
                break;
            case PickleOpcodes.Float:
                Push(ParseFloat(ReadLine()));
                break;
            case PickleOpcodes.BinFloat:
                Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8)));
                break;
            case PickleOpcodes.ShortBinString:
                Push(ReadBytes(ReadU8()).ToArray());
                break;
            case PickleOpcodes.BinString:
                Push(ReadBytes(ReadLength(opcode)).ToArray());
                break;
            case PickleOpcodes.String:
                Push(DecodeQuotedString(ReadLine()));
                break;
            case PickleOpcodes.BinUnicode:
                var utf8 = ReadBytes(ReadLength(opcode));
                Push(PyText.TryDecodeSurrogatePass(utf8, out var text)
                    ? text
                    : throw Error($"BINUNICODE at offset {offset} is not valid UTF-8"));
                break;
            case PickleOpcodes.Unicode:
                Push(DecodeRawUnicodeEscape(ReadLine()));
                break;
            case PickleOpcodes.Put:
                Memoize(ParseMemoIndex(ReadLine(), "PUT"));
                break;
            case PickleOpcodes.BinPut:
                Memoize(ReadU8());
                break;
            case PickleOpcodes.LongBinPut:
                Memoize(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)));
                break;
            case PickleOpcodes.Get:
                Recall(ParseMemoIndex(ReadLine(), "GET"));
                break;
            case PickleOpcodes.BinGet:
                Recall(ReadU8());
                break;
            case PickleOpcodes.LongBinGet:
                Recall(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)));
                break;
            case PickleOpcodes.Global:
                var module = ReadLine();
                var name = ReadLine();
                Push(ResolveGlobal(module, name));
                break;
            case PickleOpcodes.Reduce:
                var arguments = PopValue("REDUCE");
                var callable = PopAny("REDUCE");
                if (callable is not GlobalRef global)
                {
                    throw Error($"REDUCE at offset {offset} calls a {TypeName(callable)}; only an allowed GLOBAL may be called");
                }
                Push(Apply(global, arguments));
                break;
            case PickleOpcodes.Build:
                var state = PopValue("BUILD");
                var target = Top("BUILD");
                if (target is not PyException)
                {
                    throw Error($"BUILD at offset {offset} on a {TypeName(target)}; only an exception may receive state");
                }
                // The attributes Python restores here are not part of RePCe's contract; the exception's args carry it.
                if (state is not null and not Dictionary<object, object?>)
                {
                    throw Error($"BUILD at offset {offset} with a {TypeName(state)} as state; expected a dict or None");
                }
                break;
            default:
                throw Error($"{PickleOpcodes.Describe(opcode)} at offset {offset}");
        }
    }

    private object? Finish()
    {
        if (_marks.Count > 0) throw Error("STOP inside an unclosed MARK");
        if (_stack.Count != 1)
        {
            throw Error($"STOP with {_stack.Count} values on the stack; a message is exactly one value");
        }
        var value = PopValue("STOP");
        if (_pos != _length) throw Error($"{_length - _pos} bytes follow the STOP opcode");
        Walk(value, 1);
        return value;
    }

    // Checks the finished value once: depth, cycles, and how far memo references expand it. Each container is visited
    // once (results are cached by reference), so shared sub-values cannot make this step exponential.
    private (int Height, long Count) Walk(object? value, int level)
    {
        var children = Children(value);
        if (children is null) return (0, 1);
        var node = value!;
        if (_walked.TryGetValue(node, out var known))
        {
            if (level + known.Height - 1 > _limits.MaxDepth) throw Nesting();
            return known;
        }
        if (level > _limits.MaxDepth) throw Nesting();
        if (!_walking.Add(node)) throw Error("a container holds itself (a cycle built through the memo)");
        var height = 0;
        var count = 1L;
        foreach (var child in children)
        {
            var (childHeight, childCount) = Walk(child, level + 1);
            height = Math.Max(height, childHeight);
            count += childCount;
            if (count > _limits.MaxValues)
            {
                throw Error($"the message expands to more than {_limits.MaxValues} values through memo references");
            }
        }
        _walking.Remove(node);
        var result = (height + 1, count);
        _walked[node] = result;
        return result;
    }

    private static IEnumerable<object?>? Children(object? value) => value switch
    {
        PyTuple tuple => tuple,
        List<object?> list => list,
        Dictionary<object, object?> dict => dict.SelectMany(pair => new[] { pair.Key, pair.Value }),
        HashSet<object> set => set,
        PyException exception => [exception.Args],
        PyStatResult stat => [stat.Fields, stat.Extras],
        _ => null,
    };

    private object Apply(GlobalRef global, object? arguments)
    {
        if (arguments is not PyTuple args)
        {
            throw Error($"REDUCE of {global} with a {TypeName(arguments)}; the arguments must be a tuple");
        }
        switch (global.Kind)
        {
            case GlobalKind.EmptyBytes:
                if (args.Count != 0)
                {
                    throw Error($"REDUCE of {global} with arguments; only b'' travels this way (other bytes use _codecs encode)");
                }
                return Array.Empty<byte>();
            case GlobalKind.Set:
                if (args.Count != 1 || args[0] is not List<object?> members)
                {
                    throw Error($"REDUCE of {global} needs exactly one list argument");
                }
                var set = new HashSet<object>(PyEquality.Instance);
                foreach (var member in members) set.Add(CheckHashable(member, "set member", allowNone: true)!);
                return set;
            case GlobalKind.Exception:
                return new PyException(global.Module, global.Name, args);
            case GlobalKind.StatResult:
                if (args.Count != 2 || args[0] is not PyTuple fields || fields.Count != 10
                    || !fields.All(f => f is long or BigInteger) || args[1] is not Dictionary<object, object?> extras)
                {
                    throw Error($"REDUCE of {global} needs (a tuple of 10 integers, a dict)");
                }
                return new PyStatResult(fields, extras);
            case GlobalKind.CodecsEncode:
                if (args.Count != 2 || args[0] is not string latin1 || args[1] is not string encoding)
                {
                    throw Error($"REDUCE of {global} needs (text, encoding name)");
                }
                if (encoding != "latin1") throw Error($"REDUCE of {global} with encoding '{encoding}'; only latin1 is accepted");
                var bytes = new byte[latin1.Length];
                for (var i = 0; i < latin1.Length; i++)
                {
                    if (latin1[i] > 0xFF) throw Error($"REDUCE of {global}: the text is not encodable as latin1");
                    bytes[i] = (byte)latin1[i];
                }
                return bytes;
            default:
                throw new InvalidOperationException($"unhandled GLOBAL kind {global.Kind}");
        }
    }

    private static GlobalRef ResolveGlobal(ReadOnlySpan<byte> module, ReadOnlySpan<byte> name)
    {
        var moduleText = Printable(module);
        var nameText = Printable(name);
        if (!AllowedGlobals.TryGetValue((moduleText, nameText), out var kind))
        {
            throw Error($"GLOBAL '{moduleText} {nameText}' is not allowed; only the exception, set, bytes and stat_result names of spec §3.8 are");
        }
        return new GlobalRef(kind, moduleText, nameText);
    }

    private static Dictionary<(string Module, string Name), GlobalKind> BuildAllowedGlobals()
    {
        var allowed = new Dictionary<(string Module, string Name), GlobalKind>
        {
            [("__builtin__", "bytes")] = GlobalKind.EmptyBytes,
            [("builtins", "bytes")] = GlobalKind.EmptyBytes,
            [("__builtin__", "set")] = GlobalKind.Set,
            [("__builtin__", "frozenset")] = GlobalKind.Set,
            [("builtins", "set")] = GlobalKind.Set,
            [("builtins", "frozenset")] = GlobalKind.Set,
            [("struct", "error")] = GlobalKind.Exception,
            [("syncdutils", "GsyncdError")] = GlobalKind.Exception,
            [("os", "stat_result")] = GlobalKind.StatResult,
            [("_codecs", "encode")] = GlobalKind.CodecsEncode,
        };
        string[] exceptionNames =
        [
            "OSError", "IOError", "EnvironmentError", "ValueError", "AttributeError", "TypeError", "KeyError",
            "IndexError", "UnicodeEncodeError", "UnicodeDecodeError", "Exception", "RuntimeError",
            "NotImplementedError", "EOFError", "AssertionError",
        ];
        foreach (var name in exceptionNames) allowed[("exceptions", name)] = GlobalKind.Exception;
        return allowed;
    }

    private PyTuple MakeTuple(object?[] items)
    {
        if (items.Length == 0) return PyTuple.Empty;
        var height = 0;
        var keyWeight = 1;
        foreach (var item in items)
        {
            var (childHeight, childWeight) = item switch
            {
                PyTuple tuple => ShapeOf(tuple),
                List<object?> or Dictionary<object, object?> or HashSet<object> or PyException or PyStatResult => new TupleShape(1, -1),
                _ => new TupleShape(0, 1),
            };
            height = Math.Max(height, childHeight);
            keyWeight = keyWeight < 0 || childWeight < 0 ? -1 : Math.Min(keyWeight + childWeight, MaxKeyValues + 1);
        }
        // Tuples are immutable, so their depth is known when built: a chain of TUPLE1s fails here, early and cheaply.
        if (height + 1 > _limits.MaxDepth) throw Nesting();
        var result = new PyTuple(items);
        _tupleShapes[result] = new TupleShape(height + 1, keyWeight);
        return result;
    }

    private TupleShape ShapeOf(PyTuple tuple) =>
        _tupleShapes.TryGetValue(tuple, out var shape) ? shape : new TupleShape(1, 1);

    private object? CheckHashable(object? key, string what, bool allowNone)
    {
        if (key is null)
        {
            return allowNone ? null : throw Error($"{what} None is not supported");
        }
        var weight = key switch
        {
            bool or long or BigInteger or double or string or byte[] => 1,
            PyTuple tuple => ShapeOf(tuple).KeyWeight,
            _ => -1,
        };
        if (weight < 0) throw Error($"{what} of type {TypeName(key)} is not hashable");
        if (weight > MaxKeyValues) throw Error($"{what} holds more than {MaxKeyValues} values");
        return key;
    }

    private void AddItems(Dictionary<object, object?> dict, object?[] items, string opcode)
    {
        if (items.Length % 2 != 0) throw Error($"{opcode} with an odd number of items ({items.Length})");
        for (var i = 0; i < items.Length; i += 2)
        {
            dict[CheckHashable(items[i], "dict key", allowNone: false)!] = items[i + 1];
        }
    }

    private static Dictionary<object, object?> NewDict() => new(PyEquality.Instance);

    private void Memoize(long index)
    {
        _memo[index] = Top("PUT");
        CountValue();
    }

    private void Recall(long index)
    {
        if (!_memo.TryGetValue(index, out var value)) throw Error($"GET of memo slot {index}, which was never set");
        Push(value);
    }

    private void Push(object? value)
    {
        _stack.Add(value);
        CountValue();
    }

    // One-byte opcodes (NONE, BINGET) would otherwise let a message cost many times its size in references.
    private void CountValue()
    {
        if (++_values > _limits.MaxValues) throw Error($"the message creates more than {_limits.MaxValues} values");
    }

    // Values below the innermost MARK belong to an enclosing container and are out of reach, as in CPython.
    private int Available => _stack.Count - (_marks.Count > 0 ? _marks.Peek() : 0);

    private object? Top(string opcode)
    {
        if (Available < 1) throw Error($"stack underflow at {opcode}");
        return _stack[^1];
    }

    private List<object?> TopList(string opcode) => Top(opcode) as List<object?>
        ?? throw Error($"{opcode} needs a list to add to, found a {TypeName(_stack[^1])}");

    private Dictionary<object, object?> TopDict(string opcode) => Top(opcode) as Dictionary<object, object?>
        ?? throw Error($"{opcode} needs a dict to add to, found a {TypeName(_stack[^1])}");

    private object? PopAny(string opcode)
    {
        var value = Top(opcode);
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? PopValue(string opcode) => CheckNotGlobal(PopAny(opcode), opcode);

    private object?[] PopValues(int count, string opcode)
    {
        if (Available < count) throw Error($"stack underflow at {opcode}");
        return TakeFrom(_stack.Count - count, opcode);
    }

    private object?[] PopToMark(string opcode)
    {
        if (_marks.Count == 0) throw Error($"{opcode} without a preceding MARK");
        return TakeFrom(_marks.Pop(), opcode);
    }

    private object?[] TakeFrom(int start, string opcode)
    {
        var items = new object?[_stack.Count - start];
        for (var i = 0; i < items.Length; i++) items[i] = CheckNotGlobal(_stack[start + i], opcode);
        _stack.RemoveRange(start, items.Length);
        return items;
    }

    private static object? CheckNotGlobal(object? value, string opcode) => value is GlobalRef global
        ? throw Error($"{global} used as a value by {opcode}; a GLOBAL may only be called by REDUCE")
        : value;

    private byte ReadU8() => ReadBytes(1)[0];

    // Checked against the message limit first, so the error is the one the stream reader gives for the same bytes.
    private int ReadLength(byte opcode)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));
        if (_pos + (long)length > _limits.MaxFrameBytes) throw LengthError(opcode, length, _pos, _limits.MaxFrameBytes);
        return (int)length;
    }

    internal static GeoSyncProtocolException LengthError(byte opcode, long length, long offset, int limit) =>
        Error($"length {length} of opcode 0x{opcode:x2} exceeds the {limit}-byte message limit at offset {offset}");

    private ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count > _length - _pos)
        {
            throw Error($"truncated frame: {count} bytes needed at offset {_pos}, {_length - _pos} left");
        }
        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    private ReadOnlySpan<byte> ReadLine()
    {
        var newline = Array.IndexOf(_data, (byte)'\n', _pos, _length - _pos);
        if (newline < 0) throw Error($"truncated frame: a text operand at offset {_pos} has no end of line");
        var line = _data.AsSpan(_pos, newline - _pos);
        _pos = newline + 1;
        return line;
    }

    private static object Box(long value) => value is >= 0 and < 256 ? SmallIntegers[value] : value;

    private static object Normalize(BigInteger value) =>
        value >= long.MinValue && value <= long.MaxValue ? Box((long)value) : value;

    private static object ParseIntLine(ReadOnlySpan<byte> text)
    {
        // Protocol 0 and 1 write booleans as INT 01 / 00.
        if (text.SequenceEqual("01"u8)) return BoxedTrue;
        if (text.SequenceEqual("00"u8)) return BoxedFalse;
        return ParseDecimal(text, "INT");
    }

    private static object ParseDecimal(ReadOnlySpan<byte> text, string opcode)
    {
        var digits = text.Length > 0 && (text[0] == (byte)'-' || text[0] == (byte)'+') ? text[1..] : text;
        if (digits.Length == 0 || digits.Length > MaxIntegerDigits || digits.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            throw Error($"{opcode} operand '{Printable(text)}' is not a decimal integer of at most {MaxIntegerDigits} digits");
        }
        return Normalize(BigInteger.Parse(Encoding.ASCII.GetString(text), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
    }

    private static object ParseTwosComplement(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxIntegerBytes) throw Error($"a {bytes.Length}-byte integer exceeds the {MaxIntegerBytes}-byte limit");
        return Normalize(new BigInteger(bytes, isUnsigned: false, isBigEndian: false));
    }

    private static double ParseFloat(ReadOnlySpan<byte> text)
    {
        var s = Encoding.ASCII.GetString(text).Trim().ToLowerInvariant();
        switch (s)
        {
            case "inf" or "+inf" or "infinity" or "+infinity":
                return double.PositiveInfinity;
            case "-inf" or "-infinity":
                return double.NegativeInfinity;
            // Python's float('nan') has the sign bit clear, unlike .NET's double.NaN; keep the exact bits Python means.
            case "nan" or "+nan":
                return BitConverter.Int64BitsToDouble(0x7FF8000000000000);
            case "-nan":
                return BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8000000000000));
        }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Error($"FLOAT operand '{Printable(text)}' is not a number");
    }

    private static long ParseMemoIndex(ReadOnlySpan<byte> text, string opcode)
    {
        if (text.Length == 0 || text.Length > 10 || text.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            throw Error($"{opcode} operand '{Printable(text)}' is not a memo index");
        }
        return long.Parse(Encoding.ASCII.GetString(text), CultureInfo.InvariantCulture);
    }

    // Python 2 writes STRING as repr(): quoted, with the escapes that codecs.escape_decode undoes.
    private static byte[] DecodeQuotedString(ReadOnlySpan<byte> text)
    {
        if (text.Length < 2 || text[0] != text[^1] || (text[0] != (byte)'\'' && text[0] != (byte)'"'))
        {
            throw Error("STRING operand is not quoted");
        }
        var body = text[1..^1];
        var output = new List<byte>(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c != (byte)'\\')
            {
                output.Add(c);
                continue;
            }
            if (++i >= body.Length) throw Error("STRING operand ends with a lone backslash");
            c = body[i];
            switch ((char)c)
            {
                case '\\' or '\'' or '"':
                    output.Add(c);
                    break;
                case 'a': output.Add(7); break;
                case 'b': output.Add(8); break;
                case 't': output.Add(9); break;
                case 'n': output.Add(10); break;
                case 'v': output.Add(11); break;
                case 'f': output.Add(12); break;
                case 'r': output.Add(13); break;
                case >= '0' and <= '7':
                    var octal = c - '0';
                    for (var k = 0; k < 2 && i + 1 < body.Length && body[i + 1] is >= (byte)'0' and <= (byte)'7'; k++)
                    {
                        octal = (octal << 3) + (body[++i] - '0');
                    }
                    output.Add((byte)octal);
                    break;
                case 'x':
                    if (!IsHex(body, i + 1, 2))
                    {
                        throw Error("STRING operand has an invalid \\x escape");
                    }
                    output.Add((byte)HexValue(body, i + 1, 2));
                    i += 2;
                    break;
                default:
                    // escape_decode keeps unknown escapes verbatim.
                    output.Add((byte)'\\');
                    output.Add(c);
                    break;
            }
        }
        return output.ToArray();
    }

    // raw-unicode-escape: bytes are Latin-1 code points, except \uXXXX and \UXXXXXXXX.
    private static string DecodeRawUnicodeEscape(ReadOnlySpan<byte> text)
    {
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != (byte)'\\' || i + 1 >= text.Length || (text[i + 1] != (byte)'u' && text[i + 1] != (byte)'U'))
            {
                builder.Append((char)c);
                if (c == (byte)'\\' && i + 1 < text.Length)
                {
                    builder.Append((char)text[++i]);
                }
                continue;
            }
            var count = text[i + 1] == (byte)'u' ? 4 : 8;
            if (!IsHex(text, i + 2, count)) throw Error("UNICODE operand has a truncated \\u escape");
            var codePoint = HexValue(text, i + 2, count);
            if (codePoint > 0x10FFFF) throw Error("UNICODE operand escapes a code point above U+10FFFF");
            builder.Append(codePoint < 0x10000 ? ((char)codePoint).ToString() : char.ConvertFromUtf32((int)codePoint));
            i += 1 + count;
        }
        return builder.ToString();
    }

    private static bool IsHex(ReadOnlySpan<byte> text, int start, int count)
    {
        if (start + count > text.Length) return false;
        foreach (var b in text.Slice(start, count))
        {
            if (!char.IsAsciiHexDigit((char)b)) return false;
        }
        return true;
    }

    private static long HexValue(ReadOnlySpan<byte> text, int start, int count) =>
        long.Parse(Encoding.ASCII.GetString(text.Slice(start, count)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    /// <summary>Operand bytes made safe and short for an error message.</summary>
    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder();
        foreach (var b in bytes.Length > MaxShownOperand ? bytes[..MaxShownOperand] : bytes)
        {
            if (b is >= 0x20 and < 0x7F and not (byte)'\\') builder.Append((char)b);
            else builder.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
        }
        if (bytes.Length > MaxShownOperand) builder.Append("...");
        return builder.ToString();
    }

    internal static string TypeName(object? value) => value switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        PyTuple => "tuple",
        List<object?> => "list",
        Dictionary<object, object?> => "dict",
        HashSet<object> => "set",
        PyException => "exception",
        PyStatResult => "stat_result",
        GlobalRef global => global.ToString(),
        _ => value.GetType().Name,
    };

    private GeoSyncProtocolException Nesting() => Error($"nesting deeper than {_limits.MaxDepth} levels");

    private readonly record struct TupleShape(int Height, int KeyWeight);

    private sealed record GlobalRef(GlobalKind Kind, string Module, string Name)
    {
        public override string ToString() => $"GLOBAL '{Module} {Name}'";
    }
}
