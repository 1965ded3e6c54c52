using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using GeoSync.Engine.Master;
using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// The Syncer against a scripted rsync: each fake run is held until the test ends it, and the linger runs on a manual
/// clock, so batch composition, gathering and parallelism are asserted on states, never on timing.
/// </summary>
public class SyncerTests
{
    // Only a guard against a hang turning into a stuck test run; no assertion depends on it.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static readonly RsyncOptions Options = new("/src", new LocalDirectoryTarget("/dst"));

    // gsyncd's post box: a free worker takes whatever is queued. The gathering tests below set their own bounds.
    private static readonly SyncerOptions TakeAtOnce = new() { BatchLinger = TimeSpan.Zero };

    private static Syncer NewSyncer(FakeRsyncRunner runner, SyncerOptions options, Action<SyncBatchReport>? reports = null,
        CancellationToken cancellationToken = default) =>
        new(new RsyncClient(runner, Options), options, reports, cancellationToken);

    [Fact]
    public async Task FilesAddedWhileTheOnlyJobIsBusyGoIntoOneRsync()
    {
        var runner = new FakeRsyncRunner();
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1 });

        var a = syncer.Add("a", 10);
        var first = await runner.NextRunAsync();
        Assert.Equal(["a"], await first.Names);
        var rest = new[] { "b/c", "d", "e/f/g" }.Select(p => syncer.Add(p, 1)).ToArray();
        first.Exit(0);
        var second = await runner.NextRunAsync();
        Assert.Equal(["b/c", "d", "e/f/g"], await second.Names);
        second.Exit(0);

        var outcomes = await Task.WhenAll([a, .. rest]).WaitAsync(Guard);
        Assert.All(outcomes, o => Assert.True(o.Succeeded));
        Assert.All(outcomes, o => Assert.Equal(1, o.Attempts));
        await syncer.CompleteAsync().WaitAsync(Guard);
        Assert.Equal(2, syncer.RsyncRuns);
        Assert.Equal(2, runner.Started);
    }

    [Fact]
    public async Task StdinCarriesDotSlashNamesEachEndedByNul()
    {
        var runner = new FakeRsyncRunner();
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1 });

        var done = syncer.Add("./x//y/", 0);
        var run = await runner.NextRunAsync();
        await run.Names;
        run.Exit(0);

        Assert.Equal("./x/y\0", Encoding.UTF8.GetString(run.Stdin));
        Assert.Equal("x/y", (await done.WaitAsync(Guard)).RelativePath);
        Assert.Equal(RsyncCommand.BuildArgv(Options), run.Argv);
    }

    [Fact]
    public async Task SyncJobsRsyncsRunAtOnceAndAFreedJobTakesTheWholeQueue()
    {
        var runner = new FakeRsyncRunner();
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 3 });

        var running = new List<FakeRsyncRun>();
        foreach (var name in new[] { "a", "b", "c" })
        {
            _ = syncer.Add(name);
            var run = await runner.NextRunAsync();
            Assert.Equal([name], await run.Names);
            running.Add(run);
        }

        var queued = Enumerable.Range(0, 50).Select(i => syncer.Add($"q/{i}")).ToArray();
        Assert.Equal(3, runner.Running);
        Assert.All(queued, t => Assert.False(t.IsCompleted));

        running[1].Exit(0);
        var next = await runner.NextRunAsync();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"q/{i}"), await next.Names);
        next.Exit(0);
        running[0].Exit(0);
        running[2].Exit(0);
        await Task.WhenAll(queued).WaitAsync(Guard);
        await syncer.CompleteAsync().WaitAsync(Guard);
        Assert.Equal(4, runner.Started);
        Assert.Equal(3, runner.MaxRunning);
    }

    [Fact]
    public async Task BatchesAreBoundedByFileCount()
    {
        var runner = new FakeRsyncRunner();
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1, MaxBatchFiles = 2 });

        _ = syncer.Add("first");
        var first = await runner.NextRunAsync();
        var files = new[] { "a", "b", "c", "d", "e" }.Select(n => syncer.Add(n)).ToArray();
        first.Exit(0);

        var batches = new List<string[]>();
        for (var i = 0; i < 3; i++)
        {
            var run = await runner.NextRunAsync();
            batches.Add([.. await run.Names]);
            run.Exit(0);
        }

        Assert.Equal([["a", "b"], ["c", "d"], ["e"]], batches);
        await Task.WhenAll(files).WaitAsync(Guard);
    }

    [Fact]
    public async Task BatchesAreBoundedByFileListBytes()
    {
        var runner = new FakeRsyncRunner();
        // "./" + 10 characters + NUL = 13 bytes a name: the bound is reached with the second name.
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1, MaxBatchNameBytes = 20 });

        _ = syncer.Add("first");
        var first = await runner.NextRunAsync();
        var files = new[] { "0123456789", "abcdefghij", "ABCDEFGHIJ" }.Select(n => syncer.Add(n)).ToArray();
        first.Exit(0);

        var one = await runner.NextRunAsync();
        Assert.Equal(["0123456789", "abcdefghij"], await one.Names);
        one.Exit(0);
        var two = await runner.NextRunAsync();
        Assert.Equal(["ABCDEFGHIJ"], await two.Names);
        two.Exit(0);
        await Task.WhenAll(files).WaitAsync(Guard);
    }

    [Fact]
    public async Task PartialTransferFailsOnlyTheNamedFileAndRetriesItAlone()
    {
        var runner = new FakeRsyncRunner();
        var reports = new ConcurrentQueue<SyncBatchReport>();
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1, Retries = 1 }, reports.Enqueue);

        _ = syncer.Add("hold");
        var hold = await runner.NextRunAsync();
        var files = new[] { "a/ok", "a/bad", "c" }.ToDictionary(n => n, n => syncer.Add(n, 100));
        hold.Exit(0);
        var batch = await runner.NextRunAsync();
        await batch.Names;
        batch.Exit(23, "could not make way for new regular file: a/bad\n"
            + "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]\n");

        var retry = await runner.NextRunAsync();
        Assert.Equal(["a/bad"], await retry.Names);
        Assert.True((await files["a/ok"].WaitAsync(Guard)).Succeeded);
        Assert.True((await files["c"].WaitAsync(Guard)).Succeeded);
        Assert.False(files["a/bad"].IsCompleted);
        retry.Exit(0);

        var bad = await files["a/bad"].WaitAsync(Guard);
        Assert.True(bad.Succeeded);
        Assert.Equal(2, bad.Attempts);
        await syncer.CompleteAsync().WaitAsync(Guard);
        var report = reports.Single(r => r.ExitCode == 23);
        Assert.Equal((3, 2, 0, 0, 1, 200L), (report.Files, report.Synced, report.Failed, report.Vanished, report.Retrying, report.SyncedBytes));
    }

    [Fact]
    public async Task PersistentPartialFailureIsReportedWithRsyncsWordsAfterTheRetries()
    {
        const string line = "rsync: [receiver] mkstemp \"/dst/.bad.AbCdEf\" failed: Operation not permitted (1)";
        var runner = new FakeRsyncRunner(names => names.Contains("bad") ? (23, line + "\n") : (0, ""), autoExit: true);
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1, Retries = 2 });

        var bad = await syncer.Add("bad").WaitAsync(Guard);

        Assert.Equal(RsyncFileStatus.Failed, bad.Status);
        Assert.Equal(line, bad.Reason);
        Assert.Equal(3, bad.Attempts);
        Assert.Equal(3, syncer.RsyncRuns);
    }

    [Fact]
    public async Task VanishedFilesAreNotRetried()
    {
        var runner = new FakeRsyncRunner(_ => (24, "file has vanished: \"/src/gone\"\n"), autoExit: true);
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1, Retries = 3 });

        var gone = await syncer.Add("gone").WaitAsync(Guard);

        Assert.Equal(RsyncFileStatus.Vanished, gone.Status);
        Assert.Equal(1, gone.Attempts);
        Assert.Equal(1, syncer.RsyncRuns);
    }

    [Fact]
    public async Task OtherExitCodesFaultTheSyncerWithArgvExitCodeAndStderr()
    {
        var runner = new FakeRsyncRunner();
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1 });

        var first = syncer.Add("a");
        var run = await runner.NextRunAsync();
        var queued = syncer.Add("b");
        run.Exit(12, "rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n");

        var error = await Assert.ThrowsAsync<GeoSyncRsyncException>(() => first.WaitAsync(Guard));
        Assert.Equal(12, error.ExitCode);
        Assert.Equal(RsyncCommand.BuildArgv(Options), error.Argv);
        Assert.Contains("connection unexpectedly closed", error.StderrTail, StringComparison.Ordinal);
        Assert.Contains("rsync> rsync: connection unexpectedly closed", error.Message, StringComparison.Ordinal);
        Assert.Contains("returned with 12", error.Message, StringComparison.Ordinal);
        Assert.Same(error, await Assert.ThrowsAsync<GeoSyncRsyncException>(() => queued.WaitAsync(Guard)));
        Assert.Same(error, await Assert.ThrowsAsync<GeoSyncRsyncException>(() => syncer.CompleteAsync().WaitAsync(Guard)));
        Assert.Same(error, Assert.Throws<GeoSyncRsyncException>(() => { _ = syncer.Add("c"); }));
        Assert.Equal(1, runner.Started);
    }

    [Fact]
    public async Task RsyncThatCannotBeExecutedFaultsTheSyncer()
    {
        var cause = new System.ComponentModel.Win32Exception(2);
        var runner = new FakeRsyncRunner(startFailure: new GeoSyncProcessException("execution of \"rsync\" failed with ENOENT", ["rsync"], null, "", cause));
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 2 });

        var error = await Assert.ThrowsAsync<GeoSyncRsyncException>(() => syncer.Add("a").WaitAsync(Guard));

        Assert.Null(error.ExitCode);
        Assert.Same(cause, error.InnerException);
        Assert.Equal("execution of \"rsync\" failed with ENOENT", error.Message);
        Assert.Same(error, await Assert.ThrowsAsync<GeoSyncRsyncException>(() => syncer.CompleteAsync().WaitAsync(Guard)));
    }

    [Fact]
    public async Task CancellationKillsRunningRsyncsAndCancelsUnfinishedFiles()
    {
        var runner = new FakeRsyncRunner();
        using var cancel = new CancellationTokenSource();
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1 }, cancellationToken: cancel.Token);

        var running = syncer.Add("a");
        var run = await runner.NextRunAsync();
        var queued = syncer.Add("b");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Guard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Guard));
        Assert.True(run.Killed);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => syncer.CompleteAsync().WaitAsync(Guard));
        Assert.ThrowsAny<OperationCanceledException>(() => { _ = syncer.Add("c"); });
    }

    [Fact]
    public async Task DisposeKillsRunningRsyncs()
    {
        var runner = new FakeRsyncRunner();
        var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 2 });

        var file = syncer.Add("a");
        var run = await runner.NextRunAsync();
        await syncer.DisposeAsync().AsTask().WaitAsync(Guard);

        Assert.True(run.Killed);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => file.WaitAsync(Guard));
    }

    [Fact]
    public async Task AWaiterBlockingInItsContinuationDoesNotStallTheWorkers()
    {
        // docs/gsyncd-flaws.md, #8: outcomes are published without a lock and without running the owner's code on the worker.
        var runner = new FakeRsyncRunner();
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1 });
        var secondRunStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = syncer.Add("a");
        var blocked = first.ContinueWith(_ => secondRunStarted.Task.Wait(Guard), TaskContinuationOptions.ExecuteSynchronously);
        var run = await runner.NextRunAsync();
        var second = syncer.Add("b");
        run.Exit(0);
        var next = await runner.NextRunAsync();
        secondRunStarted.SetResult();
        next.Exit(0);

        Assert.True(await blocked.WaitAsync(Guard));
        Assert.True((await second.WaitAsync(Guard)).Succeeded);
    }

    [Fact]
    public async Task CompleteWaitsForEveryFileAndThenRefusesMore()
    {
        var runner = new FakeRsyncRunner(_ => (0, ""), autoExit: true);
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 3, MaxBatchFiles = 7 });

        var files = Enumerable.Range(0, 500).Select(i => syncer.Add($"d{i % 10}/f{i}", i)).ToArray();
        await syncer.CompleteAsync().WaitAsync(Guard);

        Assert.All(files, f => Assert.True(f.IsCompletedSuccessfully && f.Result.Succeeded));
        Assert.Equal(runner.Started, syncer.RsyncRuns);
        Assert.InRange(syncer.RsyncRuns, 500 / 7, 500);
        Assert.Throws<InvalidOperationException>(() => { _ = syncer.Add("late"); });
    }

    [Fact]
    public async Task AsTheCrawlsFileSyncerFailuresAreOutcomesWithRsyncsWords()
    {
        var runner = new FakeRsyncRunner(names => names.Contains("gone") ? (24, "file has vanished: \"/src/gone\"\n") : (0, ""), autoExit: true);
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1 });
        IFileSyncer crawlView = syncer;

        var ok = await crawlView.Add("ok").WaitAsync(Guard);
        var gone = await crawlView.Add("gone").WaitAsync(Guard);

        Assert.True(ok.Succeeded);
        Assert.False(gone.Succeeded);
        Assert.Equal("vanished after 1 rsync run(s): file has vanished: \"/src/gone\"", gone.FailureReason);
    }

    [Fact]
    public async Task AsTheCrawlsFileSyncerAFaultFaultsTheTaskInsteadOfThrowing()
    {
        var runner = new FakeRsyncRunner(_ => (12, "rsync: connection unexpectedly closed\n"), autoExit: true);
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 1 });
        IFileSyncer crawlView = syncer;

        await Assert.ThrowsAsync<GeoSyncRsyncException>(() => crawlView.Add("a").WaitAsync(Guard));
        var later = crawlView.Add("b");

        Assert.True(later.IsFaulted);
        Assert.IsType<GeoSyncRsyncException>(later.Exception!.InnerException);
        await Assert.ThrowsAsync<ArgumentException>(() => crawlView.Add("../escape"));
    }

    [Fact]
    public async Task FlushWaitsForEveryFileAddedBeforeIt()
    {
        var runner = new FakeRsyncRunner();
        await using var syncer = NewSyncer(runner, TakeAtOnce with { SyncJobs = 2 });

        var a = syncer.Add("a");
        var first = await runner.NextRunAsync();
        var b = syncer.Add("b");
        var second = await runner.NextRunAsync();
        var flush = syncer.FlushAsync();
        var c = syncer.Add("c");

        first.Exit(0);
        await a.WaitAsync(Guard);
        Assert.False(flush.IsCompleted);
        second.Exit(0);
        await flush.WaitAsync(Guard);
        Assert.True(b.IsCompletedSuccessfully);
        Assert.False(c.IsCompleted);
        (await runner.NextRunAsync()).Exit(0);
        await c.WaitAsync(Guard);
        await syncer.FlushAsync().WaitAsync(Guard);
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        var client = new RsyncClient(new FakeRsyncRunner(), Options);

        Assert.Throws<ArgumentOutOfRangeException>(() => new Syncer(client, new SyncerOptions { SyncJobs = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Syncer(client, new SyncerOptions { MaxBatchFiles = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Syncer(client, new SyncerOptions { Retries = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Syncer(client, new SyncerOptions { TargetBatchFiles = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Syncer(client, new SyncerOptions { BatchLinger = TimeSpan.FromMilliseconds(-1) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Syncer(client, new SyncerOptions { BatchLinger = TimeSpan.FromDays(2) }));
    }

    [Fact]
    public async Task AFreeJobWaitsUntilTheBatchReachesItsTarget()
    {
        var runner = new FakeRsyncRunner();
        var clock = new ManualTimeProvider();
        await using var syncer = NewSyncer(runner, new SyncerOptions { SyncJobs = 2, TargetBatchFiles = 10, BatchLinger = TimeSpan.FromHours(1), Clock = clock });

        var names = Enumerable.Range(0, 10).Select(i => $"d/f{i}").ToArray();
        var files = names.Select(n => syncer.Add(n)).ToArray();

        // Without gathering a free job would have taken the first name alone.
        var run = await runner.NextRunAsync();
        Assert.Equal(names, await run.Names);
        run.Exit(0);
        await Task.WhenAll(files).WaitAsync(Guard);
        Assert.Equal(1, runner.Started);
    }

    [Fact]
    public async Task TheLingerCountsFromTheOldestQueuedFile()
    {
        var runner = new FakeRsyncRunner();
        var clock = new ManualTimeProvider();
        await using var syncer = NewSyncer(runner, new SyncerOptions
        {
            SyncJobs = 1, TargetBatchFiles = 1000, BatchLinger = TimeSpan.FromMilliseconds(200), Clock = clock,
        });

        var a = syncer.Add("a");
        clock.Advance(TimeSpan.FromMilliseconds(150));
        var b = syncer.Add("b");
        clock.Advance(TimeSpan.FromMilliseconds(49));
        clock.Advance(TimeSpan.FromMilliseconds(1));

        var run = await runner.NextRunAsync();
        Assert.Equal(["a", "b"], await run.Names);
        run.Exit(0);
        await Task.WhenAll(a, b).WaitAsync(Guard);

        // The next batch lingers from its own first file, not from the last run.
        var c = syncer.Add("c");
        clock.Advance(TimeSpan.FromMilliseconds(200));
        var next = await runner.NextRunAsync();
        Assert.Equal(["c"], await next.Names);
        next.Exit(0);
        Assert.True((await c.WaitAsync(Guard)).Succeeded);
    }

    [Fact]
    public async Task FlushSendsAGatheringBatchAtOnceAndLaterFilesGatherAgain()
    {
        var runner = new FakeRsyncRunner();
        var clock = new ManualTimeProvider();
        await using var syncer = NewSyncer(runner, new SyncerOptions
        {
            SyncJobs = 3, TargetBatchFiles = 1000, BatchLinger = SyncerOptions.MaxBatchLinger, Clock = clock,
        });

        var files = new[] { "a", "b", "c" }.Select(n => syncer.Add(n)).ToArray();
        var flush = syncer.FlushAsync();
        var run = await runner.NextRunAsync();
        Assert.Equal(["a", "b", "c"], await run.Names);
        run.Exit(0);
        await flush.WaitAsync(Guard);
        Assert.All(await Task.WhenAll(files), o => Assert.True(o.Succeeded));

        // Released were only the files queued before the flush: "d" waits for company again.
        var d = syncer.Add("d");
        var e = syncer.Add("e");
        var second = syncer.FlushAsync();
        var next = await runner.NextRunAsync();
        Assert.Equal(["d", "e"], await next.Names);
        next.Exit(0);
        await second.WaitAsync(Guard);
        Assert.All(await Task.WhenAll(d, e), o => Assert.True(o.Succeeded));
        Assert.Equal(2, runner.Started);
    }

    [Fact]
    public async Task SendQueuedReleasesTheGatheringBatchWithoutWaiting()
    {
        var runner = new FakeRsyncRunner();
        var clock = new ManualTimeProvider();
        await using var syncer = NewSyncer(runner, new SyncerOptions
        {
            SyncJobs = 1, TargetBatchFiles = 1000, BatchLinger = SyncerOptions.MaxBatchLinger, Clock = clock,
        });

        var files = new[] { "a", "b" }.Select(n => syncer.Add(n)).ToArray();
        syncer.SendQueued();

        var run = await runner.NextRunAsync();
        Assert.Equal(["a", "b"], await run.Names);
        run.Exit(0);
        await Task.WhenAll(files).WaitAsync(Guard);
    }

    [Fact]
    public async Task CompleteSendsAGatheringBatchAtOnce()
    {
        var runner = new FakeRsyncRunner(_ => (0, ""), autoExit: true);
        var clock = new ManualTimeProvider();
        var syncer = NewSyncer(runner, new SyncerOptions
        {
            SyncJobs = 2, TargetBatchFiles = 1000, BatchLinger = SyncerOptions.MaxBatchLinger, Clock = clock,
        });

        var files = Enumerable.Range(0, 5).Select(i => syncer.Add($"f{i}")).ToArray();
        await syncer.CompleteAsync().WaitAsync(Guard);

        Assert.All(await Task.WhenAll(files), o => Assert.True(o.Succeeded));
        Assert.Equal(1, runner.Started);
        await syncer.DisposeAsync();
    }

    [Fact]
    public async Task CancellationCancelsAGatheringBatchWithoutStartingRsync()
    {
        var runner = new FakeRsyncRunner();
        var clock = new ManualTimeProvider();
        using var cancel = new CancellationTokenSource();
        await using var syncer = NewSyncer(runner, new SyncerOptions
        {
            SyncJobs = 2, TargetBatchFiles = 1000, BatchLinger = SyncerOptions.MaxBatchLinger, Clock = clock,
        }, cancellationToken: cancel.Token);

        var file = syncer.Add("a");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => file.WaitAsync(Guard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => syncer.CompleteAsync().WaitAsync(Guard));
        Assert.Equal(0, runner.Started);
    }

    [Fact]
    public async Task AFaultReachesTheFilesOfAGatheringBatch()
    {
        var runner = new FakeRsyncRunner();
        var clock = new ManualTimeProvider();
        await using var syncer = NewSyncer(runner, new SyncerOptions
        {
            SyncJobs = 2, TargetBatchFiles = 2, BatchLinger = SyncerOptions.MaxBatchLinger, Clock = clock,
        });

        var first = new[] { syncer.Add("a"), syncer.Add("b") };
        var run = await runner.NextRunAsync();
        Assert.Equal(["a", "b"], await run.Names);
        // The other job lingers over this one.
        var gathering = syncer.Add("c");
        run.Exit(12, "rsync: connection unexpectedly closed\n");

        var error = await Assert.ThrowsAsync<GeoSyncRsyncException>(() => first[0].WaitAsync(Guard));
        Assert.Same(error, await Assert.ThrowsAsync<GeoSyncRsyncException>(() => gathering.WaitAsync(Guard)));
        Assert.Same(error, await Assert.ThrowsAsync<GeoSyncRsyncException>(() => syncer.CompleteAsync().WaitAsync(Guard)));
        Assert.Equal(1, runner.Started);
    }
}

/// <summary>A scripted rsync: records every start, and either exits as the script says or waits for the test.</summary>
internal sealed class FakeRsyncRunner(
    Func<IReadOnlyList<string>, (int ExitCode, string Stderr)>? script = null, bool autoExit = false,
    Exception? startFailure = null) : IProcessRunner
{
    private readonly Channel<FakeRsyncRun> _started = Channel.CreateUnbounded<FakeRsyncRun>();
    private int _running;
    private int _maxRunning;
    private int _starts;

    public int Started => Volatile.Read(ref _starts);
    public int Running => Volatile.Read(ref _running);
    public int MaxRunning => Volatile.Read(ref _maxRunning);

    public IRunningProcess Start(ProcessSpec spec)
    {
        if (startFailure is not null)
        {
            throw startFailure;
        }

        Interlocked.Increment(ref _starts);
        var now = Interlocked.Increment(ref _running);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, now, seen) != seen)
        {
        }

        var run = new FakeRsyncRun(spec, () => Interlocked.Decrement(ref _running));
        if (autoExit)
        {
            _ = run.Names.ContinueWith(names => run.Exit(script!(names.Result).ExitCode, script(names.Result).Stderr), TaskScheduler.Default);
        }

        _started.Writer.TryWrite(run);
        return run;
    }

    public async Task<FakeRsyncRun> NextRunAsync() =>
        await _started.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
}

internal sealed class FakeRsyncRun : IRunningProcess
{
    private readonly TaskCompletionSource<(int ExitCode, string Stderr)> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<IReadOnlyList<string>> _names = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action _exited;
    private readonly CapturingStream _stdin;
    private string _stderr = "";
    private int _finished;

    public FakeRsyncRun(ProcessSpec spec, Action exited)
    {
        Argv = spec.Argv;
        this._exited = exited;
        _stdin = new CapturingStream(bytes => _names.TrySetResult(
            Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries).Select(n => n[2..]).ToArray()));
    }

    public int Id => 0;
    public IReadOnlyList<string> Argv { get; }
    public Stream? StandardInput => _stdin;
    public Stream? StandardOutput { get; } = new MemoryStream();
    public string StderrTail => _stderr;
    public bool Killed { get; private set; }

    /// <summary>The names rsync read from stdin, once stdin was closed.</summary>
    public Task<IReadOnlyList<string>> Names => _names.Task;

    public byte[] Stdin => _stdin.Captured;

    public void Exit(int exitCode, string stderrText = "")
    {
        _stderr = stderrText;
        Finish(exitCode);
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return (await _exit.Task.WaitAsync(cancellationToken)).ExitCode;
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
        Finish(137);
    }

    private void Finish(int exitCode)
    {
        // Counted as ended before the exit is observed, so the next start never overlaps it in the count.
        if (Interlocked.Exchange(ref _finished, 1) == 0)
        {
            _exited();
            _exit.TrySetResult((exitCode, _stderr));
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_exit.Task.IsCompleted)
        {
            Kill();
        }

        return ValueTask.CompletedTask;
    }

    private sealed class CapturingStream(Action<byte[]> closed) : MemoryStream
    {
        public byte[] Captured { get; private set; } = [];

        protected override void Dispose(bool disposing)
        {
            if (disposing && Captured.Length == 0)
            {
                Captured = ToArray();
                closed(Captured);
            }

            base.Dispose(disposing);
        }
    }
}
