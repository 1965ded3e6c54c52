using GeoSync.Engine.Master;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>The Syncer's rsyncs riding on a session's ssh ControlMaster to a real sshd on 127.0.0.1.</summary>
public sealed class RsyncSshLoopbackTests : IClassFixture<SshdFixture>, IDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);
    private readonly SshdFixture _sshd;
    private readonly FakeSlave _slave = new();
    private readonly TempDirectory _files = new("geosync-rsync-ssh-");

    public RsyncSshLoopbackTests(SshdFixture sshd) => this._sshd = sshd;

    public void Dispose()
    {
        _files.Dispose();
        _slave.Dispose();
    }

    /// <summary>A session's ssh link with its slave running, so the control master is up.</summary>
    private async Task<SshTransport> ConnectAsync()
    {
        var ssh = SshTransport.Create(_sshd.SlaveUrl(_slave.Directory), _sshd.Options([_slave.Command]));
        ssh.StartSlave(new SshSlaveArguments());
        await ssh.ToSlave.WriteAsync("ping\n"u8.ToArray());
        await ssh.ToSlave.FlushAsync();
        var echo = new byte[5];
        await ssh.FromSlave.ReadExactlyAsync(echo).AsTask().WaitAsync(Guard);
        Assert.Equal("ping\n"u8.ToArray(), echo);
        return ssh;
    }

    [SshdFact]
    public async Task BatchesTravelOverTheControlMasterWithoutNewLogins()
    {
        var source = _files.CreateDirectory("src");
        var target = _files.CreateDirectory("dst");
        var names = Enumerable.Range(0, 60).Select(i => $"d{i % 4}/f{i}.txt").ToList();
        foreach (var name in names)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, name))!);
            File.WriteAllText(Path.Combine(source, name), $"over ssh {name}");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, name))!);
        }

        // A non-empty directory in a file's place: the remote receiver's complaint has to come back through ssh.
        File.WriteAllText(Path.Combine(source, "blocked"), "x");
        Directory.CreateDirectory(Path.Combine(target, "blocked", "occupied"));

        await using var ssh = await ConnectAsync();
        var logins = _sshd.AcceptedLogins();
        var runner = new GatedCountingRunner(new ProcessRunner());
        var client = new RsyncClient(runner, new RsyncOptions(source, SshTarget.Over(ssh, target)));
        var options = new SyncerOptions { SyncJobs = 3, MaxBatchFiles = 16, Retries = 0 };
        await using var syncer = new Syncer(client, options);

        var outcomes = names.Append("blocked").ToDictionary(n => n, n => syncer.Add(n));
        runner.Open();
        await syncer.CompleteAsync().WaitAsync(Guard);

        foreach (var name in names)
        {
            var outcome = await outcomes[name];
            Assert.True(outcome.Succeeded, $"{name}: {outcome.Reason}");
            Assert.Equal($"over ssh {name}", File.ReadAllText(Path.Combine(target, name)));
        }

        var blocked = await outcomes["blocked"];
        Assert.Equal(RsyncFileStatus.Failed, blocked.Status);
        Assert.Contains("could not make way", blocked.Reason, StringComparison.Ordinal);
        // Each job's first run may be small; after that the queued files go 16 at a time.
        Assert.InRange(runner.Starts, 1, options.SyncJobs + ((outcomes.Count + 15) / 16));
        Assert.Equal(logins, _sshd.AcceptedLogins());
    }
}
