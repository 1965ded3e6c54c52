using GeoSync.Engine.Xattrs;

namespace GeoSync.PowerShell;

/// <summary>A native or foreign volume mark found on a path, as Get-GlusterVolumeMark emits it.</summary>
public sealed class GlusterVolumeMark
{
    internal GlusterVolumeMark(string path, VolumeMark mark)
    {
        Path = path;
        VolumeId = mark.VolumeId;
        Version = new Version(mark.VersionMajor, mark.VersionMinor);
        Retval = mark.Retval;
        IsCorrupt = mark.IsCorrupt;
        Mark = GlusterXtime.ToDecimal(mark.Mark);
        MarkTime = mark.Mark.ToDateTimeOffset();
        Expiry = mark.Expiry is { } expiry ? DateTimeOffset.FromUnixTimeSeconds(expiry) : null;
        IsForeign = mark.IsForeign;
    }

    /// <summary>The path the mark was read from (a volume root).</summary>
    public string Path { get; }

    /// <summary>The volume the mark identifies; pipes into Get-GlusterXtime -VolumeId.</summary>
    public Guid VolumeId { get; }

    /// <summary>The mark format version (major.minor), 1.0 for every known marker.</summary>
    public Version Version { get; }

    /// <summary>The marker's status byte: 0 when its timestamp file is usable.</summary>
    public byte Retval { get; }

    /// <summary>True when Retval is non-zero: the marker's timestamp file is unusable and xtimes cannot be trusted.</summary>
    public bool IsCorrupt { get; }

    /// <summary>When indexing was enabled or reset, as seconds.microseconds (the same decimal form as GlusterXtime.Xtime).</summary>
    public decimal Mark { get; }

    /// <summary>The same instant in UTC.</summary>
    public DateTimeOffset MarkTime { get; }

    /// <summary>For a foreign mark: when the keep-alive that wrote it stops vouching for the master; null for a native mark.</summary>
    public DateTimeOffset? Expiry { get; }

    /// <summary>True for a mark a master left on this slave (volume-mark.&lt;uuid&gt;), false for the volume's own mark.</summary>
    public bool IsForeign { get; }
}
