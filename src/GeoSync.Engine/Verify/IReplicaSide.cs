namespace GeoSync.Engine.Verify;

/// <summary>
/// One side of a verify: lists a directory with each entry's attributes and hashes files where they are, so a remote
/// side never sends file data. Paths are relative to the root (<c>.</c> is the root), in wire text.
/// </summary>
public interface IReplicaSide
{
    /// <summary>The entries of a directory (any order). A directory that cannot be listed throws <see cref="GeoSyncReplicaReadException"/>.</summary>
    Task<IReadOnlyList<ReplicaEntry>> ListAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Content digests of the named regular files of a directory, one per name, in the same order.</summary>
    Task<IReadOnlyList<EntryDigest>> HashAsync(string path, IReadOnlyList<string> names, CancellationToken cancellationToken = default);
}

/// <summary>A directory or file of one side could not be read; that path is reported as not compared.</summary>
public sealed class GeoSyncReplicaReadException(string path, int errno, string message) : GeoSyncException(message)
{
    public string Path { get; } = path;

    public int Errno { get; } = errno;
}
