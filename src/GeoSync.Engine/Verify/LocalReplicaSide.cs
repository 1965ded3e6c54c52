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

    // Both run on the caller's thread: the verifier calls them from a worker after starting the slave's call, so each
    // directory costs one thread handoff fewer — on a busy machine every handoff waits for the scheduler
    // (docs/performance.md). A failure comes back in the task, as from an asynchronous side.
    public Task<IReadOnlyList<ReplicaEntry>> ListAsync(string path, CancellationToken cancellationToken = default) =>
        Run<IReadOnlyList<ReplicaEntry>>(() => LocalEntryReader.List(FullPath(path), path, _withXattrs), cancellationToken);

    public Task<IReadOnlyList<EntryDigest>> HashAsync(string path, IReadOnlyList<string> names, CancellationToken cancellationToken = default) =>
        Run<IReadOnlyList<EntryDigest>>(() => LocalEntryReader.Hash(FullPath(path), path, names, cancellationToken), cancellationToken);

    private static Task<T> Run<T>(Func<T> read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<T>(cancellationToken);
        try
        {
            return Task.FromResult(read());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }

    private string FullPath(string path) => path == "." ? _root : _root + "/" + OpenDirectory.NativePath(path);
}
