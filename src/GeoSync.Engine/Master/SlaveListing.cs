namespace GeoSync.Engine.Master;

/// <summary>What the parent's slave listing said about an entry: absent, present with its lstat, or present of unknown type.</summary>
internal readonly record struct SlaveEntryState(bool Exists, EntryStat? Stat)
{
    /// <summary>The slave root: there, of a type no listing told.</summary>
    public static SlaveEntryState Root => new(Exists: true, Stat: null);
}

/// <summary>One slave directory's listing, as a turn read it.</summary>
internal sealed class SlaveListing
{
    private readonly Dictionary<string, EntryStat?> _entries;

    public SlaveListing(Dictionary<string, EntryStat?> entries) => _entries = entries;

    public IEnumerable<string> Names => _entries.Keys;

    public int Count => _entries.Count;

    /// <summary>The directory was recreated before this listing.</summary>
    public bool Recreated { get; set; }

    public SlaveEntryState StateOf(string name) =>
        _entries.TryGetValue(name, out var stat) ? new SlaveEntryState(true, stat) : new SlaveEntryState(false, null);
}
