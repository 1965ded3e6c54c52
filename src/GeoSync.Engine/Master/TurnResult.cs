namespace GeoSync.Engine.Master;

/// <summary>What one crawl from the root did.</summary>
public sealed class TurnResult
{
    internal TurnResult(long turn, TurnCounters counters, IReadOnlyList<CrawlFailure> failures, TimeSpan duration)
    {
        Turn = turn;
        DirectoriesScanned = counters.DirectoriesScanned;
        EntriesCreated = counters.EntriesCreated;
        EntriesPurged = counters.EntriesPurged;
        FilesSynced = counters.FilesSynced;
        BytesSynced = counters.BytesSynced;
        SpecialFiles = counters.SpecialFiles;
        ChangesSeen = counters.ChangesSeen;
        Failures = failures;
        HeldPurges = counters.HeldPurges;
        Duration = duration;
    }

    /// <summary>1 for the crawler's first turn, and so on.</summary>
    public long Turn { get; }

    /// <summary>Directories whose entries were listed.</summary>
    public long DirectoriesScanned { get; }

    /// <summary>Directories and symlinks made on the slave.</summary>
    public long EntriesCreated { get; }

    /// <summary>Slave entries removed: gone from the master, or in the way of an entry of another type.</summary>
    public long EntriesPurged { get; }

    /// <summary>Regular files whose data reached the slave.</summary>
    public long FilesSynced { get; }

    /// <summary>The sizes of those files on the master (not what went over the wire; rsync sends deltas).</summary>
    public long BytesSynced { get; }

    /// <summary>
    /// Fifos, sockets and device nodes that reached the slave (rsync -a makes them; one it cannot make, say a device on a
    /// slave not running as root, is a failure in <see cref="Failures"/>).
    /// </summary>
    public long SpecialFiles { get; }

    /// <summary>The slave was found behind the master (or different from it, for a directory master).</summary>
    public bool ChangesSeen { get; }

    /// <summary>Paths that did not reach the slave this turn; they keep their directories unmarked and are retried next turn.</summary>
    public IReadOnlyList<CrawlFailure> Failures { get; }

    /// <summary>
    /// Directories whose purge the mass-deletion guard held back (<see cref="CrawlerOptions.MaxDeleteShare"/>); each is also
    /// a failure of its directory, so it stays unmarked and is looked at again next turn.
    /// </summary>
    public IReadOnlyList<HeldPurge> HeldPurges { get; }

    /// <summary>The failures that have repeated for <see cref="CrawlerOptions.PersistentFailureAttempts"/> turns or more.</summary>
    public IReadOnlyList<CrawlFailure> PersistentFailures => Failures.Where(f => f.IsPersistent).ToList();

    /// <summary>The master tree, as far as this turn saw it, is on the slave.</summary>
    public bool Converged => Failures.Count == 0;

    public TimeSpan Duration { get; }
}

/// <summary>The counts of a turn still running (see <see cref="TurnResult"/> for their meaning).</summary>
public sealed record TurnProgress(long Turn, long DirectoriesScanned, long EntriesCreated, long EntriesPurged, long FilesSynced, long BytesSynced);

/// <summary>A purge held back by the mass-deletion guard: the slave directory, the entries it would have removed, and how many it holds.</summary>
public sealed record HeldPurge(string Directory, int Count, int SlaveEntries)
{
    /// <summary>One line for people: which directory, and how many of its slave entries were kept.</summary>
    public override string ToString() => $"{Directory}: purge of {Count} of {SlaveEntries} slave entries held back";
}

/// <summary>The running counts of a turn, updated from the crawl and from file jobs at once.</summary>
internal sealed class TurnCounters
{
    private readonly List<HeldPurge> _heldPurges = [];
    private long _directoriesScanned;
    private long _entriesCreated;
    private long _entriesPurged;
    private long _filesSynced;
    private long _bytesSynced;
    private long _specialFiles;
    private int _changesSeen;

    public long DirectoriesScanned => Interlocked.Read(ref _directoriesScanned);
    public long EntriesCreated => Interlocked.Read(ref _entriesCreated);
    public long EntriesPurged => Interlocked.Read(ref _entriesPurged);
    public long FilesSynced => Interlocked.Read(ref _filesSynced);
    public long BytesSynced => Interlocked.Read(ref _bytesSynced);
    public long SpecialFiles => Interlocked.Read(ref _specialFiles);
    public bool ChangesSeen => Volatile.Read(ref _changesSeen) != 0;

    public void DirectoryScanned() => Interlocked.Increment(ref _directoriesScanned);
    public void Created() => Interlocked.Increment(ref _entriesCreated);
    public void Purged(long count) => Interlocked.Add(ref _entriesPurged, count);
    public void SpecialFileSynced() => Interlocked.Increment(ref _specialFiles);
    public void SawChanges() => Volatile.Write(ref _changesSeen, 1);

    public IReadOnlyList<HeldPurge> HeldPurges
    {
        get { lock (_heldPurges) return [.. _heldPurges]; }
    }

    public void PurgeHeld(HeldPurge held)
    {
        lock (_heldPurges) _heldPurges.Add(held);
    }

    public void FileSynced(long bytes)
    {
        Interlocked.Increment(ref _filesSynced);
        Interlocked.Add(ref _bytesSynced, bytes);
    }

    /// <summary>
    /// Takes back files counted while a run was going: rsync names a file as it sends it, so when the run then fails (a
    /// full slave) what it named is not known to have arrived, and a turn claims only what did.
    /// </summary>
    public void Withdraw(long files, long bytes, long specialFiles)
    {
        Interlocked.Add(ref _filesSynced, -files);
        Interlocked.Add(ref _bytesSynced, -bytes);
        Interlocked.Add(ref _specialFiles, -specialFiles);
    }
}
