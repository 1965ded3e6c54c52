using System.Buffers.Binary;
using System.Text;

namespace GeoSync.Engine.Tests.Rpc;

/// <summary>Builds raw pickle frames for tests: strings are Latin-1 (one char = one byte), ints are single bytes.</summary>
internal static class Frames
{
    public static byte[] Build(params object[] parts)
    {
        var output = new List<byte>();
        foreach (var part in parts)
        {
            switch (part)
            {
                case byte b:
                    output.Add(b);
                    break;
                case char c:
                    output.Add(checked((byte)c));
                    break;
                case int i:
                    output.Add(checked((byte)i));
                    break;
                case string s:
                    output.AddRange(Encoding.Latin1.GetBytes(s));
                    break;
                case byte[] bytes:
                    output.AddRange(bytes);
                    break;
                case object[] nested:
                    output.AddRange(Build(nested));
                    break;
                default:
                    throw new ArgumentException($"cannot put a {part.GetType()} into a frame");
            }
        }
        return output.ToArray();
    }

    /// <summary>A u32 little-endian length field.</summary>
    public static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>BINUNICODE of ASCII/Latin-1 text as UTF-8.</summary>
    public static byte[] BinUnicode(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        return Build((byte)'X', U32((uint)utf8.Length), utf8);
    }

    /// <summary>SHORT_BINSTRING of Latin-1 text.</summary>
    public static byte[] ShortBinString(string text) => Build((byte)'U', text.Length, text);

    public static byte[] Repeat(int count, params object[] parts) =>
        Enumerable.Range(0, count).SelectMany(_ => Build(parts)).ToArray();
}
