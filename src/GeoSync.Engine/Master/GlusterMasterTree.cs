using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// A GlusterFS master volume seen through its gsyncd aux mount: the marker stamps every changed entry and its ancestors
/// with an xtime (docs/protocol.md, "Extended attributes: names and layouts"), which the crawl prunes by.
/// </summary>
public sealed class GlusterMasterTree : LocalMasterTree, IMasterXtimes
{
    private readonly XtimeStore _store;

    /// <param name="rootPath">The aux mount (or, in tests, a directory whose xtimes the test stamps itself).</param>
    /// <param name="volumeId">The master volume's uuid; xtimes on both sides are keyed by it.</param>
    /// <param name="xattrs">Extended attributes of the mount.</param>
    /// <param name="xattrNamespace">The <c>&lt;ns&gt;</c> of docs/protocol.md, "Extended attributes: names and layouts"; null for the process's default.</param>
    public GlusterMasterTree(string rootPath, Guid volumeId, IXattrStore xattrs, string? xattrNamespace = null)
        : base(rootPath)
    {
        ArgumentNullException.ThrowIfNull(xattrs);
        VolumeId = volumeId;
        _store = new XtimeStore(xattrs, xattrNamespace);
    }

    public Guid VolumeId { get; }

    public override IMasterXtimes Xtimes => this;

    public XtimeReading Read(string path)
    {
        try
        {
            return _store.Get(FullPath(path), VolumeId) is Xtime value
                ? XtimeReading.Found(value)
                : XtimeReading.Missing(LinuxErrno.ENODATA);
        }
        catch (GeoSyncXattrException ex) when (ex.Errno is LinuxErrno.ENOENT or LinuxErrno.ENOTDIR)
        {
            return XtimeReading.Missing(ex.Errno);
        }
        catch (GeoSyncXattrException ex) when (LinuxErrno.MeansSessionDown(ex.Errno))
        {
            throw Unavailable(path, "reading the xtime", ex);
        }
    }

    public void Write(string path, Xtime value)
    {
        try
        {
            _store.Set(FullPath(path), VolumeId, value);
        }
        catch (GeoSyncXattrException ex) when (LinuxErrno.MeansSessionDown(ex.Errno))
        {
            throw Unavailable(path, "stamping the xtime", ex);
        }
    }

    private GeoSyncMasterUnavailableException Unavailable(string path, string what, GeoSyncXattrException ex) =>
        new(RootPath, $"{what} of '{path}' answered {LinuxErrno.Name(ex.Errno)}: the glusterfs client lost the volume", ex);
}
