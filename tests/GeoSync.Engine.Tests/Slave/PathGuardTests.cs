using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Xattrs;

namespace GeoSync.Engine.Tests.Slave;

public sealed class PathGuardTests : IDisposable
{
    private readonly TempDirectory _dir = new("geosync-guard-");
    private readonly PathGuard _guard;

    public PathGuardTests() => _guard = new PathGuard(_dir.Path);

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("", "empty")]
    [InlineData("/etc", "absolute")]
    [InlineData("/", "absolute")]
    [InlineData("..", "'..'")]
    [InlineData("../x", "'..'")]
    [InlineData("a/..", "'..'")]
    [InlineData("a/../b", "'..'")]
    [InlineData("a/b/../../..", "'..'")]
    [InlineData("a\0b", "NUL")]
    public void RefusesPathsThatLeaveTheRoot(string path, string reason)
    {
        var ex = Assert.Throws<GeoSyncPathGuardException>(() => _guard.Resolve(path));
        Assert.Equal(path, ex.Path);
        Assert.Contains(reason, ex.Message);
        Assert.StartsWith("unsafe path", ex.Message);
    }

    [Theory]
    [InlineData(".", "/.", true, true)]
    [InlineData("./", "/.", true, false)]
    [InlineData("./a", "/a", false, false)]
    [InlineData("a//b", "/a/b", false, false)]
    [InlineData("a/./b", "/a/b", false, false)]
    [InlineData("a/", "/a", false, false)]
    [InlineData("a/.", "/a", false, true)]
    [InlineData("..a/a..", "/..a/a..", false, false)]
    [InlineData("...", "/...", false, false)]
    public void AcceptsDotsAndEmptyComponents(string path, string full, bool isRoot, bool endsWithDot)
    {
        var resolved = _guard.Resolve(path);
        Assert.Equal(_dir.Path + full, resolved.FullPath);
        Assert.Equal(isRoot, resolved.IsRoot);
        Assert.Equal(endsWithDot, resolved.EndsWithDot);
        Assert.Equal(path, resolved.Relative);
    }

    [Fact]
    public void RefusesASymlinkAmongTheAncestorsButNotAsTheFinalComponent()
    {
        _dir.CreateDirectory("real");
        _dir.CreateSymlink("link", "real");

        Assert.Equal(_dir.Combine("link"), _guard.Resolve("link").FullPath);
        Assert.Equal(_dir.Combine("real/x"), _guard.Resolve("real/x").FullPath);
        foreach (var path in new[] { "link/x", "link/", "link/.", "./link/x/y" })
        {
            var ex = Assert.Throws<GeoSyncPathGuardException>(() => _guard.Resolve(path));
            Assert.Contains("'link' is a symbolic link", ex.Message);
        }
    }

    [Fact]
    public void FindsASymlinkDeepBelowRealDirectories()
    {
        _dir.CreateDirectory("a/b");
        _dir.CreateSymlink("a/b/c", "/");
        var ex = Assert.Throws<GeoSyncPathGuardException>(() => _guard.Resolve("a/b/c/etc/passwd"));
        Assert.Contains("'a/b/c' is a symbolic link", ex.Message);
    }

    [Fact]
    public void LeavesMissingAndNonDirectoryAncestorsToTheCall()
    {
        _dir.CreateFile("file");
        Assert.Equal(_dir.Combine("missing/x/y"), _guard.Resolve("missing/x/y").FullPath);
        Assert.Equal(_dir.Combine("file/x"), _guard.Resolve("file/x").FullPath);
    }

    [Fact]
    public void TheRootMayItselfBeASymlink()
    {
        _dir.CreateDirectory("real/sub");
        var viaLink = _dir.CreateSymlink("rootlink", _dir.Combine("real"));
        var guard = new PathGuard(viaLink);

        Assert.Equal(viaLink + "/.", guard.Resolve(".").FullPath);
        Assert.Equal(viaLink + "/sub/x", guard.Resolve("sub/x").FullPath);
    }

    [Fact]
    public void AcceptsRawBytesThatAreNotUtf8()
    {
        byte[] name = [(byte)'c', (byte)'a', (byte)'f', 0xE9];
        var resolved = _guard.Resolve(name);
        Assert.Equal("caf\uDCE9", resolved.Relative);
        Assert.Equal(name, WireText.FromNative(resolved.FullPath)[^4..]);
    }
}

/// <summary>The guard as a Python master sees it through the server (docs/protocol.md, "The slave's API" and "Exceptions on the wire").</summary>
public sealed class ServerPathGuardTests : SlaveFixture
{
    [Theory]
    [InlineData("/etc")]
    [InlineData("..")]
    [InlineData("a/../b")]
    [InlineData("a\0b")]
    public async Task RefusalsAreValueErrorUnsafePath(string path)
    {
        Dir.CreateDirectory("a/b");
        await IsUnsafe("entries", path);
        await IsUnsafe("entries", System.Text.Encoding.UTF8.GetBytes(path));
    }

    [Fact]
    public async Task AnEmptyPathIsAnIndexError()
    {
        var ex = await Fails("entries", "");
        Assert.Equal("IndexError", ex.TypeName);
        ex = await Fails("xtime", Array.Empty<byte>(), "u");
        Assert.Equal("IndexError", ex.TypeName);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("./a")]
    [InlineData("a//b")]
    [InlineData("a/./b/")]
    public async Task DotsAndEmptyComponentsPass(string path)
    {
        Dir.CreateDirectory("a/b");
        Dir.CreateFile("a/b/f");
        var names = Assert.IsType<List<object?>>(await Call("entries", path));
        Assert.NotEmpty(names);
    }
}
