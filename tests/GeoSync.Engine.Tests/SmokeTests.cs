using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Tests;

public class PyValueTests
{
    [Fact]
    public void TuplesCompareStructurallyIncludingBytes()
    {
        var a = new PyTuple(1L, new byte[] { 1, 2 }, "x");
        var b = new PyTuple(1L, new byte[] { 1, 2 }, "x");
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new PyTuple(1L, new byte[] { 1, 3 }, "x"));
    }
}
