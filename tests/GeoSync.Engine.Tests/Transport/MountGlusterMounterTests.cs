using System.Diagnostics;
using GeoSync.Engine.Transport.Mounting;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>The mounters' decisions with a fake runner and host: argv, guard protocol, readiness, causes and cleanup.</summary>
public class MountGlusterMounterTests
{
    private const string Guard = "/guard/mount-guard.sh";
    private const string MountInfo = "/proc/self/mountinfo";
    private const string LogFile = "/logs/aux.log";
    private const string TempMount = "/tmp/geosync-aux-mount-000000";

    private readonly FakeProcessRunner _runner = new();
    private readonly FakeMountSystem _system = new();
    private readonly List<string> _verbose = [];

    private GlusterMounter Mounter => new(_runner, _system, Guard, MountInfo) { Verbose = _verbose.Add };

    /// <summary>The tests' defaults: mvol from 10.1.1.2 in namespace tb, logging to /logs/aux.log, 5 s.</summary>
    private static GlusterMountOptions Direct() => new()
    {
        Volume = "mvol",
        Server = "10.1.1.2",
        NetworkNamespace = "tb",
        LogFile = LogFile,
        Timeout = TimeSpan.FromSeconds(5),
    };

    private void ClientMounts(string mountPoint = TempMount) =>
        _runner.Client = _ =>
        {
            _system.Mounted(mountPoint, "10.1.1.2:mvol");
            return (0, "", "");
        };

    [Fact]
    public async Task UncachedMetadataZeroesTheAttributeAndEntryTimeoutsAndTheClientMetadataCache()
    {
        ClientMounts();

        await Mounter.MountAsync(Direct() with { UncachedMetadata = true });

        var argv = _runner.ClientProcess!.Argv;
        Assert.Equal(["--fopen-keep-cache=off", "--attribute-timeout=0", "--entry-timeout=0",
            "--xlator-option=*-md-cache.md-cache-timeout=0", TempMount], argv.TakeLast(5));
    }

    [Fact]
    public async Task DirectMountRunsTheClientInTheNamespaceAndWaitsUntilTheRootAnswers()
    {
        ClientMounts();
        _system.Probes.Enqueue(FakeMountSystem.Failing(Errno.ENOTCONN));
        _system.Probes.Enqueue(FakeMountSystem.Failing(Errno.ENOTCONN));

        var mount = await Mounter.MountAsync(Direct());

        Assert.Equal(
            ["/usr/bin/nsenter", "--net=/var/run/netns/tb", "--", "/usr/sbin/glusterfs",
                "--xlator-option=*-dht.assert-no-child-down=true", $"--log-file={LogFile}", "--volfile-server=10.1.1.2",
                "--volfile-id=mvol", "--client-pid=-1", "--fopen-keep-cache=off", TempMount],
            _runner.ClientProcess!.Argv);
        Assert.Equal(["/usr/bin/setsid", "/usr/bin/bash", Guard, MountInfo, "remove-dir", "/usr/bin/umount", "-l", "{}"],
            _runner.Guard.Argv);
        Assert.Equal(3, _system.ProbeCount);
        Assert.Equal(TempMount, mount.MountPoint);
        Assert.Equal("mvol", mount.Volume);
        Assert.Equal("10.1.1.2", mount.Server);
        Assert.Equal(GlusterMountMode.Direct, mount.Mode);
        Assert.Equal(777, mount.ProcessId);
        Assert.Equal(_runner.Guard.Id, mount.GuardProcessId);
        // The guard knows the point and that it is mounted, and keeps waiting.
        Assert.Equal(TempMount + "\0M", _runner.Guard.Stdin.WrittenText);
        Assert.False(_runner.Guard.Stdin.IsClosed);
    }

    [Fact]
    public async Task AReadOnlyUnderlayIsMountedBeforeTheVolumeAndOnlyDirectly()
    {
        _system.Programs.Add("/usr/bin/mount");
        ClientMounts();

        await Mounter.MountAsync(Direct() with { ReadOnlyUnderlay = true });

        var commands = _runner.Started.Where(p => p != _runner.Guard).Select(p => p.Argv).ToList();
        Assert.Equal(2, commands.Count);
        Assert.Equal(["/usr/bin/mount", "-t", "tmpfs", "-o", "ro,size=4k,nr_inodes=8,mode=0555", "geosync-underlay", TempMount], commands[0]);
        Assert.EndsWith("glusterfs", commands[1][3], StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new GlusterMountOptions
        {
            Volume = "mvol", Server = "10.1.1.2", Mode = GlusterMountMode.MountBroker, ReadOnlyUnderlay = true,
        }.Validate());
    }

    [Fact]
    public async Task UnmountClosesTheGuardPipeAndWaitsForIt()
    {
        ClientMounts();
        var mount = await Mounter.MountAsync(Direct());

        await mount.UnmountAsync();

        Assert.True(_runner.Guard.Stdin.IsClosed);
        Assert.True(mount.IsReleased);
        Assert.False(_runner.Guard.Killed);
    }

    [Fact]
    public async Task AFailedCleanupIsReportedWithTheGuardsOutput()
    {
        ClientMounts();
        _runner.GuardExitCode = 32;
        _runner.GuardStderr = "geosync-mount-guard: lazy unmount of /tmp/x failed with status 32";
        var mount = await Mounter.MountAsync(Direct());

        var error = await Assert.ThrowsAsync<GlusterMountException>(mount.UnmountAsync);

        Assert.Equal(GlusterMountFailure.UnmountFailed, error.Reason);
        Assert.Contains("failed with status 32", error.Message, StringComparison.Ordinal);
        Assert.Contains("stale mount", error.Message, StringComparison.Ordinal);
        // Disposal releases quietly; the outcome is the same.
        await mount.DisposeAsync();
    }

    [Fact]
    public async Task WithoutANamespaceTheClientRunsDirectly()
    {
        ClientMounts();
        await Mounter.MountAsync(Direct() with { NetworkNamespace = null, LogLevel = "DEBUG" });

        Assert.Equal(
            ["/usr/sbin/glusterfs", "--xlator-option=*-dht.assert-no-child-down=true", "--log-level=DEBUG",
                $"--log-file={LogFile}", "--volfile-server=10.1.1.2", "--volfile-id=mvol", "--client-pid=-1", "--fopen-keep-cache=off", TempMount],
            _runner.ClientProcess!.Argv);
    }

    [Fact]
    public async Task AMissingVolumeIsNamedFromTheClientLogAndCleanedUp()
    {
        _runner.Client = _ => (2, "", "");
        _system.ClientLog =
            "[2026-11-25 21:34:02.300395 +0000] E [glusterfsd-mgmt.c:2170:mgmt_getspec_cbk] 0-glusterfs: failed to get the 'volume file' from server\n" +
            "[2026-11-25 21:34:02.300401 +0000] E [glusterfsd-mgmt.c:2371:mgmt_getspec_cbk] 0-mgmt: failed to fetch volume file (key:novol)\n";

        var error = await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Direct() with { Volume = "novol" }));

        Assert.Equal(GlusterMountFailure.VolumeNotFound, error.Reason);
        Assert.Equal("novol", error.Volume);
        Assert.Contains("volume 'novol' does not exist on 10.1.1.2", error.Message, StringComparison.Ordinal);
        Assert.Contains("failed to fetch volume file (key:novol)", error.Message, StringComparison.Ordinal);
        // Announced but never confirmed; the pipe is closed and the guard has finished its cleanup.
        Assert.Equal(TempMount + "\0", _runner.Guard.Stdin.WrittenText);
        Assert.True(_runner.Guard.Stdin.IsClosed);
    }

    [Fact]
    public async Task AVolumeWithoutBricksFailsFastAndItsClientIsStopped()
    {
        ClientMounts();
        _system.Probes.Enqueue(FakeMountSystem.Failing(Errno.ENOTCONN));
        _system.ClientLog =
            "[2026-11-25 21:34:08.176003 +0000] E [MSGID: 114058] [client-handshake.c:1193:client_query_portmap_cbk] 0-xexp-client-0: " +
            "failed to get the port number for remote subvolume. Please run gluster volume status on server to see if brick process is running [] \n" +
            "[2026-11-25 21:34:08.178033 +0000] E [fuse-bridge.c:5364:fuse_first_lookup] 0-fuse: first lookup on root failed (Transport endpoint is not connected)\n";
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Direct()));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal(GlusterMountFailure.VolumeNotStarted, error.Reason);
        Assert.Contains("ENOTCONN", error.Message, StringComparison.Ordinal);
        Assert.Contains("gluster volume start mvol", error.Message, StringComparison.Ordinal);
        Assert.Equal([777], _system.Terminated);
        Assert.Equal(TempMount + "\0M", _runner.Guard.Stdin.WrittenText);
        Assert.True(_runner.Guard.Stdin.IsClosed);
    }

    [Fact]
    public async Task AProbeAnsweredAfterTheClientUnmountedItselfIsNotAMount()
    {
        // Seen on GlusterFS 10.3 with a just-stopped volume: the client mounts, finds no brick and unmounts itself, and
        // stat of the now bare directory succeeds.
        ClientMounts();
        _system.DuringProbe = mountPoint => _system.Mounts.TryRemove(mountPoint, out _);
        _system.ClientLog =
            "[2026-11-25 23:34:07.065326 +0000] E [MSGID: 114058] [client-handshake.c:1193:client_query_portmap_cbk] 0-mvol-client-0: " +
            "failed to get the port number for remote subvolume. Please run gluster volume status on server to see if brick process is running [] \n";

        var error = await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Direct()));

        Assert.Equal(GlusterMountFailure.VolumeNotStarted, error.Reason);
        Assert.Contains("not in the mount table", error.Message, StringComparison.Ordinal);
        Assert.True(_runner.Guard.Stdin.IsClosed);
    }

    [Fact]
    public async Task AClientThatExitsWithoutAMountFailsAtOnce()
    {
        _runner.Client = _ => (0, "", "");

        var error = await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Direct()));

        Assert.Equal(GlusterMountFailure.MountFailed, error.Reason);
        Assert.Contains("exited and left nothing mounted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableServerIsReportedFromTheExitCode()
    {
        _runner.Client = _ => (107, "", "");
        _system.ClientLog = "[2026-11-25 21:34:16.922380 +0000] I [glusterfsd-mgmt.c:2673:mgmt_rpc_notify] 0-glusterfsd-mgmt: disconnected from remote-host: 10.1.1.9\n";

        var error = await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Direct() with { Server = "10.1.1.9" }));

        Assert.Equal(GlusterMountFailure.ServerUnreachable, error.Reason);
        Assert.Contains("cannot reach glusterd on 10.1.1.9 from network namespace 'tb'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatNeverDaemonizesIsStoppedAtTheDeadline()
    {
        _runner.Client = _ => (null, "", "");
        _system.Clients[TempMount] = 778;
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<GlusterMountException>(() =>
            Mounter.MountAsync(Direct() with { Timeout = TimeSpan.FromMilliseconds(300) }));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
        Assert.Equal(GlusterMountFailure.ServerUnreachable, error.Reason);
        Assert.Contains("did not answer within 0.3 s", error.Message, StringComparison.Ordinal);
        Assert.True(_runner.ClientProcess!.Killed);
        Assert.Equal([778], _system.Terminated);
        Assert.True(_runner.Guard.Stdin.IsClosed);
    }

    [Fact]
    public async Task AMountWhoseRootNeverAnswersTimesOut()
    {
        ClientMounts();
        _system.ProbeGate = new ManualResetEventSlim(false);
        try
        {
            var error = await Assert.ThrowsAsync<GlusterMountException>(() =>
                Mounter.MountAsync(Direct() with { Timeout = TimeSpan.FromMilliseconds(300) }));

            Assert.Equal(GlusterMountFailure.Timeout, error.Reason);
            Assert.Contains("stat of its root is still waiting", error.Message, StringComparison.Ordinal);
            Assert.Equal([777], _system.Terminated);
        }
        finally
        {
            _system.ProbeGate.Set();
        }
    }

    [Fact]
    public async Task AMissingClientIsReportedBeforeAnythingIsCreated()
    {
        _system.Programs.Remove("/usr/sbin/glusterfs");

        var error = await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Direct()));

        Assert.Equal(GlusterMountFailure.ClientNotInstalled, error.Reason);
        Assert.Contains("'glusterfs' was not found on PATH", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install glusterfs-client", error.Message, StringComparison.Ordinal);
        Assert.Empty(_runner.Started);
        Assert.Empty(_system.CreatedTempDirectories);
    }

    [Fact]
    public async Task AGivenCommandDirectoryIsTheOnlyPlaceLookedIn()
    {
        var error = await Assert.ThrowsAsync<GlusterMountException>(() =>
            Mounter.MountAsync(Direct() with { GlusterCommandDirectory = "/opt/gluster/sbin" }));

        Assert.Equal(GlusterMountFailure.ClientNotInstalled, error.Reason);
        Assert.Contains("in /opt/gluster/sbin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingNamespaceIsReported()
    {
        var error = await Assert.ThrowsAsync<GlusterMountException>(() =>
            Mounter.MountAsync(Direct() with { NetworkNamespace = "nope" }));

        Assert.Equal(GlusterMountFailure.NetworkNamespaceNotFound, error.Reason);
        Assert.Contains("/var/run/netns/nope", error.Message, StringComparison.Ordinal);
        Assert.Empty(_runner.Started);
    }

    [Fact]
    public async Task AMountPointThatIsMountedAlreadyIsBusy()
    {
        _system.Directories["/srv/aux"] = true;
        _system.Mounted("/srv/aux", "10.1.1.2:mvol");

        var error = await Assert.ThrowsAsync<GlusterMountException>(() =>
            Mounter.MountAsync(Direct() with { MountPoint = "/srv/aux/" }));

        Assert.Equal(GlusterMountFailure.MountPointBusy, error.Reason);
        Assert.Equal("/srv/aux", error.MountPoint);
        Assert.Contains("10.1.1.2:mvol (fuse.glusterfs) is mounted there already", error.Message, StringComparison.Ordinal);
        Assert.Empty(_runner.Started);
    }

    [Fact]
    public async Task AMountPointWithFilesIsBusy()
    {
        _system.Directories["/srv/aux"] = false;

        var error = await Assert.ThrowsAsync<GlusterMountException>(() =>
            Mounter.MountAsync(Direct() with { MountPoint = "/srv/aux" }));

        Assert.Equal(GlusterMountFailure.MountPointBusy, error.Reason);
        Assert.Contains("not empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGivenMountPointIsKeptByTheGuard()
    {
        _system.Directories["/srv/aux"] = true;
        ClientMounts("/srv/aux");

        var mount = await Mounter.MountAsync(Direct() with { MountPoint = "/srv/aux" });

        Assert.Equal("/srv/aux", mount.MountPoint);
        Assert.Equal("keep-dir", _runner.Guard.Argv[4]);
        Assert.Empty(_system.CreatedTempDirectories);
    }

    [Fact]
    public async Task CancellingStopsTheClientAndCleansUp()
    {
        _runner.Client = _ => (null, "", "");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Mounter.MountAsync(Direct(), cancellation.Token));

        Assert.True(_runner.ClientProcess!.Killed);
        Assert.True(_runner.Guard.Stdin.IsClosed);
    }

    [Fact]
    public async Task AMissingGuardScriptIsReportedBeforeMounting()
    {
        _system.Files.Remove(Guard);

        var error = await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Direct()));

        Assert.Contains("mount guard script /guard/mount-guard.sh is missing", error.Message, StringComparison.Ordinal);
        Assert.Empty(_runner.Started);
        Assert.Equal([TempMount], _system.RemovedDirectories);
    }

    private static GlusterMountOptions Broker(string volume = "svol") => new()
    {
        Volume = volume,
        Server = "localhost",
        Mode = GlusterMountMode.MountBroker,
        MountBrokerUser = "geoaccount",
        LogFile = "/logs/geo-replication-secondaries/aux.log",
        Timeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task MountBrokerAsksGlusterdWithTheParametersItAcceptsAndGuardsTheAnsweredPoint()
    {
        const string cookie = "/mbr/mb_hive/mntAbC123";
        const string directory = "/mbr/user999/mtpt-geoaccount-XyZ789";
        _system.Links[cookie] = "../user999/mtpt-geoaccount-XyZ789";
        _runner.Client = _ =>
        {
            _system.Mounted(directory, "localhost:svol", 888);
            return (0, cookie + "\n", "[2026-11-25 21:34:36.559202 +0000] I [input.c:31:cli_batch] 0-: Exiting with: 0\n");
        };

        var mount = await Mounter.MountAsync(Broker());

        Assert.Equal(
            ["/usr/sbin/gluster", "--remote-host=localhost", "--log-file=-", "system::", "mount", "geoaccount",
                "user-map-root=geoaccount", "aux-gfid-mount", "acl", "log-file=/logs/geo-replication-secondaries/aux.log",
                "volfile-server=localhost", "volfile-id=svol", "client-pid=-1"],
            _runner.ClientProcess!.Argv);
        Assert.Equal(["/usr/bin/setsid", "/usr/bin/bash", Guard, MountInfo, "mountbroker",
            "/usr/sbin/gluster", "--remote-host=localhost", "--log-file=-", "system::", "umount", "{}", "lazy"], _runner.Guard.Argv);
        Assert.Equal(cookie + "\0M", _runner.Guard.Stdin.WrittenText);
        Assert.Equal(cookie, mount.MountPoint);
        Assert.Equal(GlusterMountMode.MountBroker, mount.Mode);
        Assert.Equal(888, mount.ProcessId);
        Assert.Empty(_system.CreatedTempDirectories);
    }

    [Fact]
    public async Task MountBrokerRefusalQuotesGlusterdsAnswer()
    {
        _runner.Client = _ => (1, "", "[2026-11-25 21:34:36.548260 +0000] I [MSGID: 101190] [event-epoll.c:667:x] 0-epoll: Started thread\n" +
            "1 : failed with this errno (Operation not permitted)\n");

        var error = await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Broker("mvol")));

        Assert.Equal(GlusterMountFailure.MountBrokerRefused, error.Reason);
        Assert.Contains("glusterd answered: 1 : failed with this errno (Operation not permitted)", error.Message, StringComparison.Ordinal);
        Assert.Contains("mountbroker-geo-replication.geoaccount", error.Message, StringComparison.Ordinal);
        Assert.Equal("", _runner.Guard.Stdin.WrittenText);
        Assert.True(_runner.Guard.Stdin.IsClosed);
    }

    [Fact]
    public async Task MountBrokerWithoutGlusterdIsUnreachable()
    {
        _runner.Client = _ => (1, "Connection failed. Please check if gluster daemon is operational.\n", "");

        var error = await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Broker()));

        Assert.Equal(GlusterMountFailure.ServerUnreachable, error.Reason);
        Assert.Contains("Connection failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MountBrokerUsesTheCurrentUserByDefault()
    {
        _runner.Client = _ => (1, "", "1 : failed with this errno (Operation not permitted)\n");

        await Assert.ThrowsAsync<GlusterMountException>(() => Mounter.MountAsync(Broker() with { MountBrokerUser = null }));

        Assert.Contains("user-map-root=geoaccount", _runner.ClientProcess!.Argv);
    }

    [Theory]
    [InlineData("-x", "10.1.1.2")]
    [InlineData("my vol", "10.1.1.2")]
    [InlineData("a/b", "10.1.1.2")]
    [InlineData("mvol", "--remote-host=evil")]
    [InlineData("mvol", "host name")]
    public async Task RefusesValuesThatCannotNameAVolumeOrHost(string volume, string server)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Mounter.MountAsync(Direct() with { Volume = volume, Server = server }));
        Assert.Empty(_runner.Started);
    }
}
