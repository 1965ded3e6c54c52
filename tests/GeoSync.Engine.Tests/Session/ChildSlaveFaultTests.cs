using System.Diagnostics;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Tests.Xattrs;

namespace GeoSync.Engine.Tests.Session;

/// <summary>
/// Child slaves that are CPython RePCe peers (pickle over stdin/stdout, like gsyncd): the session's handshake, pid and
/// keep-alive against a real foreign peer, and what happens when that peer dies or disagrees.
/// </summary>
public sealed class ChildSlaveFaultTests : IDisposable
{
    private const string Peer = """
        import os, pickle, sys, time
        inp, out = sys.stdin.buffer, sys.stdout.buffer
        api = float(os.environ.get('PEER_API', '1.0'))
        os.chdir(os.environ.get('PEER_CWD', '.'))
        keep_alives = 0
        while True:
            try:
                request = pickle.load(inp)
            except EOFError:
                sys.exit(0)
            rid, method, args = request[0], request[1], request[2:]
            if method == '__repce_version__': result = 1.0
            elif method == 'version': result = api
            elif method == 'pid': result = os.getpid()
            elif method == 'keep_alive':
                keep_alives += 1
                result = keep_alives
                if os.environ.get('PEER_DIE_AFTER') == str(keep_alives):
                    sys.stderr.write('peer giving up after %d keep-alives\n' % keep_alives); sys.stderr.flush()
                    os._exit(7)
            else:
                out.write(pickle.dumps((rid, True, AttributeError(method)), 2)); out.flush(); continue
            out.write(pickle.dumps((rid, False, result), 2)); out.flush()
        """;

    private readonly TempDirectory _master = new("geosync-session-master-");
    private readonly TempDirectory _slave = new("geosync-session-slave-");
    private readonly string _script;

    public ChildSlaveFaultTests()
    {
        _script = Path.Combine(_master.Path, "..", $"geosync-peer-{Guid.NewGuid():N}.py");
        File.WriteAllText(_script, Peer);
    }

    public void Dispose()
    {
        File.Delete(_script);
        _master.Dispose();
        _slave.Dispose();
    }

    private SessionOptions Options(string env = "", int timeoutSeconds = 2) => new()
    {
        Master = "file://" + _master.Path,
        Slave = "file://" + _slave.Path,
        AllowDirectoryMaster = true,
        SlaveMode = SlaveMode.Child,
        TimeoutSeconds = timeoutSeconds,
        SlaveCommand = env.Length == 0 ? ["python3", _script] : ["env", .. env.Split(' '), "python3", _script],
    };

    [Fact]
    public async Task HandshakePidAndKeepAliveReachTheChild()
    {
        await using var session = await GeoSyncSession.OpenAsync(Options());
        Assert.Equal(SessionState.Active, session.State);
        Assert.Equal(SlaveMode.Child, session.SlaveMode);
        Assert.NotEqual(Environment.ProcessId, session.SlaveProcessId);
        Assert.Equal(_slave.Path, Assert.IsType<LocalDirectoryTarget>(session.RsyncTarget).Path);
        Assert.Equal(1, session.KeepAlivesSent);
        var pid = session.SlaveProcessId!.Value;
        var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["--sync-jobs", "3", "-N", "--listen", "--timeout", "2", "file://" + _slave.Path], argv[^7..]);

        await session.StopAsync();
        Assert.False(Directory.Exists($"/proc/{pid}") && !IsZombie(pid), $"the child slave {pid} outlived its session");
    }

    [Fact]
    public async Task AVerifyOnlySessionKeepsItsChildSlaveAlive()
    {
        // No keep-alive at open (a verify writes nothing on the slave), but the loop feeds the slave's watchdog.
        await using var session = await GeoSyncSession.OpenForVerifyAsync(Options());
        Assert.Equal(SessionState.Active, session.State);
        var clock = Stopwatch.StartNew();
        while (session.KeepAlivesSent == 0 && clock.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
        Assert.True(session.KeepAlivesSent > 0, "no keep-alive reached the child slave of a verify-only session");
        Assert.Equal(SessionState.Active, session.State);
    }

    [Fact]
    public async Task AChildThatDiesMakesTheSessionFaultyWithItsExitAndStderr()
    {
        await using var session = await GeoSyncSession.OpenAsync(Options("PEER_DIE_AFTER=2"));
        var clock = Stopwatch.StartNew();
        while (session.State == SessionState.Active && clock.Elapsed < TimeSpan.FromSeconds(15)) await Task.Delay(50);
        Assert.Equal(SessionState.Faulty, session.State);
        var error = Assert.IsType<GeoSyncSessionException>(session.LastError);
        Assert.Contains("returned with 7", error.Message, StringComparison.Ordinal);
        Assert.Contains("peer giving up after 2 keep-alives", error.Message, StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<GeoSyncSessionException>(() => session.RunTurnAsync());
        Assert.Equal(SessionFailure.Faulty, refused.Reason);
        Assert.Contains("Stop it and start a new session", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherMajorApiVersionIsRefused()
    {
        var error = await Assert.ThrowsAsync<GeoSyncProtocolException>(() => GeoSyncSession.OpenAsync(Options("PEER_API=2.0")));
        Assert.Contains("RePCe major version mismatch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGlusterSlaveWhoseCwdReadsAsRootIsRefusedBeforeRsyncCouldWriteIntoTheRootDirectory()
    {
        // What a gsyncd slave that lazily unmounted its volume looks like from here: /proc/<pid>/cwd reads "/".
        var error = await Assert.ThrowsAsync<GeoSyncSessionException>(() => GeoSyncSession.OpenAsync(Options("PEER_CWD=/") with
        {
            Slave = "gluster://127.0.0.1:svol",
        }));
        Assert.Equal(SessionFailure.OpenFailed, error.Reason);
        Assert.Contains("write into this host's root directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGlusterSlaveChildIsReachedThroughItsCwd()
    {
        await using var session = await GeoSyncSession.OpenAsync(Options($"PEER_CWD={_slave.Path}") with { Slave = "gluster://127.0.0.1:svol" });
        var target = Assert.IsType<LocalSlaveTarget>(session.RsyncTarget);
        Assert.Equal(session.SlaveProcessId, target.SlaveProcessId);
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }
}
