using System.Globalization;
using System.Text;
using GeoSync.Engine.Slave;

namespace GeoSync.Engine.Transport;

/// <summary>
/// Reads the <c>--out-format=%i %l %n</c> lines of a whole-directory send (docs/master-loop.md, "Whole new
/// directories") and hands each item below one of the batch's whole directories to a callback, with that name's index.
/// Lines it cannot place (a plain file of the same batch, anything unexpected) are skipped: they only feed counters.
/// </summary>
internal sealed class RsyncItemReader
{
    private readonly Dictionary<string, int> _trees = new(StringComparer.Ordinal);
    private readonly Action<int, RsyncItem>? _arrived;

    /// <param name="names">The batch's names, normalized.</param>
    /// <param name="wholeTrees">Per name, whether it is a directory sent whole.</param>
    /// <param name="arrived">Receives each placed item; nothing is read into memory when null.</param>
    public RsyncItemReader(IReadOnlyList<string> names, IReadOnlyList<bool> wholeTrees, Action<int, RsyncItem>? arrived)
    {
        _arrived = arrived;
        for (var i = 0; i < names.Count; i++)
        {
            // rsync prints names with unprintable bytes as \#ooo; lines are decoded back to bytes, compared as Latin-1.
            if (wholeTrees[i]) _trees[Encoding.Latin1.GetString(WireText.ToBytes(names[i]))] = i;
        }
    }

    /// <summary>
    /// How long the reader lets rsync's lines gather after a read that drained the pipe. rsync writes one line per item,
    /// so reading each as it comes costs a wake-up per file (an epoll event and a thread-pool hand-off each, on cores
    /// rsync itself needs: docs/performance.md, "Directory master, second pass"); a pipe holds 64 KiB, far more than
    /// rsync prints in this time.
    /// </summary>
    internal static readonly TimeSpan GatherDelay = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Reads <paramref name="stdout"/> to its end on a thread of its own, with blocking reads that take what gathered in
    /// the pipe. Cancellation is seen between reads; the caller's kill of rsync ends a read in progress (end of file).
    /// </summary>
    public Task ReadAsync(Stream stdout, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Read(stdout, cancellationToken), CancellationToken.None,
            TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

    private void Read(Stream stdout, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var pending = new List<byte>();
        int read;
        while ((read = stdout.Read(buffer)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_arrived is null)
            {
                if (read < buffer.Length) Thread.Sleep(GatherDelay);
                continue;
            }
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                if (pending.Count > 0)
                {
                    pending.AddRange(buffer.AsSpan(start, i - start));
                    Parse([.. pending]);
                    pending.Clear();
                }
                else
                {
                    Parse(buffer.AsSpan(start, i - start));
                }
                start = i + 1;
            }
            pending.AddRange(buffer.AsSpan(start, read - start));
            if (read < buffer.Length) Thread.Sleep(GatherDelay);
        }
        if (pending.Count > 0) Parse([.. pending]);
    }

    /// <summary>One line: <c>YXcstpoguax SIZE NAME</c>.</summary>
    internal void Parse(ReadOnlySpan<byte> line)
    {
        var firstBlank = line.IndexOf((byte)' ');
        if (firstBlank < 2) return;
        var rest = line[(firstBlank + 1)..];
        var secondBlank = rest.IndexOf((byte)' ');
        if (secondBlank <= 0
            || !long.TryParse(Encoding.ASCII.GetString(rest[..secondBlank]).Replace(",", "", StringComparison.Ordinal),
                NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            return;
        }
        var bytes = RsyncStderrClassifier.Decode(rest[(secondBlank + 1)..]);
        var name = Encoding.Latin1.GetString(bytes).TrimEnd('/');
        if (Place(name) is not int index) return;
        var kind = line[1] switch
        {
            (byte)'f' => RsyncItemKind.File,
            (byte)'d' => RsyncItemKind.Directory,
            (byte)'L' => RsyncItemKind.Symlink,
            (byte)'D' or (byte)'S' => RsyncItemKind.Special,
            _ => RsyncItemKind.Other,
        };
        // Latin-1 keeps one char per byte, so the trimmed name's length is the path's length in bytes.
        var path = WireText.ToText(bytes.AsSpan(0, name.Length));
        _arrived!(index, new RsyncItem(kind, line[0] is (byte)'>' or (byte)'<' or (byte)'c', size, path));
    }

    /// <summary>The index of the whole directory that is <paramref name="name"/> or holds it.</summary>
    private int? Place(string name)
    {
        if (_trees.TryGetValue(name, out var index)) return index;
        for (var slash = name.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = name.IndexOf('/', slash + 1))
        {
            if (_trees.TryGetValue(name[..slash], out index)) return index;
        }
        return null;
    }
}
