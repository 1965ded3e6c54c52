namespace GeoSync.Engine.Transport.Mounting;

/// <summary>
/// An auxiliary GlusterFS mount (client-pid -1) owned by this process. It stays mounted until <see cref="UnmountAsync"/>,
/// disposal, or the end of this process (SIGKILL included), whichever comes first; then its guard unmounts it lazily
/// and removes the directory the mounter made.
/// </summary>
public sealed class AuxMount : IAsyncDisposable
{
    private readonly MountGuard _guard;

    internal AuxMount(GlusterMountMode mode, string volume, string server, string mountPoint, int? processId, string? logFile,
        MountGuard guard)
    {
        Mode = mode;
        Volume = volume;
        Server = server;
        MountPoint = mountPoint;
        ProcessId = processId;
        LogFile = logFile;
        this._guard = guard;
    }

    /// <summary>Where the volume is mounted. MountBroker: glusterd's link to the mount directory, as glusterd answered.</summary>
    public string MountPoint { get; }

    public string Volume { get; }

    public string Server { get; }

    public GlusterMountMode Mode { get; }

    /// <summary>The glusterfs client serving the mount, when it could be found.</summary>
    public int? ProcessId { get; }

    /// <summary>The client's log file, when known.</summary>
    public string? LogFile { get; }

    /// <summary>The guard process that unmounts when this process ends.</summary>
    public int GuardProcessId => _guard.ProcessId;

    /// <summary>True once <see cref="UnmountAsync"/> or <see cref="DisposeAsync"/> has run.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>
    /// Unmounts lazily and removes the mount point the mounter created. Throws <see cref="GlusterMountException"/> with
    /// <see cref="GlusterMountFailure.UnmountFailed"/> when the guard reports a failure; calling it again reports the same.
    /// </summary>
    public async Task UnmountAsync()
    {
        IsReleased = true;
        var outcome = await _guard.ReleaseAsync(MountGuard.ReleaseTimeout).ConfigureAwait(false);
        if (!outcome.Succeeded)
        {
            var status = outcome.ExitCode is { } code ? $"failed with status {code}" : $"did not finish within {MountGuard.ReleaseTimeout.TotalSeconds:0} s";
            var saying = outcome.Stderr.Length > 0 ? $": {outcome.Stderr}" : "";
            throw new GlusterMountException(GlusterMountFailure.UnmountFailed, Volume, Server, MountPoint,
                $"cleaning up mount point {MountPoint} of volume {Volume} {status}{saying}. A stale mount may be left " +
                $"behind: check /proc/mounts and unmount it with 'umount -l {MountPoint}'" +
                (Mode == GlusterMountMode.MountBroker ? $" or 'gluster system:: umount {MountPoint} lazy'." : "."));
        }
    }

    /// <summary>Releases the mount like <see cref="UnmountAsync"/>, without throwing.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await UnmountAsync().ConfigureAwait(false);
        }
        catch (GlusterMountException)
        {
            // Disposal cannot report; UnmountAsync is the call that does.
        }
    }

    public override string ToString() => $"{Server}:{Volume} on {MountPoint}";
}
