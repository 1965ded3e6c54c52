using System.Globalization;

namespace GeoSync.Engine.Transport;

/// <summary>Where rsync writes: the target arguments that end the §6.2 argv.</summary>
public abstract record RsyncTarget
{
    private protected RsyncTarget() { }

    /// <summary>The path through which a peer reaches the working directory of process <paramref name="processId"/> (§6.6).</summary>
    public static string ProcessWorkingDirectory(int processId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(processId);
        return string.Create(CultureInfo.InvariantCulture, $"/proc/{processId}/cwd");
    }

    /// <summary>The arguments after <c>.</c>, given rsync_ssh_options.</summary>
    internal abstract IEnumerable<string> Arguments(string rsyncSshOptions);
}

/// <summary>A directory on this host (a <c>file://</c> slave, or any local directory).</summary>
public sealed record LocalDirectoryTarget : RsyncTarget
{
    public LocalDirectoryTarget(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    public string Path { get; }

    internal override IEnumerable<string> Arguments(string rsyncSshOptions) => [Path];
}

/// <summary>A local gluster slave: the root of the slave process's lazily unmounted volume, reached through its cwd.</summary>
public sealed record LocalSlaveTarget : RsyncTarget
{
    public LocalSlaveTarget(int slaveProcessId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slaveProcessId);
        SlaveProcessId = slaveProcessId;
    }

    public int SlaveProcessId { get; }

    internal override IEnumerable<string> Arguments(string rsyncSshOptions) => [ProcessWorkingDirectory(SlaveProcessId)];
}

/// <summary>
/// A directory on a remote host, reached through ssh multiplexed over the session's ControlMaster socket (§6.4).
/// </summary>
public sealed record SshTarget : RsyncTarget
{
    /// <param name="sshCommand">ssh_command, split on whitespace like the original.</param>
    /// <param name="controlPath">The <c>-S</c> control socket path; may hold ssh's <c>%r</c>/<c>%h</c>/<c>%p</c> tokens.</param>
    /// <param name="remoteAddress"><c>[user@]host</c>.</param>
    /// <param name="remotePath">The directory on the remote host, e.g. <c>/proc/&lt;remote slave pid&gt;/cwd</c>.</param>
    public SshTarget(string sshCommand, string controlPath, string remoteAddress, string remotePath)
    {
        if (RsyncCommand.SplitWords(sshCommand).Count == 0)
        {
            throw new ArgumentException("the ssh command is empty; give the ssh program, e.g. 'ssh'.", nameof(sshCommand));
        }

        ArgumentException.ThrowIfNullOrEmpty(controlPath);
        ArgumentException.ThrowIfNullOrEmpty(remoteAddress);
        ArgumentException.ThrowIfNullOrEmpty(remotePath);

        // rsync splits the -e command on whitespace, so a blank would cut the socket path in two.
        if (controlPath.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException(
                $"the ssh control path '{controlPath}' contains whitespace, which rsync's -e would split; choose a path without blanks.",
                nameof(controlPath));
        }

        if (remoteAddress.Contains(':', StringComparison.Ordinal) || remoteAddress.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException(
                $"the remote address '{remoteAddress}' must be [user@]host without ':' or blanks.", nameof(remoteAddress));
        }

        SshCommand = sshCommand;
        ControlPath = controlPath;
        RemoteAddress = remoteAddress;
        RemotePath = remotePath;
    }

    public string SshCommand { get; }
    public string ControlPath { get; }
    public string RemoteAddress { get; }
    public string RemotePath { get; }

    /// <summary>The remote shell rsync runs: the ssh command joined with the ControlMaster options (§6.2, §6.4).</summary>
    public string RemoteShell =>
        string.Join(' ', [.. RsyncCommand.SplitWords(SshCommand), "-oControlMaster=auto", "-S", ControlPath]);

    internal override IEnumerable<string> Arguments(string rsyncSshOptions) =>
        ["-e", RemoteShell, .. RsyncCommand.SplitWords(rsyncSshOptions), $"{RemoteAddress}:{RemotePath}"];
}
