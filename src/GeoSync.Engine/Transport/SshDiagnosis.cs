using GeoSync.Engine.Urls;

namespace GeoSync.Engine.Transport;

/// <summary>What kept an ssh connection to a slave host from working.</summary>
public enum SshProblem
{
    None,
    ConnectionRefused,
    HostUnreachable,
    HostNotFound,
    HostKeyUnknown,
    HostKeyChanged,
    KeyNotAuthorized,

    /// <summary>ssh failed (exit 255) for a reason none of the others names; its stderr tells.</summary>
    ConnectionFailed,
    RemoteCommandNotFound,
    RemoteCommandNotExecutable,
    RemoteCommandFailed,
}

/// <summary>How an ssh run to a slave host ended: what went wrong, if anything, and what to do about it (docs/gsyncd-flaws.md, #32).</summary>
/// <param name="Problem">What went wrong; <see cref="SshProblem.None"/> on success.</param>
/// <param name="Summary">What happened, naming the host.</param>
/// <param name="Hint">What to do about it; empty on success.</param>
/// <param name="Argv">The ssh command that ran.</param>
/// <param name="ExitCode">ssh's exit code: 255 for its own failures, otherwise the remote command's.</param>
/// <param name="StderrTail">The newest stderr of ssh and the remote command.</param>
/// <param name="RemoteOutput">What the remote command wrote to stdout, when it was collected.</param>
public sealed record SshDiagnosis(SshProblem Problem, string Summary, string Hint, IReadOnlyList<string> Argv, int ExitCode,
    string StderrTail, string RemoteOutput)
{
    public bool Succeeded => Problem == SshProblem.None;

    /// <summary>The summary, the hint, then the child-process failure line of docs/protocol.md ("Transport"), <c>command "..." returned with N, saying:</c> and ssh's stderr.</summary>
    public string Message => Succeeded
        ? Summary
        : $"{Summary} {Hint}\n{ProcessResult.DescribeFailure(Argv, ExitCode, StderrTail)}";

    public GeoSyncSshException ToException() => new(Message, Argv, ExitCode, StderrTail);

    /// <summary>
    /// Classifies an ssh run by its exit code and stderr. ssh itself exits 255; other codes are the remote command's, and
    /// the remote shell says 127 for a missing command and 126 for one it cannot execute. With
    /// <paramref name="sessionEnded"/> even exit 0 is a problem: the remote command was meant to keep running.
    /// </summary>
    internal static SshDiagnosis Classify(GeoSyncUrl slave, SshOptions options, IReadOnlyList<string> argv, int exitCode,
        string stderrTail, string remoteOutput, bool sessionEnded = false)
    {
        var address = slave.RemoteAddress!;
        var host = slave.Host!;
        var port = options.Port is { } p ? $"port {p}" : "port 22 (or the one ssh's configuration sets)";
        var remoteCommand = string.Join(' ', options.RemoteCommand);
        var knownHosts = options.KnownHostsFile ?? "~/.ssh/known_hosts";
        var login = slave.User ?? "the login user (ssh's default: the local user name)";

        (SshProblem, string, string) outcome = exitCode switch
        {
            0 when !sessionEnded => (SshProblem.None, $"ssh to {address} works and '{remoteCommand} --version' answered: " +
                $"{FirstLine(remoteOutput)}", ""),
            0 => (SshProblem.RemoteCommandFailed, $"the slave on {address} closed the connection ('{remoteCommand}' exited with 0).",
                $"See the slave's log on {host}; a slave exits when its inactivity timeout passes without keep-alives."),
            255 => ClassifySshFailure(),
            127 => (SshProblem.RemoteCommandNotFound, $"{host} has no command '{options.RemoteCommand[0]}' (exit 127).",
                $"Install geosync on the slave host so that '{options.RemoteCommand[0]}' is on the PATH of {login}'s login " +
                "shell there, or set the remote command to its full path."),
            126 => (SshProblem.RemoteCommandNotExecutable, $"'{options.RemoteCommand[0]}' on {host} cannot be executed (exit 126).",
                $"Make it executable for {login}, or set the remote command to the geosync program."),
            _ => (SshProblem.RemoteCommandFailed, $"'{remoteCommand}' on {address} exited with {exitCode}{SignalNote(exitCode)}.",
                $"See its messages below and the slave's log on {host}."),
        };
        return new SshDiagnosis(outcome.Item1, outcome.Item2, outcome.Item3, argv, exitCode, stderrTail, remoteOutput);

        (SshProblem, string, string) ClassifySshFailure()
        {
            if (Says("Host key verification failed"))
            {
                return Says("REMOTE HOST IDENTIFICATION HAS CHANGED") || Says("has changed")
                    ? (SshProblem.HostKeyChanged, $"the host key of {host} differs from the one pinned in {knownHosts}.",
                        $"If {host} was reinstalled or got new host keys, check the new key's fingerprint on {host} " +
                        $"(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and replace the entry (ssh-keygen -R <host> " +
                        $"-f {knownHosts}); otherwise something may be intercepting the connection.")
                    : (SshProblem.HostKeyUnknown, $"the host key of {host} is not in {knownHosts}, and GeoSync connects only " +
                        "to pinned host keys (StrictHostKeyChecking=yes).",
                        $"Check the key's fingerprint on {host} (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then " +
                        $"add it to {knownHosts} (ssh-keyscan -p <port> {host} prints it) and compare.");
            }

            if (Says("Permission denied ("))
            {
                var key = options.IdentityFile is { } file ? $"the key {file}" : "ssh's default keys (~/.ssh/id_*)";
                var publicKey = options.IdentityFile is { } f ? $"{f}.pub" : "the matching .pub file";
                var authorizedKeys = slave.User is { } user ? $"~{user}/.ssh/authorized_keys" : "~/.ssh/authorized_keys of the login user";
                return (SshProblem.KeyNotAuthorized, $"{address} refused {key}: it is not authorized for that login.",
                    $"Append {publicKey} to {authorizedKeys} on {host} (for a restricted slave, with the geosync " +
                    "forced command), or set the identity file to a key that is authorized there.");
            }

            if (Says("Connection refused"))
            {
                return (SshProblem.ConnectionRefused, $"nothing accepts ssh connections on {host} {port} (connection refused).",
                    $"Start sshd on {host}, or set the ssh port to the one it listens on.");
            }

            if (Says("Could not resolve hostname"))
            {
                return (SshProblem.HostNotFound, $"the host name {host} does not resolve.",
                    "Check the host name in the slave URL, /etc/hosts and DNS.");
            }

            if (Says("Connection timed out") || Says("No route to host") || Says("Network is unreachable"))
            {
                return (SshProblem.HostUnreachable, $"{host} {port} cannot be reached.",
                    $"Check that {host} is up and that the network and firewalls let ssh through to that port.");
            }

            return (SshProblem.ConnectionFailed, $"ssh to {address} failed (exit 255).",
                "See ssh's messages below; running ssh -v with the same options shows each step.");
        }

        bool Says(string text) => stderrTail.Contains(text, StringComparison.Ordinal);
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length == 0 ? "(nothing)" : line;
    }

    // The process runner reports a death by signal as 128 + the signal number, as a shell does.
    private static string SignalNote(int exitCode) =>
        exitCode is > 128 and < 160 ? $" (128 + signal {exitCode - 128}: ssh or the remote command was killed)" : "";
}
