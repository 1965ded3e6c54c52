using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Xattrs;
using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// A master directory, a slave directory served by an in-process <see cref="SlaveServer"/> behind a call-counting
/// channel, and real rsync between them. For GlusterFS-style crawls the test plays the marker: it stamps xtimes on the
/// master itself.
/// </summary>
public abstract class CrawlHarness : IAsyncLifetime, IDisposable
{
    protected const string Ns = XattrNames.TrustedNamespace;

    private Xtime _lastStamp;

    protected CrawlHarness()
    {
        MasterDir = new TempDirectory("geosync-master-");
        SlaveDir = new TempDirectory("geosync-slave-");
        Server = new SlaveServer(SlaveDir.Path, Xattrs, Ns, options: new SlaveServerOptions { ServesGlusterVolume = false });
        Slave = new CountingSlaveChannel(WireSlaveChannel.InProcess(Server));
        Rsync = new CrawlRsyncSyncer(MasterDir.Path, SlaveDir.Path);
    }

    protected Guid VolumeId { get; } = Guid.NewGuid();
    internal TempDirectory MasterDir { get; }
    internal TempDirectory SlaveDir { get; }
    protected PosixXattrStore Xattrs { get; } = new();
    protected SlaveServer Server { get; }
    internal CountingSlaveChannel Slave { get; }
    internal CrawlRsyncSyncer Rsync { get; }
    protected ConcurrentQueue<(CrawlLogLevel Level, string Message)> Log { get; } = new();

    protected string XtimeName => XattrNames.Xtime(VolumeId, Ns);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Rsync.DisposeAsync();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        // .NET cannot delete the sample tree's non-UTF-8 name, so the trees go by their bytes first.
        RemoveContents(MasterDir.Path);
        RemoveContents(SlaveDir.Path);
        MasterDir.Dispose();
        SlaveDir.Dispose();
    }

    internal GlusterMasterTree GlusterMaster() => new(MasterDir.Path, VolumeId, Xattrs, Ns);

    internal Crawler GlusterCrawler(CrawlerOptions? options = null, IFileSyncer? syncer = null) =>
        new(GlusterMaster(), Slave, syncer ?? Rsync, WithLog(options));

    internal Crawler DirectoryCrawler(CrawlerOptions? options = null, IFileSyncer? syncer = null) =>
        new(new DirectoryMasterTree(MasterDir.Path), Slave, syncer ?? Rsync, WithLog(options));

    /// <summary>The options given, logging into <see cref="Log"/>.</summary>
    internal CrawlerOptions WithLog(CrawlerOptions? options) => new()
    {
        IgnoreDeletes = options?.IgnoreDeletes ?? false,
        MaxDeleteShare = options?.MaxDeleteShare ?? 0.5,
        MassDeleteMinimum = options?.MassDeleteMinimum ?? 10,
        SkipGlusterInternalNames = options?.SkipGlusterInternalNames ?? false,
        PersistentFailureAttempts = options?.PersistentFailureAttempts ?? 3,
        MaxPendingFiles = options?.MaxPendingFiles ?? 4096,
        VolumeMark = options?.VolumeMark,
        LocalBricks = options?.LocalBricks,
        ShuffleEntries = options?.ShuffleEntries ?? true,
        PruneByDirectoryXtime = options?.PruneByDirectoryXtime ?? true,
        Clock = options?.Clock ?? TimeProvider.System,
        Log = (level, message) => Log.Enqueue((level, message)),
    };

    /// <summary>
    /// A sample tree: nested directories, an empty one, files with modes, owners and old mtimes, relative, absolute and
    /// dangling symlinks, and a name that is not UTF-8.
    /// </summary>
    protected void BuildSampleTree()
    {
        MasterDir.CreateDirectory("docs/deep/er");
        MasterDir.CreateDirectory("empty");
        MasterDir.CreateDirectory("private");
        WriteFile("top.txt", "top level", mode: 0b110_100_100, mtime: new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        WriteFile("docs/readme.md", "# readme\n", mode: 0b110_100_000, uid: 1234, gid: 5678);
        WriteFile("docs/deep/er/data.bin", new string('x', 100_000), mode: 0b111_101_101, mtime: new DateTime(2019, 6, 7, 8, 9, 10, DateTimeKind.Utc));
        WriteFile("docs/deep/note", "", mode: 0b100_000_000);
        WriteFile("private/secret", "s3cr3t", mode: 0b110_000_000, uid: 4321, gid: 4321);
        MasterDir.CreateSymlink("link-rel", "docs/readme.md");
        MasterDir.CreateSymlink("docs/link-abs", "/etc/hostname");
        MasterDir.CreateSymlink("dangling", "no/such/target");
        Assert.Equal(0, Syscall.lchown(MasterDir.Combine("dangling"), 2000, 3000));
        Assert.Equal(0, Syscall.chmod(MasterDir.Combine("private"), FilePermissions.S_IRWXU));
        Assert.Equal(0, Syscall.chown(MasterDir.Combine("private"), 4321, 4321));
        Assert.Equal(0, Syscall.chmod(MasterDir.Combine("docs/deep"), (FilePermissions)0b111_101_000));

        // A name that is not UTF-8: every byte must survive the listing, the wire and rsync's file list.
        var odd = MasterDir.Path + "/" + OpenDirectory.NativePath("caf\uDCE9.txt");
        var fd = Syscall.open(odd, OpenFlags.O_CREAT | OpenFlags.O_WRONLY, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR);
        Assert.True(fd >= 0);
        using var file = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write);
        file.Write(Encoding.ASCII.GetBytes("latin-1 name"));
    }

    protected void WriteFile(string relative, string content, int? mode = null, long? uid = null, long? gid = null, DateTime? mtime = null)
    {
        var full = MasterDir.Combine(relative);
        File.WriteAllText(full, content);
        if (mode is int bits) Assert.Equal(0, Syscall.chmod(full, (FilePermissions)bits));
        if (uid is not null || gid is not null) Assert.Equal(0, Syscall.lchown(full, (uint)(uid ?? 0), (uint)(gid ?? 0)));
        if (mtime is DateTime when) File.SetLastWriteTimeUtc(full, when);
    }

    /// <summary>A strictly increasing xtime near the real clock, as the marker's gettimeofday would give.</summary>
    protected Xtime NextXtime()
    {
        var now = Xtime.Now();
        var next = _lastStamp.Microseconds == 999_999 ? new Xtime(_lastStamp.Seconds + 1, 0) : new Xtime(_lastStamp.Seconds, _lastStamp.Microseconds + 1);
        _lastStamp = now > next ? now : next;
        return _lastStamp;
    }

    /// <summary>The marker indexing a whole tree: every entry and the root get one xtime.</summary>
    protected Xtime StampWholeMaster()
    {
        var stamp = NextXtime();
        Stamp(".", stamp);
        foreach (var path in WalkMaster(".")) Stamp(path, stamp);
        return stamp;
    }

    /// <summary>The marker after a change: the entries and every ancestor up to the root get a new xtime.</summary>
    protected Xtime Changed(params string[] paths)
    {
        var stamp = NextXtime();
        foreach (var path in paths)
        {
            for (var p = path; ; p = Path.GetDirectoryName(p) is { Length: > 0 } parent ? parent : ".")
            {
                if (Syscall.lstat(MasterFull(p), out _) == 0) Stamp(p, stamp);
                if (p == ".") break;
            }
        }
        return stamp;
    }

    protected void Stamp(string path, Xtime value) => Xattrs.Set(MasterFull(path), XtimeName, value.ToBytes());

    protected Xtime? MasterXtime(string path) => Read(MasterFull(path));

    protected Xtime? SlaveXtime(string path) => Read(SlaveFull(path));

    protected string MasterFull(string path) => path == "." ? MasterDir.Path : MasterDir.Path + "/" + OpenDirectory.NativePath(path);

    protected string SlaveFull(string path) => path == "." ? SlaveDir.Path : SlaveDir.Path + "/" + OpenDirectory.NativePath(path);

    /// <summary>What a RePCe client raises when the slave answers with OSError(errno).</summary>
    internal static RemoteOsException SlaveOsError(string method, int errno) =>
        new(method, new PyException("exceptions", "OSError", new PyTuple((long)errno, "injected")), errno, "injected");

    private Xtime? Read(string full) => Xattrs.Get(full, XtimeName) is { } value ? Xtime.FromBytes(value) : null;

    /// <summary>Every path below <paramref name="directory"/> of the master, depth first.</summary>
    protected IEnumerable<string> WalkMaster(string directory) => Walk(new DirectoryMasterTree(MasterDir.Path), directory);

    protected IEnumerable<string> WalkSlave(string directory) => Walk(new DirectoryMasterTree(SlaveDir.Path), directory);

    private static IEnumerable<string> Walk(LocalMasterTree tree, string directory)
    {
        foreach (var name in tree.Entries(directory).Order(StringComparer.Ordinal))
        {
            var path = directory == "." ? name : directory + "/" + name;
            yield return path;
            if (tree.Lstat(path)?.Type == EntryType.Directory)
            {
                foreach (var below in Walk(tree, path)) yield return below;
            }
        }
    }

    /// <summary>
    /// The slave holds exactly the master's tree: the same names; files with the same bytes, mode, owner and mtime;
    /// directories with the same mode, owner and mtime; symlinks with the same target and owner.
    /// </summary>
    protected void AssertSlaveMatchesMaster()
    {
        var master = new DirectoryMasterTree(MasterDir.Path);
        var slave = new DirectoryMasterTree(SlaveDir.Path);
        Assert.Equal(WalkMaster(".").ToList(), WalkSlave(".").ToList());
        foreach (var path in WalkMaster("."))
        {
            var expected = master.Lstat(path)!;
            var actual = slave.Lstat(path)!;
            Assert.True(expected.Type == actual.Type, $"'{path}' is a {actual.Type} on the slave, a {expected.Type} on the master");
            switch (expected.Type)
            {
                case EntryType.Regular:
                    Assert.True(expected.SameFileAs(actual), $"'{path}' differs: master {expected}, slave {actual}");
                    Assert.Equal(expected.ModifyTimeNs, actual.ModifyTimeNs);
                    Assert.Equal(ReadAll(MasterFull(path)), ReadAll(SlaveFull(path)));
                    break;
                case EntryType.Directory:
                    Assert.True(expected.SameDirectoryAttributesAs(actual), $"directory '{path}' differs: master {expected}, slave {actual}");
                    break;
                case EntryType.Symlink:
                    Assert.True(expected.SameSymlinkAs(actual), $"symlink '{path}' differs: master {expected}, slave {actual}");
                    break;
                case EntryType.Special:
                    Assert.True(expected.SameSpecialAs(actual), $"special file '{path}' differs: master {expected}, slave {actual}");
                    break;
            }
        }
    }

    /// <summary>The master's xtimes of every entry (and the root) are on the slave too: nothing is left to resend.</summary>
    protected void AssertSlaveXtimesMatchMaster()
    {
        Assert.Equal(MasterXtime("."), SlaveXtime("."));
        foreach (var path in WalkMaster("."))
        {
            Assert.True(MasterXtime(path) == SlaveXtime(path), $"'{path}': master xtime {MasterXtime(path)}, slave xtime {SlaveXtime(path)}");
        }
    }

    private static void RemoveContents(string nativeDirectory)
    {
        using var dir = OpenDirectory.TryOpen(nativeDirectory, out _);
        if (dir is null) return;
        foreach (var name in dir.NativeNames().ToList())
        {
            var full = nativeDirectory + "/" + name;
            if (Syscall.lstat(full, out var stat) == 0 && (stat.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFDIR)
            {
                RemoveContents(full);
                _ = Syscall.rmdir(full);
            }
            else
            {
                _ = Syscall.unlink(full);
            }
        }
    }

    private static byte[] ReadAll(string nativeFull)
    {
        var fd = Syscall.open(nativeFull, OpenFlags.O_RDONLY);
        Assert.True(fd >= 0, $"cannot open {nativeFull}");
        using var file = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read);
        using var content = new MemoryStream();
        file.CopyTo(content);
        return content.ToArray();
    }
}

/// <summary>
/// The simplest real <see cref="IFileSyncer"/>: one worker runs one rsync per batch with the rsync argv of docs/protocol.md ("Transport"), names on stdin;
/// exit 0 succeeds the whole batch, anything else fails it. Remembers every path it sent.
/// </summary>
internal sealed class CrawlRsyncSyncer : IFileSyncer, IAsyncDisposable
{
    private const int MaxBatch = 256;

    private readonly string _source;
    private readonly string _target;
    private readonly ProcessRunner _runner = new();
    private readonly Channel<(string Path, TaskCompletionSource<FileSyncOutcome> Outcome)> _queue =
        Channel.CreateUnbounded<(string, TaskCompletionSource<FileSyncOutcome>)>();
    private readonly ConcurrentQueue<Task> _unflushed = new();
    private readonly ConcurrentQueue<string> _sent = new();
    private readonly Task _worker;
    private int _batches;

    public CrawlRsyncSyncer(string source, string target)
    {
        _source = source;
        _target = target;
        _worker = Task.Run(RunAsync);
    }

    /// <summary>Every path handed to rsync so far, in order.</summary>
    public IReadOnlyList<string> Sent => _sent.ToList();

    public int Batches => Volatile.Read(ref _batches);

    public void ForgetSent() => _sent.Clear();

    public Task<FileSyncOutcome> Add(string relativePath)
    {
        var outcome = new TaskCompletionSource<FileSyncOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((relativePath, outcome))) throw new InvalidOperationException("the syncer is disposed");
        _unflushed.Enqueue(outcome.Task);
        return outcome.Task;
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (_unflushed.TryDequeue(out var pending)) await pending.WaitAsync(cancellationToken);
    }

    // Nothing is held back: the worker takes whatever is queued the moment it is free.
    public void SendQueued()
    {
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            var batch = new List<(string Path, TaskCompletionSource<FileSyncOutcome> Outcome)>();
            while (batch.Count < MaxBatch && reader.TryRead(out var item)) batch.Add(item);
            FileSyncOutcome outcome;
            try
            {
                outcome = await RsyncAsync(batch.Select(b => b.Path).ToList());
            }
            catch (Exception ex)
            {
                outcome = FileSyncOutcome.Failed($"rsync could not run: {ex.Message}");
            }
            Interlocked.Increment(ref _batches);
            foreach (var (_, box) in batch) box.TrySetResult(outcome);
        }
    }

    private async Task<FileSyncOutcome> RsyncAsync(IReadOnlyList<string> paths)
    {
        using var names = new MemoryStream();
        foreach (var path in paths)
        {
            _sent.Enqueue(path);
            names.Write("./"u8);
            names.Write(WireText.ToBytes(path));
            names.WriteByte(0);
        }
        var spec = new ProcessSpec("rsync",
            ["-aR0", "--files-from=-", "--super", "--numeric-ids", "--no-implied-dirs", "--sparse", ".", _target])
        {
            WorkingDirectory = _source,
        };
        var result = await _runner.RunAsync(spec, names.ToArray());
        return result.ExitCode == 0
            ? FileSyncOutcome.Success
            : FileSyncOutcome.Failed(ProcessResult.DescribeFailure(result.Argv, result.ExitCode, result.StderrTail));
    }
}

/// <summary>A syncer that answers some paths itself (to fail them) or runs an action first, and passes the rest on.</summary>
internal sealed class InterceptingSyncer : IFileSyncer
{
    private readonly IFileSyncer _inner;
    private readonly Func<string, FileSyncOutcome?> _intercept;

    public InterceptingSyncer(IFileSyncer inner, Func<string, FileSyncOutcome?> intercept)
    {
        _inner = inner;
        _intercept = intercept;
    }

    public Task<FileSyncOutcome> Add(string relativePath) =>
        _intercept(relativePath) is { } answer ? Task.FromResult(answer) : _inner.Add(relativePath);

    public Task FlushAsync(CancellationToken cancellationToken = default) => _inner.FlushAsync(cancellationToken);

    public void SendQueued() => _inner.SendQueued();
}

/// <summary>Counts every call per wire method, and can make chosen calls fail.</summary>
internal sealed class CountingSlaveChannel : ISlaveChannel
{
    private readonly ISlaveChannel _inner;
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Method, string Path)> _log = new();
    private readonly ConcurrentQueue<string> _purged = new();
    private readonly ConcurrentQueue<string> _batched = new();

    public CountingSlaveChannel(ISlaveChannel inner) => _inner = inner;

    /// <summary>Every path a purge call named: the entries given, or the path itself.</summary>
    public IReadOnlyList<string> PurgedPaths => _purged.ToList();

    /// <summary>Called with (method, path) before each call; an exception it returns is thrown instead of calling.</summary>
    public Func<string, string, Exception?>? Fault { get; set; }

    public int Total => _calls.Values.Sum();

    public IReadOnlyList<(string Method, string Path)> Calls => _log.ToList();

    public int Count(string method) => _calls.GetValueOrDefault(method);

    public void Reset()
    {
        _calls.Clear();
        _log.Clear();
        _purged.Clear();
        _batched.Clear();
    }

    public string Summary() => string.Join(", ", _calls.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"));

    public Task<IReadOnlyList<string>> EntriesAsync(string path, CancellationToken cancellationToken = default) =>
        Call("entries", path, () => _inner.EntriesAsync(path, cancellationToken));

    public Task<IReadOnlyList<SlaveEntry>> LstatEntriesAsync(string path, CancellationToken cancellationToken = default) =>
        Call("lstat_entries", path, () => _inner.LstatEntriesAsync(path, cancellationToken));

    public Task<IReadOnlyList<SlaveEntryType>> EntryTypesAsync(string path, CancellationToken cancellationToken = default) =>
        Call("entry_types", path, () => _inner.EntryTypesAsync(path, cancellationToken));

    public Task PurgeAsync(string path, IReadOnlyCollection<string>? entries = null, CancellationToken cancellationToken = default) =>
        Call("purge", path, async () =>
        {
            foreach (var purged in entries?.Select(name => path == "." ? name : path + "/" + name) ?? [path]) _purged.Enqueue(purged);
            await _inner.PurgeAsync(path, entries, cancellationToken);
            return 0;
        });

    public Task MkdirAsync(string path, CancellationToken cancellationToken = default) =>
        Call("mkdir", path, async () => { await _inner.MkdirAsync(path, cancellationToken); return 0; });

    public Task SymlinkAsync(string target, string path, CancellationToken cancellationToken = default) =>
        Call("symlink", path, async () => { await _inner.SymlinkAsync(target, path, cancellationToken); return 0; });

    public Task<XtimeReading> XtimeAsync(string path, string uuid, CancellationToken cancellationToken = default) =>
        Call("xtime", path, () => _inner.XtimeAsync(path, uuid, cancellationToken));

    public Task SetXtimeAsync(string path, string uuid, Xtime value, CancellationToken cancellationToken = default) =>
        Call("set_xtime", path, async () => { await _inner.SetXtimeAsync(path, uuid, value, cancellationToken); return 0; });

    /// <summary>Counted as one <c>set_xtimes</c> call, logged by its first path; <see cref="MarkedInBatches"/> keeps them all.</summary>
    public Task<IReadOnlyList<Exception?>> SetXtimesAsync(IReadOnlyList<string> paths, string uuid, Xtime value,
        CancellationToken cancellationToken = default) =>
        Call("set_xtimes", paths.Count > 0 ? paths[0] : "", () =>
        {
            foreach (var path in paths) _batched.Enqueue(path);
            return _inner.SetXtimesAsync(paths, uuid, value, cancellationToken);
        });

    /// <summary>Every path a <c>set_xtimes</c> call named.</summary>
    public IReadOnlyList<string> MarkedInBatches => _batched.ToList();

    public Task SetattrAsync(string path, SlaveAttributes attributes, CancellationToken cancellationToken = default) =>
        Call("setattr", path, async () => { await _inner.SetattrAsync(path, attributes, cancellationToken); return 0; });

    private Task<T> Call<T>(string method, string path, Func<Task<T>> call)
    {
        _calls.AddOrUpdate(method, 1, (_, n) => n + 1);
        _log.Enqueue((method, path));
        return Fault?.Invoke(method, path) is { } fault ? Task.FromException<T>(fault) : call();
    }
}
