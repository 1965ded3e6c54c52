using System.Text;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Urls;

namespace GeoSync.Engine.Tests.Transport;

public class RsyncCommandTests
{
    private static readonly string[] Fixed = ["-aR0", "--files-from=-", "--super", "--numeric-ids", "--no-implied-dirs"];

    [Fact]
    public void LocalDirectoryTargetEndsWithTheDirectory()
    {
        var options = new RsyncOptions("/mnt/master", new LocalDirectoryTarget("/data/slave"));

        Assert.Equal(["rsync", .. Fixed, "--sparse", ".", "/data/slave"], RsyncCommand.BuildArgv(options));
    }

    [Fact]
    public void LocalGlusterSlaveIsReachedThroughItsWorkingDirectory()
    {
        var options = new RsyncOptions("/mnt/master", new LocalSlaveTarget(4242));

        Assert.Equal(["rsync", .. Fixed, "--sparse", ".", "/proc/4242/cwd"], RsyncCommand.BuildArgv(options));
    }

    [Fact]
    public void SshTargetMultiplexesOverTheControlSocketAndAddsTheSshOptions()
    {
        var target = new SshTarget(
            "ssh -oPasswordAuthentication=no  -oStrictHostKeyChecking=no -i /var/lib/glusterd/geo-replication/secret.pem",
            "/tmp/gsyncd-aux-ssh-Ab12Cd/gsycnd-ssh-%r@%h:%p", "root@slavehost", RsyncTarget.ProcessWorkingDirectory(777));
        var options = new RsyncOptions("/mnt/master", target);

        Assert.Equal(
        [
            "rsync", .. Fixed, "--sparse", ".",
            "-e",
            "ssh -oPasswordAuthentication=no -oStrictHostKeyChecking=no -i /var/lib/glusterd/geo-replication/secret.pem"
                + " -oControlMaster=auto -S /tmp/gsyncd-aux-ssh-Ab12Cd/gsycnd-ssh-%r@%h:%p",
            "--compress",
            "root@slavehost:/proc/777/cwd",
        ], RsyncCommand.BuildArgv(options));
    }

    [Fact]
    public async Task SshTargetOverTheSessionsTransportUsesItsSshCommandAndControlSocket()
    {
        await using var ssh = SshTransport.Create(GeoSyncUrl.Parse("geo@slave.example:/data/backup"), new SshOptions { Port = 2222 });
        var options = new RsyncOptions("/mnt/master", SshTarget.Over(ssh, RsyncTarget.ProcessWorkingDirectory(31337)));

        var argv = RsyncCommand.BuildArgv(options);

        Assert.Equal(
            ["rsync", .. Fixed, "--sparse", ".", "-e", ssh.RsyncShellCommand(), "--compress", "geo@slave.example:/proc/31337/cwd"],
            argv);
        Assert.EndsWith($"-oControlMaster=auto -S {ssh.ControlPath}", argv[^3], StringComparison.Ordinal);
    }

    [Fact]
    public void ConfiguredCommandOptionsAndXattrsAreSplitIntoPlace()
    {
        var target = new SshTarget("ssh", "/tmp/c/s", "host", "/srv/dir");
        var options = new RsyncOptions("/mnt/master", target)
        {
            Command = " /opt/rsync/bin/rsync   --rsync-path=/opt/rsync/bin/rsync ",
            ExtraOptions = "--sparse  --timeout=600",
            SshOptions = "--compress --bwlimit=1000",
            Xattrs = true,
        };

        Assert.Equal(
        [
            "/opt/rsync/bin/rsync", "--rsync-path=/opt/rsync/bin/rsync", .. Fixed, "--sparse", "--timeout=600", "--xattrs", ".",
            "-e", "ssh -oControlMaster=auto -S /tmp/c/s", "--compress", "--bwlimit=1000", "host:/srv/dir",
        ], RsyncCommand.BuildArgv(options));
    }

    [Fact]
    public void EmptyOptionStringsAddNothing()
    {
        var options = new RsyncOptions("/m", new LocalDirectoryTarget("/s")) { ExtraOptions = "", SshOptions = "  " };

        Assert.Equal(["rsync", .. Fixed, ".", "/s"], RsyncCommand.BuildArgv(options));
    }

    [Fact]
    public void ProcessSpecRunsInTheSourceDirectoryWithPipes()
    {
        var spec = RsyncCommand.BuildProcessSpec(new RsyncOptions("/mnt/master", new LocalDirectoryTarget("/s")));

        Assert.Equal("rsync", spec.FileName);
        Assert.Equal([.. Fixed, "--sparse", ".", "/s"], spec.Arguments);
        Assert.Equal("/mnt/master", spec.WorkingDirectory);
        Assert.True(spec.RedirectStandardInput);
        Assert.True(spec.RedirectStandardOutput);
    }

    [Fact]
    public void EmptyRsyncCommandIsRejected()
    {
        var options = new RsyncOptions("/m", new LocalDirectoryTarget("/s")) { Command = "  " };

        var error = Assert.Throws<ArgumentException>(() => RsyncCommand.BuildArgv(options));
        Assert.Contains("rsync command is empty", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/tmp/with space/s")]
    [InlineData("/tmp/tab\there")]
    public void ControlPathWithWhitespaceIsRejected(string controlPath)
    {
        var error = Assert.Throws<ArgumentException>(() => new SshTarget("ssh", controlPath, "host", "/d"));
        Assert.Contains("whitespace", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("host:22")]
    [InlineData("user@host name")]
    public void RemoteAddressMustBeUserAtHost(string address) =>
        Assert.Throws<ArgumentException>(() => new SshTarget("ssh", "/tmp/s", address, "/d"));

    [Fact]
    public void FileListIsDotSlashNamesEachFollowedByNul()
    {
        var bytes = RsyncCommand.EncodeFileList(["a/b/c", "top", "sp ace/é\nx"]);

        Assert.Equal(Encoding.UTF8.GetBytes("./a/b/c\0./top\0./sp ace/é\nx\0"), bytes);
    }

    [Fact]
    public void SurrogateEscapedBytesOfUndecodableNamesGoOutRaw()
    {
        // A file name with the byte 0xE9 alone (Latin-1 é) arrives from the crawl as U+DCE9 (Python's surrogateescape).
        var bytes = RsyncCommand.EncodeFileList(["caf\uDCE9"]);

        Assert.Equal([.. "./caf"u8, 0xE9, 0], bytes);
    }

    [Fact]
    public void ASurrogateThatStandsForNoByteIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => RsyncCommand.NormalizeRelativePath("bad\uD800name"));
        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyBatchIsAnError()
    {
        var error = Assert.Throws<ArgumentException>(() => RsyncCommand.EncodeFileList([]));
        Assert.StartsWith("no files to sync", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a/b", "a/b")]
    [InlineData("./a//b/", "a/b")]
    [InlineData("a/./b", "a/b")]
    [InlineData(".hidden/x", ".hidden/x")]
    [InlineData("...", "...")]
    public void RelativePathsAreNormalized(string path, string expected) =>
        Assert.Equal(expected, RsyncCommand.NormalizeRelativePath(path));

    [Theory]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("a/../../b", "'..'")]
    [InlineData("..", "'..'")]
    [InlineData(".", "source directory itself")]
    [InlineData("./", "source directory itself")]
    [InlineData("", "source directory itself")]
    [InlineData("a\0b", "NUL")]
    public void UnsafeOrEmptyRelativePathsAreRejected(string path, string why)
    {
        var error = Assert.Throws<ArgumentException>(() => RsyncCommand.NormalizeRelativePath(path));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }
}
