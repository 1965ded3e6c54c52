using System.Diagnostics;
using System.Globalization;
using System.Text;
using Mono.Unix;
using Mono.Unix.Native;

namespace GeoSync.Engine.Transport.Mounting;

/// <summary>The real <see cref="IMountSystem"/>: /proc, the file system and signals on Linux.</summary>
internal sealed class LinuxMountSystem : IMountSystem
{
    internal const string MountInfoPath = "/proc/self/mountinfo";

    // glusterfs lives in sbin, which a non-login shell's PATH often lacks.
    private static readonly string[] FallbackDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    // "1" when all DHT subvolumes are up; the xattr has no namespace prefix, which only FUSE passes through.
    private const string SubvolumeStatusXattr = "dht.subvol.status";

    public string CreateTempDirectory(string prefix) => CanonicalPath(Directory.CreateTempSubdirectory(prefix).FullName);

    public bool TryRemoveDirectory(string path) => Syscall.rmdir(path) == 0;

    public string CanonicalPath(string path) => UnixPath.GetCompleteRealPath(path);

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public bool IsEmptyDirectory(string path) => !Directory.EnumerateFileSystemEntries(path).Any();

    public bool FileExists(string path) => File.Exists(path);

    public string? FindProgram(string name, string? directory = null)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return IsExecutableFile(name) ? name : null;
        }

        var directories = directory is not null
            ? [directory]
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Concat(FallbackDirectories);
        return directories.Select(d => Path.Combine(d, name)).FirstOrDefault(IsExecutableFile);
    }

    private static bool IsExecutableFile(string path) => File.Exists(path) && Syscall.access(path, AccessModes.X_OK) == 0;

    public string? ReadSymbolicLink(string path) => UnixPath.TryReadLink(path);

    public MountTableEntry? FindMount(string mountPoint) => MountTable.Find(File.ReadAllText(MountInfoPath), mountPoint);

    public MountProbe ProbeRoot(string mountPoint)
    {
        if (Syscall.stat(mountPoint, out _) != 0)
        {
            return new MountProbe(MountProbeState.Failed, Stdlib.GetLastError());
        }

        var value = new byte[16];
        var length = Syscall.lgetxattr(mountPoint, SubvolumeStatusXattr, value, (ulong)value.Length);
        if (length < 0)
        {
            var error = Stdlib.GetLastError();
            // No DHT in the graph, or a kernel that does not pass the name on: stat answering is all we can know.
            return error is Errno.ENODATA or Errno.EOPNOTSUPP or Errno.ENOENT or Errno.EPERM or Errno.ERANGE
                ? MountProbe.Ready
                : new MountProbe(MountProbeState.Failed, error);
        }

        return Encoding.ASCII.GetString(value, 0, (int)length).TrimEnd('\0') == "0"
            ? new MountProbe(MountProbeState.SubvolumesDown)
            : MountProbe.Ready;
    }

    public long FileLength(string path)
    {
        try
        {
            return new FileInfo(path).Exists ? new FileInfo(path).Length : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    public string ReadFileFrom(string path, long offset, int maxBytes)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var start = Math.Max(offset, file.Length - maxBytes);
            if (start < 0 || start >= file.Length)
            {
                return "";
            }

            file.Seek(start, SeekOrigin.Begin);
            var buffer = new byte[file.Length - start];
            file.ReadExactly(buffer);
            return Encoding.UTF8.GetString(buffer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    public IReadOnlyList<int> FindClientProcesses(string mountPoint)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && IsClientOf(pid, mountPoint))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    private static bool IsClientOf(int pid, string mountPoint)
    {
        string[] argv;
        try
        {
            argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        return argv.Length >= 2 && argv[^1] == mountPoint && Path.GetFileName(argv[0]) is "glusterfs" or "glusterfsd";
    }

    public void TerminateProcesses(IReadOnlyList<int> pids, TimeSpan grace)
    {
        // Start times pin the identity, so a pid reused meanwhile is never signalled.
        var members = pids.Select(p => ProcessTree.ReadStat(p) is { } stat ? new ProcessTree.Member(p, stat.StartTime) : (ProcessTree.Member?)null)
            .OfType<ProcessTree.Member>().ToList();
        Signal(members, Signum.SIGTERM);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < grace && members.Exists(ProcessTree.IsAlive))
        {
            Thread.Sleep(20);
        }

        Signal(members, Signum.SIGKILL);
    }

    private static void Signal(List<ProcessTree.Member> members, Signum signal)
    {
        foreach (var member in members.Where(ProcessTree.IsAlive))
        {
            Syscall.kill(member.Pid, signal);
        }
    }

    public string CurrentUserName => Environment.UserName;
}
