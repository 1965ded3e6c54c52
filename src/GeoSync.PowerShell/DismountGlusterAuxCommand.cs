using System.Management.Automation;
using GeoSync.Engine;

namespace GeoSync.PowerShell.Commands;

/// <summary>Dismount-GlusterAux: lazily unmounts auxiliary mounts this session made and removes their temporary directories.</summary>
[Cmdlet(VerbsData.Dismount, "GlusterAux",
    HelpUri = HelpLinks.Commands + "Dismount-GlusterAux",
    DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class DismountGlusterAuxCommand : PSCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string MountPointSet = "MountPoint";

    /// <summary>Mounts from Mount-GlusterAux.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public GlusterAuxMount[] InputObject { get; set; } = [];

    /// <summary>Mount points of mounts from Mount-GlusterAux.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = MountPointSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] MountPoint { get; set; } = [];

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet)
        {
            foreach (var mount in InputObject)
            {
                Dismount(mount.MountPoint, GlusterAuxMountRegistry.Find(mount.MountPoint) is { } registered && registered.Handle == mount.Handle ? registered : null);
            }

            return;
        }

        foreach (var path in MountPoint)
        {
            var full = System.IO.Path.TrimEndingDirectorySeparator(GetUnresolvedProviderPathFromPSPath(path));
            Dismount(full, GlusterAuxMountRegistry.Find(full));
        }
    }

    private void Dismount(string mountPoint, GlusterAuxMount? mount)
    {
        if (mount is null)
        {
            WriteError(new ErrorRecord(
                new ItemNotFoundException(
                    $"'{mountPoint}' is not an auxiliary mount of this session: Mount-GlusterAux did not make it here, or it " +
                    "was dismounted already. Unmount other mounts with 'umount -l'."),
                "GlusterAuxMountNotFound", ErrorCategory.ObjectNotFound, mountPoint));
            return;
        }

        var action = mount.Mode == Engine.Transport.Mounting.GlusterMountMode.Direct
            ? "Unmount lazily and remove the mount point"
            : "Ask glusterd to unmount lazily";
        if (!ShouldProcess($"{mountPoint} ({mount.Server}:{mount.Volume})", action) || !GlusterAuxMountRegistry.TryRemove(mount))
        {
            return;
        }

        WriteVerbose($"Unmounting {mount.Server}:{mount.Volume} from {mountPoint}.");
        try
        {
            mount.Handle.UnmountAsync().GetAwaiter().GetResult();
        }
        catch (GeoSyncException e)
        {
            WriteError(ErrorRecords.FromException(e, mountPoint));
        }
    }
}
