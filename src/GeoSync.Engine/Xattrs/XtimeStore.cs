namespace GeoSync.Engine.Xattrs;

/// <summary>Typed access to a path's xtimes and volume marks in one xattr namespace.</summary>
public sealed class XtimeStore
{
    private readonly IXattrStore _xattrs;
    private readonly string _ns;

    public XtimeStore(IXattrStore xattrs, string? ns = null)
    {
        ArgumentNullException.ThrowIfNull(xattrs);
        _xattrs = xattrs;
        _ns = ns ?? XattrNames.DefaultNamespace;
    }

    public string Namespace => _ns;

    /// <summary>The xtime of <paramref name="path"/> for a volume, or null when none was ever stamped.</summary>
    public Xtime? Get(string path, Guid volumeId)
    {
        var name = XattrNames.Xtime(volumeId, _ns);
        var value = _xattrs.Get(path, name);
        return value is null ? null : Decode(path, name, value, v => Xtime.FromBytes(v));
    }

    public void Set(string path, Guid volumeId, Xtime value) =>
        _xattrs.Set(path, XattrNames.Xtime(volumeId, _ns), value.ToBytes());

    /// <summary>The volume's own mark (only a gsyncd client mount answers it), or null when absent.</summary>
    public VolumeMark? GetNativeMark(string path)
    {
        var name = XattrNames.VolumeMark(_ns);
        var value = _xattrs.Get(path, name);
        if (value is null) return null;
        if (value.Length != VolumeMark.NativeLength)
        {
            throw new GeoSyncXattrException(path, name, 0,
                $"extended attribute '{name}' on '{path}' is {value.Length} bytes, a native volume mark is {VolumeMark.NativeLength}; it was not written by GlusterFS's marker.");
        }
        return Decode(path, name, value, v => VolumeMark.Decode(v));
    }

    /// <summary>Every foreign mark on <paramref name="path"/>, expired ones included.</summary>
    public IReadOnlyList<VolumeMark> GetForeignMarks(string path)
    {
        var marks = new List<VolumeMark>();
        var prefix = XattrNames.ForeignVolumeMarkPrefix(_ns);
        foreach (var name in _xattrs.List(path))
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var value = _xattrs.Get(path, name);
            if (value is null) continue; // removed since the listing
            if (value.Length != VolumeMark.ForeignLength)
            {
                throw new GeoSyncXattrException(path, name, 0,
                    $"extended attribute '{name}' on '{path}' is {value.Length} bytes, a foreign volume mark is {VolumeMark.ForeignLength}; remove it if it was not written by a gsyncd keep-alive.");
            }
            marks.Add(Decode(path, name, value, v => VolumeMark.Decode(v)));
        }
        return marks;
    }

    private static T Decode<T>(string path, string name, byte[] value, Func<byte[], T> decode)
    {
        try
        {
            return decode(value);
        }
        catch (GeoSyncException ex) when (ex is not GeoSyncXattrException)
        {
            // Errno 0: the value is malformed, no system call failed.
            throw new GeoSyncXattrException(path, name, 0, $"extended attribute '{name}' on '{path}' is malformed: {ex.Message}.");
        }
    }
}
