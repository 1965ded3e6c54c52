using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// What reading an xtime gave (docs/protocol.md, "The slave's API" <c>xtime</c>): the value, or the errno that stands for "none here" — ENODATA (never
/// stamped), ENOENT (missing) or ENOTDIR (an ancestor is not a directory).
/// </summary>
public readonly record struct XtimeReading
{
    private XtimeReading(Xtime? value, int errno)
    {
        Value = value;
        Errno = errno;
    }

    /// <summary>The xtime; null when <see cref="Errno"/> says why there is none.</summary>
    public Xtime? Value { get; }

    /// <summary>0 when <see cref="Value"/> is set; else the Linux errno.</summary>
    public int Errno { get; }

    /// <summary>The entry exists but was never stamped (ENODATA).</summary>
    public bool IsUnstamped => Errno == LinuxErrno.ENODATA;

    public static XtimeReading Found(Xtime value) => new(value, 0);

    public static XtimeReading Missing(int errno) =>
        errno != 0 ? new(null, errno) : throw new ArgumentOutOfRangeException(nameof(errno), "a missing xtime needs the errno that explains it");

    public override string ToString() => Value?.ToString() ?? LinuxErrno.Name(Errno);
}
