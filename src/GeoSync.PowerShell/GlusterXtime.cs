using GeoSync.Engine.Xattrs;

namespace GeoSync.PowerShell;

/// <summary>The xtime one volume stored on one path, as Get-GlusterXtime and Set-GlusterXtime -PassThru emit it.</summary>
public sealed class GlusterXtime
{
    internal GlusterXtime(string path, Guid volumeId, Xtime xtime)
    {
        Path = path;
        VolumeId = volumeId;
        Seconds = xtime.Seconds;
        Microseconds = xtime.Microseconds;
        Xtime = ToDecimal(xtime);
        Time = xtime.ToDateTimeOffset();
    }

    /// <summary>The file-system path the attribute was read from or written to (the path itself, never a symlink's target).</summary>
    public string Path { get; }

    /// <summary>The volume whose marker owns this xtime.</summary>
    public Guid VolumeId { get; }

    public uint Seconds { get; }

    public uint Microseconds { get; }

    /// <summary>
    /// Seconds.microseconds as an exact decimal (1700000000.000123): sorts and compares like the (sec, usec) pair and can be
    /// handed back to Set-GlusterXtime -Xtime.
    /// </summary>
    public decimal Xtime { get; }

    /// <summary>The same instant in UTC.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>Always six fractional digits, so the decimal prints exactly as the engine's xtime text does.</summary>
    internal static decimal ToDecimal(Xtime xtime)
    {
        var micros = ((ulong)xtime.Seconds * 1_000_000) + xtime.Microseconds;
        return new decimal((int)(uint)micros, (int)(uint)(micros >> 32), 0, false, 6);
    }

    /// <summary>The xtime a decimal names, or null when it has more than six fractional digits or lies outside the u32 range.</summary>
    internal static Xtime? FromDecimal(decimal value)
    {
        if (value < 0 || value >= (decimal)uint.MaxValue + 1) { return null; }
        var micros = value * 1_000_000;
        if (micros != decimal.Truncate(micros)) { return null; }
        var seconds = decimal.Truncate(value);
        return new Xtime((uint)seconds, (uint)((value - seconds) * 1_000_000));
    }
}
