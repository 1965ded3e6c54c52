using GeoSync.Engine.Transport.Mounting;

namespace GeoSync.PowerShell;

/// <summary>An auxiliary GlusterFS mount (client-pid -1) that Mount-GlusterAux made and this session owns.</summary>
public sealed class GlusterAuxMount
{
    internal GlusterAuxMount(AuxMount mount)
    {
        Handle = mount;
        MountPoint = mount.MountPoint;
        Volume = mount.Volume;
        Server = mount.Server;
        Mode = mount.Mode;
        ProcessId = mount.ProcessId;
    }

    /// <summary>Where the volume is mounted; pipes into Dismount-GlusterAux and the xattr cmdlets' -LiteralPath.</summary>
    public string MountPoint { get; }

    /// <summary>The mounted volume.</summary>
    public string Volume { get; }

    /// <summary>The volfile server (Direct) or the glusterd that mounted it (MountBroker).</summary>
    public string Server { get; }

    /// <summary>Direct (the glusterfs client started here) or MountBroker (glusterd mounted it for an unprivileged user).</summary>
    public GlusterMountMode Mode { get; }

    /// <summary>The glusterfs client process serving the mount, when it could be found.</summary>
    public int? ProcessId { get; }

    internal AuxMount Handle { get; }

    public override string ToString() => MountPoint;
}
