using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using GeoSync.Engine.Slave;

namespace GeoSync.Engine.Transport;

/// <summary>
/// Decides, from an rsync exit code 23 or 24 and its stderr, which files of a batch failed. A file counts as synced
/// only when every stderr line could be attributed to named files of the batch; any line it cannot place, or a tail that
/// may have lost lines, fails the whole batch, because then nobody can tell which files made it.
/// </summary>
internal static partial class RsyncStderrClassifier
{
    /// <summary>rsync's closing summary, e.g. <c>rsync error: some files/attrs were not transferred ... (code 23) at main.c(1394) [sender=3.5.0]</c>.</summary>
    [GeneratedRegex(@"^rsync (error|warning): .*\(code \d+\) at \S+ \[\w+=[^\]]*\]$")]
    private static partial Regex SummaryLine();

    /// <summary>
    /// ssh's note when it records a new host key, which glusterd's <c>StrictHostKeyChecking=no</c> makes routine; it says
    /// nothing about the files.
    /// </summary>
    [GeneratedRegex(@"^Warning: Permanently added .* to the list of known hosts\.$")]
    private static partial Regex SshHostKeyNote();

    /// <summary>
    /// The receiver names its temporary file <c>.&lt;name&gt;.XXXXXX</c> next to the target (mkstemp, rename failures);
    /// this maps it back to the target's name.
    /// </summary>
    [GeneratedRegex(@"/\.([^/""]+)\.[A-Za-z0-9]{6}""")]
    private static partial Regex TemporaryName();

    /// <summary>Source missing: vanished during the run, or before it (a failed <c>link_stat</c> with ENOENT on the sender).</summary>
    [GeneratedRegex(@"^((rsync: \[\w+\] )?file has vanished: |rsync: \[sender\] link_stat "".*"" failed: No such file or directory \(2\)$)")]
    private static partial Regex VanishedLine();

    /// <summary>
    /// The errno rsync appends to a failed call's line, e.g. <c>mkstemp "…" failed: No space left on device (28)</c> or
    /// <c>write failed on "…": Read-only file system (30)</c>.
    /// </summary>
    [GeneratedRegex(@": [A-Za-z][^;():""]* \((\d{1,4})\)(?=;|$)")]
    private static partial Regex FailedCallErrno();

    private static readonly SearchValues<char> PathStart = SearchValues.Create("/\" '");

    /// <param name="batch">The names rsync was given.</param>
    /// <param name="exitCode">rsync's exit code.</param>
    /// <param name="stderrTail">What rsync wrote on stderr.</param>
    /// <param name="tailComplete">False when the tail may have lost its oldest lines.</param>
    /// <param name="wholeTrees">
    /// Per name, whether it is a directory sent whole (docs/master-loop.md, "Whole new directories"): a line naming a
    /// path below it fails it (a vanished one does not: that entry is gone from the master), with the path in
    /// <see cref="RsyncFileResult.Below"/>. Null when none is.
    /// </param>
    public static IReadOnlyList<RsyncFileResult> Classify(IReadOnlyList<string> batch, int exitCode, string stderrTail, bool tailComplete,
        IReadOnlyList<bool>? wholeTrees = null)
    {
        if (exitCode == 0)
        {
            return batch.Select(name => new RsyncFileResult(name, RsyncFileStatus.Synced, null)).ToArray();
        }

        var lines = stderrTail.Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.Length > 0 && !SummaryLine().IsMatch(line) && !SshHostKeyNote().IsMatch(line))
            .ToArray();
        if (!tailComplete)
        {
            return FailAll(batch, $"rsync exited with {exitCode} and wrote more to stderr than was kept, so the failed files cannot be told apart");
        }

        if (lines.Length == 0)
        {
            return FailAll(batch, $"rsync exited with {exitCode} without naming the files that failed");
        }

        var index = new NameIndex(batch, wholeTrees);
        var failures = new List<string>?[batch.Count];
        var vanishedOnly = new bool[batch.Count];
        Array.Fill(vanishedOnly, true);
        var below = new Dictionary<string, (List<string> Lines, bool VanishedOnly)>?[batch.Count];
        foreach (var line in lines)
        {
            var matched = index.Match(line, out var belowTrees);
            if (matched.Count == 0 && belowTrees.Count == 0)
            {
                return FailAll(batch, $"rsync exited with {exitCode}, reporting a failure not attributable to a file of the batch: {line}");
            }

            var vanished = VanishedLine().IsMatch(line);
            foreach (var i in matched)
            {
                (failures[i] ??= []).Add(line);
                vanishedOnly[i] &= vanished;
            }

            foreach (var (i, path) in belowTrees)
            {
                var paths = below[i] ??= new(StringComparer.Ordinal);
                paths[path] = paths.TryGetValue(path, out var known) ? ([.. known.Lines, line], known.VanishedOnly && vanished) : ([line], vanished);
            }
        }

        return batch.Select((name, i) =>
        {
            var under = below[i]?.Select(p => new RsyncFileResult(
                    p.Key, p.Value.VanishedOnly ? RsyncFileStatus.Vanished : RsyncFileStatus.Failed, string.Join("; ", p.Value.Lines.Distinct())))
                .OrderBy(r => r.RelativePath, StringComparer.Ordinal).ToArray() ?? [];
            var failedBelow = under.Where(r => r.Status == RsyncFileStatus.Failed).ToArray();
            return failures[i] switch
            {
                null when failedBelow.Length == 0 => new RsyncFileResult(name, RsyncFileStatus.Synced, null) { Below = under },
                null => new RsyncFileResult(name, RsyncFileStatus.Failed, string.Join("; ", failedBelow.Select(r => r.Reason).Distinct()))
                {
                    Below = under,
                },
                var reasons => new RsyncFileResult(
                    name, vanishedOnly[i] && failedBelow.Length == 0 ? RsyncFileStatus.Vanished : RsyncFileStatus.Failed,
                    string.Join("; ", reasons.Concat(failedBelow.Select(r => r.Reason!)).Distinct()))
                {
                    Below = under,
                },
            };
        }).ToArray();
    }

    /// <summary>The errno of the last failed call named in a file's reason (its stderr lines joined by "; "); null if none.</summary>
    public static int? ErrnoIn(string? reason)
    {
        if (reason is null) return null;
        var matches = FailedCallErrno().Matches(reason);
        return matches.Count == 0 ? null : int.Parse(matches[^1].Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The first stderr line that says the slave is out of space or quota (ENOSPC, EDQUOT); null if none does.</summary>
    public static string? SlaveFullLine(string stderrTail)
    {
        ArgumentNullException.ThrowIfNull(stderrTail);
        return stderrTail.Split('\n').Select(line => line.TrimEnd('\r')).FirstOrDefault(line => ErrnoIn(line) is 28 or 122);
    }

    private static RsyncFileResult[] FailAll(IReadOnlyList<string> batch, string reason) =>
        batch.Select(name => new RsyncFileResult(name, RsyncFileStatus.Failed, reason)).ToArray();

    /// <summary>
    /// Finds the batch names a line mentions. rsync prints a name relative to the target, or as a full path, quoted or
    /// not, with unprintable bytes as <c>\#ooo</c> (which bytes depends on its version and locale). A name matches where
    /// it starts after a '/', quote, blank or the line start, and ends before a quote, ':', blank or the line end; both
    /// spellings are tried: the line with every <c>\#ooo</c> decoded against the raw name, and the line with every
    /// unprintable byte escaped against the escaped name. Matching too much only fails a file that a retry then syncs;
    /// matching too little would call a failed file synced, so ambiguity always widens the match.
    /// </summary>
    private sealed class NameIndex
    {
        private readonly Dictionary<string, List<int>> _raw = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<int>> _escaped = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<int>> _rawTrees = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<int>> _escapedTrees = new(StringComparer.Ordinal);
        private readonly int _longest;

        public NameIndex(IReadOnlyList<string> batch, IReadOnlyList<bool>? wholeTrees)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var bytes = WireText.ToBytes(batch[i]);
                Add(_raw, Encoding.Latin1.GetString(bytes), i);
                var spelled = Encoding.Latin1.GetString(Escape(bytes));
                Add(_escaped, spelled, i);
                _longest = Math.Max(_longest, spelled.Length);
                if (wholeTrees?[i] == true)
                {
                    Add(_rawTrees, Encoding.Latin1.GetString(bytes), i);
                    Add(_escapedTrees, spelled, i);
                }
            }
        }

        /// <summary>
        /// The names the line mentions, and in <paramref name="belowTrees"/> the whole directories it names a path
        /// below, with that path (every directory whose name leads a path in the line: ambiguity widens the match).
        /// </summary>
        public SortedSet<int> Match(string line, out HashSet<(int Index, string Path)> belowTrees)
        {
            var found = new SortedSet<int>();
            belowTrees = [];
            foreach (var variant in new[] { line, TemporaryName().Replace(line, "/$1\"") }.Distinct())
            {
                var bytes = Encoding.UTF8.GetBytes(variant);
                Search(Encoding.Latin1.GetString(Decode(bytes)), _raw, found);
                Search(Encoding.Latin1.GetString(Escape(bytes)), _escaped, found);
                if (_rawTrees.Count > 0)
                {
                    SearchBelow(Encoding.Latin1.GetString(Decode(bytes)), _rawTrees, belowTrees);
                    SearchBelow(Encoding.Latin1.GetString(Escape(bytes)), _escapedTrees, belowTrees);
                }
            }

            return found;
        }

        /// <summary>
        /// Paths that start after a '/', quote, blank or the line start with a whole directory's name and a '/'; inside
        /// quotes a path runs to the closing quote, elsewhere to a quote, ':', blank or the line end.
        /// </summary>
        private void SearchBelow(string text, Dictionary<string, List<int>> trees, HashSet<(int, string)> found)
        {
            for (var start = 0; start < text.Length; start++)
            {
                if (start > 0 && !PathStart.Contains(text[start - 1]))
                {
                    continue;
                }

                // Inside a quoted path (an odd number of quotes before it), the path runs to the closing quote, blanks and all.
                var quoted = text.AsSpan(0, start).Count('"') % 2 == 1;
                var end = quoted ? text.IndexOf('"', start) : text.IndexOfAny(['"', ':', ' ', '\''], start);
                if (end < 0)
                {
                    end = text.Length;
                }

                for (var slash = text.IndexOf('/', start); slash > start && slash < end && slash - start <= _longest; slash = text.IndexOf('/', slash + 1))
                {
                    if (trees.TryGetValue(text[start..slash], out var indices) && end > slash + 1)
                    {
                        var path = WireText.ToText(Decode(Encoding.Latin1.GetBytes(text[start..end])));
                        foreach (var i in indices)
                        {
                            found.Add((i, path));
                        }
                    }
                }
            }
        }

        private void Search(string text, Dictionary<string, List<int>> names, SortedSet<int> found)
        {
            var ends = new List<int>();
            for (var i = 0; i <= text.Length; i++)
            {
                if (i == text.Length || text[i] is '"' or ':' or ' ' or '\'')
                {
                    ends.Add(i);
                }
            }

            for (var start = 0; start < text.Length; start++)
            {
                if (start > 0 && !PathStart.Contains(text[start - 1]))
                {
                    continue;
                }

                foreach (var end in ends)
                {
                    if (end <= start)
                    {
                        continue;
                    }

                    if (end - start > _longest)
                    {
                        break;
                    }

                    if (names.TryGetValue(text[start..end], out var indices))
                    {
                        found.UnionWith(indices);
                    }
                }
            }
        }

        private static void Add(Dictionary<string, List<int>> names, string key, int index)
        {
            if (!names.TryGetValue(key, out var list))
            {
                names[key] = list = [];
            }

            list.Add(index);
        }
    }

    /// <summary>Every byte outside printable ASCII as <c>\#ooo</c>, as rsync spells unprintable bytes.</summary>
    internal static byte[] Escape(ReadOnlySpan<byte> bytes)
    {
        var output = new List<byte>(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and < 0x7f)
            {
                output.Add(b);
            }
            else
            {
                output.AddRange(Encoding.ASCII.GetBytes($"\\#{Convert.ToString(b, 8).PadLeft(3, '0')}"));
            }
        }

        return [.. output];
    }

    /// <summary>Every <c>\#ooo</c> replaced by the byte it stands for.</summary>
    internal static byte[] Decode(ReadOnlySpan<byte> bytes)
    {
        var output = new List<byte>(bytes.Length);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '\\' && i + 4 < bytes.Length && bytes[i + 1] == '#'
                && bytes[i + 2] is >= (byte)'0' and <= (byte)'3' && IsOctal(bytes[i + 3]) && IsOctal(bytes[i + 4]))
            {
                output.Add((byte)(((bytes[i + 2] - '0') << 6) | ((bytes[i + 3] - '0') << 3) | (bytes[i + 4] - '0')));
                i += 4;
            }
            else
            {
                output.Add(bytes[i]);
            }
        }

        return [.. output];
    }

    private static bool IsOctal(byte b) => b is >= (byte)'0' and <= (byte)'7';
}
