using System.Collections.Concurrent;
using System.Threading.Channels;
using GeoSync.Engine.Master;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Session;

// TEMP: stands in for the parallel Syncer (Master/Syncer.cs) until it reaches main; delete it then.
/// <summary>One rsync at a time with the §6.2 argv; a non-zero exit fails the whole batch.</summary>
internal sealed class InterimRsyncSyncer : IFileSyncer, IAsyncDisposable
{
    private const int MaxBatch = 4096;

    private readonly string _source;
    private readonly SlaveDestination _destination;
    private readonly SessionOptions _options;
    private readonly IProcessRunner _runner;
    private readonly Channel<(string Path, TaskCompletionSource<FileSyncOutcome> Outcome)> _queue =
        Channel.CreateUnbounded<(string, TaskCompletionSource<FileSyncOutcome>)>();
    private readonly ConcurrentQueue<Task> _unflushed = new();
    private readonly Task _worker;

    public InterimRsyncSyncer(string source, SlaveDestination destination, SessionOptions options, IProcessRunner runner)
    {
        _source = source;
        _destination = destination;
        _options = options;
        _runner = runner;
        _worker = Task.Run(RunAsync);
    }

    public Task<FileSyncOutcome> Add(string relativePath)
    {
        var outcome = new TaskCompletionSource<FileSyncOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite((relativePath, outcome)), this);
        _unflushed.Enqueue(outcome.Task);
        return outcome.Task;
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (_unflushed.TryDequeue(out var pending)) await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var batch = new List<(string Path, TaskCompletionSource<FileSyncOutcome> Outcome)>();
            while (batch.Count < MaxBatch && reader.TryRead(out var item)) batch.Add(item);
            FileSyncOutcome outcome;
            try
            {
                outcome = await RsyncAsync(batch.Select(b => b.Path).ToList()).ConfigureAwait(false);
            }
            catch (GeoSyncException ex)
            {
                foreach (var (_, box) in batch) box.TrySetException(ex);
                continue;
            }
            foreach (var (_, box) in batch) box.TrySetResult(outcome);
        }
    }

    private async Task<FileSyncOutcome> RsyncAsync(IReadOnlyList<string> paths)
    {
        using var names = new MemoryStream();
        foreach (var path in paths)
        {
            names.Write("./"u8);
            names.Write(WireText.ToBytes(path));
            names.WriteByte(0);
        }
        var words = _options.RsyncCommand.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        List<string> args = [.. words.Skip(1), "-aR0", "--files-from=-", "--super", "--numeric-ids", "--no-implied-dirs", "--sparse"];
        if (_options.Xattrs) args.Add("--xattrs");
        args.Add(".");
        if (_destination.RemoteShell is { } shell) args.AddRange(["-e", shell, "--compress"]);
        args.Add(_destination.ToString());
        var result = await _runner.RunAsync(new ProcessSpec(words[0], args) { WorkingDirectory = _source }, names.ToArray()).ConfigureAwait(false);
        if (result.ExitCode is 0) return FileSyncOutcome.Success;
        var description = ProcessResult.DescribeFailure(result.Argv, result.ExitCode, result.StderrTail);
        return result.ExitCode is 23 or 24
            ? FileSyncOutcome.Failed(description)
            : throw new GeoSyncRsyncException(description, result.Argv, result.ExitCode, result.StderrTail);
    }
}
