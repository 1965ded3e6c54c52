using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Transport;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>The ssh transport against a real sshd on 127.0.0.1 (tests/fixtures/sshd), with a stand-in slave command.</summary>
public sealed class SshTransportLoopbackTests : IClassFixture<SshdFixture>, IDisposable
{
    private const string Uuid = "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(3);
    private readonly SshdFixture _sshd;
    private readonly FakeSlave _slave = new();
    private readonly ProcessRunner _runner = new();

    public SshTransportLoopbackTests(SshdFixture sshd) => this._sshd = sshd;

    public void Dispose() => _slave.Dispose();

    private SshTransport Create(Func<SshOptions, SshOptions>? change = null)
    {
        var options = _sshd.Options([_slave.Command]);
        return SshTransport.Create(_sshd.SlaveUrl(_slave.Directory), change?.Invoke(options) ?? options, _runner);
    }

    private static async Task<byte[]> RoundTripAsync(SshTransport ssh, byte[] data)
    {
        await ssh.ToSlave.WriteAsync(data);
        await ssh.ToSlave.FlushAsync();
        var back = new byte[data.Length];
        await ssh.FromSlave.ReadExactlyAsync(back).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        return back;
    }

    private Task<ProcessResult> RunAsync(IReadOnlyList<string> argv) => _runner.RunAsync(new ProcessSpec(argv[0], argv.Skip(1).ToList()));

    [SshdFact]
    public async Task StreamsAMebibyteThroughTheRemoteSlaveWithTheSection63Arguments()
    {
        var input = RandomNumberGenerator.GetBytes(1024 * 1024);
        await using var ssh = Create();
        ssh.StartSlave(new SshSlaveArguments { SessionOwner = Uuid, TimeoutSeconds = 30 });

        var writing = Task.Run(async () =>
        {
            for (var offset = 0; offset < input.Length; offset += 65_537)
            {
                await ssh.ToSlave.WriteAsync(input.AsMemory(offset, Math.Min(65_537, input.Length - offset)));
            }

            await ssh.ToSlave.DisposeAsync();
        });
        using var output = new MemoryStream();
        await ssh.FromSlave.CopyToAsync(output);
        await writing;

        Assert.Equal(input.Length, output.Length);
        Assert.True(input.AsSpan().SequenceEqual(output.ToArray()), "what came back over ssh differs from what was sent");
        Assert.Equal(["--session-owner", Uuid, "-N", "--listen", "--timeout", "30", "file://" + _slave.Directory], _slave.ReceivedArgs);
    }

    [SshdFact]
    public async Task SecondSshAndRsyncReuseTheControlMasterWithoutLoggingInAgain()
    {
        await using var ssh = Create();
        ssh.StartSlave(new SshSlaveArguments());
        Assert.Equal("ping\n"u8.ToArray(), await RoundTripAsync(ssh, "ping\n"u8.ToArray()));
        var logins = _sshd.AcceptedLogins();

        var check = await RunAsync([.. ssh.SshArgv, "-O", "check", ssh.Slave.RemoteAddress!]);
        Assert.True(check.ExitCode == 0, check.StderrTail);
        Assert.Contains("Master running", check.StderrTail, StringComparison.Ordinal);

        // A key sshd does not accept: this only works when the session rides on the master's connection.
        var stranger = await RunAsync(["ssh", "-F", "none", "-oBatchMode=yes", "-p", _sshd.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-i", _sshd.StrangerKey, "-oIdentitiesOnly=yes", "-oControlMaster=no", "-S", ssh.ControlPath, ssh.Slave.RemoteAddress!, "echo", "multiplexed"]);
        Assert.True(stranger.ExitCode == 0, stranger.StderrTail);
        Assert.Equal("multiplexed\n", stranger.StandardOutputText);

        using var files = new TempDirectory("geosync-rsync-");
        files.CreateFile("data.txt", "carried by rsync");
        var target = files.CreateDirectory("target");
        var rsync = await _runner.RunAsync(new ProcessSpec("rsync", ["-e", ssh.RsyncShellCommand(), "data.txt", $"{ssh.Slave.RemoteAddress}:{target}/"])
        {
            WorkingDirectory = files.Path,
        });
        Assert.True(rsync.ExitCode == 0, ProcessResult.DescribeFailure(rsync.Argv, rsync.ExitCode, rsync.StderrTail));
        Assert.Equal("carried by rsync", await File.ReadAllTextAsync(Path.Combine(target, "data.txt")));

        var preflight = await ssh.TestConnectionAsync();
        Assert.True(preflight.Succeeded, preflight.Message);

        Assert.Equal(logins, _sshd.AcceptedLogins());
    }

    [SshdFact]
    public async Task RsyncShellCommandLogsInByItselfWithQuotedKeyAndKnownHostsPaths()
    {
        using var files = new TempDirectory("geosync-rsync-");
        files.CreateDirectory("key dir 100%");
        var key = files.Combine("key dir 100%/client key");
        File.Copy(_sshd.ClientKey, key);
        Assert.Equal(0, Syscall.chmod(key, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));
        var knownHosts = files.Combine("key dir 100%/known hosts");
        File.Copy(_sshd.KnownHosts, knownHosts);
        files.CreateFile("data.txt", "no master running");
        var target = files.CreateDirectory("target");
        await using var ssh = Create(o => o with { IdentityFile = key, KnownHostsFile = knownHosts });

        var rsync = await _runner.RunAsync(new ProcessSpec("rsync", ["-e", ssh.RsyncShellCommand(), "data.txt", $"{ssh.Slave.RemoteAddress}:{target}/"])
        {
            WorkingDirectory = files.Path,
        });

        Assert.True(rsync.ExitCode == 0, ProcessResult.DescribeFailure(rsync.Argv, rsync.ExitCode, rsync.StderrTail));
        Assert.Equal("no master running", await File.ReadAllTextAsync(Path.Combine(target, "data.txt")));
    }

    [SshdFact]
    public async Task PreflightRunsTheRemoteCommandWithVersion()
    {
        await using var ssh = Create();

        var diagnosis = await ssh.TestConnectionAsync();

        Assert.True(diagnosis.Succeeded, diagnosis.Message);
        Assert.Equal(SshProblem.None, diagnosis.Problem);
        Assert.Equal("fake-slave 1.0\n", diagnosis.RemoteOutput);
        Assert.Contains("answered: fake-slave 1.0", diagnosis.Summary, StringComparison.Ordinal);
        Assert.Equal(["--version"], _slave.ReceivedArgs);
    }

    [SshdFact]
    public async Task WrongPortIsConnectionRefused()
    {
        var closedPort = ClosedPort();

        var e = await AssertFailsAsync(o => o with { Port = closedPort }, SshProblem.ConnectionRefused, 255);

        Assert.Contains($"nothing accepts ssh connections on 127.0.0.1 port {closedPort}", e.Message, StringComparison.Ordinal);
        Assert.Contains("Start sshd on 127.0.0.1, or set the ssh port", e.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task KeyNotInAuthorizedKeysIsNamedWithTheLogin()
    {
        var e = await AssertFailsAsync(o => o with { IdentityFile = _sshd.StrangerKey }, SshProblem.KeyNotAuthorized, 255);

        Assert.Contains($"root@127.0.0.1 refused the key {_sshd.StrangerKey}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"Append {_sshd.StrangerKey}.pub to ~root/.ssh/authorized_keys on 127.0.0.1", e.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task UnknownHostKeyIsNeverAccepted()
    {
        using var files = new TempDirectory("geosync-known-");
        var empty = files.CreateFile("known_hosts", "");

        var e = await AssertFailsAsync(o => o with { KnownHostsFile = empty }, SshProblem.HostKeyUnknown, 255);

        Assert.Contains($"the host key of 127.0.0.1 is not in {empty}", e.Message, StringComparison.Ordinal);
        Assert.Equal("", await File.ReadAllTextAsync(empty));
    }

    [SshdFact]
    public async Task ChangedHostKeyIsReportedAsSuch()
    {
        using var files = new TempDirectory("geosync-known-");
        var otherKey = (await File.ReadAllTextAsync(_sshd.StrangerKey + ".pub")).Split(' ');
        var wrong = files.CreateFile("known_hosts", $"[127.0.0.1]:{_sshd.Port} {otherKey[0]} {otherKey[1]}\n");

        var e = await AssertFailsAsync(o => o with { KnownHostsFile = wrong }, SshProblem.HostKeyChanged, 255);

        Assert.Contains($"differs from the one pinned in {wrong}", e.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task MissingRemoteCommandIsExit127WithAnInstallHint()
    {
        var e = await AssertFailsAsync(o => o with { RemoteCommand = ["/nonexistent/geosync", "slave"] }, SshProblem.RemoteCommandNotFound, 127);

        Assert.Contains("127.0.0.1 has no command '/nonexistent/geosync' (exit 127)", e.Message, StringComparison.Ordinal);
        Assert.Contains("Install geosync on the slave host", e.Message, StringComparison.Ordinal);
        Assert.Contains("or set the remote command", e.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task KillingSshMidStreamEndsTheStreamPromptly()
    {
        await using var ssh = Create();
        ssh.StartSlave(new SshSlaveArguments());
        var chunk = RandomNumberGenerator.GetBytes(64 * 1024);
        Assert.Equal(chunk, await RoundTripAsync(ssh, chunk));

        Assert.Equal(0, Syscall.kill(ssh.ProcessId!.Value, Signum.SIGKILL));
        var clock = Stopwatch.StartNew();
        var read = await ssh.FromSlave.ReadAsync(new byte[16]).AsTask().WaitAsync(Prompt);

        Assert.Equal(0, read);
        Assert.True(clock.Elapsed < Prompt, $"end of stream took {clock.Elapsed}");
        var e = await ssh.GetExitErrorAsync().WaitAsync(Prompt);
        Assert.Equal(128 + 9, e.ExitCode);
        Assert.Contains("signal 9", e.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task DisposeClosesStdinSoTheSlaveEndsByItselfThenRemovesTheControlDirectory()
    {
        var ssh = Create();
        ssh.StartSlave(new SshSlaveArguments());
        Assert.Equal("x"u8.ToArray(), await RoundTripAsync(ssh, "x"u8.ToArray()));
        var directory = ssh.ControlDirectory;
        Assert.NotEmpty(Directory.GetFileSystemEntries(directory));
        var pid = ssh.ProcessId!.Value;

        var clock = Stopwatch.StartNew();
        await ssh.DisposeAsync();

        Assert.True(clock.Elapsed < Prompt, $"dispose took {clock.Elapsed}; ssh did not end when its stdin closed");
        Assert.True(_slave.SawEof, "the remote slave was killed instead of reading EOF and exiting");
        Assert.False(Directory.Exists(directory), $"{directory} is left behind");
        Assert.False(File.Exists($"/proc/{pid}/stat"), $"ssh pid {pid} is still there");
    }

    /// <summary>Checks a failure both ways a caller meets it: the preflight's diagnosis and a started slave's exit error.</summary>
    private async Task<GeoSyncSshException> AssertFailsAsync(Func<SshOptions, SshOptions> change, SshProblem problem, int exitCode)
    {
        await using var ssh = Create(change);

        var diagnosis = await ssh.TestConnectionAsync();
        Assert.Equal(problem, diagnosis.Problem);
        Assert.Equal(exitCode, diagnosis.ExitCode);

        ssh.StartSlave(new SshSlaveArguments());
        var read = await ssh.FromSlave.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, read);
        var e = await ssh.GetExitErrorAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(exitCode, e.ExitCode);
        Assert.Equal(ssh.SlaveArgv(new SshSlaveArguments()), e.Argv);
        Assert.NotEmpty(e.StderrTail);
        Assert.StartsWith($"{diagnosis.Summary} {diagnosis.Hint}\ncommand \"ssh -F none ", e.Message, StringComparison.Ordinal);
        return e;
    }

    /// <summary>A loopback port nothing listens on: one the kernel just handed out and that was closed again.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
