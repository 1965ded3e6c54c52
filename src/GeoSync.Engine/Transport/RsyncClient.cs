using System.Diagnostics;
using System.Text;

namespace GeoSync.Engine.Transport;

/// <summary>What became of one file of an rsync batch.</summary>
public enum RsyncFileStatus
{
    /// <summary>rsync transferred it, or found it already up to date.</summary>
    Synced,

    /// <summary>rsync reported a failure for it (exit 23); worth retrying.</summary>
    Failed,

    /// <summary>The source was gone when rsync came to it (exit 24, or a failed link_stat); the next crawl sees the deletion.</summary>
    Vanished,
}

/// <summary>One file's result within an rsync batch, with rsync's own words when it failed.</summary>
public sealed record RsyncFileResult(string RelativePath, RsyncFileStatus Status, string? Reason)
{
    /// <summary>
    /// For a directory sent whole: the paths below it that rsync named as failed or vanished (each with its own
    /// words). Empty for a file, and for a directory whose failure could not be pinned on anything below it.
    /// </summary>
    public IReadOnlyList<RsyncFileResult> Below { get; init; } = [];
}

/// <summary>What kind of entry an itemized line of a whole-directory send names.</summary>
public enum RsyncItemKind
{
    File,
    Directory,
    Symlink,

    /// <summary>A device node, fifo or socket.</summary>
    Special,

    /// <summary>Anything else rsync itemizes (a hard link, a message line).</summary>
    Other,
}

/// <summary>
/// One entry rsync made or sent during a whole-directory send, from its <c>--out-format=%i %l %n</c> line.
/// </summary>
/// <param name="Kind">The entry's kind.</param>
/// <param name="Transferred">A file's data was sent, or an entry was created; false for an attribute-only change.</param>
/// <param name="Size">The entry's size as rsync printed it.</param>
/// <param name="Path">The entry's path relative to the master root, as wire text; null where not known.</param>
public readonly record struct RsyncItem(RsyncItemKind Kind, bool Transferred, long Size, string? Path = null);

/// <summary>How one rsync run for a batch ended, file by file.</summary>
public sealed record RsyncBatchResult(IReadOnlyList<string> Argv, int ExitCode, IReadOnlyList<RsyncFileResult> Files, TimeSpan Elapsed);

/// <summary>Runs one rsync per batch of names (docs/master-loop.md, "The crawl"; docs/protocol.md, "Transport") and maps its exit to per-file results.</summary>
public sealed class RsyncClient
{
    /// <summary>rsync's "partial transfer due to error": some files failed, the others are complete.</summary>
    public const int PartialTransferExitCode = 23;

    /// <summary>rsync's "partial transfer due to vanished source files".</summary>
    public const int VanishedExitCode = 24;

    /// <summary>rsync's "error in file I/O": the receiver stopped, e.g. at a write into a full slave.</summary>
    public const int FileIoExitCode = 11;

    private readonly IProcessRunner _runner;
    private readonly ProcessSpec _spec;
    private readonly ProcessSpec _treeSpec;

    /// <param name="runner">Starts the rsync processes.</param>
    /// <param name="options">The rsync argv's inputs (docs/protocol.md, "Transport"), source directory and target.</param>
    /// <param name="stderrLine">Receives each stderr line as <c>&lt;argv0&gt;&gt; &lt;line&gt;</c>, on a background thread.</param>
    public RsyncClient(IProcessRunner runner, RsyncOptions options, Action<string>? stderrLine = null)
    {
        ArgumentNullException.ThrowIfNull(runner);
        this._runner = runner;
        Options = options;
        _spec = RsyncCommand.BuildProcessSpec(options) with { StderrLine = stderrLine };
        _treeSpec = RsyncCommand.BuildProcessSpec(options, wholeTrees: true) with { StderrLine = stderrLine };
    }

    public RsyncOptions Options { get; }

    /// <summary>The argv every run uses.</summary>
    public IReadOnlyList<string> Argv => _spec.Argv;

    /// <summary>
    /// Runs one rsync for all of <paramref name="relativePaths"/>. Exit 0, 23 and 24 give per-file results, and so does
    /// exit 11 from a slave out of space or quota (every file of the batch failed); any other
    /// exit throws <see cref="GeoSyncRsyncException"/> with the argv, exit code and stderr tail; so does a command that
    /// cannot be executed (exit code null, the exec error as inner exception). Cancelling kills rsync.
    /// </summary>
    public Task<RsyncBatchResult> SyncAsync(IReadOnlyList<string> relativePaths, CancellationToken cancellationToken = default) =>
        SyncAsync(relativePaths, null, null, cancellationToken);

    /// <summary>
    /// <see cref="SyncAsync(IReadOnlyList{string}, CancellationToken)"/> where some names are directories to send whole
    /// (docs/master-loop.md, "Whole new directories"): when any is, the run recurses (<see cref="RsyncCommand.TreeOptions"/>),
    /// <paramref name="itemArrived"/> hears of every entry rsync makes below each of them as it goes, and a failure rsync
    /// names below one fails that directory, with the path in <see cref="RsyncFileResult.Below"/>.
    /// </summary>
    /// <param name="relativePaths">The names, files and directories.</param>
    /// <param name="wholeTrees">Per name, whether it is a directory sent whole; null when none is.</param>
    /// <param name="itemArrived">Called on a reader thread with the name's index and the item, for items below a whole directory (the directory's own line included).</param>
    /// <param name="cancellationToken">Kills rsync.</param>
    public async Task<RsyncBatchResult> SyncAsync(IReadOnlyList<string> relativePaths, IReadOnlyList<bool>? wholeTrees,
        Action<int, RsyncItem>? itemArrived, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(relativePaths);
        var names = relativePaths.Select(RsyncCommand.NormalizeRelativePath).ToArray();
        if (wholeTrees is not null && wholeTrees.Count != names.Length)
        {
            throw new ArgumentException("give one whole-tree flag per name", nameof(wholeTrees));
        }
        var trees = wholeTrees is not null && wholeTrees.Contains(true) ? wholeTrees : null;
        var input = RsyncCommand.EncodeFileList(names);
        var clock = Stopwatch.StartNew();
        ProcessResult result;
        try
        {
            result = trees is null
                ? await _runner.RunAsync(_spec, input, cancellationToken).ConfigureAwait(false)
                : await RunTreesAsync(new RsyncItemReader(names, trees, itemArrived), input, cancellationToken).ConfigureAwait(false);
        }
        catch (GeoSyncProcessException e) when (e is not GeoSyncRsyncException && e.ExitCode is null)
        {
            // Not started at all: still an rsync failure, with the exec error (e.g. ENOENT) kept as the cause.
            throw new GeoSyncRsyncException(e.Message, e.Argv, null, e.StderrTail, e.InnerException);
        }

        if (result.ExitCode == FileIoExitCode && RsyncStderrClassifier.SlaveFullLine(result.StderrTail) is { } full)
        {
            // The receiver stops at the first write into a full slave; which files of the batch arrived before cannot be
            // told, so each fails with that line and is retried: a full slave is fixed by freeing space, not by a restart.
            var failed = names.Select(name => new RsyncFileResult(name, RsyncFileStatus.Failed, full)).ToArray();
            return new RsyncBatchResult(result.Argv, result.ExitCode, failed, clock.Elapsed);
        }
        if (result.ExitCode is not (0 or PartialTransferExitCode or VanishedExitCode))
        {
            throw new GeoSyncRsyncException(
                $"{ProcessResult.DescribeFailure(result.Argv, result.ExitCode, result.StderrTail)}\n{Hint(result.ExitCode)}",
                result.Argv, result.ExitCode, result.StderrTail);
        }

        // A tail as long as its bound may have dropped its oldest lines, and with them the names of failed files.
        var tailComplete = Encoding.UTF8.GetByteCount(result.StderrTail) < _spec.StderrTailBytes;
        var files = RsyncStderrClassifier.Classify(names, result.ExitCode, result.StderrTail, tailComplete, trees);
        return new RsyncBatchResult(result.Argv, result.ExitCode, files, clock.Elapsed);
    }

    /// <summary>Runs the recursive argv, handing each stdout line to <paramref name="reader"/> as it comes.</summary>
    private async Task<ProcessResult> RunTreesAsync(RsyncItemReader reader, byte[] input, CancellationToken cancellationToken)
    {
        var running = _runner.Start(_treeSpec with { RedirectStandardInput = true, RedirectStandardOutput = true });
        await using (running.ConfigureAwait(false))
        {
            var feeding = FeedAsync(running.StandardInput!, input, cancellationToken);
            var reading = reader.ReadAsync(running.StandardOutput!, cancellationToken);
            var exitCode = await running.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await reading.ConfigureAwait(false);
            await feeding.ConfigureAwait(false);
            return new ProcessResult(running.Argv, exitCode, [], running.StderrTail);
        }
    }

    private static async Task FeedAsync(Stream stdin, byte[] data, CancellationToken cancellationToken)
    {
        await using (stdin.ConfigureAwait(false))
        {
            try
            {
                await stdin.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // EPIPE: rsync exited without reading all its input; its exit code says whether that was a failure.
            }
        }
    }

    private static string Hint(int exitCode) => exitCode switch
    {
        1 or 2 or 4 => "rsync rejected its arguments or a feature; check rsync_command and rsync_options (and that both sides run a compatible rsync).",
        3 or 11 => "rsync could not use the source or destination directory; check that both exist, are writable and have space.",
        5 or 10 or 12 or 255 => "the connection to the other side failed or broke; check ssh, the remote rsync and the slave's health.",
        20 => "rsync was interrupted by a signal.",
        30 or 35 => "rsync timed out waiting for data; check the network and the slave mount.",
        _ when exitCode > 128 => $"rsync was killed by signal {exitCode - 128}.",
        _ => "see rsync's messages above.",
    };
}
