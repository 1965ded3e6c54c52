using System.Diagnostics;
using System.Globalization;
using GeoSync.Engine.Slave;

namespace GeoSync.Engine.Tests.Slave;

public class WireTextTests
{
    public static TheoryData<string> ByteNames() => new()
    {
        "636166e9",             // latin-1 é
        "636166c3a9",           // UTF-8 é
        "e282",                 // truncated sequence
        "e2c3a9",               // bad lead byte, then a valid sequence
        "ff80bf41",             // stray continuation bytes
        "eda080",               // an encoded surrogate (invalid UTF-8)
        "f09f9880",             // outside the BMP
        "c0af",                 // overlong '/'
    };

    [Theory]
    [MemberData(nameof(ByteNames))]
    public void DecodesLikePythonSurrogateEscapeAndRoundTrips(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        var text = WireText.ToText(bytes);

        Assert.Equal(PythonCodePoints(hex), string.Join(" ", EnumerateCodeUnits(text)));
        Assert.Equal(bytes, WireText.ToBytes(text));
        Assert.Equal(bytes, WireText.FromNative(WireText.ToNative(bytes)));
    }

    [Fact]
    public void RefusesAnUnpairedSurrogateThatStandsForNoByte()
    {
        var ex = Assert.Throws<GeoSyncException>(() => WireText.ToBytes("a\uD800b"));
        Assert.Contains("U+D800", ex.Message);
    }

    private static IEnumerable<string> EnumerateCodeUnits(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                yield return char.ConvertToUtf32(text[i], text[i + 1]).ToString("x", CultureInfo.InvariantCulture);
                i++;
            }
            else
            {
                yield return ((int)text[i]).ToString("x", CultureInfo.InvariantCulture);
            }
        }
    }

    private static string PythonCodePoints(string hex)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import sys; print(' '.join('%x' % ord(c) for c in bytes.fromhex(sys.argv[1]).decode('utf-8', 'surrogateescape')))");
        start.ArgumentList.Add(hex);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"python3 failed: {error}");
        return output.Trim();
    }
}
