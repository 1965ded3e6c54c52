using System.Text;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Urls;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>ssh argv, control directory, validation and failure classification, without an sshd.</summary>
public class SshTransportTests
{
    private const string Uuid = "0c5a6d0e-3b43-4f7a-9a65-7b1f2f8f0d11";

    [Fact]
    public async Task SlaveArgvFollowsSection63WithEveryOption()
    {
        using var keys = new TempDirectory("geosync-ssh-keys-");
        var key = keys.CreateFile("secret.pem");
        var options = new SshOptions
        {
            SshCommand = "ssh  -oPasswordAuthentication=no\t-F /etc/geosync/ssh_config",
            Port = 2222,
            IdentityFile = key,
            KnownHostsFile = "/etc/geosync/known_hosts",
            ExtraOptions = ["-oConnectTimeout=5", "-oServerAliveInterval=15"],
            RemoteCommand = ["/usr/local/bin/geosync", "slave"],
        };
        await using var ssh = SshTransport.Create(GeoSyncUrl.Parse("geo@slave.example:/data/backup"), options);

        var argv = ssh.SlaveArgv(new SshSlaveArguments { SessionOwner = Uuid, UseRsyncXattrs = true, TimeoutSeconds = 90 });

        Assert.Equal(
            [
                "ssh", "-oPasswordAuthentication=no", "-F", "/etc/geosync/ssh_config",
                "-oBatchMode=yes", "-oStrictHostKeyChecking=yes", "-p", "2222", "-oIdentityFile=" + key, "-oIdentitiesOnly=yes",
                "-oUserKnownHostsFile=/etc/geosync/known_hosts", "-oConnectTimeout=5", "-oServerAliveInterval=15",
                "-oControlMaster=auto", "-S", ssh.ControlPath,
                "geo@slave.example", "/usr/local/bin/geosync", "slave",
                "--session-owner", Uuid, "--use-rsync-xattrs", "-N", "--listen", "--timeout", "90", "file:///data/backup",
            ],
            argv);
    }

    [Fact]
    public async Task SlaveArgvWithDefaultsIsSshTheControlSocketAndGeosyncSlave()
    {
        await using var ssh = SshTransport.Create(GeoSyncUrl.Parse("slavehost::svol"));

        Assert.Equal(
            [
                "ssh", "-oBatchMode=yes", "-oStrictHostKeyChecking=yes", "-oControlMaster=auto", "-S", ssh.ControlPath,
                "slavehost", "geosync", "slave", "-N", "--listen", "--timeout", "120", "gluster://localhost:svol",
            ],
            ssh.SlaveArgv(new SshSlaveArguments()));
        Assert.Equal(["geosync", "slave"], SshOptions.DefaultRemoteCommand);
    }

    [Fact]
    public async Task ControlDirectoryIsPrivateKeepsTheSocketPathShortAndGoesOnDispose()
    {
        var ssh = SshTransport.Create(GeoSyncUrl.Parse("root@localhost:/srv"));
        var directory = ssh.ControlDirectory;

        Assert.True(Directory.Exists(directory));
        Assert.StartsWith("gsyncd-aux-ssh-", Path.GetFileName(directory), StringComparison.Ordinal);
        Assert.Equal(FilePermissions.S_IFDIR | FilePermissions.S_IRWXU, FileInfoOf.LStat(directory).st_mode);
        Assert.Equal(directory + "/%C", ssh.ControlPath);
        // %C expands to 40 hex digits; ssh binds "<path>.<16 characters>" first, and sun_path holds 107 bytes.
        var expanded = Encoding.UTF8.GetByteCount(directory) + 1 + 40;
        Assert.True(expanded + 17 <= 107, $"control socket path of {expanded} bytes is too long for a UNIX socket");

        await ssh.DisposeAsync();

        Assert.False(Directory.Exists(directory), $"{directory} is left behind");
    }

    [Fact]
    public async Task ControlDirectoryGoesInTheConfiguredParent()
    {
        using var parent = new TempDirectory("geosync-ctl-");
        await using var ssh = SshTransport.Create(GeoSyncUrl.Parse("localhost:/srv"), new SshOptions { ControlDirectoryParent = parent.Path });

        Assert.Equal(parent.Path, Path.GetDirectoryName(ssh.ControlDirectory));
    }

    [Fact]
    public void ControlDirectoryParentTooLongForASocketIsRefused()
    {
        var parent = "/tmp/" + new string('p', 60);

        var e = Assert.Throws<GeoSyncSshException>(() =>
            SshTransport.Create(GeoSyncUrl.Parse("localhost:/srv"), new SshOptions { ControlDirectoryParent = parent }));

        Assert.Contains($"the control directory parent {parent} is too long", e.Message, StringComparison.Ordinal);
        Assert.Contains("Choose a shorter directory", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "/opt/geo sync/geosync", "slave" }, "'/opt/geo sync/geosync' contains whitespace")]
    [InlineData(new[] { "geosync", "slave;reboot" }, "'slave;reboot' contains ';'")]
    [InlineData(new[] { "geosync", "$(id)" }, "'$(id)' contains '$'")]
    [InlineData(new[] { "geosync", "" }, "the remote command word is empty")]
    [InlineData(new string[0], "the remote command is empty")]
    public void RemoteCommandWordsMustSurviveTheWrapperAndTheShell(string[] remoteCommand, string expected)
    {
        var e = Assert.Throws<GeoSyncSshException>(() =>
            SshTransport.Create(GeoSyncUrl.Parse("localhost:/srv"), new SshOptions { RemoteCommand = remoteCommand }));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("cannot run the slave over ssh:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoteCommandMayUseTildeAndNonAsciiNames()
    {
        var options = new SshOptions { RemoteCommand = ["~/bin/géosync", "slave"] };

        await using var ssh = SshTransport.Create(GeoSyncUrl.Parse("localhost:/srv/Größe"), options);

        var argv = ssh.SlaveArgv(new SshSlaveArguments());
        Assert.Equal(["localhost", "~/bin/géosync", "slave"], argv.Skip(argv.Count - 8).Take(3));
        Assert.Equal("file:///srv/Größe", argv[^1]);
    }

    [Fact]
    public void SlaveUrlTheRemoteShellWouldInterpretIsRefused()
    {
        var e = Assert.Throws<GeoSyncSshException>(() => SshTransport.Create(GeoSyncUrl.Parse("localhost:/srv/a;touch${IFS}x")));

        Assert.Contains("the slave's remote-side URL 'file:///srv/a;touch${IFS}x' contains ';'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionOwnerWithASpaceIsRefused()
    {
        await using var ssh = SshTransport.Create(GeoSyncUrl.Parse("localhost:/srv"));

        var e = Assert.Throws<GeoSyncSshException>(() => ssh.SlaveArgv(new SshSlaveArguments { SessionOwner = "a b" }));

        Assert.Contains("the session owner 'a b' contains whitespace", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DestinationThatSshWouldReadAsAnOptionIsRefused()
    {
        var e = Assert.Throws<GeoSyncSshException>(() => SshTransport.Create(GeoSyncUrl.Parse("-oProxyCommand=x@localhost:/srv")));

        Assert.Contains("starts with '-'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingIdentityFileAndBadPortAreNamed()
    {
        var url = GeoSyncUrl.Parse("localhost:/srv");

        var missing = Assert.Throws<GeoSyncSshException>(() => SshTransport.Create(url, new SshOptions { IdentityFile = "/nonexistent/key" }));
        var port = Assert.Throws<GeoSyncSshException>(() => SshTransport.Create(url, new SshOptions { Port = 70000 }));
        var empty = Assert.Throws<GeoSyncSshException>(() => SshTransport.Create(url, new SshOptions { SshCommand = "  " }));

        Assert.Contains("the identity file /nonexistent/key does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Contains("the ssh port 70000 is not a port number", port.Message, StringComparison.Ordinal);
        Assert.Contains("the ssh command is empty", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LocalSlaveUrlIsNotForSsh()
    {
        var e = Assert.Throws<ArgumentException>(() => SshTransport.Create(GeoSyncUrl.Parse("/srv")));

        Assert.Contains("file:///srv is reached locally", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RsyncShellCommandQuotesWordsTheWayRsyncSplitsThem()
    {
        using var keys = new TempDirectory("geosync-ssh-keys-");
        keys.CreateDirectory("my keys");
        var key = keys.CreateFile("my keys/id 100%");
        var options = new SshOptions { SshCommand = "ssh -F none", Port = 2222, IdentityFile = key, KnownHostsFile = "/etc/geo sync/known_hosts" };
        await using var ssh = SshTransport.Create(GeoSyncUrl.Parse("geo@slave:/data"), options);

        var command = ssh.RsyncShellCommand();

        var escapedKey = key.Replace("%", "%%", StringComparison.Ordinal);
        Assert.Equal(
            $"ssh -F none -oBatchMode=yes -oStrictHostKeyChecking=yes -p 2222 \"-oIdentityFile=\"\"{escapedKey}\"\"\" -oIdentitiesOnly=yes " +
            $"\"-oUserKnownHostsFile=\"\"/etc/geo sync/known_hosts\"\"\" -oControlMaster=auto -S {ssh.ControlPath}",
            command);
    }

    [Fact]
    public void SlaveArgumentsDefaultToListeningWithTheStandardTimeout()
    {
        Assert.Equal(["-N", "--listen", "--timeout", "120", "gluster://localhost:vol"], new SshSlaveArguments().ToArgv("gluster://localhost:vol"));
        Assert.Equal(["-N", "--listen", "--timeout", "0", "file:///d"], new SshSlaveArguments { TimeoutSeconds = 0 }.ToArgv("file:///d"));
    }

    public static TheoryData<int, string, SshProblem> Failures => new()
    {
        { 255, "ssh: connect to host h port 2222: Connection refused\r\n", SshProblem.ConnectionRefused },
        { 255, "geo@h: Permission denied (publickey).\r\n", SshProblem.KeyNotAuthorized },
        { 255, "No ED25519 host key is known for [h]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n", SshProblem.HostKeyUnknown },
        { 255, "@@@\nWARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!\n@@@\nHost key verification failed.\n", SshProblem.HostKeyChanged },
        { 255, "ssh: Could not resolve hostname h: Name or service not known\r\n", SshProblem.HostNotFound },
        { 255, "ssh: connect to host h port 22: No route to host\r\n", SshProblem.HostUnreachable },
        { 255, "kex_exchange_identification: read: Connection reset by peer\r\n", SshProblem.ConnectionFailed },
        { 127, "bash: line 1: geosync: command not found\n", SshProblem.RemoteCommandNotFound },
        { 126, "bash: line 1: /usr/bin/geosync: Permission denied\n", SshProblem.RemoteCommandNotExecutable },
        { 1, "geosync: error: incorrect number of arguments\n", SshProblem.RemoteCommandFailed },
        { 0, "", SshProblem.None },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void FailuresAreClassifiedByExitCodeAndSshMessages(int exitCode, string stderr, SshProblem expected)
    {
        var url = GeoSyncUrl.Parse("geo@h:/data");

        var diagnosis = SshDiagnosis.Classify(url, new SshOptions { Port = 2222 }, ["ssh", "geo@h"], exitCode, stderr, "geosync 0.1.0\n");

        Assert.Equal(expected, diagnosis.Problem);
        Assert.Equal(expected == SshProblem.None, diagnosis.Succeeded);
        Assert.Equal(diagnosis.Succeeded, diagnosis.Hint.Length == 0);
    }

    [Fact]
    public void FailureMessageHasSummaryHintAndTheSection61CommandReport()
    {
        var url = GeoSyncUrl.Parse("geo@h:/data");

        var e = SshDiagnosis.Classify(url, new SshOptions(), ["ssh", "geo@h", "geosync", "slave"], 127,
            "bash: line 1: geosync: command not found\n", "").ToException();

        Assert.Equal(
            "h has no command 'geosync' (exit 127). Install geosync on the slave host so that 'geosync' is on the PATH of " +
            "geo's login shell there, or set the remote command to its full path.\n" +
            "command \"ssh geo@h geosync slave\" returned with 127, saying:\n" +
            "ssh> bash: line 1: geosync: command not found",
            e.Message);
        Assert.Equal(127, e.ExitCode);
        Assert.Equal(["ssh", "geo@h", "geosync", "slave"], e.Argv);
    }

    [Fact]
    public void SessionThatEndsWithExitZeroIsStillAnError()
    {
        var diagnosis = SshDiagnosis.Classify(GeoSyncUrl.Parse("h:/d"), new SshOptions(), ["ssh"], 0, "", "", sessionEnded: true);

        Assert.Equal(SshProblem.RemoteCommandFailed, diagnosis.Problem);
        Assert.Contains("the slave on h closed the connection", diagnosis.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlaveStreamsNeedAStartedSlave()
    {
        await using var ssh = SshTransport.Create(GeoSyncUrl.Parse("localhost:/srv"));

        Assert.Null(ssh.ProcessId);
        var e = Assert.Throws<InvalidOperationException>(() => ssh.FromSlave);
        Assert.Contains("call StartSlave first", e.Message, StringComparison.Ordinal);
    }
}
