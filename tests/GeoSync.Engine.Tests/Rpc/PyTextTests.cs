using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Tests.Rpc;

public class PyTextTests
{
    [Fact]
    public void SurrogateConversionsMatchPython()
    {
        var random = new Random(7);
        var samples = new List<byte[]>
        {
            Array.Empty<byte>(), "plain"u8.ToArray(), "h\u00e9 \u20ac \U0001f600"u8.ToArray(),
            new byte[] { 0xff }, new byte[] { 0x80 }, new byte[] { 0xc3 }, new byte[] { 0xc3, 0x28 }, new byte[] { 0xe2, 0x82 },
            new byte[] { 0xe2, 0x82, 0x41 }, new byte[] { 0xc0, 0xaf }, new byte[] { 0xc1, 0xbf }, new byte[] { 0xe0, 0x80, 0xaf },
            new byte[] { 0xed, 0xa0, 0x80 }, new byte[] { 0xed, 0xb3, 0xbf }, new byte[] { 0xf4, 0x90, 0x80, 0x80 },
            new byte[] { 0xf5, 0x80, 0x80, 0x80 }, new byte[] { 0xf0, 0x9f, 0x98 }, new byte[] { 0xf0, 0x8f, 0xbf, 0xbf },
        };
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(1, 12)];
            random.NextBytes(bytes);
            samples.Add(bytes);
        }
        var script = """
            import sys
            for line in sys.stdin:
                raw = bytes.fromhex(line.strip())
                text = raw.decode('utf-8', 'surrogateescape')
                print(text.encode('utf-16-le', 'surrogatepass').hex(), text.encode('utf-8', 'surrogatepass').hex(),
                      text.encode('utf-8', 'surrogateescape').hex())
            """;
        var lines = PythonOracle.Run(script, string.Join("\n", samples.Select(PythonOracle.Hex)) + "\n")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(samples.Count, lines.Length);
        for (var i = 0; i < samples.Count; i++)
        {
            var fields = lines[i].Split(' ');
            var text = PyText.DecodeSurrogateEscape(samples[i]);
            var utf16 = string.Concat(text.Select(c => $"{(byte)c:x2}{(byte)(c >> 8):x2}"));
            Assert.Equal((PythonOracle.Hex(samples[i]), fields[0]), (PythonOracle.Hex(samples[i]), utf16));
            Assert.Equal(fields[1], PythonOracle.Hex(PyText.EncodeSurrogatePass(text)));
            Assert.Equal(fields[2], PythonOracle.Hex(PyText.EncodeSurrogateEscape(text)));
            Assert.Equal(samples[i], PyText.EncodeSurrogateEscape(text));
            Assert.True(PyText.TryDecodeSurrogatePass(PyText.EncodeSurrogatePass(text), out var back));
            Assert.Equal(text, back);
        }
    }

    [Fact]
    public void ToBytesAcceptsBothKindsOfNames()
    {
        Assert.Equal(new byte[] { 0x61, 0xff }, PyText.ToBytes("a\udcff"));
        Assert.Equal(new byte[] { 0x61, 0xff }, PyText.ToBytes(new byte[] { 0x61, 0xff }));
        Assert.Throws<ArgumentException>(() => PyText.ToBytes(5L));
    }

    [Fact]
    public void SurrogatePassRefusesWhatPythonRefuses()
    {
        Assert.False(PyText.TryDecodeSurrogatePass([0xff], out _));
        Assert.False(PyText.TryDecodeSurrogatePass([0xc0, 0xaf], out _));
        Assert.False(PyText.TryDecodeSurrogatePass([0xe2, 0x82], out _));
        Assert.True(PyText.TryDecodeSurrogatePass([0xed, 0xb3, 0xbf], out var surrogate));
        Assert.Equal("\udcff", surrogate);
    }
}
