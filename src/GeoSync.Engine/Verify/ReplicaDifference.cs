namespace GeoSync.Engine.Verify;

/// <summary>How a slave entry differs from its master entry. The order is the order differences of one entry are reported in.</summary>
public enum DifferenceKind
{
    /// <summary>The master has the entry, the slave does not.</summary>
    Missing,

    /// <summary>The slave has an entry the master does not.</summary>
    Extra,

    /// <summary>Another file type (or another device number).</summary>
    Type,

    Size,
    Mode,

    /// <summary>Another uid or gid.</summary>
    Owner,
    Mtime,

    /// <summary>A symlink with another target.</summary>
    Link,

    /// <summary>Same size, different bytes (only with a checksum comparison).</summary>
    Content,

    /// <summary>Other user.* extended attributes (only when the session copies xattrs).</summary>
    Xattr,
}

/// <summary>One difference between the master and the slave; values are display text, null where that side has nothing.</summary>
public sealed record ReplicaDifference(string Path, DifferenceKind Kind, string? MasterValue, string? SlaveValue);
