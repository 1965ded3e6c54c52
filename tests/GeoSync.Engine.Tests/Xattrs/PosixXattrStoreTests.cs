using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Xattrs;

// Real extended attributes on the temp directory's file system (ext4 here; the tests run as root, so trusted.* works).
public sealed class PosixXattrStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly PosixXattrStore _store = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("trusted.glusterfs.test")]
    [InlineData("user.geosync.test")]
    public void RoundTripsOnAFileAndADirectory(string name)
    {
        foreach (var path in new[] { _dir.CreateFile("f"), _dir.CreateDirectory("d") })
        {
            byte[] value = [0, 1, 2, 0xFF];
            _store.Set(path, name, value);
            Assert.Equal(value, _store.Get(path, name));
            Assert.Contains(name, _store.List(path));

            _store.Set(path, name, [9]);
            Assert.Equal(new byte[] { 9 }, _store.Get(path, name));

            Assert.True(_store.Remove(path, name));
            Assert.Null(_store.Get(path, name));
            Assert.DoesNotContain(name, _store.List(path));
        }
    }

    [Fact]
    public void AnEmptyValueIsPresentNotAbsent()
    {
        var file = _dir.CreateFile("f");
        _store.Set(file, "user.empty", []);
        Assert.Equal(Array.Empty<byte>(), _store.Get(file, "user.empty"));
    }

    [Theory]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(4000)]
    public void ValuesAroundAndBeyondTheFirstReadsBufferComeBackWhole(int length)
    {
        // The first read uses a small buffer; a longer value takes the size-probing path.
        var file = _dir.CreateFile("f");
        var value = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        _store.Set(file, "user.long", value);
        Assert.Equal(value, _store.Get(file, "user.long"));
    }

    [Fact]
    public void AnAbsentAttributeIsNullAndRemovingItIsFalse()
    {
        var file = _dir.CreateFile("f");
        Assert.Null(_store.Get(file, "trusted.glusterfs.nothing"));
        Assert.False(_store.Remove(file, "trusted.glusterfs.nothing"));
        Assert.DoesNotContain("trusted.glusterfs.nothing", _store.List(file));
    }

    [Fact]
    public void WorksOnTheSymlinkItselfAndLeavesTheTargetAlone()
    {
        var target = _dir.CreateFile("target");
        var link = _dir.CreateSymlink("link", target);

        _store.Set(link, "trusted.glusterfs.onlink", [42]);

        Assert.Equal(new byte[] { 42 }, _store.Get(link, "trusted.glusterfs.onlink"));
        Assert.Contains("trusted.glusterfs.onlink", _store.List(link));
        Assert.Null(_store.Get(target, "trusted.glusterfs.onlink"));
        Assert.DoesNotContain("trusted.glusterfs.onlink", _store.List(target));
        Assert.True(_store.Remove(link, "trusted.glusterfs.onlink"));
    }

    [Fact]
    public void UserAttributesOnASymlinkFailClearlyAndDoNotReachTheTarget()
    {
        var target = _dir.CreateFile("target");
        var link = _dir.CreateSymlink("link", target);

        var ex = Assert.Throws<GeoSyncXattrException>(() => _store.Set(link, "user.geosync.x", [1]));

        Assert.Equal(1, ex.Errno); // EPERM: ext4 allows user.* only on regular files and directories
        Assert.Equal(link, ex.Path);
        Assert.Equal("user.geosync.x", ex.AttributeName);
        Assert.Contains("permission denied", ex.Message);
        Assert.Contains("not on symlinks", ex.Message);
        Assert.Contains(link, ex.Message);
        Assert.Null(_store.Get(target, "user.geosync.x"));
    }

    [Fact]
    public void AMissingPathIsNamed()
    {
        var missing = _dir.Combine("missing");
        foreach (var call in new Action[]
        {
            () => _store.Get(missing, "user.x"),
            () => _store.Set(missing, "user.x", [1]),
            () => _store.List(missing),
            () => _store.Remove(missing, "user.x"),
        })
        {
            var ex = Assert.Throws<GeoSyncXattrException>(call);
            Assert.Equal(2, ex.Errno);
            Assert.Contains("does not exist", ex.Message);
            Assert.Contains(missing, ex.Message);
        }
    }

    [Fact]
    public void AnUnsupportedNamespaceSaysSo()
    {
        var file = _dir.CreateFile("f");
        var ex = Assert.Throws<GeoSyncXattrException>(() => _store.Set(file, "bogus.geosync", [1]));
        Assert.Equal(95, ex.Errno);
        Assert.Contains("does not support extended attributes in the 'bogus.*' namespace", ex.Message);
        Assert.Contains("trusted.* needs root", ex.Message);
    }

    [Fact]
    public void ANonDirectoryAncestorIsNamed()
    {
        var file = _dir.CreateFile("f");
        var ex = Assert.Throws<GeoSyncXattrException>(() => _store.Get(Path.Combine(file, "x"), "user.x"));
        Assert.Equal(20, ex.Errno);
        Assert.Contains("not a directory", ex.Message);
    }
}
