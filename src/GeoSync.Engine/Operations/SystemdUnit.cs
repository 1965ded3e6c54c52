namespace GeoSync.Engine.Operations;

/// <summary>The systemd unit that runs a replication's supervisor in the foreground (<c>geosync unit NAME</c>).</summary>
public static class SystemdUnit
{
    /// <summary>
    /// A service unit: systemd starts <c>geosync monitor</c> (which restarts its own worker) and restarts the monitor
    /// itself only if it fails. KillMode=mixed sends SIGTERM to the monitor alone, so it stops its worker cleanly, and
    /// SIGKILL to every process of the unit after TimeoutStopSec.
    /// </summary>
    public static string Render(string geosyncExecutable, ReplicationPaths paths)
    {
        var command = string.Join(' ', SupervisorControl.MonitorArgv(geosyncExecutable, paths).Select(Quote));
        return $"""
            [Unit]
            Description=GeoSync replication {paths.Name}
            After=network-online.target
            Wants=network-online.target

            [Service]
            Type=simple
            ExecStart={command}
            Environment={Quote(StateDirectory.EnvironmentVariable + "=" + paths.StateDirectory)}
            Restart=on-failure
            RestartSec=5
            KillMode=mixed
            KillSignal=SIGTERM
            TimeoutStopSec=90

            [Install]
            WantedBy=multi-user.target

            """;
    }

    /// <summary>systemd's quoting: a word with blanks, quotes or backslashes goes in double quotes, escaped.</summary>
    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsLetterOrDigit(c) || "/._-+:@=,".Contains(c, StringComparison.Ordinal))
            ? word
            : "\"" + word.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("%", "%%", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal) + "\"";
}
