using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using GeoSync.Engine.Urls;

namespace GeoSync.Engine.Operations;

/// <summary>A named replication as stored: its pair and the options set for it (by key; unset options take their defaults).</summary>
public sealed record ReplicationDefinition
{
    public required string Name { get; init; }

    /// <summary>The master URL, normalized (<c>file:///srv/m</c> for <c>/srv/m</c>).</summary>
    public required string Master { get; init; }

    /// <summary>The slave URL, normalized.</summary>
    public required string Slave { get; init; }

    /// <summary>The options set for this replication, by key, in their option's type.</summary>
    public required IReadOnlyDictionary<string, object> Options { get; init; }

    public DateTimeOffset Created { get; init; }
    public DateTimeOffset Modified { get; init; }

    /// <summary>The state directory the replication lives in.</summary>
    public required string StateDirectory { get; init; }

    public ReplicationPaths Paths => new(StateDirectory, Name);

    /// <summary>The value the worker uses: the stored one, else the option's default (null when computed at run time).</summary>
    public object? Effective(ReplicationOption option)
    {
        ArgumentNullException.ThrowIfNull(option);
        return Options.TryGetValue(option.Key, out var value) ? value : option.Default;
    }
}

/// <summary>There is no replication by that name in the state directory.</summary>
public sealed class GeoSyncReplicationNotFoundException(string name, string stateDirectory)
    : GeoSyncException($"There is no replication '{name}' in {stateDirectory}: create it with 'geosync create {name} MASTER SLAVE' or New-GeoSyncReplication -Name {name} (Get-GeoSyncReplication lists those defined).")
{
    public string Name { get; } = name;
    public string StateDirectory { get; } = stateDirectory;
}

/// <summary>A replication by that name already exists; it was left as it is.</summary>
public sealed class GeoSyncReplicationExistsException(string name, string configFile)
    : GeoSyncException($"A replication named '{name}' already exists ({configFile}); it was left as it is. Change it with 'geosync config {name} KEY VALUE' or Set-GeoSyncReplication, or choose another name.")
{
    public string Name { get; } = name;
}

/// <summary>
/// The replication store: config.json of each named replication under the state directory, validated against the option
/// catalog before anything is written, and written atomically.
/// </summary>
public sealed class ReplicationStore
{
    /// <summary>The version of config.json's layout.</summary>
    public const int ConfigVersion = 1;

    public ReplicationStore(string? stateDirectory = null) => StateDirectory = Operations.StateDirectory.Resolve(stateDirectory);

    public string StateDirectory { get; }

    public ReplicationPaths PathsOf(string name) => new(StateDirectory, name);

    /// <summary>Whether a replication of this name is defined; false for a string that is no valid name.</summary>
    public bool Exists(string name) => ReplicationPaths.IsValidName(name) && File.Exists(PathsOf(name).ConfigFile);

    /// <summary>
    /// Defines a replication: validates the name, both URLs (and that they can work together) and the options, then
    /// writes its config.json. Runs nothing. A name already used is refused.
    /// </summary>
    public ReplicationDefinition Create(string name, string master, string slave, IEnumerable<KeyValuePair<string, object?>> options)
    {
        var paths = PathsOf(name);
        var masterUrl = GeoSyncUrl.Parse(master);
        var slaveUrl = GeoSyncUrl.Parse(slave);
        GeoSyncUrl.EnsureConnectible(masterUrl, slaveUrl, allowDirectoryMaster: true);
        var validated = ReplicationOptions.ValidateStored(options);
        if (File.Exists(paths.ConfigFile)) throw new GeoSyncReplicationExistsException(name, paths.ConfigFile);

        var now = DateTimeOffset.UtcNow;
        var definition = new ReplicationDefinition
        {
            Name = name,
            Master = masterUrl.Normalized,
            Slave = slaveUrl.Normalized,
            Options = validated,
            Created = now,
            Modified = now,
            StateDirectory = StateDirectory,
        };
        // Written under a temporary name and linked into place only if no other create got there first.
        if (!AtomicJsonFile.TryWriteNew(paths.ConfigFile, ToFile(definition)))
        {
            throw new GeoSyncReplicationExistsException(name, paths.ConfigFile);
        }
        return definition;
    }

    /// <summary>The stored definition; a missing one is <see cref="GeoSyncReplicationNotFoundException"/>.</summary>
    public ReplicationDefinition Get(string name)
    {
        var paths = PathsOf(name);
        var file = AtomicJsonFile.Read<ReplicationConfigFile>(paths.ConfigFile)
            ?? throw new GeoSyncReplicationNotFoundException(name, StateDirectory);
        return FromFile(name, paths.ConfigFile, file);
    }

    /// <summary>Every replication defined in the state directory, by name.</summary>
    public IEnumerable<ReplicationDefinition> List() => ReplicationPaths.ListNames(StateDirectory).Select(Get);

    /// <summary>
    /// Sets and resets options of a replication: all are validated first, and nothing is written when one is refused.
    /// An option both set and reset is refused.
    /// </summary>
    public ReplicationDefinition Update(string name, IEnumerable<KeyValuePair<string, object?>> set, IEnumerable<string> reset)
    {
        ArgumentNullException.ThrowIfNull(reset);
        var current = Get(name);
        var changes = ReplicationOptions.ValidateStored(set);
        var resets = reset.Select(ReplicationOptions.GetStored).ToArray();
        if (resets.FirstOrDefault(option => changes.ContainsKey(option.Key)) is { } both)
        {
            throw new InvalidReplicationOptionException(both.Key, both.Format(changes[both.Key]), both.Allowed,
                $"{both.Key} is both set and reset; give one of them.");
        }
        var options = new Dictionary<string, object>(current.Options, StringComparer.Ordinal);
        foreach (var option in resets) options.Remove(option.Key);
        foreach (var (key, value) in changes) options[key] = value;
        var updated = current with { Options = options, Modified = DateTimeOffset.UtcNow };
        AtomicJsonFile.Write(current.Paths.ConfigFile, ToFile(updated));
        return updated;
    }

    /// <summary>
    /// Removes a replication's folder (configuration, state, ledger, log). Refused while it runs unless
    /// <paramref name="force"/>.
    /// </summary>
    public void Remove(string name, bool force)
    {
        var paths = PathsOf(name);
        if (!File.Exists(paths.ConfigFile)) throw new GeoSyncReplicationNotFoundException(name, StateDirectory);
        if (!force && ReplicationActivity.RunningReason(paths) is { } reason)
        {
            throw new GeoSyncReplicationRunningException(name, null,
                $"Replication '{name}' is running ({reason}); stop it first ('geosync stop {name}' or Stop-GeoSyncReplication), or remove it anyway with --force / -Force.");
        }
        // The config goes first: a half-removed folder is no longer listed as a replication.
        File.Delete(paths.ConfigFile);
        Directory.Delete(paths.Directory, recursive: true);
    }

    private static ReplicationConfigFile ToFile(ReplicationDefinition definition)
    {
        var options = new JsonObject();
        foreach (var option in ReplicationOptions.Stored)
        {
            if (definition.Options.TryGetValue(option.Key, out var value)) options[option.Key] = option.ToJson(value);
        }
        return new ReplicationConfigFile
        {
            Version = ConfigVersion,
            Master = definition.Master,
            Slave = definition.Slave,
            Created = definition.Created,
            Modified = definition.Modified,
            Options = options,
        };
    }

    private ReplicationDefinition FromFile(string name, string path, ReplicationConfigFile file)
    {
        if (string.IsNullOrEmpty(file.Master) || string.IsNullOrEmpty(file.Slave))
        {
            throw new GeoSyncException($"'{path}' names no master or slave; fix it by hand, or remove the replication and create it again.");
        }
        var options = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, node) in file.Options ?? [])
        {
            try
            {
                var option = ReplicationOptions.GetStored(key);
                options[option.Key] = option.FromJson(node is null ? default : JsonSerializer.SerializeToElement(node));
            }
            catch (InvalidReplicationOptionException e)
            {
                throw new InvalidReplicationOptionException(e.Key, e.Value, e.Allowed,
                    $"{path}: {e.Message} Correct it with 'geosync config {name} --reset {key}' or by hand.");
            }
        }
        return new ReplicationDefinition
        {
            Name = name,
            Master = file.Master,
            Slave = file.Slave,
            Options = options,
            Created = file.Created,
            Modified = file.Modified,
            StateDirectory = StateDirectory,
        };
    }

    /// <summary>config.json as written: human-readable, options by their keys.</summary>
    private sealed record ReplicationConfigFile
    {
        public int Version { get; init; }
        public string Master { get; init; } = "";
        public string Slave { get; init; } = "";
        public DateTimeOffset Created { get; init; }
        public DateTimeOffset Modified { get; init; }
        public JsonObject? Options { get; init; }
    }
}

/// <summary>Whether a replication is running: the one check the store, the supervisor and status share.</summary>
public static class ReplicationActivity
{
    /// <summary>
    /// Why the replication counts as running — its supervisor (supervisor.json) names a live process, or a master loop
    /// holds the lock of its state file — or null when neither is true.
    /// </summary>
    public static string? RunningReason(ReplicationPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        SupervisorRecord? supervisor = null;
        try
        {
            supervisor = AtomicJsonFile.Read<SupervisorRecord>(paths.SupervisorFile);
        }
        catch (GeoSyncException)
        {
            // An unreadable record proves nothing; the lock below still does.
        }
        if (supervisor is { SupervisorPid: > 0 } && IsAlive(supervisor.SupervisorPid, supervisor.SupervisorStartTime))
        {
            return $"its supervisor, process {supervisor.SupervisorPid}, is alive";
        }
        return IsLockHeld(paths.StateFile + LockSuffix) ? $"a master loop holds {paths.StateFile}{LockSuffix}" : null;
    }

    /// <summary>The lock file next to a state file that a running master loop holds.</summary>
    public const string LockSuffix = ".lock";

    /// <summary>Whether process <paramref name="pid"/> runs and is the one started at <paramref name="startTime"/> (when given).</summary>
    internal static bool IsAlive(int pid, DateTimeOffset? startTime)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited) return false;
            // A pid is reused after its process ended: the start time tells a new process from the recorded one.
            return startTime is not { } started || Math.Abs((process.StartTime.ToUniversalTime() - started.UtcDateTime).TotalSeconds) < 2;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static bool IsLockHeld(string lockFile)
    {
        if (!File.Exists(lockFile)) return false;
        try
        {
            // The loop holds the file with FileShare.None, which .NET takes as an exclusive flock.
            using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>The command line of a replication's worker, as the supervisor (or systemd) runs it.</summary>
public static class ReplicationWorker
{
    /// <summary>The arguments after the geosync executable: <c>master --replication NAME --state-dir DIR</c>.</summary>
    public static IReadOnlyList<string> Arguments(ReplicationPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return ["master", "--replication", paths.Name, "--state-dir", paths.StateDirectory];
    }
}
