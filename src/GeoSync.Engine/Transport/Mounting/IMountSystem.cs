using Mono.Unix.Native;

namespace GeoSync.Engine.Transport.Mounting;

/// <summary>How the root of a mount answered one probe.</summary>
internal enum MountProbeState
{
    /// <summary>stat answered and every DHT subvolume is up (or the volume has no DHT).</summary>
    Ready,

    /// <summary>stat answered but dht.subvol.status says a subvolume is down.</summary>
    SubvolumesDown,

    /// <summary>stat or getxattr failed with <see cref="MountProbe.Error"/>.</summary>
    Failed,
}

internal readonly record struct MountProbe(MountProbeState State, Errno Error = 0)
{
    public static readonly MountProbe Ready = new(MountProbeState.Ready);
}

/// <summary>The host effects the mounter needs besides running processes; unit tests replace it with a fake.</summary>
internal interface IMountSystem
{
    /// <summary>Creates a new directory 0700 in the temp directory and returns its canonical path.</summary>
    string CreateTempDirectory(string prefix);

    /// <summary>Removes an empty directory; false when that failed.</summary>
    bool TryRemoveDirectory(string path);

    /// <summary>The path with every symlink resolved (the form the mount table uses); it must exist and not be a mount.</summary>
    string CanonicalPath(string path);

    bool DirectoryExists(string path);

    bool IsEmptyDirectory(string path);

    bool FileExists(string path);

    /// <summary>The full path of an executable <paramref name="name"/>: in <paramref name="directory"/> when given, else on PATH, /usr/sbin, /sbin.</summary>
    string? FindProgram(string name, string? directory = null);

    /// <summary>The target of a symbolic link, or null when <paramref name="path"/> is not one.</summary>
    string? ReadSymbolicLink(string path);

    /// <summary>The current mount on <paramref name="mountPoint"/> in this process's mount namespace, or null.</summary>
    MountTableEntry? FindMount(string mountPoint);

    /// <summary>stat of the mount root, then its dht.subvol.status; may block as long as the FUSE client does not answer.</summary>
    MountProbe ProbeRoot(string mountPoint);

    /// <summary>Length of a file, 0 when it does not exist or cannot be read.</summary>
    long FileLength(string path);

    /// <summary>At most <paramref name="maxBytes"/> of the newest text after <paramref name="offset"/>; empty when unreadable.</summary>
    string ReadFileFrom(string path, long offset, int maxBytes);

    /// <summary>Pids of the glusterfs clients serving <paramref name="mountPoint"/> (their last argument).</summary>
    IReadOnlyList<int> FindClientProcesses(string mountPoint);

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/> to those still alive.</summary>
    void TerminateProcesses(IReadOnlyList<int> pids, TimeSpan grace);

    string CurrentUserName { get; }
}
