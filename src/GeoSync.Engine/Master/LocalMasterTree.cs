using Mono.Unix.Native;

namespace GeoSync.Engine.Master;

/// <summary>
/// A master tree on the local file system: listings and lstat through Mono.Posix, so names keep every byte. Every read
/// goes through a descriptor of the root opened here (<see cref="VouchedRoot"/>): a mount that goes away answers ENOTCONN
/// instead of showing the empty directory under it, which the crawl would take for a master that lost everything.
/// </summary>
public abstract class LocalMasterTree : IMasterTree, IDisposable
{
    private readonly VouchedRoot _root;

    protected LocalMasterTree(string rootPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootPath);
        RootPath = Path.GetFullPath(rootPath).TrimEnd('/');
        if (RootPath.Length == 0) RootPath = "/";
        _root = VouchedRoot.TryOpen(RootPath, out _)
            ?? throw new GeoSyncException($"the master root '{RootPath}' is not a directory; give the directory (or the mounted volume) to replicate");
    }

    public string RootPath { get; }

    public virtual IMasterXtimes? Xtimes => null;

    public IReadOnlyList<string> Entries(string path)
    {
        using var dir = OpenDirectory.TryOpen(FullPath(path), out var errno)
            ?? throw Failure(path, "list", errno, "cannot list the master directory");
        return dir.NativeNames().Select(OpenDirectory.WireName).ToList();
    }

    public IReadOnlyList<MasterEntry> EntriesWithStats(string path)
    {
        using var dir = OpenDirectory.TryOpen(FullPath(path), out var errno)
            ?? throw Failure(path, "list", errno, "cannot list the master directory");
        var entries = new List<MasterEntry>();
        foreach (var native in dir.NativeNames())
        {
            var name = OpenDirectory.WireName(native);
            entries.Add(MasterEntry.Read(name, () => LstatIn(dir, native, path == "." ? name : path + "/" + name)));
        }
        return entries;
    }

    /// <summary><see cref="Lstat"/> of an entry of an opened directory, by its native name relative to the descriptor.</summary>
    private EntryStat? LstatIn(OpenDirectory dir, string nativeName, string path)
    {
        if (!dir.TryLstat(nativeName, out var stat, out var errno))
        {
            return errno == Errno.ENOENT ? null : throw Failure(path, "lstat", errno, "cannot lstat the master entry");
        }
        if (EntryStat.TypeOf(stat.st_mode) != EntryType.Symlink) return EntryStat.FromStat(stat, null);

        return SymlinkEntry(stat, dir.ReadLink(nativeName, out var linkErrno), linkErrno, path);
    }

    public EntryStat? Lstat(string path)
    {
        var full = FullPath(path);
        if (Syscall.lstat(full, out var stat) != 0)
        {
            var errno = Stdlib.GetLastError();
            return errno == Errno.ENOENT ? null : throw Failure(path, "lstat", errno, "cannot lstat the master entry");
        }
        if (EntryStat.TypeOf(stat.st_mode) != EntryType.Symlink) return EntryStat.FromStat(stat, null);

        return SymlinkEntry(stat, OpenDirectory.ReadLinkOf(full, out var linkErrno), linkErrno, path);
    }

    /// <summary>
    /// A symlink's entry from its lstat and what reading its target gave: gone since (ENOENT) is no entry; replaced by
    /// something that is not a symlink since the lstat (EINVAL) is looked up again by path, to report that instead.
    /// </summary>
    private EntryStat? SymlinkEntry(Stat stat, string? target, Errno linkErrno, string path) =>
        target is not null ? EntryStat.FromStat(stat, target)
        : linkErrno is Errno.ENOENT ? null
        : linkErrno is Errno.EINVAL ? Lstat(path)
        : throw Failure(path, "readlink", linkErrno, "cannot read the master symlink");

    public void EnsureVouched()
    {
        if (_root.WhyNotVouched() is { } why) throw new GeoSyncMasterUnavailableException(RootPath, why);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) _root.Dispose();
    }

    /// <summary>
    /// The path (Mono.Posix string form) of a path relative to the root, through the root's descriptor: the kernel
    /// resolves it to the opened object whatever is mounted on <see cref="RootPath"/> now.
    /// </summary>
    protected string FullPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return path == "." ? _root.ProcPath + "/." : _root.ProcPath + "/" + OpenDirectory.NativePath(path);
    }

    /// <summary>The error for a failed call; a volume that lost its connection makes the whole master unavailable.</summary>
    protected GeoSyncException Failure(string path, string operation, Errno errno, string what)
    {
        var code = NativeConvert.FromErrno(errno);
        if (LinuxErrno.MeansSessionDown(code))
        {
            return new GeoSyncMasterUnavailableException(RootPath,
                $"{operation} of '{path}' answered {errno} ({Stdlib.strerror(errno)}): the glusterfs client lost the volume " +
                "(a subvolume down, or the client exited); check the master volume's bricks");
        }
        return new GeoSyncMasterTreeException(path, operation, code, $"{what} '{path}' under '{RootPath}': {Stdlib.strerror(errno)} ({errno}).");
    }
}
