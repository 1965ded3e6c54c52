using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Tests.Transport;

public class ByteRingTests
{
    [Theory]
    [InlineData(1, new[] { 1, 1, 5, 1 })]
    [InlineData(10, new[] { 3, 3, 3, 3, 3 })]
    [InlineData(10, new[] { 10, 1, 9, 20 })]
    [InlineData(5000, new[] { 4095, 2, 4097, 1000, 3 })]
    [InlineData(65536, new[] { 1, 70000, 12345, 65535, 2 })]
    public void KeepsTheNewestBytesUpToItsCapacity(int capacity, int[] writes)
    {
        var ring = new ByteRing(capacity);
        var everything = new List<byte>();
        var next = 0;
        foreach (var length in writes)
        {
            var chunk = Enumerable.Range(next, length).Select(i => (byte)(i * 7)).ToArray();
            next += length;
            everything.AddRange(chunk);
            ring.Write(chunk);

            var expected = everything.Skip(Math.Max(0, everything.Count - capacity)).ToArray();
            Assert.Equal(expected, ring.ToArray());
            Assert.Equal(expected.Length, ring.Count);
            Assert.InRange(ring.AllocatedBytes, expected.Length, capacity);
        }
    }
}
