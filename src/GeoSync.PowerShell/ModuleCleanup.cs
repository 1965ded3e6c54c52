using System.Management.Automation;

namespace GeoSync.PowerShell;

/// <summary>
/// Module removal: stops the sessions (each ends its slave and unmounts its own aux mounts), then releases the aux
/// mounts Mount-GlusterAux made.
/// </summary>
public sealed class ModuleCleanup : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        GeoSyncSessionRegistry.StopAll();
        GlusterAuxMountRegistry.ReleaseAll();
    }
}
