using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// One brick of a master volume, a directory of this host, where its xtimes are read instead of through the aux mount:
/// one lgetxattr on a local file system instead of a FUSE round trip to the brick process (docs/gluster-notes.md,
/// "Reading xtimes on the brick"). Always one brick of a <see cref="BrickSetXtimes"/>, which merges the bricks and vouches
/// for them each turn — a volume of one brick is a set of one (docs/multi-brick.md). Only reads: stamps go through the mount.
/// </summary>
internal sealed class BrickXtimes
{
    private readonly XtimeStore _store;
    private readonly Guid _volumeId;

    private BrickXtimes(string brickPath, Guid volumeId, XtimeStore store)
    {
        BrickPath = brickPath;
        _volumeId = volumeId;
        _store = store;
    }

    /// <summary>The brick's root directory.</summary>
    public string BrickPath { get; }

    /// <summary>The name of the attribute GlusterFS keeps its volume's uuid in on each brick root.</summary>
    public static string VolumeIdName(string? ns = null) => $"{ns ?? XattrNames.DefaultNamespace}.volume-id";

    /// <summary>
    /// The brick at <paramref name="brickPath"/> when it is a directory here whose volume-id attribute is
    /// <paramref name="volumeId"/> (so it is that volume's brick, not a directory of the same name); else null and why.
    /// </summary>
    internal static BrickXtimes? TryOpen(string brickPath, Guid volumeId, IXattrStore xattrs, string? ns, out string why)
    {
        ArgumentException.ThrowIfNullOrEmpty(brickPath);
        ArgumentNullException.ThrowIfNull(xattrs);
        if (!Path.IsPathFullyQualified(brickPath) || !Directory.Exists(brickPath))
        {
            why = $"'{brickPath}' is not a directory on this host";
            return null;
        }
        byte[]? id;
        try
        {
            id = xattrs.Get(brickPath, VolumeIdName(ns));
        }
        catch (GeoSyncXattrException ex)
        {
            why = $"its volume id cannot be read: {ex.Message}";
            return null;
        }
        if (id is not { Length: 16 } || !id.AsSpan().SequenceEqual(volumeId.ToByteArray(bigEndian: true)))
        {
            why = $"'{brickPath}' does not carry volume {XattrNames.FormatUuid(volumeId)} in {VolumeIdName(ns)}";
            return null;
        }
        why = "";
        return new BrickXtimes(brickPath.TrimEnd('/'), volumeId, new XtimeStore(xattrs, ns));
    }

    /// <summary>
    /// Whether the brick root still carries the volume's id (a brick whose file system went away leaves an empty directory
    /// without it); why not otherwise.
    /// </summary>
    internal bool StillCarriesVolume(IXattrStore xattrs, string? ns, out string why)
    {
        try
        {
            if (xattrs.Get(BrickPath, VolumeIdName(ns)) is { Length: 16 } id && id.AsSpan().SequenceEqual(_volumeId.ToByteArray(bigEndian: true)))
            {
                why = "";
                return true;
            }
            why = $"'{BrickPath}' no longer carries the volume's id";
        }
        catch (GeoSyncXattrException ex)
        {
            why = $"its volume id cannot be read: {ex.Message}";
        }
        return false;
    }

    /// <summary>
    /// The path's xtime on this brick (null: present but never stamped); false when the brick has no such entry (ENOENT,
    /// ENOTDIR): a brick without the entry holds nothing below it. Any other failure throws
    /// <see cref="GeoSyncXattrException"/>: the brick cannot say, so nobody may take its silence for "unchanged".
    /// </summary>
    internal bool TryReadPresent(string path, out Xtime? value)
    {
        var full = path == "." ? BrickPath : BrickPath + "/" + OpenDirectory.NativePath(path);
        try
        {
            value = _store.Get(full, _volumeId);
            return true;
        }
        catch (GeoSyncXattrException ex) when (ex.Errno is LinuxErrno.ENOENT or LinuxErrno.ENOTDIR)
        {
            value = null;
            return false;
        }
    }
}
