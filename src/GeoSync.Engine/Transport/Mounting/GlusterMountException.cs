namespace GeoSync.Engine.Transport.Mounting;

/// <summary>Why an auxiliary mount could not be made or released; each maps to one stable cmdlet error id.</summary>
public enum GlusterMountFailure
{
    /// <summary>glusterd has no volume file for the name.</summary>
    VolumeNotFound,

    /// <summary>The volume exists but no brick answers: not started, or its bricks are down.</summary>
    VolumeNotStarted,

    /// <summary>glusterd on the server cannot be reached.</summary>
    ServerUnreachable,

    /// <summary>glusterfs, gluster or a helper the mounter runs is not installed.</summary>
    ClientNotInstalled,

    /// <summary>The requested mount point is already a mount point, or not an empty directory.</summary>
    MountPointBusy,

    /// <summary>The network namespace to enter does not exist.</summary>
    NetworkNamespaceNotFound,

    /// <summary>glusterd refused a mountbroker request.</summary>
    MountBrokerRefused,

    /// <summary>The mount did not answer within the timeout and the cause is unknown.</summary>
    Timeout,

    /// <summary>The mount failed for another reason (see the message).</summary>
    MountFailed,

    /// <summary>The lazy unmount or the removal of the mount point failed; a stale mount may be left behind.</summary>
    UnmountFailed,
}

/// <summary>Mounting or unmounting an auxiliary GlusterFS mount failed; <see cref="Reason"/> says why.</summary>
public class GlusterMountException : GeoSyncMountException
{
    public GlusterMountException(GlusterMountFailure reason, string volume, string server, string? mountPoint, string message,
        Exception? innerException = null)
        : base(volume, message, innerException)
    {
        Reason = reason;
        Server = server;
        MountPoint = mountPoint;
    }

    public GlusterMountFailure Reason { get; }

    public string Server { get; }

    /// <summary>The mount point involved, when one was chosen already.</summary>
    public string? MountPoint { get; }
}
