using GeoSync.Engine.Verify;
using GeoSync.Engine.Xattrs;
using Mono.Unix;

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

    /// <summary>
    /// statx with AT_STATX_FORCE_SYNC: FUSE asks the client for the attributes instead of answering from its cache, so
    /// rsync's stat after it sees the file at least as it was then (and the mount's --fopen-keep-cache=off makes its
    /// open drop cached pages). The result itself is not needed: the lstat that follows reports errors.
    /// </summary>
    public void RefreshAttributes(string path)
    {
        // The bytes Mono.Posix would pass for this path (names that are not UTF-8 included).
        var name = UnixEncoding.Instance.GetBytes(FullPath(path) + "\0");
        _ = NativeEntries.Stat(NativeEntries.AtFdCwd, name, NativeEntries.AtSymlinkNoFollow | NativeEntries.AtStatxForceSync, out _);
    }

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
