namespace GeoSync.Engine.Xattrs;

/// <summary>Extended attributes of one path, never following a final symlink; the seam unit tests fake.</summary>
public interface IXattrStore
{
    /// <summary>The value, or null when the attribute is absent (ENODATA). Other failures throw <see cref="GeoSyncXattrException"/>.</summary>
    byte[]? Get(string path, string name);

    /// <summary>Creates or replaces the attribute.</summary>
    void Set(string path, string name, ReadOnlySpan<byte> value);

    /// <summary>Names of all attributes of the path visible to this process.</summary>
    IReadOnlyList<string> List(string path);

    /// <summary>Removes the attribute; false when it was absent.</summary>
    bool Remove(string path, string name);
}
