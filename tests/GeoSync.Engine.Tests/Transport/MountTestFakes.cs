using System.Collections.Concurrent;
using System.Text;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Transport.Mounting;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>A stdin pipe that records what the owner wrote and when it was closed.</summary>
internal sealed class RecordingPipe : MemoryStream
{
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Closed => _closed.Task;

    public byte[] Written { get; private set; } = [];

    protected override void Dispose(bool disposing)
    {
        Written = ToArray();
        _closed.TrySetResult();
        base.Dispose(disposing);
    }

    public string WrittenText => Encoding.UTF8.GetString(IsClosed ? Written : ToArray());

    public bool IsClosed => _closed.Task.IsCompleted;
}

/// <summary>A process that exits with a given code when <see cref="Exit"/> is called (or at once), and records kills.</summary>
internal sealed class FakeProcess : IRunningProcess
{
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FakeProcess(int id, ProcessSpec spec, byte[] stdout, string stderr)
    {
        Id = id;
        Argv = spec.Argv;
        Stdin = new RecordingPipe();
        StandardOutput = spec.RedirectStandardOutput ? new MemoryStream(stdout) : null;
        StderrTail = stderr;
    }

    public int Id { get; }

    public IReadOnlyList<string> Argv { get; }

    public RecordingPipe Stdin { get; }

    public Stream? StandardInput => Stdin;

    public Stream? StandardOutput { get; }

    public string StderrTail { get; set; }

    public bool Killed { get; private set; }

    public void Exit(int code) => _exit.TrySetResult(code);

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _exit.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw;
        }
    }

    public void Kill()
    {
        Killed = true;
        _exit.TrySetResult(137);
    }

    public ValueTask DisposeAsync()
    {
        if (!_exit.Task.IsCompleted)
        {
            Kill();
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Runs nothing: each started argv gets a <see cref="FakeProcess"/> whose behaviour the test chooses by argv[0]'s name.
/// The guard (setsid) exits with <see cref="GuardExitCode"/> once its stdin is closed, as the real one does.
/// </summary>
internal sealed class FakeProcessRunner : IProcessRunner
{
    private int _nextPid = 4000;

    public List<FakeProcess> Started { get; } = [];

    public int GuardExitCode { get; set; }

    public string GuardStderr { get; set; } = "";

    /// <summary>What glusterfs (direct) or gluster (mountbroker) does: exit code (null = never exits), stdout, stderr.</summary>
    public Func<IReadOnlyList<string>, (int? ExitCode, string Stdout, string Stderr)> Client { get; set; } = _ => (0, "", "");

    public FakeProcess Guard => Started.Single(p => p.Argv[0].EndsWith("setsid", StringComparison.Ordinal));

    public FakeProcess? ClientProcess => Started.SingleOrDefault(p => !p.Argv[0].EndsWith("setsid", StringComparison.Ordinal));

    public IRunningProcess Start(ProcessSpec spec)
    {
        if (spec.FileName.EndsWith("setsid", StringComparison.Ordinal))
        {
            var guard = new FakeProcess(_nextPid++, spec, [], GuardStderr);
            guard.Stdin.Closed.ContinueWith(_ => guard.Exit(GuardExitCode), TaskScheduler.Default);
            Started.Add(guard);
            return guard;
        }

        var (exitCode, stdout, stderr) = Client(spec.Argv);
        var process = new FakeProcess(_nextPid++, spec, Encoding.UTF8.GetBytes(stdout), stderr);
        Started.Add(process);
        if (exitCode is { } code)
        {
            process.Exit(code);
        }

        return process;
    }
}

/// <summary>An in-memory host: programs, directories, mount table, probes, client log and client processes.</summary>
internal sealed class FakeMountSystem : IMountSystem
{
    public HashSet<string> Programs { get; } = ["/usr/sbin/glusterfs", "/usr/sbin/gluster", "/usr/bin/nsenter", "/usr/bin/umount",
        "/usr/bin/setsid", "/usr/bin/bash"];

    public HashSet<string> Files { get; } = ["/guard/mount-guard.sh", "/var/run/netns/tb"];

    public Dictionary<string, bool> Directories { get; } = [];   // path -> empty?

    public ConcurrentDictionary<string, MountTableEntry> Mounts { get; } = new();

    public Dictionary<string, string> Links { get; } = [];

    public ConcurrentQueue<MountProbe> Probes { get; } = new();

    /// <summary>Blocks every probe until set, as stat on a FUSE mount whose client hangs does.</summary>
    public ManualResetEventSlim? ProbeGate { get; set; }

    public string ClientLog { get; set; } = "";

    public ConcurrentDictionary<string, int> Clients { get; } = new();

    public List<int> Terminated { get; } = [];

    public List<string> CreatedTempDirectories { get; } = [];

    public List<string> RemovedDirectories { get; } = [];

    public int ProbeCount;

    public string CreateTempDirectory(string prefix)
    {
        var path = $"/tmp/{prefix}{CreatedTempDirectories.Count:D6}";
        CreatedTempDirectories.Add(path);
        Directories[path] = true;
        return path;
    }

    public bool TryRemoveDirectory(string path)
    {
        RemovedDirectories.Add(path);
        return Directories.Remove(path);
    }

    public string CanonicalPath(string path) => path;

    public bool DirectoryExists(string path) => Directories.ContainsKey(path);

    public bool IsEmptyDirectory(string path) => Directories[path];

    public bool FileExists(string path) => Files.Contains(path);

    public string? FindProgram(string name, string? directory = null) =>
        Programs.FirstOrDefault(p => Path.GetFileName(p) == name && (directory is null || Path.GetDirectoryName(p) == directory));

    public string? ReadSymbolicLink(string path) => Links.TryGetValue(path, out var target) ? target : null;

    public MountTableEntry? FindMount(string mountPoint) => Mounts.TryGetValue(mountPoint, out var entry) ? entry : null;

    /// <summary>Runs inside each probe, e.g. to let the client give up and unmount while the root is being probed.</summary>
    public Action<string>? DuringProbe { get; set; }

    public MountProbe ProbeRoot(string mountPoint)
    {
        Interlocked.Increment(ref ProbeCount);
        ProbeGate?.Wait();
        DuringProbe?.Invoke(mountPoint);
        return Probes.TryDequeue(out var probe) ? probe : MountProbe.Ready;
    }

    public long FileLength(string path) => 0;

    public string ReadFileFrom(string path, long offset, int maxBytes) => ClientLog;

    public IReadOnlyList<int> FindClientProcesses(string mountPoint) =>
        Clients.TryGetValue(mountPoint, out var pid) ? [pid] : [];

    public void TerminateProcesses(IReadOnlyList<int> pids, TimeSpan grace)
    {
        lock (Terminated)
        {
            Terminated.AddRange(pids);
        }
    }

    public string CurrentUserName => "geoaccount";

    /// <summary>What a successful client leaves behind: a FUSE mount and its daemon.</summary>
    public void Mounted(string mountPoint, string source, int clientPid = 777)
    {
        Mounts[mountPoint] = new MountTableEntry(mountPoint, "fuse.glusterfs", source);
        Clients[mountPoint] = clientPid;
    }

    public static MountProbe Failing(Errno error) => new(MountProbeState.Failed, error);
}
