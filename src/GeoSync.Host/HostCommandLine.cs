using System.Globalization;

namespace GeoSync.Host;

/// <summary>What one run of <c>geosync</c> was asked to do.</summary>
internal abstract record HostCommand;

internal sealed record ShowHelpCommand : HostCommand;

internal sealed record ShowVersionCommand : HostCommand;

/// <summary><c>geosync -c SCRIPT...</c>: the words are joined into the script text, as pwsh -Command does.</summary>
internal sealed record RunScriptTextCommand(IReadOnlyList<string> ScriptWords) : HostCommand;

/// <summary><c>geosync [-File] FILE [ARG...]</c>: the arguments bind to the script's parameters as with pwsh -File.</summary>
internal sealed record RunScriptFileCommand(string Path, IReadOnlyList<string> Arguments) : HostCommand;

/// <summary><c>geosync slave URL --listen [--timeout N] [--sync-jobs N] [options]</c>.</summary>
internal sealed record ServeSlaveCommand(string Url, int? TimeoutSeconds, int SyncJobs) : HostCommand
{
    /// <summary>The master volume's uuid (<c>--session-owner</c>), for the log.</summary>
    public string? SessionOwner { get; init; }

    /// <summary><c>--use-rsync-xattrs</c>: the master's rsync carries the xattrs, which needs a privileged slave (docs/protocol.md, "Transport").</summary>
    public bool UseRsyncXattrs { get; init; }

    /// <summary>The network namespace the glusterfs client of a gluster:// slave runs in.</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>Where glusterfs lives (gluster_command_dir).</summary>
    public string? GlusterCommandDirectory { get; init; }

    /// <summary>The glusterfs client's log file for a gluster:// slave.</summary>
    public string? GlusterLogFile { get; init; }
}

/// <summary>The command line does not follow the usage; the message says which word is wrong.</summary>
internal sealed class HostUsageException(string message) : Exception(message);

/// <summary>Turns argv into a <see cref="HostCommand"/>; the usage text lives here too so both stay in step.</summary>
internal static class HostCommandLine
{
    /// <summary>gsyncd's default for sync_jobs (App. A), which is also its number of RePCe worker threads.</summary>
    public const int DefaultSyncJobs = GeoSync.Engine.Slave.SlaveHostOptions.DefaultSyncJobs;

    public const string Usage = """
        Usage:
          geosync -c <script>
              Run PowerShell script text (as pwsh -Command: further words are joined to it) in a session with the
              GeoSync module imported.
          geosync [-File] <file.ps1> [<arg>...]
              Run a script file; its arguments bind to the script's parameters as with pwsh -File.
          geosync slave <url> --listen [--timeout <seconds>] [--sync-jobs <n>] [<slave options>]
              Serve the slave primitives over RePCe on stdin/stdout, rooted at file:///DIR, or at a GlusterFS
              volume (gluster://HOST:VOL) that it mounts (client-pid -1) and enters; the mount goes away with the
              slave, even when it is killed. Logs go to stderr.
              --sync-jobs            number of calls answered concurrently (default 3).
              --timeout              exit after this many seconds without a keep-alive from the master
                                     (0 or absent: never).
              --session-owner <uuid> the master volume's uuid, named in the log.
              --use-rsync-xattrs     the master's rsync copies xattrs; refused unless running as root.
              --network-namespace <name|path>  run the glusterfs client in this network namespace.
              --gluster-command-dir <dir>      where glusterfs lives (default: PATH, /usr/sbin, /sbin).
              --gluster-log-file <file>        the glusterfs client's log file.
              -N                     accepted for gsyncd compatibility (the slave never daemonizes).
          geosync master <master-url> <slave-url> [--once] [--interval <seconds>] [<master options>]
              Replicate the master (gluster://HOST:VOL, or a directory) to the slave (file:///DIR,
              gluster://HOST:VOL, ssh://[USER@]HOST:/DIR or ssh://[USER@]HOST::VOL) until stopped
              (Ctrl+C or SIGTERM stop it cleanly): crawl turns, a pause after a turn that found nothing, and on a
              failure a new session after 1, 2, 4 ... 60 s. Each turn that changed something is printed.
              --once                 run one turn, print it and exit (failures are then not retried).
              --dry-run              plan one turn and exit, changing nothing on the master or the slave and
                                     writing no state file: one line per change it would make
                                     ('create  file      a/b.txt  missing on the slave'; actions create,
                                     update, purge, setattr) and a summary line; exit 0 once printed.
                                     Implies --once.
              --interval <seconds>   pause after a turn that found nothing (default 1; 0.5 allowed).
              --max-turns <n>        exit after n turns.
              --max-reconnects <n>   give up (exit 1) after n consecutive failures (default: never).
              --sync-jobs <n>        rsync processes at once (default 3, or half the cores if fewer).
              --timeout <seconds>    the slave ends itself after this long without a keep-alive; one is sent
                                     every half of it (default 120; 0: never).
              --ssh-port <port>      --identity-file <key>      --known-hosts-file <file>
              --ssh-command <command>  how ssh reaches the slave host (the ssh client with options of its
                                     own, e.g. 'ssh -F none'; default ssh).
              --remote-command <command>  what the slave host runs (default 'geosync slave'), words
                                     separated by blanks.
              --slave-mode <mode>    auto (default: ssh for ssh:// slaves, else in this process),
                                     in-process, child (a local 'geosync slave' process) or ssh.
              --network-namespace <name|path>  run the glusterfs clients in this network namespace.
              --ignore-deletes       keep slave entries the master no longer has.
              --max-delete-share <0..1>  hold back a purge of more than this share of a directory's slave
                                     entries (10 or more) in one turn, and report it (default 0.5; 1 allows any).
              --force                allow the first sync into a slave holding entries this master did not
                                     put there (those the master lacks are deleted); refused without it.
              --xattrs               copy extended attributes too (the slave must run as root).
              --state-dir <dir>      where the loop keeps its state file (default $GEOSYNC_STATE_DIR, else
                                     /var/lib/geosync as root, else ~/.local/state/geosync).
              --name <name>          the session name used in messages.
              --verbose              narrate every turn, idle ones included, on stdout.
          geosync status [--state-dir <dir>] [--json]
              Show every master loop whose state file is in the state directory: master, slave, state
              (Starting, Active, Faulty, Stopped, Failed, or Defunct when its process is gone), last turn,
              files synced and last error. --json prints all fields as a JSON array.
          geosync failures <master-url> <slave-url> [--state-dir <dir>] [--json]
              Show the pair's failure ledger: every path that did not reach the slave and has not arrived
              since, with its error, attempts, first and last failure, and for a persistent one a hint.
              --json prints all fields as a JSON array. Kept across turns and restarts; the entries clear
              as the paths arrive.
          geosync verify <master-url> <slave-url> [--checksum] [--repair] [--json] [<connection options>]
              Compare the whole master with the slave (a GeoSync slave: file://, gluster:// or ssh://): type,
              size, mode, owner, mtime, symlink target, and one line per difference, then a summary.
              --checksum             compare file contents too (xxh128, hashed on each side's own host).
              --repair               make the slave match through the sync path, then verify again.
              --json                 one JSON object per line: each difference, then the summary.
              --xattrs               the pair copies xattrs: compare files' user.* xattrs too.
              --ssh-port, --identity-file, --known-hosts-file, --ssh-command, --remote-command,
              --slave-mode, --network-namespace   as for master.
          geosync --version
              Print "geosync <version>".
          geosync --help
              Print this text.

        Scripts run as pwsh runs them with -NoProfile -NonInteractive: output as text on stdout, errors on stderr.

        Exit codes:
          -c       N if the script ran 'exit N'; 1 if it stopped on a terminating error or its last statement
                   failed ($? false); else 0.
          -File    N if the script ran 'exit N'; 1 if it stopped on a terminating error; else 0 (errors that
                   did not stop it are reported on stderr but do not change the exit code).
          slave    0 when its input ends between two messages or the master stopped sending keep-alives;
                   1 on a protocol error or when it cannot start.
          master   0 every change the last turn found reached the slave (--once, --max-turns), or the loop
                     was stopped cleanly (Ctrl+C, SIGTERM);
                   1 fatal: it could not run, was refused, or gave up (a failure no retry can fix, or more
                     than --max-reconnects failures in a row);
                   3 the run finished but some entries did not reach the slave: each is listed on stderr
                     (path and reason), then their count; 'geosync failures' shows them later.
          status   0, also when no loop is known; 1 when the state directory cannot be read.
          failures 0, also when nothing failed; 1 when the ledger cannot be read.
          verify   0 when the replica matches; 4 when differences were found (after --repair: still found);
                   1 when it could not compare (cannot connect, the slave is not GeoSync's, a path unreadable).
          2        the geosync command line is wrong, or the script file does not exist.
        """;

    public static HostCommand Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            throw new HostUsageException("no command given");
        }

        var first = args[0];
        var rest = args.Skip(1).ToArray();
        switch (first)
        {
            case "--help" or "-h" or "-?":
                return new ShowHelpCommand();
            case "--version":
                return new ShowVersionCommand();
            case "slave":
                return ParseSlave(rest);
            case "master":
                return MasterCommandLine.ParseMaster(rest);
            case "status":
                return MasterCommandLine.ParseStatus(rest);
            case "failures":
                return MasterCommandLine.ParseFailures(rest);
            case "verify":
                return VerifyCommandLine.Parse(rest);
        }

        if (IsOption(first, "-c", "-Command", "--command"))
        {
            if (rest.Length == 0)
            {
                throw new HostUsageException($"{first} needs the script text to run");
            }
            return new RunScriptTextCommand(rest);
        }

        if (IsOption(first, "-f", "-File", "--file"))
        {
            if (rest.Length == 0)
            {
                throw new HostUsageException($"{first} needs the path of a .ps1 file");
            }
            return new RunScriptFileCommand(rest[0], rest[1..]);
        }

        if (first.StartsWith('-'))
        {
            throw new HostUsageException($"unknown option '{first}'");
        }

        return new RunScriptFileCommand(first, rest);
    }

    private static ServeSlaveCommand ParseSlave(string[] args)
    {
        string? url = null;
        var listen = false;
        int? timeout = null;
        var syncJobs = DefaultSyncJobs;
        string? sessionOwner = null, networkNamespace = null, glusterCommandDirectory = null, glusterLogFile = null;
        var useRsyncXattrs = false;

        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var (name, inlineValue) = SplitOption(arg);
            switch (name)
            {
                case "--listen" when inlineValue is null:
                    listen = true;
                    break;
                case "--timeout":
                    timeout = ParseCount(name, inlineValue ?? NextValue(args, ref i, name), minimum: 0);
                    break;
                case "--sync-jobs":
                    syncJobs = ParseCount(name, inlineValue ?? NextValue(args, ref i, name), minimum: 1);
                    break;
                case "-N" or "--no-daemon" when inlineValue is null:
                    break;
                case "--use-rsync-xattrs" when inlineValue is null:
                    useRsyncXattrs = true;
                    break;
                case "--session-owner":
                    sessionOwner = inlineValue ?? NextValue(args, ref i, name);
                    break;
                case "--network-namespace":
                    networkNamespace = inlineValue ?? NextValue(args, ref i, name);
                    break;
                case "--gluster-command-dir":
                    glusterCommandDirectory = inlineValue ?? NextValue(args, ref i, name);
                    break;
                case "--gluster-log-file":
                    glusterLogFile = inlineValue ?? NextValue(args, ref i, name);
                    break;
                default:
                    if (arg.StartsWith('-'))
                    {
                        throw new HostUsageException($"slave: unknown option '{arg}'");
                    }
                    if (url is not null)
                    {
                        throw new HostUsageException($"slave: takes one URL, got '{url}' and '{arg}'");
                    }
                    url = arg;
                    break;
            }
        }

        if (url is null)
        {
            throw new HostUsageException("slave: the URL of the slave root is missing (e.g. file:///srv/backup)");
        }
        if (!listen)
        {
            throw new HostUsageException("slave: --listen is required (serving RePCe on stdin/stdout is the only slave mode)");
        }
        return new ServeSlaveCommand(url, timeout, syncJobs)
        {
            SessionOwner = sessionOwner,
            UseRsyncXattrs = useRsyncXattrs,
            NetworkNamespace = networkNamespace,
            GlusterCommandDirectory = glusterCommandDirectory,
            GlusterLogFile = glusterLogFile,
        };
    }

    private static (string Name, string? Value) SplitOption(string arg)
    {
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
    }

    private static string NextValue(string[] args, ref int i, string name)
    {
        if (i + 1 >= args.Length)
        {
            throw new HostUsageException($"slave: {name} needs a value");
        }
        return args[++i];
    }

    private static int ParseCount(string name, string value, int minimum)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < minimum)
        {
            throw new HostUsageException($"slave: {name} takes a whole number of at least {minimum}, not '{value}'");
        }
        return count;
    }

    private static bool IsOption(string arg, params string[] spellings) =>
        spellings.Any(s => string.Equals(arg, s, StringComparison.OrdinalIgnoreCase));
}
