using GeoSync.Engine.Master;

namespace GeoSync.Engine.Verify;

/// <summary>A side read in this process: the master tree's root (a directory, or a GlusterFS master's aux mount).</summary>
public sealed class LocalReplicaSide : IReplicaSide
{
    private readonly string _root;
    private readonly bool _withXattrs;

    /// <param name="rootPath">The root directory.</param>
    /// <param name="withXattrs">Read regular files' user.* xattrs too.</param>
    public LocalReplicaSide(string rootPath, bool withXattrs)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootPath);
        _root = rootPath;
        _withXattrs = withXattrs;
    }

    public Task<IReadOnlyList<ReplicaEntry>> ListAsync(string path, CancellationToken cancellationToken = default) =>
        Task.Run<IReadOnlyList<ReplicaEntry>>(() => LocalEntryReader.List(FullPath(path), path, _withXattrs), cancellationToken);

    public Task<IReadOnlyList<EntryDigest>> HashAsync(string path, IReadOnlyList<string> names, CancellationToken cancellationToken = default) =>
        Task.Run<IReadOnlyList<EntryDigest>>(() => LocalEntryReader.Hash(FullPath(path), path, names, cancellationToken), cancellationToken);

    private string FullPath(string path) => path == "." ? _root : _root + "/" + OpenDirectory.NativePath(path);
}
