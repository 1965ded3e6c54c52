namespace GeoSync.Engine.Master;

/// <summary>
/// Counts, per path, the consecutive turns it failed in. A failed path keeps its directories unmarked, so the next turn
/// visits it again and it either succeeds (and is forgotten) or fails once more; a path no turn revisits is gone.
/// </summary>
internal sealed class FailureHistory
{
    private readonly int _persistentAfter;
    private readonly object _lock = new();
    private Dictionary<string, int> _previous = new(StringComparer.Ordinal);
    private Dictionary<string, CrawlFailure> _current = new(StringComparer.Ordinal);

    public FailureHistory(int persistentAfter) => _persistentAfter = persistentAfter;

    public void BeginTurn()
    {
        lock (_lock) _current = new Dictionary<string, CrawlFailure>(StringComparer.Ordinal);
    }

    /// <summary>Notes that <paramref name="path"/> failed this turn; a second failure in the same turn keeps the first reason.</summary>
    public CrawlFailure Record(string path, string reason)
    {
        lock (_lock)
        {
            if (_current.TryGetValue(path, out var known)) return known;
            var attempts = _previous.GetValueOrDefault(path) + 1;
            var failure = new CrawlFailure(path, reason, attempts, attempts >= _persistentAfter);
            _current.Add(path, failure);
            return failure;
        }
    }

    /// <summary>True when <paramref name="path"/> failed in the previous turn.</summary>
    public bool FailedBefore(string path)
    {
        lock (_lock) return _previous.ContainsKey(path);
    }

    /// <summary>
    /// Closes the turn and returns its failures. A turn cut short (cancelled, fatal error) did not revisit everything, so
    /// the counts it did not renew are kept.
    /// </summary>
    public IReadOnlyList<CrawlFailure> EndTurn(bool completed)
    {
        lock (_lock)
        {
            var next = completed
                ? new Dictionary<string, int>(StringComparer.Ordinal)
                : new Dictionary<string, int>(_previous, StringComparer.Ordinal);
            foreach (var failure in _current.Values) next[failure.Path] = failure.Attempts;
            _previous = next;
            return _current.Values.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        }
    }
}
