namespace GeoSync.Engine.Transport;

/// <summary>How a master reaches a slave host over ssh (docs/protocol.md, "Transport"): the local ssh client and the remote command.</summary>
public sealed record SshOptions
{
    /// <summary>The slave entry point of the geosync host, looked up on the remote user's PATH.</summary>
    public static IReadOnlyList<string> DefaultRemoteCommand { get; } = ["geosync", "slave"];

    /// <summary>The local ssh client with options of its own, split on whitespace like gsyncd's <c>ssh_command</c>.</summary>
    public string SshCommand { get; init; } = "ssh";

    /// <summary>The slave host's ssh port (<c>-p</c>); ssh's own default (22, or its configuration) when null.</summary>
    public int? Port { get; init; }

    /// <summary>The private key to log in with (<c>-i</c>, offered alone); ssh's default keys when null.</summary>
    public string? IdentityFile { get; init; }

    /// <summary>The known-hosts file that pins the slave's host key; the user's <c>~/.ssh/known_hosts</c> when null.</summary>
    public string? KnownHostsFile { get; init; }

    /// <summary>
    /// More ssh arguments, passed as given after the ones GeoSync adds. ssh keeps the first value of an option, so these
    /// cannot change GeoSync's own; an override of BatchMode or StrictHostKeyChecking belongs in <see cref="SshCommand"/>.
    /// </summary>
    public IReadOnlyList<string> ExtraOptions { get; init; } = [];

    /// <summary>
    /// The command the slave host runs, one word per element. The restricted slave wrapper splits the command on single
    /// spaces and a login shell interprets it, so no word may contain a space or a shell metacharacter.
    /// </summary>
    public IReadOnlyList<string> RemoteCommand { get; init; } = DefaultRemoteCommand;

    /// <summary>
    /// Where the per-session control directory is created; the system temp directory when null (or /tmp when that is too
    /// long a path for the control socket).
    /// </summary>
    public string? ControlDirectoryParent { get; init; }
}
