using Mono.Unix.Native;

namespace GeoSync.Engine.Master;

/// <summary>A master tree on the local file system: listings and lstat through Mono.Posix, so names keep every byte.</summary>
public abstract class LocalMasterTree : IMasterTree
{
    protected LocalMasterTree(string rootPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootPath);
        RootPath = Path.GetFullPath(rootPath).TrimEnd('/');
        if (RootPath.Length == 0) RootPath = "/";
        if (Syscall.stat(RootPath, out var stat) != 0 || EntryStat.TypeOf(stat.st_mode) != EntryType.Directory)
        {
            throw new GeoSyncException($"the master root '{RootPath}' is not a directory; give the directory (or the mounted volume) to replicate");
        }
    }

    public string RootPath { get; }

    public virtual IMasterXtimes? Xtimes => null;

    public IReadOnlyList<string> Entries(string path)
    {
        using var dir = OpenDirectory.TryOpen(FullPath(path), out var errno)
            ?? throw Failure(path, "list", errno, "cannot list the master directory");
        return dir.NativeNames().Select(OpenDirectory.WireName).ToList();
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

        var target = OpenDirectory.ReadLinkOf(full, out var linkErrno);
        if (target is not null) return EntryStat.FromStat(stat, target);
        // Replaced by something that is not a symlink since the lstat: report that instead.
        return linkErrno is Errno.ENOENT ? null
            : linkErrno is Errno.EINVAL ? Lstat(path)
            : throw Failure(path, "readlink", linkErrno, "cannot read the master symlink");
    }

    /// <summary>The absolute path (Mono.Posix string form) of a path relative to the root.</summary>
    protected string FullPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return path == "." ? RootPath : RootPath + "/" + OpenDirectory.NativePath(path);
    }

    private GeoSyncMasterTreeException Failure(string path, string operation, Errno errno, string what)
    {
        var code = NativeConvert.FromErrno(errno);
        var hint = LinuxErrno.MeansSessionDown(code)
            ? "the glusterfs session went down; check the master volume's bricks and remount"
            : Stdlib.strerror(errno);
        return new GeoSyncMasterTreeException(path, operation, code, $"{what} '{path}' under '{RootPath}': {hint} ({errno}).");
    }
}
