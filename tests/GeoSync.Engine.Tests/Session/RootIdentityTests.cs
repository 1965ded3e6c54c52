using GeoSync.Engine.Rpc;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport.Mounting;

namespace GeoSync.Engine.Tests.Session;

/// <summary>What a replica root is, read through a fake host: symlinks, bind mounts and second mounts of one volume.</summary>
public sealed class RootIdentityTests
{
    private const string Boot = "boot-1";

    /// <summary>A host: directories by canonical path (device, inode), symlinks resolved by <see cref="Links"/>, a mount table.</summary>
    private sealed class FakeHost : IRootSystem
    {
        public Dictionary<string, (long, long)> Directories { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Links { get; } = new(StringComparer.Ordinal);
        public List<string> MountLines { get; } = [];
        public string Boot { get; init; } = RootIdentityTests.Boot;
        public Dictionary<string, string> Addresses { get; } = new(StringComparer.Ordinal);

        public FakeHost Dir(string path, long device, long inode)
        {
            Directories[path] = (device, inode);
            return this;
        }

        public FakeHost Mount(string device, string root, string mountPoint, string type, string source)
        {
            MountLines.Add($"{MountLines.Count + 20} 1 {device} {root} {mountPoint} rw - {type} {source} rw");
            return this;
        }

        public string RealPath(string path) => Links.TryGetValue(path, out var target) ? target : path;

        public (long Device, long Inode) Stat(string path) =>
            Directories.TryGetValue(path, out var id) ? id : throw new GeoSyncException($"no such directory {path}");

        public string MountInfo() => string.Join('\n', MountLines);

        public string HostId() => Boot;

        public Dictionary<string, string[]> Bricks { get; } = new(StringComparer.Ordinal);

        public string GlusterVolumeKey(string server, string volume) =>
            $"gluster://{(Addresses.TryGetValue(server, out var address) ? address : server)}/{volume}";

        public IReadOnlyList<string> GlusterBricks(string mountPoint) => Bricks.TryGetValue(mountPoint, out var bricks) ? bricks : [];
    }

    private static FakeHost Disk() => new FakeHost()
        .Mount("254:0", "/", "/", "ext4", "/dev/vda1")
        .Dir("/", 1, 2).Dir("/srv", 1, 10).Dir("/srv/m", 1, 11).Dir("/srv/m/sub", 1, 12).Dir("/srv/s", 1, 13);

    [Fact]
    public void TheChainRunsFromTheRootDirectoryDownToTheRoot()
    {
        var id = RootIdentity.Read("/srv/m/sub", Disk());

        Assert.Equal("/srv/m/sub", id.Path);
        Assert.Equal(Boot, id.Host);
        Assert.Equal([new RootElement(1, 2, null), new(1, 10, null), new(1, 11, null), new(1, 12, null)], id.Chain);
    }

    [Theory]
    [InlineData("/srv/m", "/srv/m/sub", true, false)]
    [InlineData("/srv/m/sub", "/srv/m", false, true)]
    [InlineData("/srv/m", "/srv/m", true, true)]
    [InlineData("/srv/m", "/srv/s", false, false)]
    public void ContainmentFollowsTheChains(string master, string slave, bool slaveInMaster, bool masterInSlave)
    {
        var host = Disk();
        var m = RootIdentity.Read(master, host);
        var s = RootIdentity.Read(slave, host);

        Assert.Equal(slaveInMaster, s.IsWithin(m));
        Assert.Equal(masterInSlave, m.IsWithin(s));
        Assert.Equal(slaveInMaster || masterInSlave, m.Overlaps(s));
    }

    [Fact]
    public void ASymlinkIsComparedByWhatItResolvesTo()
    {
        var host = Disk();
        host.Links["/srv/link"] = "/srv/m/sub";

        Assert.True(RootIdentity.Read("/srv/link", host).IsWithin(RootIdentity.Read("/srv/m", host)));
    }

    [Fact]
    public void ABindMountOfADirectoryInsideTheMasterIsInsideTheMaster()
    {
        // /mnt/b shows /srv/m/sub again: same device and inode, and the disk's own mount shows the directories above it.
        var host = Disk().Mount("254:0", "/srv/m/sub", "/mnt/b", "ext4", "/dev/vda1").Dir("/mnt", 1, 20).Dir("/mnt/b", 1, 12);
        var master = RootIdentity.Read("/srv/m", host);
        var bound = RootIdentity.Read("/mnt/b", host);

        Assert.True(bound.IsWithin(master));
        Assert.False(master.IsWithin(bound));
    }

    [Fact]
    public void ABindMountOfTheMastersParentContainsTheMaster()
    {
        var host = Disk().Mount("254:0", "/srv", "/mnt/b", "ext4", "/dev/vda1").Dir("/mnt", 1, 20).Dir("/mnt/b", 1, 10).Dir("/mnt/b/m", 1, 11);

        Assert.True(RootIdentity.Read("/srv/m", host).IsWithin(RootIdentity.Read("/mnt/b", host)));
        Assert.True(RootIdentity.Read("/mnt/b/m", host).Overlaps(RootIdentity.Read("/srv/m", host)));
    }

    [Fact]
    public void TwoMountsOfOneVolumeMeetInTheVolumeKeyThoughTheirDevicesDiffer()
    {
        var host = Disk()
            .Mount("0:50", "/", "/srv/m", "fuse.glusterfs", "10.0.0.2:mvol")
            .Mount("0:51", "/", "/tmp/aux", "fuse.glusterfs", "server1:/mvol")
            .Dir("/srv/m", 50, 1).Dir("/tmp", 1, 30).Dir("/tmp/aux", 51, 1).Dir("/tmp/aux/replica", 51, 77);
        host.Addresses["server1"] = "10.0.0.2";
        var master = RootIdentity.Read("/srv/m", host);
        var slave = RootIdentity.Read("/tmp/aux/replica", host);

        Assert.Equal("gluster://10.0.0.2/mvol:/", master.Root.Volume);
        Assert.Equal("gluster://10.0.0.2/mvol:/replica", slave.Root.Volume);
        Assert.True(slave.IsWithin(master));
    }

    [Fact]
    public void MountsOfOneVolumeThroughDifferentServersMeetInItsBricks()
    {
        var host = Disk()
            .Mount("0:50", "/", "/tmp/m-aux", "fuse.glusterfs", "10.0.0.2:mvol")
            .Mount("0:51", "/", "/tmp/s-aux", "fuse.glusterfs", "10.0.0.3:mvol")
            .Mount("0:52", "/", "/srv/normal", "fuse.glusterfs", "10.0.0.2:mvol")
            .Dir("/tmp", 1, 30).Dir("/tmp/m-aux", 50, 1).Dir("/tmp/s-aux", 51, 1).Dir("/srv/normal", 52, 1).Dir("/srv/normal/copy", 52, 9);
        host.Bricks["/tmp/m-aux"] = ["vm:/bricks/mvol"];
        host.Bricks["/tmp/s-aux"] = ["vm:/bricks/mvol"];
        var master = RootIdentity.Read("/tmp/m-aux", host);

        Assert.Equal("gluster-bricks://vm:/bricks/mvol:/", master.Root.VolumeId);
        Assert.True(RootIdentity.Read("/tmp/s-aux", host).Overlaps(master));
        // A mount that does not answer the pathinfo: the server and volume name it mounts still match.
        Assert.True(RootIdentity.Read("/srv/normal/copy", host).IsWithin(master));
    }

    [Fact]
    public void ASubdirectoryMountStandsForTheVolumeDirectoriesAboveIt()
    {
        var host = Disk()
            .Mount("0:50", "/", "/srv/m", "fuse.glusterfs", "h:/mvol")
            .Mount("0:51", "/", "/srv/s", "fuse.glusterfs", "h:/mvol/data/set")
            .Dir("/srv/m", 50, 1).Dir("/srv/s", 51, 1);

        var sub = RootIdentity.Read("/srv/s", host);

        Assert.Equal(["gluster://h/mvol:/", "gluster://h/mvol:/data", "gluster://h/mvol:/data/set"], sub.Chain.Select(e => e.Volume).OfType<string>());
        Assert.True(sub.IsWithin(RootIdentity.Read("/srv/m", host)));
    }

    [Fact]
    public void DifferentVolumesOnOneServerDoNotOverlap()
    {
        var host = Disk()
            .Mount("0:50", "/", "/srv/m", "fuse.glusterfs", "h:mvol")
            .Mount("0:51", "/", "/srv/s", "fuse.glusterfs", "h:svol")
            .Dir("/srv/m", 50, 1).Dir("/srv/s", 51, 1);

        Assert.False(RootIdentity.Read("/srv/m", host).Overlaps(RootIdentity.Read("/srv/s", host)));
    }

    [Fact]
    public void DeviceAndInodeCountOnlyOnTheSameKernelButAVolumeKeyCountsAnywhere()
    {
        var here = RootIdentity.Read("/srv/m", Disk());
        var elsewhere = RootIdentity.Read("/srv/m/sub", new FakeHost { Boot = "boot-2" }
            .Mount("254:0", "/", "/", "ext4", "/dev/vda1")
            .Dir("/", 1, 2).Dir("/srv", 1, 10).Dir("/srv/m", 1, 11).Dir("/srv/m/sub", 1, 12));
        Assert.False(elsewhere.IsWithin(here));

        var glusterHere = RootIdentity.Read("/srv/m", Disk().Mount("0:50", "/", "/srv/m", "fuse.glusterfs", "h:mvol").Dir("/srv/m", 50, 1));
        var glusterThere = RootIdentity.Read("/data/r", new FakeHost { Boot = "boot-2" }
            .Mount("254:0", "/", "/", "ext4", "/dev/vda1").Mount("0:9", "/", "/data", "fuse.glusterfs", "h:mvol")
            .Dir("/", 1, 2).Dir("/data", 9, 1).Dir("/data/r", 9, 5));
        Assert.True(glusterThere.IsWithin(glusterHere));
    }

    [Fact]
    public void TheWireFormRoundTripsAsPlainValues()
    {
        var host = Disk().Mount("0:50", "/", "/srv/m", "fuse.glusterfs", "h:mvol").Dir("/srv/m", 50, 1);
        var id = RootIdentity.Read("/srv/m/sub", host.Dir("/srv/m/sub", 50, 9));

        var wire = id.ToWire();
        var back = RootIdentity.FromWire(wire);

        Assert.IsType<PyTuple>(wire);
        Assert.NotNull(back);
        Assert.Equal(id.Host, back.Host);
        Assert.Equal(id.Path, back.Path);
        Assert.Equal(id.Chain, back.Chain);
        Assert.Null(RootIdentity.FromWire(new PyTuple("h", "/x", new List<object?>())));
        Assert.Null(RootIdentity.FromWire("not an identity"));
    }

    [Theory]
    [InlineData("server:/vol", "server", "vol", "/")]
    [InlineData("server:vol", "server", "vol", "/")]
    [InlineData("10.0.0.2:/vol/a/b", "10.0.0.2", "vol", "/a/b")]
    [InlineData("[::1]:/vol", "::1", "vol", "/")]
    public void GlusterMountSourcesSplitIntoServerVolumeAndSubdirectory(string source, string server, string volume, string subdirectory)
    {
        Assert.Equal((server, volume, subdirectory), RootIdentity.SplitGlusterSource(source));
    }

    [Fact]
    public void TheLongestMountPointAboveAPathIsItsMount()
    {
        var mounts = MountTable.Parse(string.Join('\n', Disk()
            .Mount("0:50", "/", "/srv/m", "fuse.glusterfs", "h:mvol")
            .Mount("0:60", "/", "/srv/mx", "tmpfs", "tmpfs").MountLines)).ToList();

        Assert.Equal("/srv/m", RootIdentity.MountOf(mounts, "/srv/m/a")?.MountPoint);
        Assert.Equal("/srv/mx", RootIdentity.MountOf(mounts, "/srv/mx")?.MountPoint);
        Assert.Equal("/", RootIdentity.MountOf(mounts, "/srv/other")?.MountPoint);
    }
}

/// <summary>The bricks a pathinfo names: the volume's identity on any of its mounts.</summary>
public sealed class GlusterPathInfoBricksTests
{
    [Theory]
    [InlineData("<POSIX(/var/tmp/geosync-testbed/bricks/mvol):vm:/var/tmp/geosync-testbed/bricks/mvol/>", "vm:/var/tmp/geosync-testbed/bricks/mvol")]
    [InlineData("((<DISTRIBUTE:dvol-dht> <POSIX(/b2):h2:/b2/> <POSIX(/b1):h1:/b1/>) (dvol-dht-layout (dvol-client-0 0 2147483646)))", "h1:/b1,h2:/b2")]
    [InlineData("(<REPLICATE:r-replicate-0> <POSIX(/b(x)):h:/b(x)/d> <POSIX(/c):h:/c/d>)", "h:/b(x),h:/c")]
    [InlineData("no bricks here", "")]
    public void BricksAreReadSortedAsHostAndPath(string pathInfo, string expected)
    {
        Assert.Equal(expected, string.Join(',', GeoSync.Engine.Xattrs.GlusterPathInfo.Bricks(pathInfo)));
    }
}
