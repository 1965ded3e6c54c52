using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Mono.Unix;

namespace GeoSync.Engine.Slave;

/// <summary>
/// File names are bytes. Python 3 peers carry undecodable bytes as lone surrogates U+DC80–U+DCFF (surrogateescape);
/// Mono.Posix carries them as U+0000 + the byte (<see cref="UnixEncoding"/>). These conversions keep every byte.
/// </summary>
internal static class WireText
{
    private const char FirstEscape = '\uDC80';
    private const char LastEscape = '\uDCFF';

    /// <summary>Wire text (UTF-8 with surrogate escapes) to the name's bytes.</summary>
    public static byte[] ToBytes(string text)
    {
        // Text without surrogates (nearly every name) is plain UTF-8; the loop below is for escapes and pairs.
        if (!HasSurrogates(text)) return Encoding.UTF8.GetBytes(text);
        var bytes = new ArrayBufferWriter<byte>(Math.Max(1, text.Length));
        var utf8 = new byte[4];
        for (var i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used) == OperationStatus.Done)
            {
                var length = rune.EncodeToUtf8(utf8);
                bytes.Write(utf8.AsSpan(0, length));
                i += used;
                continue;
            }
            var c = text[i];
            if (c is < FirstEscape or > LastEscape)
            {
                throw new GeoSyncException($"the name '{text}' holds an unpaired UTF-16 surrogate U+{(int)c:X4} that stands for no byte; send names as bytes or as surrogate-escaped text");
            }
            bytes.Write([(byte)(c - 0xDC00)]);
            i++;
        }
        return bytes.WrittenSpan.ToArray();
    }

    /// <summary>A name's bytes to wire text: UTF-8, each undecodable byte as a surrogate escape (Python's surrogateescape).</summary>
    public static string ToText(ReadOnlySpan<byte> bytes)
    {
        // Valid UTF-8 (nearly every name) decodes as it is; only invalid bytes need escapes.
        if (Utf8.IsValid(bytes)) return Encoding.UTF8.GetString(bytes);
        var text = new StringBuilder(bytes.Length);
        Span<char> chars = stackalloc char[2];
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var used) == OperationStatus.Done)
            {
                text.Append(chars[..rune.EncodeToUtf16(chars)]);
                bytes = bytes[used..];
            }
            else
            {
                // A continuation byte never starts a sequence, so escaping one byte and resuming matches Python.
                text.Append((char)(0xDC00 + bytes[0]));
                bytes = bytes[1..];
            }
        }
        return text.ToString();
    }

    /// <summary>True when the text holds a UTF-16 surrogate: a pair (a character beyond the BMP) or an escaped byte.</summary>
    public static bool HasSurrogates(string text) => text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;

    /// <summary>Bytes to the string form Mono.Posix marshals back to exactly these bytes.</summary>
    public static string ToNative(ReadOnlySpan<byte> bytes) => UnixEncoding.Instance.GetString(bytes.ToArray());

    /// <summary>A Mono.Posix string (a name read from the file system) back to its bytes.</summary>
    public static byte[] FromNative(string native) => UnixEncoding.Instance.GetBytes(native);
}
