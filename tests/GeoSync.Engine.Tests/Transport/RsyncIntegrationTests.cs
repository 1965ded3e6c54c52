using System.Globalization;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using GeoSync.Engine.Master;
using GeoSync.Engine.Transport;
using Mono.Unix;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>The Syncer and RsyncClient driving the real rsync on temporary trees.</summary>
public sealed class RsyncIntegrationTests : IDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private readonly string _root = Directory.CreateTempSubdirectory("geosync-rsync-").FullName;
    private readonly string _source;
    private readonly string _destination;

    public RsyncIntegrationTests()
    {
        _source = Directory.CreateDirectory(Path.Combine(_root, "src")).FullName;
        _destination = Directory.CreateDirectory(Path.Combine(_root, "dst")).FullName;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private RsyncOptions Options => new(_source, new LocalDirectoryTarget(_destination));

    private string WriteSource(string relativePath, string content)
    {
        var path = Path.Combine(_source, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>What the crawl does before handing files to the Syncer: the parents exist on the slave (docs/master-loop.md, "The crawl").</summary>
    private void CreateDestinationParents(IEnumerable<string> relativePaths)
    {
        foreach (var path in relativePaths)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_destination, path))!);
        }
    }

    [Fact]
    public async Task HundredsOfNestedFilesArriveIdenticalThroughFewRsyncs()
    {
        var names = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var name = $"d{i % 3}/e{i % 7}/f{i % 11}/file{i}.dat";
            var path = WriteSource(name, string.Concat(Enumerable.Repeat($"payload {i} ", i + 1)));
            Assert.Equal(0, Syscall.chmod(path, NativeConvert.FromOctalPermissionString((i % 3) switch
            {
                0 => "0600",
                1 => "0744",
                _ => "4660",
            })));
            File.SetLastWriteTimeUtc(path, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i * 1000.5));
            if (i % 5 == 0)
            {
                // --numeric-ids --super: owners arrive as numbers, even ones without a passwd entry.
                Assert.Equal(0, Syscall.lchown(path, 40000 + (uint)i, 50000 + (uint)i));
            }

            names.Add(name);
        }

        CreateDestinationParents(names);
        var runner = new GatedCountingRunner(new ProcessRunner());
        var options = new SyncerOptions { SyncJobs = 3, MaxBatchFiles = 100 };
        await using var syncer = new Syncer(new RsyncClient(runner, Options), options);

        var files = names.Select(n => syncer.Add(n, new FileInfo(Path.Combine(_source, n)).Length)).ToArray();
        runner.Open();
        await syncer.CompleteAsync().WaitAsync(Guard);

        Assert.All(await Task.WhenAll(files), o => Assert.True(o.Succeeded, $"{o.RelativePath}: {o.Reason}"));
        foreach (var name in names)
        {
            var from = new UnixFileInfo(Path.Combine(_source, name));
            var to = new UnixFileInfo(Path.Combine(_destination, name));
            Assert.Equal(File.ReadAllBytes(from.FullName), File.ReadAllBytes(to.FullName));
            Assert.Equal(from.Protection, to.Protection);
            Assert.Equal(from.LastWriteTimeUtc, to.LastWriteTimeUtc);
            Assert.Equal((from.OwnerUserId, from.OwnerGroupId), (to.OwnerUserId, to.OwnerGroupId));
        }

        // Every job's first batch may be small; after that the queued files go 100 at a time.
        Assert.Equal(runner.Starts, syncer.RsyncRuns);
        Assert.InRange(runner.Starts, 1, options.SyncJobs + (names.Count / options.MaxBatchFiles));
    }

    [Fact]
    public async Task QueuedFilesGatherIntoBatchesOfTheTargetSize()
    {
        var names = Enumerable.Range(0, 250).Select(i => $"d{i % 5}/file{i}").ToList();
        foreach (var name in names)
        {
            WriteSource(name, $"gathered {name}");
        }

        CreateDestinationParents(names);
        var reports = new System.Collections.Concurrent.ConcurrentQueue<SyncBatchReport>();
        var options = new SyncerOptions { SyncJobs = 3, TargetBatchFiles = 100, BatchLinger = SyncerOptions.MaxBatchLinger };
        await using var syncer = new Syncer(new RsyncClient(new ProcessRunner(), Options), options, reports.Enqueue);

        var files = names.Select(n => syncer.Add(n)).ToArray();
        await syncer.FlushAsync().WaitAsync(Guard);

        Assert.All(await Task.WhenAll(files), o => Assert.True(o.Succeeded, $"{o.RelativePath}: {o.Reason}"));
        Assert.All(names, n => Assert.Equal($"gathered {n}", File.ReadAllText(Path.Combine(_destination, n))));
        // Only what the flush released may be short of the target; three free jobs did not split the queue into scraps.
        Assert.InRange(syncer.RsyncRuns, 1, 3);
        Assert.True(reports.Count(r => r.Files < options.TargetBatchFiles) <= 1, string.Join(", ", reports.Select(r => r.Files)));
        Assert.Equal(names.Count, reports.Sum(r => r.Files));
    }

    [Fact]
    public async Task SourceDeletedBeforeTheRunIsVanishedAndTheRestOfItsBatchSynced()
    {
        string[] names = ["a/one", "a/gone", "two"];
        foreach (var name in names)
        {
            WriteSource(name, name);
        }

        File.Delete(Path.Combine(_source, "a/gone"));
        CreateDestinationParents(names);
        var reports = new List<SyncBatchReport>();
        var runner = new GatedCountingRunner(new ProcessRunner());
        await using var syncer = new Syncer(new RsyncClient(runner, Options), new SyncerOptions { SyncJobs = 1 }, reports.Add);

        var files = names.ToDictionary(n => n, n => syncer.Add(n));
        runner.Open();
        await syncer.CompleteAsync().WaitAsync(Guard);

        // rsync 3.5.0 reports a name missing at list time as a failed link_stat with exit 23, not 24.
        var report = Assert.Single(reports);
        Assert.Equal(23, report.ExitCode);
        var gone = await files["a/gone"];
        Assert.Equal(RsyncFileStatus.Vanished, gone.Status);
        Assert.Contains("link_stat", gone.Reason, StringComparison.Ordinal);
        Assert.True((await files["a/one"]).Succeeded);
        Assert.True((await files["two"]).Succeeded);
        Assert.Equal("a/one", File.ReadAllText(Path.Combine(_destination, "a/one")));
        Assert.Equal("two", File.ReadAllText(Path.Combine(_destination, "two")));
    }

    [Fact]
    public async Task SourceVanishingDuringTheRunGivesExit24AndOnlyThatFileVanished()
    {
        string[] names = ["keep/one", "victim", "keep/two"];
        foreach (var name in names)
        {
            WriteSource(name, name);
        }

        CreateDestinationParents(names);
        var runner = new VanishingRunner(new ProcessRunner(), Path.Combine(_source, "victim"));
        var result = await new RsyncClient(runner, Options).SyncAsync(names).WaitAsync(Guard);

        Assert.Equal(24, result.ExitCode);
        var files = result.Files.ToDictionary(f => f.RelativePath);
        Assert.Equal(RsyncFileStatus.Vanished, files["victim"].Status);
        Assert.StartsWith("file has vanished: ", files["victim"].Reason, StringComparison.Ordinal);
        Assert.Equal(RsyncFileStatus.Synced, files["keep/one"].Status);
        Assert.Equal(RsyncFileStatus.Synced, files["keep/two"].Status);
        Assert.Equal("keep/two", File.ReadAllText(Path.Combine(_destination, "keep/two")));
    }

    [Fact]
    public async Task DirectoriesInTheWayFailTheirFilesEvenWithUnusualNamesAndTheRestSyncs()
    {
        string[] blocked = ["sub/in the way", "new\nline", "été \"quoted\"", "back\\#slash"];
        string[] fine = ["sub/fine", "plain", "ünïcode ok"];
        foreach (var name in blocked.Concat(fine))
        {
            WriteSource(name, "new content");
        }

        CreateDestinationParents(blocked.Concat(fine));
        foreach (var name in blocked)
        {
            // A non-empty directory where the file should go: rsync cannot make way (exit 23).
            Directory.CreateDirectory(Path.Combine(_destination, name, "occupied"));
        }

        var reports = new List<SyncBatchReport>();
        var runner = new GatedCountingRunner(new ProcessRunner());
        await using var syncer = new Syncer(new RsyncClient(runner, Options), new SyncerOptions { SyncJobs = 1, Retries = 1 }, reports.Add);

        var files = blocked.Concat(fine).ToDictionary(n => n, n => syncer.Add(n));
        runner.Open();
        await syncer.CompleteAsync().WaitAsync(Guard);

        foreach (var name in blocked)
        {
            var outcome = await files[name];
            Assert.Equal(RsyncFileStatus.Failed, outcome.Status);
            Assert.Contains("could not make way", outcome.Reason, StringComparison.Ordinal);
            Assert.Equal(2, outcome.Attempts);
        }

        foreach (var name in fine)
        {
            Assert.True((await files[name]).Succeeded, name);
            Assert.Equal("new content", File.ReadAllText(Path.Combine(_destination, name)));
        }

        // One run for all seven, then one retry of the four that failed.
        Assert.Equal([(7, 23, 3, 4), (4, 23, 0, 0)], reports.Select(r => (r.Files, r.ExitCode, r.Synced, r.Retrying)));
        Assert.Equal(4, reports[1].Failed);
    }

    [Fact]
    public async Task XattrsAreCarriedWhenAsked()
    {
        var path = WriteSource("x/file", "with xattr");
        Assert.Equal(0, Syscall.setxattr(path, "user.geosync.test", Encoding.ASCII.GetBytes("v1")));
        CreateDestinationParents(["x/file"]);
        var client = new RsyncClient(new ProcessRunner(), Options with { Xattrs = true });

        var result = await client.SyncAsync(["x/file"]).WaitAsync(Guard);

        Assert.Equal(0, result.ExitCode);
        Assert.True(Syscall.getxattr(Path.Combine(_destination, "x/file"), "user.geosync.test", out byte[] value) >= 0);
        Assert.Equal("v1", Encoding.ASCII.GetString(value));
    }

    [Fact]
    public async Task ABadOptionIsAnErrorWithArgvExitCodeAndStderr()
    {
        WriteSource("f", "x");
        var client = new RsyncClient(new ProcessRunner(), Options with { ExtraOptions = "--sparse --no-such-option" });

        var error = await Assert.ThrowsAsync<GeoSyncRsyncException>(() => client.SyncAsync(["f"]).WaitAsync(Guard));

        Assert.Equal(1, error.ExitCode);
        Assert.Equal(RsyncCommand.BuildArgv(client.Options), error.Argv);
        Assert.Contains("--no-such-option", error.StderrTail, StringComparison.Ordinal);
        Assert.Contains($"command \"{string.Join(' ', error.Argv)}\" returned with 1, saying:", error.Message, StringComparison.Ordinal);
        Assert.Contains("rsync_options", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadOptionFaultsTheSyncer()
    {
        WriteSource("f", "x");
        var client = new RsyncClient(new ProcessRunner(), Options with { ExtraOptions = "--no-such-option" });
        await using var syncer = new Syncer(client);

        var file = syncer.Add("f");

        var error = await Assert.ThrowsAsync<GeoSyncRsyncException>(() => file.WaitAsync(Guard));
        Assert.Same(error, await Assert.ThrowsAsync<GeoSyncRsyncException>(() => syncer.CompleteAsync().WaitAsync(Guard)));
    }

    [Fact]
    public async Task AMissingRsyncProgramSaysHowToFixIt()
    {
        WriteSource("f", "x");
        var client = new RsyncClient(new ProcessRunner(), Options with { Command = "/nonexistent/rsync" });

        var error = await Assert.ThrowsAsync<GeoSyncRsyncException>(() => client.SyncAsync(["f"]).WaitAsync(Guard));

        Assert.Null(error.ExitCode);
        Assert.Equal(2, Assert.IsType<System.ComponentModel.Win32Exception>(error.InnerException).NativeErrorCode);
        Assert.Contains("execution of \"/nonexistent/rsync\" failed with ENOENT", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Deletes a source file after rsync has read and checked every name but before it transfers anything: stdin stays
    /// open until the pipe is empty and rsync sleeps waiting for more names, then the file goes, then stdin closes.
    /// </summary>
    private sealed class VanishingRunner(IProcessRunner inner, string victim) : IProcessRunner
    {
        public IRunningProcess Start(ProcessSpec spec) => new Process(inner.Start(spec), victim);

        private sealed class Process(IRunningProcess inner, string victim) : IRunningProcess
        {
            private readonly Stream _stdin = new HoldingStream(inner, victim);

            public int Id => inner.Id;
            public IReadOnlyList<string> Argv => inner.Argv;
            public Stream? StandardInput => _stdin;
            public Stream? StandardOutput => inner.StandardOutput;
            public string StderrTail => inner.StderrTail;
            public Task<int> WaitForExitAsync(CancellationToken cancellationToken = default) => inner.WaitForExitAsync(cancellationToken);
            public void Kill() => inner.Kill();
            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }

        private sealed class HoldingStream(IRunningProcess process, string victim) : Stream
        {
            private const ulong FIONREAD = 0x541B;
            private readonly PipeStream _pipe = (PipeStream)process.StandardInput!;

            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() => _pipe.Flush();
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => _pipe.Write(buffer, offset, count);

            public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
                await _pipe.WriteAsync(buffer, cancellationToken);

            public override async ValueTask DisposeAsync()
            {
                await _pipe.FlushAsync();
                var deadline = DateTime.UtcNow + Guard;
                while (!(Unread() == 0 && WaitingInPollOrRead(process.Id)))
                {
                    Assert.True(DateTime.UtcNow < deadline, "rsync never finished reading its file list");
                    await Task.Delay(10);
                }

                File.Delete(victim);
                await _pipe.DisposeAsync();
                await base.DisposeAsync();
            }

            private int Unread()
            {
                Assert.Equal(0, Ioctl((int)_pipe.SafePipeHandle.DangerousGetHandle(), FIONREAD, out var count));
                return count;
            }

            /// <summary>Sleeping in read/poll/select/pselect6/ppoll: with an empty pipe, every name has been handled.</summary>
            private static bool WaitingInPollOrRead(int pid)
            {
                var state = File.ReadAllText($"/proc/{pid}/stat");
                if (state[state.LastIndexOf(')') + 2] != 'S')
                {
                    return false;
                }

                var call = File.ReadAllText($"/proc/{pid}/syscall").Split(' ')[0];
                return int.TryParse(call, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
                    && number is 0 or 7 or 23 or 270 or 271;
            }

            [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
            private static extern int Ioctl(int fd, ulong request, out int count);
        }
    }
}

/// <summary>Counts rsync starts; holds every start until <see cref="Open"/>, so all files are queued first.</summary>
internal sealed class GatedCountingRunner(IProcessRunner inner) : IProcessRunner
{
    private readonly ManualResetEventSlim _gate = new();
    private int _starts;

    public int Starts => Volatile.Read(ref _starts);

    public void Open() => _gate.Set();

    public IRunningProcess Start(ProcessSpec spec)
    {
        Assert.True(_gate.Wait(TimeSpan.FromSeconds(60)), "the test never opened the gate");
        Interlocked.Increment(ref _starts);
        return inner.Start(spec);
    }
}
