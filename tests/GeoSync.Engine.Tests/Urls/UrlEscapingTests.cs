using System.Text.Json;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Urls;

namespace GeoSync.Engine.Tests.Urls;

public class UrlEscapingTests
{
    private static readonly string AllAscii = new(Enumerable.Range(0, 128).Select(i => (char)i).ToArray());

    [Theory]
    [InlineData("", "")]
    [InlineData("AZaz09_.-", "AZaz09_.-")]
    [InlineData(" ", "+")]
    [InlineData("a b  c", "a+b++c")]
    [InlineData("~", "%7E")]
    [InlineData("/", "%2F")]
    [InlineData(":", "%3A")]
    [InlineData("@", "%40")]
    [InlineData("+", "%2B")]
    [InlineData("%", "%25")]
    [InlineData("\n\0", "%0A%00")]
    [InlineData("é", "%C3%A9")]
    [InlineData("€", "%E2%82%AC")]
    [InlineData("𝄞", "%F0%9D%84%9E")]
    [InlineData("gluster://127.0.0.1:gv1", "gluster%3A%2F%2F127.0.0.1%3Agv1")]
    public void EscapesLikePython2QuotePlus(string text, string escaped)
    {
        Assert.Equal(escaped, UrlEscaping.Escape(text));
        Assert.Equal(text, UrlEscaping.Unescape(escaped));
    }

    [Theory]
    [InlineData("%7e%2f", "~/")]
    [InlineData("a+b", "a b")]
    [InlineData("%zz", "%zz")]
    [InlineData("%4", "%4")]
    [InlineData("100%", "100%")]
    [InlineData("%%41", "%A")]
    [InlineData("%2B+", "+ ")]
    [InlineData("plain", "plain")]
    [InlineData("ü+%C3%BC", "ü ü")]
    public void UnescapesLikePython2UnquotePlus(string escaped, string text)
    {
        Assert.Equal(text, UrlEscaping.Unescape(escaped));
    }

    [Fact]
    public void RejectsEscapesThatAreNotUtf8()
    {
        var error = Assert.Throws<GeoSyncUrlException>(() => UrlEscaping.Unescape("a%FFb"));

        Assert.Equal("a%FFb", error.Url);
        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> RoundTrips => new()
    {
        AllAscii,
        "ssh://root@127.0.0.1:gluster://127.0.0.1:gv2",
        "checkpoint as of 2024-01-02 03:04:05",
        "Grüße, 世界 🌍 +%~",
        "",
    };

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public void UnescapeInvertsEscapeAndEscapedTextIsPlainAscii(string text)
    {
        var escaped = UrlEscaping.Escape(text);

        Assert.Equal(text, UrlEscaping.Unescape(escaped));
        Assert.Matches("^[A-Za-z0-9_.+%-]*$", escaped);
    }

    [Fact]
    public async Task MatchesPythonQuotePlusOnEveryAsciiCharAndSomeUnicode()
    {
        string[] samples = [AllAscii, "Grüße 世界 🌍", "ssh://geo@127.0.0.1:file:///srv/slave", "a b+c~d"];
        const string Script =
            "import json, sys, urllib.parse\n" +
            "print(json.dumps([urllib.parse.quote_plus(s, safe='') for s in json.load(sys.stdin)]))\n";

        var result = (await new ProcessRunner().RunAsync(
            new ProcessSpec("python3", ["-c", Script]),
            JsonSerializer.SerializeToUtf8Bytes(samples))).EnsureSuccess();
        var python = JsonSerializer.Deserialize<string[]>(result.StandardOutputText)!;

        Assert.Equal(samples.Length, python.Length);
        for (var i = 0; i < samples.Length; i++)
        {
            // Python 3.7 added '~' to the always-safe set; gsyncd's Python 2 quote_plus escaped it as %7E.
            Assert.Equal(python[i].Replace("~", "%7E", StringComparison.Ordinal), UrlEscaping.Escape(samples[i]));
        }
    }
}
