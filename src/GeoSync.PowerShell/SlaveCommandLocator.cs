using GeoSync.Engine.Session;

namespace GeoSync.PowerShell;

/// <summary>Finds the geosync host that shipped with this module: the local slave command, the supervisor's program.</summary>
internal static class SlaveCommandLocator
{
    /// <summary>
    /// The module is laid out inside the host (geosync/Modules/GeoSync) or next to it (GeoSync beside geosync/); else the
    /// geosync on PATH.
    /// </summary>
    public static string[] DefaultSlaveCommand(string? moduleBase) =>
        ShippedHost(moduleBase) is { } host ? [host, "slave"] : [.. SessionOptions.DefaultSlaveCommand];

    /// <summary>
    /// The geosync executable as a full path (the supervisor and systemd start it again later, from anywhere): the one
    /// shipped with this module, else the first geosync on PATH; null when there is none.
    /// </summary>
    public static string? HostExecutable(string? moduleBase)
    {
        if (ShippedHost(moduleBase) is { } host) return host;
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "geosync");
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return null;
    }

    private static string? ShippedHost(string? moduleBase)
    {
        if (moduleBase is null) return null;
        foreach (var candidate in new[] { Path.Combine(moduleBase, "..", "..", "geosync"), Path.Combine(moduleBase, "..", "geosync", "geosync") })
        {
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return null;
    }
}
