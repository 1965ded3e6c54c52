using System.Buffers.Binary;
using System.Collections;
using System.Numerics;

namespace GeoSync.Engine.Rpc;

/// <summary>
/// Encodes plain values as one pickle protocol 2 message using only the opcodes docs/protocol.md, "Opcodes and safe decoding" allows a writer (no memo),
/// plus GLOBAL + REDUCE for exceptions, sets and stat results. Strings follow the peer's <see cref="PeerDialect"/>.
/// </summary>
public static class PickleWriter
{
    private const int MaxDepth = PickleLimits.DefaultMaxDepth;

    /// <summary>
    /// Encodes <paramref name="value"/>: null, bool, integers (BigInteger too), float/double, string, byte[],
    /// <see cref="PyTuple"/>, lists (any IList), dictionaries, sets (any ISet), <see cref="PyException"/> and
    /// <see cref="PyStatResult"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The value holds a type RePCe cannot carry, an exception name a GeoSync reader
    /// would refuse, or nests deeper than 64 levels (a container that holds itself does).</exception>
    public static byte[] Encode(object? value, PeerDialect dialect = PeerDialect.Python3)
    {
        var encoder = new Encoder(dialect);
        encoder.Write(value, 0);
        return encoder.Finish();
    }

    private sealed class Encoder
    {
        private readonly PeerDialect _dialect;
        private readonly MemoryStream _output = new();

        public Encoder(PeerDialect dialect)
        {
            _dialect = dialect;
            _output.WriteByte(PickleOpcodes.Proto);
            _output.WriteByte(2);
        }

        public byte[] Finish()
        {
            _output.WriteByte(PickleOpcodes.Stop);
            return _output.ToArray();
        }

        public void Write(object? value, int depth)
        {
            if (depth > MaxDepth)
            {
                throw new ArgumentException($"cannot pickle a value nested deeper than {MaxDepth} levels (does a container hold itself?)", nameof(value));
            }
            switch (value)
            {
                case null:
                    Op(PickleOpcodes.None);
                    break;
                case bool flag:
                    Op(flag ? PickleOpcodes.NewTrue : PickleOpcodes.NewFalse);
                    break;
                case byte or sbyte or short or ushort or int or uint or long:
                    WriteInteger(new BigInteger(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)));
                    break;
                case ulong unsigned:
                    WriteInteger(new BigInteger(unsigned));
                    break;
                case BigInteger big:
                    WriteInteger(big);
                    break;
                case double or float:
                    Op(PickleOpcodes.BinFloat);
                    Span<byte> bits = stackalloc byte[8];
                    BinaryPrimitives.WriteDoubleBigEndian(bits, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                    _output.Write(bits);
                    break;
                case string text:
                    WriteString(text, null);
                    break;
                case byte[] bytes:
                    WriteString(null, bytes);
                    break;
                case PyTuple tuple:
                    WriteTuple(tuple, depth);
                    break;
                case PyException exception:
                    if (!PickleDecoder.IsAllowedException(exception.Module, exception.TypeName))
                    {
                        throw new ArgumentException($"cannot pickle exception '{exception.Module} {exception.TypeName}': peers only accept the names of spec §3.8", nameof(value));
                    }
                    WriteCall(exception.Module, exception.TypeName, exception.Args, depth);
                    break;
                case PyStatResult stat:
                    WriteCall("os", "stat_result", new PyTuple(stat.Fields, stat.Extras), depth);
                    break;
                case IDictionary dict:
                    WriteDict(dict.Keys.Cast<object?>().Zip(dict.Values.Cast<object?>()), dict.Count, depth);
                    break;
                case IReadOnlyDictionary<object, object?> dict:
                    WriteDict(dict.Select(pair => ((object?)pair.Key, pair.Value)), dict.Count, depth);
                    break;
                case IEnumerable set when IsSet(set.GetType()):
                    WriteCall("__builtin__", "set", new PyTuple(new List<object?>(set.Cast<object?>())), depth);
                    break;
                case IList list:
                    Op(PickleOpcodes.EmptyList);
                    if (list.Count > 0)
                    {
                        Op(PickleOpcodes.Mark);
                        foreach (var item in list) Write(item, depth + 1);
                        Op(PickleOpcodes.Appends);
                    }
                    break;
                default:
                    throw new ArgumentException($"cannot pickle a {value.GetType().FullName} for RePCe", nameof(value));
            }
        }

        private void WriteTuple(PyTuple tuple, int depth)
        {
            if (tuple.Count == 0)
            {
                Op(PickleOpcodes.EmptyTuple);
                return;
            }
            if (tuple.Count > 3) Op(PickleOpcodes.Mark);
            foreach (var item in tuple) Write(item, depth + 1);
            Op(tuple.Count switch
            {
                1 => PickleOpcodes.Tuple1,
                2 => PickleOpcodes.Tuple2,
                3 => PickleOpcodes.Tuple3,
                _ => PickleOpcodes.Tuple,
            });
        }

        private void WriteDict(IEnumerable<(object? Key, object? Value)> pairs, int count, int depth)
        {
            Op(PickleOpcodes.EmptyDict);
            if (count == 0) return;
            Op(PickleOpcodes.Mark);
            foreach (var (key, item) in pairs)
            {
                Write(key, depth + 1);
                Write(item, depth + 1);
            }
            Op(PickleOpcodes.SetItems);
        }

        private void WriteCall(string module, string name, PyTuple arguments, int depth)
        {
            Op(PickleOpcodes.Global);
            _output.Write(System.Text.Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
            WriteTuple(arguments, depth + 1);
            Op(PickleOpcodes.Reduce);
        }

        private void WriteInteger(BigInteger value)
        {
            Span<byte> buffer = stackalloc byte[4];
            if (value >= 0 && value <= byte.MaxValue)
            {
                Op(PickleOpcodes.BinInt1);
                _output.WriteByte((byte)value);
            }
            else if (value >= 0 && value <= ushort.MaxValue)
            {
                Op(PickleOpcodes.BinInt2);
                BinaryPrimitives.WriteUInt16LittleEndian(buffer, (ushort)value);
                _output.Write(buffer[..2]);
            }
            else if (value >= int.MinValue && value <= int.MaxValue)
            {
                Op(PickleOpcodes.BinInt);
                BinaryPrimitives.WriteInt32LittleEndian(buffer, (int)value);
                _output.Write(buffer);
            }
            else
            {
                var bytes = value.ToByteArray(isUnsigned: false, isBigEndian: false);
                if (bytes.Length > byte.MaxValue)
                {
                    throw new ArgumentException($"cannot pickle an integer of {bytes.Length} bytes; LONG1 carries at most 255", nameof(value));
                }
                Op(PickleOpcodes.Long1);
                _output.WriteByte((byte)bytes.Length);
                _output.Write(bytes);
            }
        }

        // Python 2 peers get byte strings (text as UTF-8); Python 3 peers get text, bytes that are not UTF-8
        // surviving as U+DC80.. surrogates exactly as os.fsdecode would produce them.
        private void WriteString(string? text, byte[]? bytes)
        {
            if (_dialect == PeerDialect.Python2)
            {
                var raw = bytes ?? PyText.EncodeSurrogateEscape(text!);
                if (raw.Length <= byte.MaxValue)
                {
                    Op(PickleOpcodes.ShortBinString);
                    _output.WriteByte((byte)raw.Length);
                }
                else
                {
                    Op(PickleOpcodes.BinString);
                    WriteLength(raw.Length);
                }
                _output.Write(raw);
                return;
            }
            var utf8 = PyText.EncodeSurrogatePass(text ?? PyText.DecodeSurrogateEscape(bytes));
            Op(PickleOpcodes.BinUnicode);
            WriteLength(utf8.Length);
            _output.Write(utf8);
        }

        private void WriteLength(int length)
        {
            Span<byte> buffer = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(buffer, length);
            _output.Write(buffer);
        }

        private void Op(byte opcode) => _output.WriteByte(opcode);

        private static bool IsSet(Type type) => type.GetInterfaces().Any(i => i.IsGenericType
            && (i.GetGenericTypeDefinition() == typeof(ISet<>) || i.GetGenericTypeDefinition() == typeof(IReadOnlySet<>)));
    }
}
