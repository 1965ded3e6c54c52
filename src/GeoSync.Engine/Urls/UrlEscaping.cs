using System.Text;

namespace GeoSync.Engine.Urls;

/// <summary>gsyncd's escape/unescape (Python 2 quote_plus/unquote_plus over UTF-8), used for config section names and labels.</summary>
public static class UrlEscaping
{
    private const string UpperHex = "0123456789ABCDEF";

    /// <summary>Keeps <c>A-Z a-z 0-9 _ . -</c>, turns space into <c>+</c> and every other UTF-8 byte into <c>%XX</c> (upper-case hex).</summary>
    public static string Escape(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var bytes = Encoding.UTF8.GetBytes(s);
        var sb = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (IsUnreserved(b))
            {
                sb.Append((char)b);
            }
            else if (b == (byte)' ')
            {
                sb.Append('+');
            }
            else
            {
                sb.Append('%').Append(UpperHex[b >> 4]).Append(UpperHex[b & 0xF]);
            }
        }

        return sb.ToString();
    }

    /// <summary>Turns <c>+</c> into space and <c>%XX</c> (either case) into its byte; a <c>%</c> not followed by two hex digits stays as it is.</summary>
    public static string Unescape(string s)
    {
        ArgumentNullException.ThrowIfNull(s);

        // '%', '+' and hex digits are ASCII, so they never occur inside a multi-byte UTF-8 sequence of the input.
        var input = Encoding.UTF8.GetBytes(s);
        var output = new List<byte>(input.Length);
        for (var i = 0; i < input.Length; i++)
        {
            var b = input[i];
            if (b == (byte)'+')
            {
                output.Add((byte)' ');
            }
            else if (b == (byte)'%' && i + 2 < input.Length && HexValue(input[i + 1]) is int high && HexValue(input[i + 2]) is int low)
            {
                output.Add((byte)((high << 4) | low));
                i += 2;
            }
            else
            {
                output.Add(b);
            }
        }

        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(output.ToArray());
        }
        catch (DecoderFallbackException)
        {
            throw new GeoSyncUrlException(s,
                $"cannot unescape '{s}': its %XX sequences do not decode as UTF-8 text. Escape the original text with UrlEscaping.Escape.");
        }
    }

    private static bool IsUnreserved(byte b) =>
        b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
            or (byte)'_' or (byte)'.' or (byte)'-';

    private static int? HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => null,
    };
}
