using System.Numerics;
using GeoSync.Engine.Rpc;
using static GeoSync.Engine.Tests.Rpc.Frames;

namespace GeoSync.Engine.Tests.Rpc;

public class PickleReaderTests
{
    public static TheoryData<string> CodecFrames => HostileFrames.Names(HostileFrames.Codec);

    [Theory]
    [MemberData(nameof(CodecFrames))]
    public void DecodeRefusesHostileFrames(string name)
    {
        var (frame, expected) = HostileFrames.Find(name);
        var error = Assert.Throws<GeoSyncProtocolException>(() => PickleReader.Decode(frame));
        Assert.StartsWith("protocol error: ", error.Message);
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{name}: '{error.Message}' lacks '{expected}'");
    }

    [Theory]
    [MemberData(nameof(CodecFrames))]
    public async Task StreamReaderRefusesHostileFramesAndStaysFailed(string name)
    {
        var (frame, expected) = HostileFrames.Find(name);
        var reader = new PickleReader(new MemoryStream(frame));
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => reader.ReadAsync().AsTask());
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{name}: '{error.Message}' lacks '{expected}'");
        await Assert.ThrowsAsync<InvalidOperationException>(() => reader.ReadAsync().AsTask());
    }

    [Fact]
    public async Task ReadsFramesBackToBackFromOneBufferedStreamUntilEndOfInput()
    {
        var values = Enumerable.Range(0, 300).Select(i => new PyTuple((long)i, new string('x', i * 37), i % 2 == 0)).ToArray();
        var stream = new MemoryStream(values.SelectMany(v => PickleWriter.Encode(v)).ToArray());
        var reader = new PickleReader(stream);
        foreach (var expected in values)
        {
            var message = await reader.ReadAsync();
            Assert.Equal(expected, message!.Value.Value);
            Assert.Equal(PickleWriter.Encode(expected).Length, message.Value.Length);
        }
        Assert.Null(await reader.ReadAsync());
    }

    [Fact]
    public async Task ReadsFramesThatArriveOneByteAtATime()
    {
        var values = new object?[] { new PyTuple(1L, "a\u00e9", 2.5), null, new string('z', 70_000), BigInteger.Pow(3, 100) };
        var reader = new PickleReader(new TrickleStream(values.SelectMany(v => PickleWriter.Encode(v)).ToArray()));
        foreach (var expected in values) Assert.Equal(expected, (await reader.ReadAsync())!.Value.Value);
        Assert.Null(await reader.ReadAsync());
    }

    [Fact]
    public async Task EveryTruncationOfAValidFrameIsAProtocolError()
    {
        var frame = PickleWriter.Encode(new PyTuple(
            new PyTuple(1234L, 140000000000L, 1700000000.5), "set_xtime_vec", "a/b\u00e9",
            new Dictionary<object, object?> { ["u1"] = new PyTuple(1L, 2L), [7L] = new List<object?> { null, true, BigInteger.Pow(2, 80) } },
            new HashSet<object> { "x" }, new byte[] { 0xff }, new PyException("exceptions", "OSError", new PyTuple(2L, "gone")), -5L, 70000L));
        Assert.NotNull(PickleReader.Decode(frame));
        for (var length = 1; length < frame.Length; length++)
        {
            var prefix = frame[..length];
            var decodeError = Assert.Throws<GeoSyncProtocolException>(() => PickleReader.Decode(prefix));
            Assert.Contains("truncated frame", decodeError.Message);
            var reader = new PickleReader(new MemoryStream(prefix));
            var readError = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => reader.ReadAsync().AsTask());
            Assert.Contains("truncated frame", readError.Message);
        }
        Assert.Null(await new PickleReader(new MemoryStream()).ReadAsync());
    }

    [Theory]
    [InlineData(0xffffffffu)]
    [InlineData(16 * 1024 * 1024 + 1u)]
    public async Task AHugeLengthIsRefusedBeforeAnythingIsAllocatedOrRead(uint length)
    {
        var header = Build(0x80, 2, 'X', U32(length));
        var stream = new EndlessStream(header);
        var reader = new PickleReader(stream);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => reader.ReadAsync().AsTask());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Contains("exceeds the 16777216-byte message limit", error.Message);
        Assert.InRange(stream.Served, header.Length, 64 * 1024);
        Assert.InRange(allocated, 0, 256 * 1024);
    }

    [Fact]
    public async Task AMessageLongerThanTheLimitIsRefusedWithoutReadingItAll()
    {
        // A list that never ends: each item is small, only the total is too large.
        var stream = new EndlessStream(Build(0x80, 2, ']', '('), filler: (byte)'N');
        var reader = new PickleReader(stream, new PickleLimits { MaxFrameBytes = 1024 * 1024 });
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => reader.ReadAsync().AsTask());
        Assert.Contains("exceeds the 1048576-byte message limit", error.Message);
        Assert.InRange(stream.Served, 1024 * 1024, 1024 * 1024 + 64 * 1024);
    }

    [Fact]
    public void SmallerLimitsApply()
    {
        var limits = new PickleLimits { MaxDepth = 3, MaxFrameBytes = 100 };
        Assert.NotNull(PickleReader.Decode(PickleWriter.Encode(new PyTuple(new PyTuple(new PyTuple()))), limits));
        Assert.Contains("nesting deeper than 3", Assert.Throws<GeoSyncProtocolException>(
            () => PickleReader.Decode(PickleWriter.Encode(new PyTuple(new PyTuple(new PyTuple(new PyTuple())))), limits)).Message);
        Assert.Contains("exceeds the 100-byte message limit", Assert.Throws<GeoSyncProtocolException>(
            () => PickleReader.Decode(PickleWriter.Encode(new string('x', 200)), limits)).Message);
    }

    [Fact]
    public void DecodedValuesHaveTheDocumentedTypes()
    {
        var value = Assert.IsType<PyTuple>(PickleReader.Decode(PickleWriter.Encode(new PyTuple(
            1L, long.MaxValue, BigInteger.Pow(2, 64), 1.5, "t", new byte[] { 1 }, new List<object?>(), new Dictionary<object, object?>(),
            new HashSet<object>(), true, null))));
        Assert.IsType<long>(value[0]);
        Assert.IsType<long>(value[1]);
        Assert.IsType<BigInteger>(value[2]);
        Assert.IsType<double>(value[3]);
        Assert.IsType<string>(value[4]);
        Assert.IsType<string>(value[5]); // a Python 3 peer is sent bytes as text, see PeerDialect
        Assert.IsType<byte[]>(PickleReader.Decode(Build(0x80, 2, ShortBinString("b"), '.')));
        Assert.IsType<List<object?>>(value[6]);
        Assert.IsType<Dictionary<object, object?>>(value[7]);
        Assert.IsType<HashSet<object>>(value[8]);
        Assert.IsType<bool>(value[9]);
        Assert.Null(value[10]);
    }

    [Fact]
    public void DictsAndSetsCompareByteStringKeysByContent()
    {
        var frame = Build(0x80, 2, '}', '(', ShortBinString("k"), 'K', 1, ShortBinString("k"), 'K', 2, 'u', '.');
        var dict = Assert.IsType<Dictionary<object, object?>>(PickleReader.Decode(frame));
        Assert.Equal(2L, Assert.Single(dict).Value);
        Assert.True(dict.ContainsKey("k"u8.ToArray()));
    }

    [Fact]
    public void MemoSharesTheSameObjectAsPythonDoes()
    {
        // ((x, x), x) where x is one list object, appended to after being shared.
        var shared = Build(0x80, 2, ']', 'q', 0, 'h', 0, 0x86, 'h', 0, 'K', 9, 'a', 0x86, '.');
        var value = Assert.IsType<PyTuple>(PickleReader.Decode(shared));
        var pair = Assert.IsType<PyTuple>(value[0]);
        Assert.Same(pair[0], pair[1]);
        Assert.Same(pair[0], value[1]);
        Assert.Equal(new List<object?> { 9L }, pair[0]);
    }

    [Fact]
    public void TrailingBytesAfterStopAreRefusedWhenDecodingOneFrame()
    {
        var error = Assert.Throws<GeoSyncProtocolException>(() => PickleReader.Decode(Build(0x80, 2, 'N', '.', 'N')));
        Assert.Contains("1 bytes follow the STOP opcode", error.Message);
    }

    /// <summary>Serves the given bytes one per read.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }

    /// <summary>A header followed by an endless run of one byte; counts what it served.</summary>
    private sealed class EndlessStream(byte[] header, byte filler = 0x41) : Stream
    {
        public long Served { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            for (var i = 0; i < count; i++) buffer[offset + i] = Served + i < header.Length ? header[Served + i] : filler;
            Served += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var span = buffer.Span;
            for (var i = 0; i < span.Length; i++) span[i] = Served + i < header.Length ? header[Served + i] : filler;
            Served += span.Length;
            return ValueTask.FromResult(span.Length);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Served; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
