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
    /// Called with the method name and the original failure before it is turned into the Python exception the peer
    /// sees — the place to log why a path was refused, since the peer only gets <c>ValueError('unsafe path')</c>.
    /// </summary>
    public Action<string, Exception>? OnCallFailed { get; init; }
}
