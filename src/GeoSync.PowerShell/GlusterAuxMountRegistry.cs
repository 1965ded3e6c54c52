using System.Collections.Concurrent;
using System.Management.Automation;

namespace GeoSync.PowerShell;

/// <summary>
/// The mounts this module instance made, by mount point: Dismount-GlusterAux finds them here and module removal
/// releases the rest. Process death needs no help: each mount's guard sees its pipe end and unmounts.
/// </summary>
internal static class GlusterAuxMountRegistry
{
    private static readonly ConcurrentDictionary<string, GlusterAuxMount> Mounts = new(StringComparer.Ordinal);

    public static void Add(GlusterAuxMount mount) => Mounts[mount.MountPoint] = mount;

    public static GlusterAuxMount? Find(string mountPoint) => Mounts.TryGetValue(mountPoint, out var mount) ? mount : null;

    /// <summary>Takes the mount out of the registry; false when it is not (or no longer) registered.</summary>
    public static bool TryRemove(GlusterAuxMount mount) =>
        Mounts.TryRemove(new KeyValuePair<string, GlusterAuxMount>(mount.MountPoint, mount));

    public static void ReleaseAll()
    {
        foreach (var mount in Mounts.Values)
        {
            if (TryRemove(mount))
            {
                mount.Handle.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }
}

/// <summary>Releases the session's auxiliary mounts when the module is removed.</summary>
public sealed class GlusterAuxMountCleanup : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => GlusterAuxMountRegistry.ReleaseAll();
}
