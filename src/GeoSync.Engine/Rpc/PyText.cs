using System.Text;

namespace GeoSync.Engine.Rpc;

/// <summary>
/// Converts names between bytes and Python 3 text at the codec edge: surrogateescape (undecodable bytes as
/// U+DC80–U+DCFF) and surrogatepass UTF-8 (lone surrogates encoded as three bytes), the two conventions 10.x peers use.
/// </summary>
public static class PyText
{
    /// <summary>Decodes bytes as UTF-8; every byte that is not part of a valid sequence becomes U+DC00 + byte.</summary>
    public static string DecodeSurrogateEscape(ReadOnlySpan<byte> bytes)
    {
        Decode(bytes, escapeInvalid: true, out var text);
        return text!;
    }

    /// <summary>
    /// Encodes text as UTF-8, turning U+DC80–U+DCFF back into the bytes they stand for. Other lone surrogates are
    /// written as surrogatepass sequences rather than refused, so no name is ever lost on the way out.
    /// </summary>
    public static byte[] EncodeSurrogateEscape(string text) => Encode(text, escapeBytes: true);

    /// <summary>A name as bytes, whether it arrived as a byte string (Python 2 peer) or as text (Python 3 peer).</summary>
    /// <exception cref="ArgumentException">The value is neither a string nor a byte array.</exception>
    public static byte[] ToBytes(object? value) => value switch
    {
        byte[] bytes => bytes,
        string text => EncodeSurrogateEscape(text),
        _ => throw new ArgumentException($"expected a string or byte string, got {PyRepr.Format(value)}", nameof(value)),
    };

    /// <summary>Decodes surrogatepass UTF-8 (how Python pickles <c>str</c>); false when the bytes are not valid.</summary>
    internal static bool TryDecodeSurrogatePass(ReadOnlySpan<byte> bytes, out string? text) =>
        Decode(bytes, escapeInvalid: false, out text);

    /// <summary>Encodes text as surrogatepass UTF-8: lone surrogates become three-byte sequences.</summary>
    internal static byte[] EncodeSurrogatePass(string text) => Encode(text, escapeBytes: false);

    private static bool Decode(ReadOnlySpan<byte> bytes, bool escapeInvalid, out string? text)
    {
        // Strict UTF-8 (nearly every message) holds no surrogates and nothing to escape, so it decodes as it is; the
        // loop below is for the rest. Large strings (verify's listings) then cost a vectorized copy, not a loop per byte.
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            text = Encoding.UTF8.GetString(bytes);
            return true;
        }
        var builder = new StringBuilder(bytes.Length);
        var i = 0;
        while (i < bytes.Length)
        {
            var length = SequenceLength(bytes[i..], allowSurrogates: !escapeInvalid, out var codePoint);
            if (length == 0)
            {
                if (!escapeInvalid)
                {
                    text = null;
                    return false;
                }
                // Advancing one byte matches Python: bytes inside an invalid range are continuation bytes, which can
                // never start a valid sequence, so each of them is escaped on its own turn.
                builder.Append((char)(0xDC00 + bytes[i]));
                i++;
                continue;
            }
            if (codePoint >= 0x10000)
            {
                builder.Append(char.ConvertFromUtf32(codePoint));
            }
            else
            {
                builder.Append((char)codePoint);
            }
            i += length;
        }
        text = builder.ToString();
        return true;
    }

    // Length of the valid UTF-8 sequence starting the span (0 when invalid); surrogate code points (ED A0..BF xx)
    // count as valid only in surrogatepass mode.
    private static int SequenceLength(ReadOnlySpan<byte> s, bool allowSurrogates, out int codePoint)
    {
        codePoint = 0;
        var b0 = s[0];
        if (b0 < 0x80)
        {
            codePoint = b0;
            return 1;
        }
        int length;
        byte low = 0x80, high = 0xBF;
        switch (b0)
        {
            case >= 0xC2 and <= 0xDF:
                length = 2;
                codePoint = b0 & 0x1F;
                break;
            case 0xE0:
                length = 3;
                low = 0xA0;
                codePoint = b0 & 0x0F;
                break;
            case 0xED:
                length = 3;
                high = allowSurrogates ? (byte)0xBF : (byte)0x9F;
                codePoint = b0 & 0x0F;
                break;
            case >= 0xE1 and <= 0xEF:
                length = 3;
                codePoint = b0 & 0x0F;
                break;
            case 0xF0:
                length = 4;
                low = 0x90;
                codePoint = b0 & 0x07;
                break;
            case >= 0xF1 and <= 0xF3:
                length = 4;
                codePoint = b0 & 0x07;
                break;
            case 0xF4:
                length = 4;
                high = 0x8F;
                codePoint = b0 & 0x07;
                break;
            default:
                return 0;
        }
        if (s.Length < length) return 0;
        for (var k = 1; k < length; k++)
        {
            var b = s[k];
            var (min, max) = k == 1 ? (low, high) : ((byte)0x80, (byte)0xBF);
            if (b < min || b > max) return 0;
            codePoint = (codePoint << 6) | (b & 0x3F);
        }
        return length;
    }

    private static byte[] Encode(string text, bool escapeBytes)
    {
        // Without surrogates, surrogateescape and surrogatepass are plain UTF-8.
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0) return Encoding.UTF8.GetBytes(text);
        var output = new List<byte>(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            int codePoint = c;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoint = char.ConvertToUtf32(c, text[i + 1]);
                i++;
            }
            else if (escapeBytes && c is >= '\uDC80' and <= '\uDCFF')
            {
                output.Add((byte)(c - 0xDC00));
                continue;
            }
            AppendUtf8(output, codePoint);
        }
        return output.ToArray();
    }

    // Writes any code point below 0x110000 including lone surrogates, which is exactly what surrogatepass does.
    private static void AppendUtf8(List<byte> output, int codePoint)
    {
        switch (codePoint)
        {
            case < 0x80:
                output.Add((byte)codePoint);
                break;
            case < 0x800:
                output.Add((byte)(0xC0 | (codePoint >> 6)));
                output.Add((byte)(0x80 | (codePoint & 0x3F)));
                break;
            case < 0x10000:
                output.Add((byte)(0xE0 | (codePoint >> 12)));
                output.Add((byte)(0x80 | ((codePoint >> 6) & 0x3F)));
                output.Add((byte)(0x80 | (codePoint & 0x3F)));
                break;
            default:
                output.Add((byte)(0xF0 | (codePoint >> 18)));
                output.Add((byte)(0x80 | ((codePoint >> 12) & 0x3F)));
                output.Add((byte)(0x80 | ((codePoint >> 6) & 0x3F)));
                output.Add((byte)(0x80 | (codePoint & 0x3F)));
                break;
        }
    }
}
