using System.Globalization;
using System.Text;
using GeoSync.Engine.Urls;
using Mono.Unix;
using Mono.Unix.Native;

namespace GeoSync.Engine.Transport;

/// <summary>
/// The ssh link from a master to one slave host (docs/protocol.md, "Transport"): the ssh process whose stdin and stdout carry RePCe and which
/// is the control master, a private control directory, and the <c>-e</c> command that lets rsync reuse the connection.
/// </summary>
public sealed class SshTransport : IAsyncDisposable
{
    private const string ControlDirectoryPrefix = "gsyncd-aux-ssh-";

    // ssh's own hash of local host, remote host, port and user (40 hex digits): a fixed, short name, one per destination,
    // where 3.3's %r@%h:%p grows with the user and host names.
    private const string ControlSocketName = "%C";
    private const int ExpandedSocketNameLength = 40;

    // sun_path is 108 bytes with its NUL, and ssh first binds "<path>.<16 random characters>", then renames it.
    internal const int MaxControlPathBytes = 107 - 17;

    // mkdtemp replaces six X's.
    private const string RandomSuffix = "XXXXXX";

    // After stdin closes, a slave sees EOF and exits, and ssh with it; only a stuck one is terminated.
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    private readonly IProcessRunner _runner;
    private readonly Action<string>? _stderrLine;
    private IRunningProcess? _slaveProcess;
    private int _disposed;

    private SshTransport(GeoSyncUrl slave, SshOptions options, IProcessRunner runner, Action<string>? stderrLine,
        string controlDirectory)
    {
        Slave = slave;
        Options = options;
        this._runner = runner;
        this._stderrLine = stderrLine;
        ControlDirectory = controlDirectory;
        ControlPath = controlDirectory + "/" + ControlSocketName;
        SshArgv = BuildSshArgv(options, ControlPath);
    }

    /// <summary>The ssh slave URL this transport reaches.</summary>
    public GeoSyncUrl Slave { get; }

    public SshOptions Options { get; }

    /// <summary>The private directory (mode 0700) holding the control socket; removed on dispose.</summary>
    public string ControlDirectory { get; }

    /// <summary>The control socket as given to ssh's <c>-S</c>; ssh expands <c>%C</c> to a hash of the destination.</summary>
    public string ControlPath { get; }

    /// <summary>The ssh argv up to and including <c>-oControlMaster=auto -S &lt;control path&gt;</c>: append a destination and a command.</summary>
    public IReadOnlyList<string> SshArgv { get; }

    /// <summary>The stream to the slave (ssh's stdin); dispose it to send EOF.</summary>
    public Stream ToSlave => Started.StandardInput!;

    /// <summary>The stream from the slave (ssh's stdout); it ends when ssh does.</summary>
    public Stream FromSlave => Started.StandardOutput!;

    /// <summary>The pid of the slave's ssh process, or null before <see cref="StartSlave"/>.</summary>
    public int? ProcessId => _slaveProcess?.Id;

    /// <summary>The newest stderr of the slave's ssh process (ssh's messages and the slave's own).</summary>
    public string StderrTail => _slaveProcess?.StderrTail ?? "";

    private IRunningProcess Started => _slaveProcess
        ?? throw new InvalidOperationException($"the ssh connection to {Slave.RemoteAddress} has not been started; call StartSlave first");

    /// <summary>
    /// Validates the options and creates the control directory. Throws <see cref="GeoSyncSshException"/> for a remote
    /// command or URL the slave side cannot take and for a control directory that cannot be made.
    /// </summary>
    /// <param name="slave">An ssh:// URL: the remote address and the resource the slave serves there.</param>
    /// <param name="options">The ssh client and remote command; the defaults when null.</param>
    /// <param name="runner">Starts ssh; a <see cref="ProcessRunner"/> when null.</param>
    /// <param name="stderrLine">Receives each stderr line of the ssh processes, for the log.</param>
    public static SshTransport Create(GeoSyncUrl slave, SshOptions? options = null, IProcessRunner? runner = null,
        Action<string>? stderrLine = null)
    {
        ArgumentNullException.ThrowIfNull(slave);
        if (slave.Scheme != UrlScheme.Ssh)
        {
            throw new ArgumentException($"an ssh transport needs an ssh:// slave URL; {slave.Normalized} is reached locally", nameof(slave));
        }

        options ??= new SshOptions();
        Validate(slave, options);
        var directory = CreateControlDirectory(options.ControlDirectoryParent);
        return new SshTransport(slave, options, runner ?? new ProcessRunner(), stderrLine, directory);
    }

    /// <summary>
    /// The ssh command line (docs/protocol.md, "Transport"): <c>&lt;ssh&gt; -oControlMaster=auto -S &lt;ctl&gt; &lt;remote_addr&gt; &lt;remote command&gt;
    /// [--session-owner &lt;uuid&gt;] [--use-rsync-xattrs] -N --listen --timeout &lt;T&gt; &lt;remote-side URL&gt;</c>.
    /// </summary>
    public IReadOnlyList<string> SlaveArgv(SshSlaveArguments arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var tail = arguments.ToArgv(Slave.RemoteSide);
        if (arguments.SessionOwner is { } owner)
        {
            CheckRemoteWord(owner, "the session owner", tail);
        }

        return [.. SshArgv, Slave.RemoteAddress!, .. Options.RemoteCommand, .. tail];
    }

    /// <summary>
    /// The value for rsync's <c>-e</c> (docs/protocol.md, "Transport"): the same ssh command and control socket, so rsync multiplexes over the
    /// slave's connection. Words are quoted the way rsync splits this string (double quotes, a doubled quote inside).
    /// </summary>
    public string RsyncShellCommand() => string.Join(' ', SshArgv.Select(QuoteForRsync));

    /// <summary>Starts ssh running the slave; its stdin and stdout are <see cref="ToSlave"/> and <see cref="FromSlave"/>.</summary>
    public void StartSlave(SshSlaveArguments arguments)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_slaveProcess is not null)
        {
            throw new InvalidOperationException($"the ssh connection to {Slave.RemoteAddress} was already started");
        }

        var argv = SlaveArgv(arguments);
        _slaveProcess = _runner.Start(new ProcessSpec(argv[0], argv.Skip(1).ToList())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            StderrLine = _stderrLine,
        });
    }

    /// <summary>
    /// Waits for the slave's ssh to exit and returns the error that explains why the connection ended, with a hint
    /// (for a caller whose stream from the slave ended). Cancelling terminates ssh.
    /// </summary>
    public async Task<GeoSyncSshException> GetExitErrorAsync(CancellationToken cancellationToken = default)
    {
        var process = Started;
        var exitCode = await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return SshDiagnosis.Classify(Slave, Options, process.Argv, exitCode, process.StderrTail, "", sessionEnded: true)
            .ToException();
    }

    /// <summary>
    /// Preflight (docs/gsyncd-flaws.md, #32): runs <c>&lt;remote command&gt; --version</c> on the slave host over the control socket (or a
    /// connection of its own when no slave runs yet) and says whether ssh, the keys, the host key and the remote command
    /// work, and if not, what to fix.
    /// </summary>
    public async Task<SshDiagnosis> TestConnectionAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        List<string> argv = [.. SshArgv, Slave.RemoteAddress!, .. Options.RemoteCommand, "--version"];
        var result = await _runner.RunAsync(new ProcessSpec(argv[0], argv.Skip(1).ToList()) { StderrLine = _stderrLine },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return SshDiagnosis.Classify(Slave, Options, result.Argv, result.ExitCode, result.StderrTail, result.StandardOutputText);
    }

    /// <summary>Closes the slave's stdin, gives ssh a grace to end, terminates it if needed, and removes the control directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (_slaveProcess is { } process)
            {
                await using (process.ConfigureAwait(false))
                {
                    await CloseGracefullyAsync(process).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            RemoveControlDirectory();
        }
    }

    private static async Task CloseGracefullyAsync(IRunningProcess process)
    {
        try
        {
            await process.StandardInput!.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // EPIPE: ssh is gone already.
        }

        using var grace = new CancellationTokenSource(CloseGrace);
        try
        {
            await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (grace.IsCancellationRequested)
        {
            // The runner has terminated the process tree: what the grace was for.
        }
    }

    private void RemoveControlDirectory()
    {
        try
        {
            // A killed ssh leaves its socket behind; nothing else can be inside a 0700 directory of ours.
            Directory.Delete(ControlDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static List<string> BuildSshArgv(SshOptions options, string controlPath)
    {
        var argv = SplitSshCommand(options.SshCommand);

        // A worker has no terminal to answer a prompt on, and an unknown host key is never accepted (docs/gsyncd-flaws.md, #4). ssh keeps the
        // first value of an option, so anything in the configured ssh command overrides these.
        argv.Add("-oBatchMode=yes");
        argv.Add("-oStrictHostKeyChecking=yes");
        if (options.Port is { } port)
        {
            argv.AddRange(["-p", port.ToString(CultureInfo.InvariantCulture)]);
        }

        if (options.IdentityFile is { } key)
        {
            // -oIdentityFile, not -i: -i checks the literal path but loads the %-expanded one, so it cannot take a '%'.
            // IdentitiesOnly: just this key, so a key in an agent or ~/.ssh cannot log in as someone else.
            argv.AddRange(["-oIdentityFile=" + SshConfigPath(key), "-oIdentitiesOnly=yes"]);
        }

        if (options.KnownHostsFile is { } knownHosts)
        {
            argv.Add("-oUserKnownHostsFile=" + SshConfigPath(knownHosts));
        }

        argv.AddRange(options.ExtraOptions);
        argv.AddRange(["-oControlMaster=auto", "-S", controlPath]);
        return argv;
    }

    private static List<string> SplitSshCommand(string sshCommand) =>
        sshCommand.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToList();

    // ssh expands %-tokens in IdentityFile and UserKnownHostsFile values and splits them on whitespace unless quoted.
    private static string SshConfigPath(string path)
    {
        var escaped = path.Replace("%", "%%", StringComparison.Ordinal);
        return escaped.Any(char.IsWhiteSpace) ? $"\"{escaped}\"" : escaped;
    }

    private static string QuoteForRsync(string word) =>
        word.Length > 0 && word.IndexOfAny([' ', '"', '\'']) < 0 ? word : $"\"{word.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static void Validate(GeoSyncUrl slave, SshOptions options)
    {
        var sshWords = SplitSshCommand(options.SshCommand ?? "");
        if (sshWords.Count == 0)
        {
            throw Invalid("the ssh command is empty. Set it to the ssh client, e.g. 'ssh'.", []);
        }

        if (options.Port is { } port && port is < 1 or > 65535)
        {
            throw Invalid($"the ssh port {port} is not a port number (1-65535).", sshWords);
        }

        if (options.IdentityFile is { } key && !File.Exists(key))
        {
            throw Invalid($"the identity file {key} does not exist. Create a key pair (ssh-keygen -f {key}) and authorize its " +
                "public key on the slave host, or set the identity file to an existing key.", sshWords);
        }

        foreach (var (what, path) in new[] { ("identity file", options.IdentityFile), ("known-hosts file", options.KnownHostsFile) })
        {
            if (path is not null && path.Contains('"', StringComparison.Ordinal))
            {
                throw Invalid($"the {what} name {path} contains a double quote, which ssh cannot take. Rename it.", sshWords);
            }
        }

        if (options.ExtraOptions.Any(string.IsNullOrEmpty))
        {
            throw Invalid("the extra ssh options contain an empty word. Remove it.", sshWords);
        }

        // ssh would read "-oProxyCommand=...@host" as an option that runs a local command.
        if (slave.RemoteAddress!.StartsWith('-'))
        {
            throw Invalid($"the ssh destination {slave.RemoteAddress} starts with '-', which ssh would take for an option. " +
                "Fix the user name in the slave URL.", sshWords);
        }

        if (options.RemoteCommand.Count == 0)
        {
            throw Invalid("the remote command is empty. Set it to the geosync slave command, e.g. 'geosync slave'.", sshWords);
        }

        foreach (var word in options.RemoteCommand)
        {
            CheckRemoteWord(word, "the remote command word", sshWords);
        }

        CheckRemoteWord(slave.RemoteSide, "the slave's remote-side URL", sshWords);
    }

    /// <summary>
    /// Words after the destination reach a restricted slave's wrapper, which splits on single spaces, or a login shell,
    /// which interprets metacharacters; a word must mean the same to both, so it may hold neither.
    /// </summary>
    private static void CheckRemoteWord(string word, string what, IReadOnlyList<string> argv)
    {
        if (word.Length == 0)
        {
            throw Invalid($"{what} is empty; the slave side cannot receive an empty word.", argv);
        }

        foreach (var c in word)
        {
            if (c is ' ' or '\t' or '\n' or '\r')
            {
                throw Invalid($"{what} '{word}' contains whitespace, but the slave's wrapper splits the remote command on " +
                    "single spaces, so no word may contain one. Use a path without spaces (a symlink, say).", argv);
            }

            if (!IsSafeForRemoteShell(c))
            {
                throw Invalid($"{what} '{word}' contains '{c}', which the slave's login shell would interpret. Use names " +
                    "of letters, digits and _ @ % + = : , . / ~ - only.", argv);
            }
        }
    }

    // Non-ASCII characters (UTF-8 in names) mean nothing to a shell; among ASCII only a conservative set passes.
    private static bool IsSafeForRemoteShell(char c) =>
        c > '\x7f' || char.IsAsciiLetterOrDigit(c) || "_@%+=:,./~-".Contains(c, StringComparison.Ordinal);

    private static GeoSyncSshException Invalid(string message, IReadOnlyList<string> argv) =>
        new($"cannot run the slave over ssh: {message}", argv, null, "");

    private static string CreateControlDirectory(string? parent)
    {
        var chosen = parent ?? Path.GetTempPath();
        if (parent is null && ExpandedControlPathBytes(chosen) > MaxControlPathBytes)
        {
            chosen = "/tmp";
        }

        if (ExpandedControlPathBytes(chosen) > MaxControlPathBytes)
        {
            throw Invalid($"the control directory parent {chosen} is too long: the control socket path would take " +
                $"{ExpandedControlPathBytes(chosen)} bytes, and a UNIX socket path allows {MaxControlPathBytes} here. " +
                "Choose a shorter directory.", []);
        }

        var template = new StringBuilder(Path.Join(chosen, ControlDirectoryPrefix + RandomSuffix));
        if (Syscall.mkdtemp(template) is null)
        {
            var errno = Stdlib.GetLastError();
            throw Invalid($"cannot create the ssh control directory in {chosen}: {errno} ({UnixMarshal.GetErrorDescription(errno)}). " +
                "Make it writable or choose another.", []);
        }

        return template.ToString();
    }

    private static int ExpandedControlPathBytes(string parent) =>
        Encoding.UTF8.GetByteCount(Path.Join(parent, ControlDirectoryPrefix + RandomSuffix)) + 1 + ExpandedSocketNameLength;
}
