using GeoSync.Engine.Session;

namespace GeoSync.PowerShell;

/// <summary>Finds the local slave command for -SlaveMode Child: the geosync host that shipped with this module.</summary>
internal static class SlaveCommandLocator
{
    /// <summary>
    /// The module is laid out inside the host (geosync/Modules/GeoSync) or next to it (GeoSync beside geosync/); else the
    /// geosync on PATH.
    /// </summary>
    public static string[] DefaultSlaveCommand(string? moduleBase)
    {
        if (moduleBase is not null)
        {
            foreach (var candidate in new[] { Path.Combine(moduleBase, "..", "..", "geosync"), Path.Combine(moduleBase, "..", "geosync", "geosync") })
            {
                if (File.Exists(candidate)) return [Path.GetFullPath(candidate), "slave"];
            }
        }
        return [.. SessionOptions.DefaultSlaveCommand];
    }
}
