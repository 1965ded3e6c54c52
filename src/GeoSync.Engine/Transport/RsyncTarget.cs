using System.Globalization;

namespace GeoSync.Engine.Transport;

/// <summary>Where rsync writes: the target arguments that end rsync's argv (docs/protocol.md, "Transport").</summary>
public abstract record RsyncTarget
{
    private protected RsyncTarget() { }

    /// <summary>The path through which a peer reaches the working directory of process <paramref name="processId"/> (docs/protocol.md, "Transport").</summary>
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
/// A directory on a remote host, reached through ssh multiplexed over a ControlMaster socket (docs/protocol.md, "Transport"):
/// <c>-e "&lt;remote shell&gt;" &lt;rsync_ssh_options&gt; &lt;remote_addr&gt;:&lt;path&gt;</c>.
/// </summary>
public sealed record SshTarget : RsyncTarget
{
    /// <summary>The remote shell (docs/protocol.md, "Transport"): ssh_command split on whitespace, then <c>-oControlMaster=auto -S &lt;controlPath&gt;</c>.</summary>
    /// <param name="sshCommand">ssh_command.</param>
    /// <param name="controlPath">The <c>-S</c> control socket path; may hold ssh's <c>%</c> tokens, no blanks.</param>
    /// <param name="remoteAddress"><c>[user@]host</c>.</param>
    /// <param name="remotePath">The directory on the remote host, e.g. <c>/proc/&lt;remote slave pid&gt;/cwd</c>.</param>
    public SshTarget(string sshCommand, string controlPath, string remoteAddress, string remotePath)
        : this(RemoteShellFor(sshCommand, controlPath), remoteAddress, remotePath)
    {
    }

    private SshTarget(string remoteShell, string remoteAddress, string remotePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(remoteShell);
        ArgumentException.ThrowIfNullOrEmpty(remoteAddress);
        ArgumentException.ThrowIfNullOrEmpty(remotePath);
        if (remoteAddress.Contains(':', StringComparison.Ordinal) || remoteAddress.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException(
                $"the remote address '{remoteAddress}' must be [user@]host without ':' or blanks.", nameof(remoteAddress));
        }

        RemoteShell = remoteShell;
        RemoteAddress = remoteAddress;
        RemotePath = remotePath;
    }

    /// <summary>
    /// rsync over an established <see cref="SshTransport"/>: its ssh command and control socket, so each rsync's ssh
    /// multiplexes over the slave's connection (no new login).
    /// </summary>
    /// <param name="transport">The ssh link to the slave host.</param>
    /// <param name="remotePath">The directory on the remote host, e.g. <c>/proc/&lt;remote slave pid&gt;/cwd</c>.</param>
    public static SshTarget Over(SshTransport transport, string remotePath)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var address = transport.Slave.RemoteAddress
            ?? throw new ArgumentException($"the slave URL {transport.Slave.Normalized} names no remote host.", nameof(transport));
        return new SshTarget(transport.RsyncShellCommand(), address, remotePath);
    }

    /// <summary>The value of rsync's <c>-e</c>.</summary>
    public string RemoteShell { get; }

    public string RemoteAddress { get; }
    public string RemotePath { get; }

    internal override IEnumerable<string> Arguments(string rsyncSshOptions) =>
        ["-e", RemoteShell, .. RsyncCommand.SplitWords(rsyncSshOptions), $"{RemoteAddress}:{RemotePath}"];

    private static string RemoteShellFor(string sshCommand, string controlPath)
    {
        var ssh = RsyncCommand.SplitWords(sshCommand);
        if (ssh.Count == 0)
        {
            throw new ArgumentException("the ssh command is empty; give the ssh program, e.g. 'ssh'.", nameof(sshCommand));
        }

        ArgumentException.ThrowIfNullOrEmpty(controlPath);

        // rsync splits the -e command on whitespace, so a blank would cut the socket path in two.
        if (controlPath.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException(
                $"the ssh control path '{controlPath}' contains whitespace, which rsync's -e would split; choose a path without blanks.",
                nameof(controlPath));
        }

        return string.Join(' ', [.. ssh, "-oControlMaster=auto", "-S", controlPath]);
    }
}
