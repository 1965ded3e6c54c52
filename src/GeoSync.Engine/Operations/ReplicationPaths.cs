using System.Text.RegularExpressions;

namespace GeoSync.Engine.Operations;

/// <summary>A replication name that cannot be used as one (it becomes a directory name and a systemd instance name).</summary>
public sealed class GeoSyncReplicationNameException(string name, string message) : GeoSyncException(message)
{
    public string Name { get; } = name;
}

/// <summary>
/// The files of one named replication, all in <c>&lt;state directory&gt;/replications/&lt;name&gt;/</c>: one place
/// decides every file name, so the store, the worker loop, the supervisor and the status commands agree.
/// See docs/operations.md.
/// </summary>
public sealed partial record ReplicationPaths
{
    /// <summary>The folder under the state directory that holds one folder per replication.</summary>
    public const string ReplicationsFolder = "replications";

    public ReplicationPaths(string stateDirectory, string name)
    {
        ValidateName(name);
        StateDirectory = Path.GetFullPath(stateDirectory);
        Name = name;
        Directory = Path.Combine(StateDirectory, ReplicationsFolder, name);
    }

    public string StateDirectory { get; }
    public string Name { get; }

    /// <summary>The replication's own folder.</summary>
    public string Directory { get; }

    /// <summary>The stored definition: master, slave and options (written by the replication store).</summary>
    public string ConfigFile => Path.Combine(Directory, "config.json");

    /// <summary>The worker loop's state record (written by the loop, replaced atomically).</summary>
    public string StateFile => Path.Combine(Directory, "state.json");

    /// <summary>The failure ledger of the pair (written by the crawl).</summary>
    public string FailureLedgerFile => Path.Combine(Directory, "failures.json");

    /// <summary>The supervisor's record: its pid, the worker's pid, restarts and their causes.</summary>
    public string SupervisorFile => Path.Combine(Directory, "supervisor.json");

    /// <summary>What the administrator asked for (run, pause, stop); the supervisor follows it.</summary>
    public string ControlFile => Path.Combine(Directory, "control.json");

    /// <summary>Touched by the worker on every turn and keep-alive answer; its age is how the supervisor sees a hang.</summary>
    public string HeartbeatFile => Path.Combine(Directory, "heartbeat");

    /// <summary>The checkpoint the administrator set (the worker records its completion in its state record).</summary>
    public string CheckpointFile => Path.Combine(Directory, "checkpoint.json");

    /// <summary>Held (an exclusive lock) by the replication's supervisor for its whole life: one supervisor per name.</summary>
    public string SupervisorLockFile => Path.Combine(Directory, "supervisor.lock");

    /// <summary>The folder of the replication's log and its rotated predecessors.</summary>
    public string LogDirectory => Path.Combine(Directory, "log");

    /// <summary>The current log file.</summary>
    public string LogFile => Path.Combine(LogDirectory, "geosync.log");

    /// <summary>The replications defined in a state directory (the names of their folders that hold a config file).</summary>
    public static IEnumerable<string> ListNames(string stateDirectory)
    {
        var root = Path.Combine(Path.GetFullPath(stateDirectory), ReplicationsFolder);
        if (!System.IO.Directory.Exists(root)) return [];
        return System.IO.Directory.EnumerateDirectories(root)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => IsValidName(name) && File.Exists(Path.Combine(root, name, "config.json")))
            .Order(StringComparer.Ordinal);
    }

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Refuses a name that is not a letter or digit followed by up to 63 letters, digits, '.', '_' or '-'.</summary>
    public static void ValidateName(string? name)
    {
        if (IsValidName(name)) return;
        throw new GeoSyncReplicationNameException(name ?? "",
            $"'{name}' is not a valid replication name: use a letter or digit followed by up to 63 letters, digits, '.', '_' or '-' (for example 'mvol-dr').");
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
