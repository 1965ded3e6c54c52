namespace GeoSync.Engine.Operations;

/// <summary>
/// Where GeoSync keeps what outlives a process (state files, failure ledgers, named replications): one rule for the
/// loop, the status commands, the replication store and the supervisor.
/// </summary>
public static class StateDirectory
{
    /// <summary>The variable that moves the state directory for every command at once.</summary>
    public const string EnvironmentVariable = "GEOSYNC_STATE_DIR";

    /// <summary>
    /// The explicit directory when given; else $GEOSYNC_STATE_DIR; else /var/lib/geosync for root (where glusterd keeps
    /// gsyncd's state); else the user's XDG state directory (~/.local/state/geosync).
    /// </summary>
    public static string Resolve(string? explicitDirectory = null)
    {
        if (!string.IsNullOrEmpty(explicitDirectory)) return Path.GetFullPath(explicitDirectory);
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
        if (Environment.IsPrivilegedProcess) return "/var/lib/geosync";
        var stateHome = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrEmpty(stateHome))
        {
            stateHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        }
        return Path.Combine(stateHome, "geosync");
    }
}
