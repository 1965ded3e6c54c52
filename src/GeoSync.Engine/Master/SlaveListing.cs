namespace GeoSync.Engine.Master;

/// <summary>
/// What the parent's slave listing said about an entry: absent, present with its lstat, present with only its type
/// (<c>entry_types</c>), or present of unknown type.
/// </summary>
internal readonly record struct SlaveEntryState(bool Exists, EntryStat? Stat, EntryType? ListedType = null)
{
    /// <summary>The slave root: there, of a type no listing told.</summary>
    public static SlaveEntryState Root => new(Exists: true, Stat: null);

    /// <summary>The entry's type on the slave, when the listing told it (with or without the rest of its lstat).</summary>
    public EntryType? Type => Stat?.Type ?? ListedType;
}

/// <summary>One slave directory's listing, as a turn read it.</summary>
internal sealed class SlaveListing
{
    private readonly Dictionary<string, EntryStat?> _entries;
    private readonly Dictionary<string, EntryType>? _types;

    public SlaveListing(Dictionary<string, EntryStat?> entries) => _entries = entries;

    /// <summary>A listing that tells each entry's type and nothing else of its lstat.</summary>
    public SlaveListing(Dictionary<string, EntryType> types)
    {
        _types = types;
        _entries = types.ToDictionary(pair => pair.Key, _ => (EntryStat?)null, StringComparer.Ordinal);
    }

    public IEnumerable<string> Names => _entries.Keys;

    public int Count => _entries.Count;

    /// <summary>The directory was recreated before this listing.</summary>
    public bool Recreated { get; set; }

    public SlaveEntryState StateOf(string name) =>
        _entries.TryGetValue(name, out var stat)
            ? new SlaveEntryState(true, stat, _types is not null && _types.TryGetValue(name, out var type) ? type : null)
            : new SlaveEntryState(false, null);
}
