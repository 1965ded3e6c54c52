using System.Text.Json;
using System.Text.Json.Serialization;

namespace GeoSync.Engine.Master;

/// <summary>
/// The failure ledger of a master and slave pair: every path that did not reach the slave, with its error, attempts and
/// first and last failure, kept across turns and, with a file, across restarts (docs/master-loop.md, "Failure ledger").
/// </summary>
/// <remarks>
/// A failed path keeps its directories unmarked, so every later turn visits it again: a completed turn that did not
/// fail it again saw it arrive (or vanish), and clears it. A path below a directory that failed this turn was not
/// visited at all and keeps its entry. A turn cut short (cancelled, fatal error) clears nothing. The file is replaced
/// atomically (a temporary file flushed to disk, then renamed), and only when the ledger changed.
/// </remarks>
public sealed class FailureLedger
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private readonly object _lock = new();
    private readonly TimeProvider _clock;
    private Dictionary<string, CrawlFailure> _known = new(StringComparer.Ordinal);
    private Dictionary<string, CrawlFailure> _current = new(StringComparer.Ordinal);
    private bool _changed;

    /// <summary>An in-memory ledger (nothing survives the process).</summary>
    public FailureLedger(int persistentAfter, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(persistentAfter, 1);
        PersistentAfter = persistentAfter;
        _clock = clock ?? TimeProvider.System;
    }

    private FailureLedger(string path, string master, string slave, int persistentAfter, TimeProvider? clock)
        : this(persistentAfter, clock)
    {
        FilePath = path;
        Master = master;
        Slave = slave;
    }

    /// <summary>After failing in this many consecutive turns a path is persistent.</summary>
    public int PersistentAfter { get; }

    /// <summary>The file the ledger is kept in; null for an in-memory ledger.</summary>
    public string? FilePath { get; }

    /// <summary>The pair's master URL, as written in the file.</summary>
    public string? Master { get; }

    /// <summary>The pair's slave URL, as written in the file.</summary>
    public string? Slave { get; }

    /// <summary>The ledger file next to a pair's state file: <c>&lt;name&gt;.json</c> → <c>&lt;name&gt;.failures.json</c>.</summary>
    public static string PathForStateFile(string stateFilePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateFilePath);
        return System.IO.Path.ChangeExtension(stateFilePath, ".failures.json");
    }

    /// <summary>
    /// Opens the ledger kept in <paramref name="path"/>, with the entries a previous process left there. A file that
    /// cannot be read as a ledger throws: replacing it would lose what it says.
    /// </summary>
    public static FailureLedger Open(string path, string master, string slave, int persistentAfter, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var ledger = new FailureLedger(path, master, slave, persistentAfter, clock);
        foreach (var failure in ReadFile(path)?.Entries ?? []) ledger._known[failure.Path] = failure;
        return ledger;
    }

    /// <summary>Reads a ledger file as it is (for Get-GeoSyncFailure); null when it does not exist.</summary>
    public static FailureLedgerFile? ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GeoSyncException($"cannot read the failure ledger '{path}': {ex.Message}", ex);
        }

        StoredLedger? stored;
        try
        {
            stored = JsonSerializer.Deserialize<StoredLedger>(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new GeoSyncException(
                $"the failure ledger '{path}' is not valid JSON ({ex.Message}); move it away to start a new one, the next turn rebuilds it", ex);
        }
        if (stored?.Entries is null || stored.Master is null || stored.Slave is null)
        {
            throw new GeoSyncException($"the failure ledger '{path}' lacks Master, Slave or Entries; move it away to start a new one, the next turn rebuilds it");
        }
        var entries = stored.Entries
            .Where(e => !string.IsNullOrEmpty(e.Path))
            .Select(e => new CrawlFailure(e.Path!, e.Error ?? "", e.Attempts, e.Persistent)
            {
                Errno = e.Errno,
                FirstFailed = e.FirstFailed,
                LastFailed = e.LastFailed,
            })
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
        return new FailureLedgerFile(stored.Master, stored.Slave, entries);
    }

    /// <summary>
    /// Reads a ledger file without throwing (for scripts, where a caught exception still reaches -ErrorVariable):
    /// false with <paramref name="problem"/> set when it cannot be read; true with a null ledger when it does not exist.
    /// </summary>
    public static bool TryReadFile(string path, out FailureLedgerFile? ledger, out string? problem)
    {
        try
        {
            ledger = ReadFile(path);
            problem = null;
            return true;
        }
        catch (GeoSyncException ex)
        {
            ledger = null;
            problem = ex.Message;
            return false;
        }
    }

    /// <summary>The entries as of the last completed turn (and those renewed since), ordered by path.</summary>
    public IReadOnlyList<CrawlFailure> Entries
    {
        get
        {
            lock (_lock) return _known.Values.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        }
    }

    internal void BeginTurn()
    {
        lock (_lock) _current = new Dictionary<string, CrawlFailure>(StringComparer.Ordinal);
    }

    /// <summary>Notes that <paramref name="path"/> failed this turn; a second failure in the same turn keeps the first reason.</summary>
    internal CrawlFailure Record(string path, string reason, int? errno)
    {
        lock (_lock)
        {
            if (_current.TryGetValue(path, out var known)) return known;
            var now = _clock.GetUtcNow();
            var previous = _known.GetValueOrDefault(path);
            var attempts = (previous?.Attempts ?? 0) + 1;
            var failure = new CrawlFailure(path, reason, attempts, attempts >= PersistentAfter)
            {
                Errno = errno,
                FirstFailed = previous?.FirstFailed ?? now,
                LastFailed = now,
            };
            _current.Add(path, failure);
            _known[path] = failure;
            _changed = true;
            return failure;
        }
    }

    /// <summary>True when <paramref name="path"/> is in the ledger from an earlier turn.</summary>
    internal bool FailedBefore(string path)
    {
        lock (_lock) return _known.TryGetValue(path, out var failure) && (!_current.ContainsKey(path) || failure.Attempts > 1);
    }

    /// <summary>
    /// Closes the turn, clears what arrived, saves the file when anything changed, and returns the turn's failures. A
    /// save that fails is returned as <paramref name="saveError"/>: the turn's result stands, and the next turn saves again.
    /// </summary>
    internal IReadOnlyList<CrawlFailure> EndTurn(bool completed, out Exception? saveError)
    {
        List<CrawlFailure> failures;
        StoredLedger? toSave = null;
        lock (_lock)
        {
            if (completed)
            {
                foreach (var path in _known.Keys.ToList())
                {
                    if (!_current.ContainsKey(path) && !UnderFailedDirectory(path))
                    {
                        _known.Remove(path);
                        _changed = true;
                    }
                }
            }
            failures = _current.Values.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
            if (_changed && FilePath is not null)
            {
                toSave = new StoredLedger
                {
                    Master = Master,
                    Slave = Slave,
                    PersistentAfter = PersistentAfter,
                    Entries = _known.Values.OrderBy(f => f.Path, StringComparer.Ordinal).Select(StoredEntry.Of).ToList(),
                };
                _changed = false;
            }
        }

        saveError = null;
        if (toSave is not null)
        {
            try
            {
                Save(FilePath!, toSave);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                lock (_lock) _changed = true;
                saveError = ex;
            }
        }
        return failures;
    }

    // A path below a directory that failed this turn was not visited: it neither failed again nor arrived.
    private bool UnderFailedDirectory(string path)
    {
        for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            if (_current.ContainsKey(path[..slash])) return true;
        }
        // The root's failure (e.g. it cannot be listed) covers everything.
        return _current.ContainsKey(".");
    }

    private static void Save(string path, StoredLedger ledger) => Operations.AtomicJsonFile.Write(path, ledger, JsonOptions);

    private sealed class StoredLedger
    {
        public string? Master { get; set; }
        public string? Slave { get; set; }
        public int PersistentAfter { get; set; }

        [JsonPropertyOrder(1)]
        public List<StoredEntry>? Entries { get; set; }
    }

    private sealed class StoredEntry
    {
        public string? Path { get; set; }
        public string? Error { get; set; }
        public int? Errno { get; set; }
        public int Attempts { get; set; }
        public DateTimeOffset FirstFailed { get; set; }
        public DateTimeOffset LastFailed { get; set; }
        public bool Persistent { get; set; }

        public static StoredEntry Of(CrawlFailure failure) => new()
        {
            Path = failure.Path,
            Error = failure.Reason,
            Errno = failure.Errno,
            Attempts = failure.Attempts,
            FirstFailed = failure.FirstFailed,
            LastFailed = failure.LastFailed,
            Persistent = failure.IsPersistent,
        };
    }
}

/// <summary>What a ledger file holds: the pair and its entries, ordered by path.</summary>
public sealed record FailureLedgerFile(string Master, string Slave, IReadOnlyList<CrawlFailure> Entries);
