using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Xattrs;

public sealed class GlusterPathInfoTests
{
    [Theory]
    // What GlusterFS 10.3 answers on the testbed's aux mount roots: dvol (two bricks) and mvol (one).
    [InlineData("((<DISTRIBUTE:dvol-dht> <POSIX(/var/tmp/geosync-testbed/bricks/dvol-2):vm:/var/tmp/geosync-testbed/bricks/dvol-2/> " +
        "<POSIX(/var/tmp/geosync-testbed/bricks/dvol-1):vm:/var/tmp/geosync-testbed/bricks/dvol-1/>) " +
        "(dvol-dht-layout (dvol-client-0 0 2147483646) (dvol-client-1 2147483647 4294967295)))", 2)]
    [InlineData("<POSIX(/var/tmp/geosync-testbed/bricks/mvol):vm:/var/tmp/geosync-testbed/bricks/mvol/>", 1)]
    // Replica sets: alone, and three of them distributed.
    [InlineData("(<REPLICATE:rvol-replicate-0> <POSIX(/b1):h1:/b1/> <POSIX(/b2):h2:/b2/>)", 1)]
    [InlineData("((<DISTRIBUTE:x-dht> (<REPLICATE:x-replicate-0> <POSIX(/a):h1:/a/> <POSIX(/a):h2:/a/>) " +
        "(<REPLICATE:x-replicate-1> <POSIX(/b):h1:/b/> <POSIX(/b):h2:/b/>) (<REPLICATE:x-replicate-2> <POSIX(/c):h1:/c/> <POSIX(/c):h2:/c/>)) " +
        "(x-dht-layout (x-replicate-0 0 1) (x-replicate-1 2 3) (x-replicate-2 4 5)))", 3)]
    // A distribute group of one subvolume, and a brick path with parentheses and a trailing NUL as getxattr gives it.
    [InlineData("((<DISTRIBUTE:one-dht> <POSIX(/b (1)):h:/b (1)/>) (one-dht-layout (one-client-0 0 4294967295)))\0", 1)]
    public void CountsTheDistributeSubvolumes(string pathInfo, int expected) =>
        Assert.Equal(expected, GlusterPathInfo.DistributeCount(pathInfo));

    [Theory]
    [InlineData("")]
    [InlineData("((<DISTRIBUTE:dvol-dht> <POSIX(/b1):h:/b1/>")]
    [InlineData("<POSIX(/b1):h:/b1/")]
    [InlineData("(<DISTRIBUTE:x> a))")]
    public void RefusesWhatItCannotParse(string pathInfo) => Assert.Null(GlusterPathInfo.DistributeCount(pathInfo));
}
