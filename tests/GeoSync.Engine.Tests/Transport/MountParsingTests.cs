using GeoSync.Engine.Transport.Mounting;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>The mount table parser and the client-log diagnosis, on text captured from GlusterFS 10.3.</summary>
public class MountParsingTests
{
    private const string MountInfo =
        "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n" +
        "98 22 0:52 / /tmp/geosync-aux-mount-b8p1 rw,relatime shared:55 - fuse.glusterfs 10.147.93.2:mvol rw,user_id=0,group_id=0,default_permissions,allow_other,max_read=131072\n" +
        "99 22 0:53 / /mnt/with\\040space\\011tab\\134back rw,relatime - fuse.glusterfs 10.147.93.2:svol rw\n" +
        "100 22 0:54 / /srv/stacked rw,relatime master:3 propagate_from:1 - tmpfs none rw\n" +
        "101 100 0:55 / /srv/stacked rw,relatime - fuse.glusterfs localhost:svol rw\n" +
        "garbage line\n";

    [Fact]
    public void ParsesMountPointTypeAndSourceWithOptionalFields()
    {
        var entries = MountTable.Parse(MountInfo).ToList();

        Assert.Equal(5, entries.Count);
        Assert.Equal(new MountTableEntry("/tmp/geosync-aux-mount-b8p1", "fuse.glusterfs", "10.147.93.2:mvol") { Device = "0:52" }, entries[1]);
        Assert.True(entries[1].IsFuse);
        Assert.False(entries[0].IsFuse);
        Assert.Equal(new MountTableEntry("/srv/stacked", "tmpfs", "none") { Device = "0:54" }, entries[3]);
    }

    [Fact]
    public void ReadsTheRootOfABindMount()
    {
        var bind = MountTable.Parse("40 22 254:0 /srv/m\\040x/sub /mnt/b rw,relatime - ext4 /dev/vda rw").Single();

        Assert.Equal("/srv/m x/sub", bind.Root);
        Assert.Equal("254:0", bind.Device);
    }

    [Fact]
    public void UnescapesTheKernelsOctalEscapes()
    {
        Assert.NotNull(MountTable.Find(MountInfo, "/mnt/with space\ttab\\back"));
        Assert.Equal("a\\b", MountTable.Unescape("a\\b"));
        Assert.Equal("é", MountTable.Unescape("\\303\\251"));
    }

    [Fact]
    public void FindsTheTopMostOfStackedMounts()
    {
        Assert.Equal("fuse.glusterfs", MountTable.Find(MountInfo, "/srv/stacked")!.FileSystemType);
        Assert.Null(MountTable.Find(MountInfo, "/srv"));
    }

    [Fact]
    public void NamesAMissingVolume()
    {
        var diagnosis = GlusterClientLog.Diagnose(
            "[2026-11-25 21:34:02.300395 +0000] E [glusterfsd-mgmt.c:2170:mgmt_getspec_cbk] 0-glusterfs: failed to get the 'volume file' from server\n" +
            "[2026-11-25 21:34:02.300401 +0000] E [glusterfsd-mgmt.c:2371:mgmt_getspec_cbk] 0-mgmt: failed to fetch volume file (key:novol)\n" +
            "[2026-11-25 21:34:02.300620 +0000] W [glusterfsd.c:1458:cleanup_and_exit] (-->/lib/x86_64-linux-gnu/libgfrpc.so.0(+0xfcc2) [0x7f0ad1753cc2] -->glusterfs(mgmt_getspec_cbk+0x73e) [0x55e6fff3318e] -->glusterfs(cleanup_and_exit+0x57) [0x55e6fff2a467] ) 0-: received signum (0), shutting down \n");

        Assert.Equal(GlusterMountFailure.VolumeNotFound, diagnosis.Cause);
        Assert.Equal(["failed to fetch volume file (key:novol)"], diagnosis.Evidence);
    }

    [Fact]
    public void NamesAVolumeWithoutRunningBricks()
    {
        var diagnosis = GlusterClientLog.Diagnose(
            "[2026-11-25 21:34:08.176003 +0000] E [MSGID: 114058] [client-handshake.c:1193:client_query_portmap_cbk] 0-xexp-client-0: failed to get the port number for remote subvolume. Please run gluster volume status on server to see if brick process is running [] \n" +
            "[2026-11-25 21:34:08.178033 +0000] E [fuse-bridge.c:5364:fuse_first_lookup] 0-fuse: first lookup on root failed (Transport endpoint is not connected)\n");

        Assert.Equal(GlusterMountFailure.VolumeNotStarted, diagnosis.Cause);
        Assert.StartsWith("failed to get the port number for remote subvolume", diagnosis.Evidence[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[2026-11-25 21:34:16.922417 +0000] I [glusterfsd-mgmt.c:2712:mgmt_rpc_notify] 0-glusterfsd-mgmt: Exhausted all volfile servers\n", "Exhausted all volfile servers")]
    [InlineData("[2026-11-25 21:39:52.233247 +0000] E [name.c:267:af_inet_client_get_remote_sockaddr] 0-glusterfs: DNS resolution failed on host no-such-host.invalid\n", "DNS resolution failed on host no-such-host.invalid")]
    public void NamesAnUnreachableServer(string log, string evidence)
    {
        var diagnosis = GlusterClientLog.Diagnose(log);
        Assert.Equal(GlusterMountFailure.ServerUnreachable, diagnosis.Cause);
        Assert.Equal([evidence], diagnosis.Evidence);
    }

    [Fact]
    public void WithoutAKnownCauseGivesTheNewestErrorsWithoutCallChains()
    {
        var diagnosis = GlusterClientLog.Diagnose(
            "[2026-11-25 21:34:08.100000 +0000] I [MSGID: 1] [glusterfsd.c:2767:main] 0-glusterfs: Started running version\n" +
            "[2026-11-25 21:34:08.200000 +0000] E [timer.c:1:gf_timer_call_after] (-->/lib/x86_64-linux-gnu/libgfrpc.so.0(rpc_transport_notify+0x23) [0x7f4b59f37673] -->/lib/x86_64-linux-gnu/libglusterfs.so.0(gf_timer_call_after+0x290) [0x7f4b59f9c1d0] ) 0-timer: Either ctx is NULL or ctx cleanup started [Invalid argument]\n" +
            "[2026-11-25 21:34:08.300000 +0000] C [x.c:1:f] 0-xlator: something critical\n");

        Assert.Null(diagnosis.Cause);
        Assert.Equal(["Either ctx is NULL or ctx cleanup started [Invalid argument]", "something critical"], diagnosis.Evidence);
    }

    [Fact]
    public void AnEmptyLogNamesNothing()
    {
        var diagnosis = GlusterClientLog.Diagnose("");
        Assert.Null(diagnosis.Cause);
        Assert.Empty(diagnosis.Evidence);
    }
}
