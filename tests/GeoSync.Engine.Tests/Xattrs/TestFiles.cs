using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Xattrs;

/// <summary>A fresh directory under the system temp directory, removed (without following symlinks) on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "geosync-test-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    public string Combine(string relative) => System.IO.Path.Combine(Path, relative);

    public string CreateFile(string relative, string content = "data")
    {
        var full = Combine(relative);
        File.WriteAllText(full, content);
        return full;
    }

    public string CreateDirectory(string relative) => Directory.CreateDirectory(Combine(relative)).FullName;

    public string CreateSymlink(string relative, string target)
    {
        var full = Combine(relative);
        Assert.Equal(0, Syscall.symlink(target, full));
        return full;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}

/// <summary>A clock the test sets by hand.</summary>
internal sealed class ManualClock : TimeProvider
{
    public ManualClock(DateTimeOffset now) => Now = now;

    public DateTimeOffset Now { get; set; }

    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class FileInfoOf
{
    public static bool IsSymlink(string path) =>
        Syscall.lstat(path, out var st) == 0 && (st.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFLNK;

    public static Stat LStat(string path)
    {
        Assert.Equal(0, Syscall.lstat(path, out var st));
        return st;
    }
}
