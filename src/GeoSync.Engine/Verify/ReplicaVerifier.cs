using System.Diagnostics;
using System.Globalization;

namespace GeoSync.Engine.Verify;

/// <summary>Settings of a <see cref="ReplicaVerifier"/>.</summary>
public sealed record ReplicaVerifyOptions
{
    /// <summary>Compare the content of regular files of equal size by their xxh128 digests, hashed on each side's own host.</summary>
    public bool Checksum { get; init; }

    /// <summary>Compare regular files' user.* xattrs (only meaningful when the session copies xattrs).</summary>
    public bool Xattrs { get; init; }

    /// <summary>
    /// A GlusterFS volume is on either side: its own root entries (<see cref="Master.GlusterInternalNames"/>) are never
    /// replicated, so they are no difference. The session sets it by the same rule as its crawl.
    /// </summary>
    public bool SkipGlusterInternalNames { get; init; }

    /// <summary>Directories compared at once (each lists both sides in parallel, and hashes on both).</summary>
    public int Parallelism { get; init; } = 8;

    /// <summary>Subdirectories whose comparison starts before the walk reaches them; bounds memory per level of the tree.</summary>
    public int Lookahead { get; init; } = 16;

    /// <summary>Files per hashing round trip; each side hashes a round in parallel.</summary>
    public int HashBatchFiles { get; init; } = 256;

    /// <summary>Bytes per hashing round trip, so one call never hashes for minutes.</summary>
    public long HashBatchBytes { get; init; } = 256L << 20;
}

/// <summary>What a verify found, counted.</summary>
public sealed record ReplicaVerifyResult(long EntriesCompared, long DirectoriesCompared, long Differences, long Unreadable,
    long FilesHashed, long BytesHashed, TimeSpan Duration)
{
    /// <summary>Every entry was compared and none differs.</summary>
    public bool Matches => Differences == 0 && Unreadable == 0;
}

/// <summary>What a running verify has done so far.</summary>
public sealed record ReplicaVerifyProgress(long EntriesCompared, long DirectoriesCompared, long Differences, long BytesHashed);

/// <summary>
/// Compares a whole master tree with its slave, directory by directory: both listings of a directory are read at once,
/// sorted and merged by name; files of equal size are hashed on both sides (with <see cref="ReplicaVerifyOptions.Checksum"/>).
/// Several directories are compared ahead of the walk, which reports differences in a fixed order: a directory's entries
/// by name, then each subdirectory's subtree in name order. Memory holds a few directories' listings, never the tree.
/// The rules of what counts as a difference are in docs/verify.md.
/// </summary>
public sealed class ReplicaVerifier
{
    private const string Root = ".";

    // Directory times reach the slave as float seconds (setattr's 'times'), which keep about 0.25 µs at today's dates.
    private const long TimeToleranceNs = 1_000;

    private readonly IReplicaSide _master;
    private readonly IReplicaSide _slave;
    private readonly ReplicaVerifyOptions _options;
    private readonly SemaphoreSlim _slots;
    private long _entries;
    private long _directories;
    private long _differences;
    private long _unreadable;
    private long _filesHashed;
    private long _bytesHashed;

    public ReplicaVerifier(IReplicaSide master, IReplicaSide slave, ReplicaVerifyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(master);
        ArgumentNullException.ThrowIfNull(slave);
        _master = master;
        _slave = slave;
        _options = options ?? new ReplicaVerifyOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Parallelism, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Lookahead, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.HashBatchFiles, 1, nameof(options));
        _slots = new SemaphoreSlim(_options.Parallelism);
    }

    /// <summary>Counts so far; safe to read from any thread while <see cref="VerifyAsync"/> runs.</summary>
    public ReplicaVerifyProgress Progress => new(Interlocked.Read(ref _entries), Interlocked.Read(ref _directories),
        Interlocked.Read(ref _differences), Interlocked.Read(ref _bytesHashed));

    /// <summary>
    /// Compares the trees. <paramref name="onDifference"/> gets each difference and <paramref name="onUnreadable"/> each path
    /// that could not be compared (path, reason), one at a time and in walk order. Fatal failures (a lost connection, a slave
    /// without the verify methods) throw.
    /// </summary>
    public async Task<ReplicaVerifyResult> VerifyAsync(Action<ReplicaDifference> onDifference, Action<string, string>? onUnreadable = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onDifference);
        var started = Stopwatch.GetTimestamp();
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await WalkAsync(Start(Root, abort.Token), onDifference, onUnreadable, abort.Token).ConfigureAwait(false);
        }
        catch
        {
            // Comparisons started ahead of the walk stop too.
            await abort.CancelAsync().ConfigureAwait(false);
            throw;
        }
        return new ReplicaVerifyResult(_entries, _directories, _differences, _unreadable, _filesHashed, _bytesHashed,
            Stopwatch.GetElapsedTime(started));
    }

    private async Task WalkAsync(Task<DirectoryComparison> pending, Action<ReplicaDifference> onDifference,
        Action<string, string>? onUnreadable, CancellationToken cancellationToken)
    {
        var comparison = await pending.ConfigureAwait(false);
        foreach (var difference in comparison.Differences)
        {
            Interlocked.Increment(ref _differences);
            onDifference(difference);
        }
        foreach (var (path, reason) in comparison.Unreadable)
        {
            Interlocked.Increment(ref _unreadable);
            onUnreadable?.Invoke(path, reason);
        }

        var subdirectories = comparison.Subdirectories;
        var ahead = new Queue<Task<DirectoryComparison>>();
        var next = 0;
        while (next < subdirectories.Count && ahead.Count < _options.Lookahead) ahead.Enqueue(Start(subdirectories[next++], cancellationToken));
        while (ahead.Count > 0)
        {
            var child = ahead.Dequeue();
            if (next < subdirectories.Count) ahead.Enqueue(Start(subdirectories[next++], cancellationToken));
            await WalkAsync(child, onDifference, onUnreadable, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task<DirectoryComparison> Start(string path, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await CompareAsync(path, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }, cancellationToken);

    /// <summary>Lists both sides of one directory at once and compares them entry by entry.</summary>
    private async Task<DirectoryComparison> CompareAsync(string path, CancellationToken cancellationToken)
    {
        var result = new DirectoryComparison();
        // The slave's call first: a local side lists on this thread while a remote slave's runs (an in-process slave
        // lists on this thread too, so the whole directory is compared without a thread handoff).
        var slaveListing = _slave.ListAsync(path, cancellationToken);
        var masterListing = _master.ListAsync(path, cancellationToken);
        IReadOnlyList<ReplicaEntry>? masterEntries = null, slaveEntries = null;
        try
        {
            masterEntries = await masterListing.ConfigureAwait(false);
        }
        catch (GeoSyncReplicaReadException ex)
        {
            result.Unreadable.Add((ex.Path, $"on the master: {ex.Message}"));
        }
        try
        {
            slaveEntries = await slaveListing.ConfigureAwait(false);
        }
        catch (GeoSyncReplicaReadException ex)
        {
            result.Unreadable.Add((ex.Path, $"on the slave: {ex.Message}"));
        }
        if (masterEntries is null || slaveEntries is null) return result;
        Interlocked.Increment(ref _directories);

        var master = Comparable(path, masterEntries);
        var slave = Comparable(path, slaveEntries);
        var toHash = new List<ReplicaEntry>();
        int m = 0, s = 0;
        while (m < master.Count || s < slave.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var order = m == master.Count ? 1 : s == slave.Count ? -1 : string.CompareOrdinal(master[m].Name, slave[s].Name);
            Interlocked.Increment(ref _entries);
            if (order < 0)
            {
                var only = master[m++];
                result.Add(Join(path, only.Name), DifferenceKind.Missing, only.Describe(), null);
            }
            else if (order > 0)
            {
                var only = slave[s++];
                result.Add(Join(path, only.Name), DifferenceKind.Extra, null, only.Describe());
            }
            else
            {
                var (ours, theirs) = (master[m++], slave[s++]);
                if (CompareEntry(path, ours, theirs, result) && _options.Checksum) toHash.Add(ours);
                if (ours.Type == ReplicaEntryType.Directory && theirs.Type == ReplicaEntryType.Directory) result.Subdirectories.Add(Join(path, ours.Name));
            }
        }

        if (toHash.Count > 0) await CompareContentAsync(path, toHash, result, cancellationToken).ConfigureAwait(false);
        result.Differences.Sort(static (a, b) =>
        {
            var byPath = string.CompareOrdinal(a.Path, b.Path);
            return byPath != 0 ? byPath : a.Kind.CompareTo(b.Kind);
        });
        return result;
    }

    /// <summary>The entries to compare, sorted by name, without a GlusterFS volume's own root entries when a volume is involved.</summary>
    private List<ReplicaEntry> Comparable(string path, IReadOnlyList<ReplicaEntry> entries)
    {
        var comparable = new List<ReplicaEntry>(entries);
        if (path == Root && _options.SkipGlusterInternalNames) comparable.RemoveAll(e => Master.GlusterInternalNames.IsInternal(e.Name));
        comparable.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return comparable;
    }

    /// <summary>
    /// Adds the attribute differences of an entry both sides have in <paramref name="directory"/>; true when it is a file
    /// whose content can still differ. The entry's path is only built for a difference: most entries have none.
    /// </summary>
    private bool CompareEntry(string directory, ReplicaEntry master, ReplicaEntry slave, DirectoryComparison result)
    {
        if (master.Type != slave.Type || master.DeviceNumber != slave.DeviceNumber)
        {
            result.Add(Join(directory, master.Name), DifferenceKind.Type, master.Describe(), slave.Describe());
            return false;
        }
        var sameSize = true;
        if (master.Type == ReplicaEntryType.Regular && master.Size != slave.Size)
        {
            result.Add(Join(directory, master.Name), DifferenceKind.Size, Number(master.Size), Number(slave.Size));
            sameSize = false;
        }
        // Linux symlinks have no mode of their own.
        if (master.Type != ReplicaEntryType.Symlink && master.Mode != slave.Mode)
        {
            result.Add(Join(directory, master.Name), DifferenceKind.Mode, Octal(master.Mode), Octal(slave.Mode));
        }
        if (master.Uid != slave.Uid || master.Gid != slave.Gid)
        {
            result.Add(Join(directory, master.Name), DifferenceKind.Owner, Owner(master), Owner(slave));
        }
        // A symlink's own times are not replicated (the crawl sets only its owner): see docs/verify.md.
        if (master.Type != ReplicaEntryType.Symlink && Math.Abs(master.ModifyTimeNs - slave.ModifyTimeNs) >= TimeToleranceNs)
        {
            result.Add(Join(directory, master.Name), DifferenceKind.Mtime, Time(master.ModifyTimeNs), Time(slave.ModifyTimeNs));
        }
        if (master.Type == ReplicaEntryType.Symlink && !string.Equals(master.LinkTarget, slave.LinkTarget, StringComparison.Ordinal))
        {
            result.Add(Join(directory, master.Name), DifferenceKind.Link, master.LinkTarget, slave.LinkTarget);
        }
        if (_options.Xattrs && master.Type == ReplicaEntryType.Regular && XattrDifference(master, slave) is var (ours, theirs))
        {
            result.Add(Join(directory, master.Name), DifferenceKind.Xattr, ours, theirs);
        }
        return master.Type == ReplicaEntryType.Regular && sameSize;
    }

    /// <summary>Hashes the files on both sides at once, in rounds bounded by count and bytes.</summary>
    private async Task CompareContentAsync(string path, List<ReplicaEntry> files, DirectoryComparison result, CancellationToken cancellationToken)
    {
        var batch = new List<ReplicaEntry>();
        long batchBytes = 0;
        foreach (var file in files)
        {
            batch.Add(file);
            batchBytes += file.Size;
            if (batch.Count < _options.HashBatchFiles && batchBytes < _options.HashBatchBytes) continue;
            await HashRoundAsync(path, batch, result, cancellationToken).ConfigureAwait(false);
            batch = [];
            batchBytes = 0;
        }
        if (batch.Count > 0) await HashRoundAsync(path, batch, result, cancellationToken).ConfigureAwait(false);
    }

    private async Task HashRoundAsync(string path, List<ReplicaEntry> files, DirectoryComparison result, CancellationToken cancellationToken)
    {
        var names = files.Select(f => f.Name).ToList();
        var slaveDigests = _slave.HashAsync(path, names, cancellationToken);
        var masterDigests = _master.HashAsync(path, names, cancellationToken);
        IReadOnlyList<EntryDigest> ours, theirs;
        try
        {
            ours = await masterDigests.ConfigureAwait(false);
        }
        catch (GeoSyncReplicaReadException ex)
        {
            _ = await Observe(slaveDigests).ConfigureAwait(false);
            result.Unreadable.Add((ex.Path, $"on the master: {ex.Message}"));
            return;
        }
        try
        {
            theirs = await slaveDigests.ConfigureAwait(false);
        }
        catch (GeoSyncReplicaReadException ex)
        {
            result.Unreadable.Add((ex.Path, $"on the slave: {ex.Message}"));
            return;
        }
        for (var i = 0; i < files.Count; i++)
        {
            var filePath = Join(path, files[i].Name);
            if (ours[i].Digest is not { } mine)
            {
                result.Unreadable.Add((filePath, $"cannot hash it on the master: {Describe(ours[i].Errno)}"));
                continue;
            }
            if (theirs[i].Digest is not { } replica)
            {
                result.Unreadable.Add((filePath, $"cannot hash it on the slave: {Describe(theirs[i].Errno)}"));
                continue;
            }
            Interlocked.Increment(ref _filesHashed);
            Interlocked.Add(ref _bytesHashed, files[i].Size);
            if (!string.Equals(mine, replica, StringComparison.OrdinalIgnoreCase))
            {
                result.Add(filePath, DifferenceKind.Content, ShortDigest(mine), ShortDigest(replica));
            }
        }
    }

    private static async Task<bool> Observe(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
            return true;
        }
        catch (GeoSyncReplicaReadException)
        {
            return false;
        }
    }

    /// <summary>The xattr names whose values differ, as each side has them; null when both sides agree.</summary>
    private static (string Master, string Slave)? XattrDifference(ReplicaEntry master, ReplicaEntry slave)
    {
        var ours = master.Xattrs ?? new Dictionary<string, string>();
        var theirs = slave.Xattrs ?? new Dictionary<string, string>();
        var differing = ours.Keys.Union(theirs.Keys, StringComparer.Ordinal)
            .Where(name => !(ours.TryGetValue(name, out var a) && theirs.TryGetValue(name, out var b) && a == b))
            .OrderBy(name => name, StringComparer.Ordinal)
            .ToList();
        if (differing.Count == 0) return null;
        return (List(ours), List(theirs));

        string List(IReadOnlyDictionary<string, string> side)
        {
            var present = differing.Where(side.ContainsKey).ToList();
            return present.Count == 0 ? "(none)" : string.Join(",", present);
        }
    }

    private static string Join(string directory, string name) => directory == Root ? name : directory + "/" + name;

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Octal(int mode) => "0" + Convert.ToString(mode, 8).PadLeft(3, '0');

    private static string Owner(ReplicaEntry entry) => string.Create(CultureInfo.InvariantCulture, $"{entry.Uid}:{entry.Gid}");

    // Microseconds: two mtimes a tolerance apart or more always print differently, and a row stays within 80 columns.
    private static string Time(long nanoseconds) => DateTime.UnixEpoch.AddTicks(nanoseconds / 100)
        .ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    private static string ShortDigest(string hex) => LocalEntryReader.DigestAlgorithm + ":" + hex[..Math.Min(12, hex.Length)].ToLowerInvariant();

    private static string Describe(int errno) => Master.LinuxErrno.Name(errno);

    /// <summary>One directory's findings, held until the walk reports them.</summary>
    private sealed class DirectoryComparison
    {
        public List<ReplicaDifference> Differences { get; } = [];

        public List<(string Path, string Reason)> Unreadable { get; } = [];

        public List<string> Subdirectories { get; } = [];

        public void Add(string path, DifferenceKind kind, string? master, string? slave) => Differences.Add(new ReplicaDifference(path, kind, master, slave));
    }
}
