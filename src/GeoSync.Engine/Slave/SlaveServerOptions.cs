namespace GeoSync.Engine.Slave;

/// <summary>Settings of a <see cref="SlaveServer"/>.</summary>
public sealed class SlaveServerOptions
{
    /// <summary>
    /// True for a gluster:// slave: <c>native_volume_info</c> and <c>foreign_volume_infos</c> are callable. A file://
    /// slave answers them with AttributeError, as the original's file server did.
    /// </summary>
    public bool ServesGlusterVolume { get; init; } = true;

    /// <summary>
    /// The path rsync writes to, when the server works through another name of the same directory (<c>/proc/self/cwd</c>,
    /// <c>/proc/self/fd/N</c>): every listing of the root first checks that this path still shows the served directory
    /// (device and inode), and answers OSError(ENOTCONN) when it does not — the slave volume was unmounted or replaced,
    /// and rsync would write somewhere else. Null: rsync writes to the root itself.
    /// </summary>
    public string? RootPathToVouch { get; init; }

    /// <summary>
    /// Called with the method name and the original failure before it is turned into the Python exception the peer
    /// sees — the place to log why a path was refused, since the peer only gets <c>ValueError('unsafe path')</c>.
    /// </summary>
    public Action<string, Exception>? OnCallFailed { get; init; }
}
