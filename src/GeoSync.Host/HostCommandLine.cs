using System.Globalization;
using GeoSync.Engine.Operations;

namespace GeoSync.Host;

/// <summary>What one run of <c>geosync</c> was asked to do.</summary>
internal abstract record HostCommand;

/// <summary><c>--help</c>: the whole text, or the help of one command (<c>geosync master --help</c>).</summary>
internal sealed record ShowHelpCommand(string? Verb = null) : HostCommand;

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

    /// <summary>The script forms: <c>-c</c> and <c>-File</c>.</summary>
    public const string ScriptHelp = """
          geosync -c <script>
              Run PowerShell script text (as pwsh -Command: further words are joined to it) in a session with the
              GeoSync module imported.
          geosync [-File] <file.ps1> [<arg>...]
              Run a script file; its arguments bind to the script's parameters as with pwsh -File.
        """;

    /// <summary><c>geosync slave --help</c>.</summary>
    public const string SlaveHelp = """
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
        """;

    /// <summary><c>geosync status --help</c>.</summary>
    public const string StatusHelp = """
          geosync status [<name>] [--state-dir <dir>] [--json]
              Show every replication (or the one named) and every ad hoc 'geosync master' pair of the state
              directory: state (Created, Starting, Active, Paused, Faulty, Stopped, Failed, or Defunct when
              its process is gone), lag, files synced, pending failures, master and slave. --json prints all
              fields as a JSON array (Name, Master, Slave, State, Crawl, LastSynced, LagSeconds, FilesSynced,
              BytesSynced, EntriesCreated, EntriesPurged, Failures, Restarts, Checkpoint,
              CheckpointCompleted, CheckpointCompletedAt, LastError, Hint, SupervisorPid, WorkerPid, ...),
              times in UTC ISO 8601.
        """;

    /// <summary><c>geosync checkpoint --help</c>.</summary>
    public const string CheckpointHelp = """
          geosync checkpoint <name> [now|<time>] [--wait [--timeout <seconds>]] [--state-dir <dir>]
              Set the replication's checkpoint (now by default; a time such as 2026-12-07T14:00 is local
              unless it names its offset): it completes when everything written on the master before it is
              on the slave. --wait blocks until it completes (exit 0), printing progress on stderr; with
              --timeout it gives up after that many seconds (CheckpointTimeout, exit 1). 'geosync checkpoint
              <name> --wait' waits for the checkpoint already set.
        """;

    /// <summary><c>geosync failures --help</c>.</summary>
    public const string FailuresHelp = """
          geosync failures <name> | <master-url> <slave-url>   [--state-dir <dir>] [--json]
              Show the failure ledger of a named replication, or of a pair as given to 'geosync master': every path that did not reach the slave and has not arrived
              since, with its error, attempts, first and last failure, and for a persistent one a hint.
              --json prints all fields as a JSON array. Kept across turns and restarts; the entries clear
              as the paths arrive.
        """;

    /// <summary><c>geosync verify --help</c>: its connection options are the catalog's (<see cref="ReplicationSessionOptions.ConnectionKeys"/>).</summary>
    public static string VerifyHelp { get; } = string.Join(Environment.NewLine, """
          geosync verify <master-url> <slave-url> [--checksum] [--repair] [--json] [<connection options>]
          geosync verify <name> [--state-dir <dir>] [--checksum] [--repair] [--json] [<connection options>]
              Compare the whole master with the slave (a GeoSync slave: file://, gluster:// or ssh://): type,
              size, mode, owner, mtime, symlink target, and one line per difference, then a summary. Given a
              replication's name, its pair and stored options (options given here win).
              --checksum             compare file contents too (xxh128, hashed on each side's own host).
              --repair               make the slave match through the sync path, then verify again.
              --json                 one JSON object per line: each difference, then the summary.
              Connection options (as for master; with --xattrs, files' user.* xattrs are compared too):
        """,
        MasterCommandLine.OptionLines(ReplicationSessionOptions.ConnectionKeys.Select(ReplicationOptions.Get)));

    /// <summary><c>geosync start|stop|pause|resume|monitor|log|unit --help</c>.</summary>
    public static string SupervisorHelp { get; } = string.Join(Environment.NewLine, """
          geosync start <name> [--state-dir <dir>] [--timeout <seconds>] [<monitor options>]
              Start the replication's supervisor in the background, detached from this shell and its terminal
              (it survives both), and return once it has started the worker (exit 1 with the log's last lines
              when it could not; refused when a supervisor already runs for the name).
          geosync stop <name> [--state-dir <dir>] [--timeout <seconds>]
              Stop the worker cleanly (its session ends, the slave process ends, mounts go away) and the
              supervisor; what is left after --timeout (default 60) is killed.
          geosync pause <name> | geosync resume <name>   [--state-dir <dir>] [--timeout <seconds>]
              End the worker cleanly and keep the supervisor waiting; resume starts a worker again, which goes
              on from where the slave's xtimes say it got to.
          geosync monitor <name> [--state-dir <dir>] [<monitor options>]
              The supervisor in the foreground (for systemd): runs 'geosync master --replication <name>' as
              its worker, restarts it after 1, 2, 4 ... 60 s when it dies or hangs, and follows stop, pause
              and resume. SIGTERM or SIGINT stops it cleanly. Monitor options:
        """,
        MasterCommandLine.OptionLines(ReplicationOptions.ForSupervisor),
        """
              --worker-command <command> run this instead of the worker geosync master (words separated by
                                     blanks).
          geosync log <name> [--state-dir <dir>] [--tail <n>] [--level verbose|info|warning|error]
              Print the replication's log (supervisor and worker lines, UTC times), the rotated files
              included; --tail the last n lines, --level only lines at that level or above.
          geosync unit <name> [--state-dir <dir>]
              Print a systemd service unit that runs 'geosync monitor <name>'
              (e.g. geosync unit mvol-dr > /etc/systemd/system/geosync-mvol-dr.service).
        """);

    /// <summary>Version, help, and the exit codes of every command.</summary>
    public const string FooterHelp = """
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
          status   0, also when no loop is known; 1 when the state directory does not exist, a record cannot be read,
                   or the named replication does not exist.
          checkpoint 0 set, or (--wait) completed; 1 the replication does not exist, has no checkpoint to
                   wait for, or the --timeout passed first (CheckpointTimeout).
          failures 0, also when nothing failed; 1 when a ledger cannot be read or the replication does not exist.
          verify   0 when the replica matches; 4 when differences were found (after --repair: still found);
                   1 when it could not compare (cannot connect, the slave is not GeoSync's, a path unreadable).
          check    0 no check failed; 1 a check failed, or the replication does not exist.
          start, stop, pause, resume, monitor, log, unit
                   0 done; 1 the replication is not defined, is already running (start), or the command
                     failed (the message says why).
          create, config, delete
                   0 done; 1 the replication does not exist (or already exists, for create), is running
                     (delete without --force), or its files cannot be read or written;
                   2 a wrong command line: an unknown option or key, a bad value, a bad name or URL.
          2        the geosync command line is wrong (an unknown command or option, a bad value), or the script
                   file does not exist.
        """;

    /// <summary>The whole text of <c>geosync --help</c>: every command's own help, then the exit codes.</summary>
    public static string Usage { get; } = string.Join(Environment.NewLine,
        "Usage:", ScriptHelp, SlaveHelp, MasterCommandLine.MasterHelp, StatusHelp, CheckpointHelp, FailuresHelp, VerifyHelp,
        ReplicationCommandLine.Help, PreflightCommandLine.Help, SupervisorHelp, FooterHelp);

    /// <summary>Whether a word is a command with help of its own.</summary>
    public static bool HasOwnHelp(string word) => word is "slave" or "master" or "status" or "checkpoint" or "failures" or "verify" or "create" or "config" or "delete" or "check"
        or "monitor" or "start" or "stop" or "pause" or "resume" or "unit" or "log";

    /// <summary>The help of one command (<c>geosync master --help</c>), or the whole text.</summary>
    public static string HelpFor(string? verb) => verb switch
    {
        "slave" => "Usage:" + Environment.NewLine + SlaveHelp,
        "master" => "Usage:" + Environment.NewLine + MasterCommandLine.MasterHelp,
        "status" => "Usage:" + Environment.NewLine + StatusHelp,
        "checkpoint" => "Usage:" + Environment.NewLine + CheckpointHelp,
        "failures" => "Usage:" + Environment.NewLine + FailuresHelp,
        "verify" => "Usage:" + Environment.NewLine + VerifyHelp,
        "create" or "config" or "delete" => "Usage:" + Environment.NewLine + ReplicationCommandLine.Help,
        "check" => "Usage:" + Environment.NewLine + PreflightCommandLine.Help,
        "monitor" or "start" or "stop" or "pause" or "resume" or "unit" or "log" => "Usage:" + Environment.NewLine + SupervisorHelp,
        _ => Usage,
    };

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
                return StatusCommandLine.ParseStatus(rest);
            case "checkpoint":
                return StatusCommandLine.ParseCheckpoint(rest);
            case "failures":
                return MasterCommandLine.ParseFailures(rest);
            case "verify":
                return VerifyCommandLine.Parse(rest);
            case "check":
                return PreflightCommandLine.Parse(rest);
            case "monitor" or "start" or "stop" or "pause" or "resume" or "unit" or "log":
                return SupervisorCommandLine.Parse(first, rest);
            case "create":
                return ReplicationCommandLine.ParseCreate(rest);
            case "config":
                return ReplicationCommandLine.ParseConfig(rest);
            case "delete":
                return ReplicationCommandLine.ParseDelete(rest);
            case "help":
                return new ShowHelpCommand(rest.FirstOrDefault());
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

        // A word that is neither a command nor a script (an existing file, or a name ending in .ps1) is a mistyped command.
        if (!File.Exists(first) && !first.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase))
        {
            throw new HostUsageException(
                $"unknown command '{first}'; the commands are {string.Join(", ", Commands)} (a script file must exist or end in .ps1)");
        }
        return new RunScriptFileCommand(first, rest);
    }

    /// <summary>The command words, for the unknown-command message.</summary>
    private static readonly string[] Commands = ["slave", "master", "status", "checkpoint", "failures", "verify", "create", "config", "delete", "check", "monitor", "start", "stop", "pause", "resume", "unit", "log", "help"];

    private static HostCommand ParseSlave(string[] args)
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
            var (name, inlineValue) = MasterCommandLine.SplitOption(arg);
            switch (name)
            {
                case "--help" or "-h" when inlineValue is null:
                    return new ShowHelpCommand("slave");
                case "--listen" when inlineValue is null:
                    listen = true;
                    break;
                case "--timeout":
                    timeout = MasterCommandLine.ParseCount("slave", name, inlineValue ?? MasterCommandLine.NextValue("slave", args, ref i, name), minimum: 0);
                    break;
                case "--sync-jobs":
                    syncJobs = MasterCommandLine.ParseCount("slave", name, inlineValue ?? MasterCommandLine.NextValue("slave", args, ref i, name), minimum: 1);
                    break;
                case "-N" or "--no-daemon" when inlineValue is null:
                    break;
                case "--use-rsync-xattrs" when inlineValue is null:
                    useRsyncXattrs = true;
                    break;
                case "--session-owner":
                    sessionOwner = inlineValue ?? MasterCommandLine.NextValue("slave", args, ref i, name);
                    break;
                case "--network-namespace":
                    networkNamespace = inlineValue ?? MasterCommandLine.NextValue("slave", args, ref i, name);
                    break;
                case "--gluster-command-dir":
                    glusterCommandDirectory = inlineValue ?? MasterCommandLine.NextValue("slave", args, ref i, name);
                    break;
                case "--gluster-log-file":
                    glusterLogFile = inlineValue ?? MasterCommandLine.NextValue("slave", args, ref i, name);
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

    private static bool IsOption(string arg, params string[] spellings) =>
        spellings.Any(s => string.Equals(arg, s, StringComparison.OrdinalIgnoreCase));
}
