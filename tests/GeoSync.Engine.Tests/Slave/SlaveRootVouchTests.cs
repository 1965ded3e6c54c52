using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Slave;

/// <summary>
/// A slave served through a descriptor of its root while rsync writes by the root's path: once the path shows something
/// else (the volume unmounted or replaced), listing the root answers ENOTCONN, which ends the master's turn.
/// </summary>
public sealed class SlaveRootVouchTests : IDisposable
{
    private readonly TempDirectory _dir = new("geosync-slave-vouch-");
    private readonly PosixXattrStore _xattrs = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ARootPathThatNoLongerShowsTheServedRootIsRefusedOnTheRootListing()
    {
        _dir.CreateDirectory("sub");
        using var root = VouchedRoot.TryOpen(_dir.Path, out _)!;
        var server = new SlaveServer(root.ProcPath, _xattrs, XattrNames.TrustedNamespace,
            options: new SlaveServerOptions { ServesGlusterVolume = false, RootPathToVouch = _dir.Path });
        Assert.Equal(new object?[] { "sub" }, await server.InvokeAsync("entries", ["."]));

        var moved = _dir.Path + ".moved";
        Assert.Equal(0, Stdlib.rename(_dir.Path, moved));
        try
        {
            Directory.CreateDirectory(_dir.Path);

            foreach (var method in new[] { "entries", LstatEntriesMethod.Name })
            {
                var error = await Assert.ThrowsAsync<RepceCallException>(() => server.InvokeAsync(method, ["."]).AsTask());
                Assert.Equal("OSError", error.Exception.TypeName);
                Assert.Equal(107L, error.Exception.Args[0]);
                Assert.Contains("no longer the slave volume", (string)error.Exception.Args[1]!, StringComparison.Ordinal);
            }
            // Calls below the root still reach the served directory, never the one now at the path.
            Assert.Null(await server.InvokeAsync("mkdir", ["sub/made"]));
            Assert.True(Directory.Exists(moved + "/sub/made"));
            Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));
        }
        finally
        {
            Directory.Delete(_dir.Path, recursive: true);
            Assert.Equal(0, Stdlib.rename(moved, _dir.Path));
        }
    }

    [Fact]
    public async Task WithoutARootPathToVouchTheRootIsListedAsBefore()
    {
        _dir.CreateDirectory("sub");
        var server = new SlaveServer(_dir.Path, _xattrs, XattrNames.TrustedNamespace,
            options: new SlaveServerOptions { ServesGlusterVolume = false });

        Assert.Equal(new object?[] { "sub" }, await server.InvokeAsync("entries", ["."]));
    }
}
