using System.Diagnostics;
using System.Text;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Transport.Mounting;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>
/// The real guard script with a fake mount table and a fake unmount command that records its argv: the guard's protocol (docs/protocol.md, "Transport")
/// and the cleanup decisions, without mounting anything.
/// </summary>
public sealed class MountGuardTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("geosync-guard-test-").FullName;
    private readonly string _mountInfo;
    private readonly string _calls;
    private readonly string _fakeUnmount;
    private readonly ProcessRunner _runner = new();

    public MountGuardTests()
    {
        _mountInfo = Path.Combine(_root, "mountinfo");
        _calls = Path.Combine(_root, "calls");
        _fakeUnmount = Path.Combine(_root, "fake-umount");
        File.WriteAllText(_mountInfo, "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n");
        // Records one line per call: its arguments joined by '|'; exits with $FAKE_STATUS (0 by default).
        File.WriteAllText(_fakeUnmount, "#!/bin/sh\n(IFS='|'; printf '%s\\n' \"$*\") >> '" + _calls + "'\necho 'umount said this' >&2\nexit ${FAKE_STATUS:-0}\n");
        Mono.Unix.Native.Syscall.chmod(_fakeUnmount, Mono.Unix.Native.FilePermissions.S_IRWXU);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Script => MountGuard.DefaultScriptPath;

    private string NewMountPoint(string name = "mnt")
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    // The kernel's mountinfo escaping of the path, as the guard must undo it.
    private void ListAsMounted(string path)
    {
        var escaped = path.Replace("\\", "\\134").Replace(" ", "\\040").Replace("\t", "\\011").Replace("\n", "\\012");
        File.AppendAllText(_mountInfo, $"40 22 0:52 / {escaped} rw,relatime shared:30 - fuse.glusterfs 10.0.0.1:mvol rw,user_id=0\n");
    }

    private string[] Calls => File.Exists(_calls) ? File.ReadAllLines(_calls) : [];

    private MountGuard StartGuard(MountGuardMode mode, IReadOnlyList<string>? unmount = null, Dictionary<string, string?>? env = null)
    {
        var spec = MountGuard.BuildSpec("setsid", "bash", Script, _mountInfo, mode, unmount ?? [_fakeUnmount, "-l", "{}"]);
        return MountGuard.Start(_runner, spec with { Environment = env });
    }

    [Fact]
    public void ScriptIsShippedNextToTheEngineAssembly()
    {
        Assert.True(File.Exists(Script), $"{Script} is missing");
        Assert.Equal(Path.GetDirectoryName(typeof(MountGuard).Assembly.Location), Path.GetDirectoryName(Script));
    }

    [Fact]
    public async Task UnmountsAMountedPointLazilyAndRemovesTheDirectoryOnRelease()
    {
        var mnt = NewMountPoint();
        ListAsMounted(mnt);
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        await guard.AnnounceAsync(mnt);
        await guard.ConfirmMountedAsync();

        var outcome = await guard.ReleaseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal([$"-l|{mnt}"], Calls);
        Assert.False(Directory.Exists(mnt));
    }

    [Fact]
    public async Task UnmountsTheVolumeAndTheReadOnlyUnderlayStackedUnderIt()
    {
        var mnt = NewMountPoint();
        var escaped = mnt.Replace("\\", "\\134").Replace(" ", "\\040");
        File.AppendAllText(_mountInfo, $"39 22 0:51 / {escaped} ro,relatime shared:29 - tmpfs geosync-underlay ro,size=4k,nr_inodes=8,mode=555\n");
        ListAsMounted(mnt);
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        await guard.AnnounceAsync(mnt);
        await guard.ConfirmMountedAsync();

        var outcome = await guard.ReleaseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal([$"-l|{mnt}", $"-l|{mnt}"], Calls);
    }

    [Fact]
    public async Task StaysUntilThePipeEnds()
    {
        var mnt = NewMountPoint();
        ListAsMounted(mnt);
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        await guard.AnnounceAsync(mnt);
        await guard.ConfirmMountedAsync();

        await Task.Delay(300);
        Assert.Empty(Calls);
        Assert.True(Directory.Exists(mnt));

        Assert.Equal(0, (await guard.ReleaseAsync(TimeSpan.FromSeconds(10))).ExitCode);
        Assert.Single(Calls);
    }

    [Fact]
    public async Task UnmountsWhatTheTableShowsEvenWithoutTheMountedFlag()
    {
        // The owner died between the client mounting and writing 'M'.
        var mnt = NewMountPoint();
        ListAsMounted(mnt);
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        await guard.AnnounceAsync(mnt);

        var outcome = await guard.ReleaseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal([$"-l|{mnt}"], Calls);
        Assert.False(Directory.Exists(mnt));
        Assert.Contains("never confirmed", outcome.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyRemovesTheDirectoryWhenNothingIsMounted()
    {
        var mnt = NewMountPoint();
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        await guard.AnnounceAsync(mnt);
        await guard.ConfirmMountedAsync();

        var outcome = await guard.ReleaseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, outcome.ExitCode);
        Assert.Empty(Calls);
        Assert.False(Directory.Exists(mnt));
    }

    [Fact]
    public async Task KeepsTheCallersDirectory()
    {
        var mnt = NewMountPoint();
        ListAsMounted(mnt);
        var guard = StartGuard(MountGuardMode.KeepDirectory);
        await guard.AnnounceAsync(mnt);
        await guard.ConfirmMountedAsync();

        Assert.Equal(0, (await guard.ReleaseAsync(TimeSpan.FromSeconds(10))).ExitCode);
        Assert.Single(Calls);
        Assert.True(Directory.Exists(mnt));
    }

    [Fact]
    public async Task MatchesEscapedPathsInTheMountTable()
    {
        var mnt = NewMountPoint("with space\tand\\backslash");
        ListAsMounted(mnt);
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        await guard.AnnounceAsync(mnt);
        await guard.ConfirmMountedAsync();

        Assert.Equal(0, (await guard.ReleaseAsync(TimeSpan.FromSeconds(10))).ExitCode);
        Assert.Equal([$"-l|{mnt}"], Calls);
        Assert.False(Directory.Exists(mnt));
    }

    [Fact]
    public async Task ResolvesAMountBrokerCookieToTheMountedDirectoryAndAsksGlusterd()
    {
        // glusterd answers with mb_hive/mntXXXXXX -> ../user999/mtpt-geoaccount-XXXXXX; the table lists the target.
        var hive = NewMountPoint("mb_hive");
        var target = NewMountPoint("user999/mtpt-geoaccount-AbC123");
        var cookie = Path.Combine(hive, "mntXyZ789");
        File.CreateSymbolicLink(cookie, "../user999/mtpt-geoaccount-AbC123");
        ListAsMounted(target);
        var guard = StartGuard(MountGuardMode.MountBroker, [_fakeUnmount, "system::", "umount", "{}", "lazy"]);
        await guard.AnnounceAsync(cookie);
        await guard.ConfirmMountedAsync();

        Assert.Equal(0, (await guard.ReleaseAsync(TimeSpan.FromSeconds(10))).ExitCode);
        Assert.Equal([$"system::|umount|{cookie}|lazy"], Calls);
        // glusterd owns both the cookie and the directory.
        Assert.True(Directory.Exists(target));
    }

    [Fact]
    public async Task ReportsAFailedUnmountWithItsStatusAndOutput()
    {
        var mnt = NewMountPoint();
        ListAsMounted(mnt);
        var guard = StartGuard(MountGuardMode.KeepDirectory, env: new() { ["FAKE_STATUS"] = "32" });
        await guard.AnnounceAsync(mnt);
        await guard.ConfirmMountedAsync();

        var outcome = await guard.ReleaseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(32, outcome.ExitCode);
        Assert.False(outcome.Succeeded);
        Assert.Contains($"lazy unmount of {mnt} failed with status 32", outcome.Stderr, StringComparison.Ordinal);
        Assert.Contains("umount said this", outcome.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportsADirectoryItCannotRemove()
    {
        var mnt = NewMountPoint();
        File.WriteAllText(Path.Combine(mnt, "left-over"), "x");
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        await guard.AnnounceAsync(mnt);

        var outcome = await guard.ReleaseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(200, outcome.ExitCode);
        Assert.Contains($"cannot remove mount point directory {mnt}", outcome.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DoesNothingWhenNothingWasAnnounced()
    {
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        var outcome = await guard.ReleaseAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, outcome.ExitCode);
        Assert.Empty(Calls);
    }

    [Fact]
    public async Task RefusesAMountPointWithoutItsTerminator()
    {
        var mnt = NewMountPoint();
        ListAsMounted(mnt);
        var spec = MountGuard.BuildSpec("setsid", "bash", Script, _mountInfo, MountGuardMode.RemoveDirectory, [_fakeUnmount, "{}"]);
        var result = await _runner.RunAsync(spec, Encoding.UTF8.GetBytes(mnt));

        Assert.Equal(200, result.ExitCode);
        Assert.Contains("not terminated by NUL", result.StderrTail, StringComparison.Ordinal);
        Assert.Empty(Calls);
        Assert.True(Directory.Exists(mnt));
    }

    [Fact]
    public async Task CleansUpWhenItsOwnerIsKilled()
    {
        // The owner is a shell holding the pipe's write end, as a .NET owner does; SIGKILL closes the pipe in the kernel.
        var mnt = NewMountPoint();
        ListAsMounted(mnt);
        var owner = $"exec 3> >(exec setsid bash '{Script}' '{_mountInfo}' remove-dir '{_fakeUnmount}' -l '{{}}'); " +
            $"printf '%s\\0M' '{mnt}' >&3; echo ready; exec sleep 60";
        await using var process = _runner.Start(new ProcessSpec("bash", ["-c", owner]) { RedirectStandardOutput = true });
        using (var reader = new StreamReader(process.StandardOutput!, leaveOpen: true))
        {
            Assert.Equal("ready", await reader.ReadLineAsync());
        }

        Assert.True(Directory.Exists(mnt));
        Mono.Unix.Native.Syscall.kill(process.Id, Mono.Unix.Native.Signum.SIGKILL);

        Assert.True(await EventuallyAsync(() => !Directory.Exists(mnt)), "the guard did not clean up after SIGKILL");
        Assert.Equal([$"-l|{mnt}"], Calls);
    }

    [Fact]
    public async Task CleansUpOnSigterm()
    {
        var mnt = NewMountPoint();
        ListAsMounted(mnt);
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        await guard.AnnounceAsync(mnt);
        await guard.ConfirmMountedAsync();
        await Task.Delay(200);

        Mono.Unix.Native.Syscall.kill(guard.ProcessId, Mono.Unix.Native.Signum.SIGTERM);

        Assert.True(await EventuallyAsync(() => !Directory.Exists(mnt)), "the guard did not clean up on SIGTERM");
        Assert.Equal([$"-l|{mnt}"], Calls);
        Assert.Equal(0, (await guard.ReleaseAsync(TimeSpan.FromSeconds(10))).ExitCode);
    }

    [Fact]
    public async Task RunsInASessionOfItsOwn()
    {
        var guard = StartGuard(MountGuardMode.RemoveDirectory);
        try
        {
            // Field 6 of /proc/<pid>/stat is the session id: the guard leads its own, shielded from the owner's signals.
            string stat;
            var clock = Stopwatch.StartNew();
            do
            {
                stat = await File.ReadAllTextAsync($"/proc/{guard.ProcessId}/stat");
            }
            while (!stat.Contains("(bash)", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(5));

            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            Assert.Equal(guard.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[3]);
        }
        finally
        {
            await guard.ReleaseAsync(TimeSpan.FromSeconds(10));
        }
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }
}
