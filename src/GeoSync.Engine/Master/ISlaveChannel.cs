using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// The slave's methods (docs/protocol.md, "The slave's API") as the crawl calls them. Paths are relative to the slave root, in wire text (UTF-8 with
/// surrogate escapes for undecodable bytes). A failed call throws what a RePCe client raises:
/// <see cref="Rpc.RemoteOsException"/> with the errno, <see cref="Rpc.RemoteValueException"/> for a refused (unsafe)
/// path, <see cref="Rpc.RemoteAttributeException"/> for a method the slave does not have, and
/// <see cref="GeoSyncProtocolException"/> when the connection broke.
/// </summary>
public interface ISlaveChannel
{
    /// <summary><c>entries(path)</c>: the names in a directory; ENOTDIR for anything else, symlinks included.</summary>
    Task<IReadOnlyList<string>> EntriesAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// <c>lstat_entries(path)</c>, a GeoSync extension: <see cref="EntriesAsync"/> with each entry's lstat, so the crawl
    /// sees type mismatches and the directory master compares entries in one call per directory. A 3.3 or 10.x slave
    /// answers <see cref="Rpc.RemoteAttributeException"/>.
    /// </summary>
    Task<IReadOnlyList<SlaveEntry>> LstatEntriesAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// <c>entry_types(path)</c>, a GeoSync extension: the names in a directory with each one's type only, from the
    /// listing itself instead of an lstat per entry (docs/protocol.md, "The slave's API"). A slave without it (an older
    /// GeoSync, 3.3 or 10.x) answers <see cref="Rpc.RemoteAttributeException"/>. By default the types of
    /// <see cref="LstatEntriesAsync"/>.
    /// </summary>
    async Task<IReadOnlyList<SlaveEntryType>> EntryTypesAsync(string path, CancellationToken cancellationToken = default) =>
        (await LstatEntriesAsync(path, cancellationToken).ConfigureAwait(false)).Select(e => new SlaveEntryType(e.Name, e.Stat.Type)).ToList();

    /// <summary>
    /// <c>purge(path, entries)</c>: removes the named entries of <paramref name="path"/> (whole subtrees), or
    /// <paramref name="path"/> itself when <paramref name="entries"/> is null.
    /// </summary>
    Task PurgeAsync(string path, IReadOnlyCollection<string>? entries = null, CancellationToken cancellationToken = default);

    /// <summary><c>mkdir(path)</c>: creates a directory, destroying whatever else is in its place.</summary>
    Task MkdirAsync(string path, CancellationToken cancellationToken = default);

    /// <summary><c>symlink(target, path)</c>: creates a symlink, destroying whatever else is in its place.</summary>
    Task SymlinkAsync(string target, string path, CancellationToken cancellationToken = default);

    /// <summary><c>xtime(path, uuid)</c>: the path's xtime for a volume, or ENOENT/ENOTDIR/ENODATA as a reading.</summary>
    Task<XtimeReading> XtimeAsync(string path, string uuid, CancellationToken cancellationToken = default);

    /// <summary><c>set_xtime(path, uuid, xtime)</c>.</summary>
    Task SetXtimeAsync(string path, string uuid, Xtime value, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets one xtime on many paths: <c>set_xtimes(uuid, [(path, xtime), ...])</c>, a GeoSync extension, in one call;
    /// on a slave without it (3.3, 10.x, an older GeoSync), one <c>set_xtime</c> per path (docs/protocol.md, "The
    /// slave's API"). Returns, per path in order, null when it was set or the exception its own <c>set_xtime</c> would
    /// have raised (<see cref="Rpc.RemoteOsException"/>, <see cref="Rpc.RemoteValueException"/>); anything else (a broken
    /// connection) throws. By default one <see cref="SetXtimeAsync"/> per path.
    /// </summary>
    Task<IReadOnlyList<Exception?>> SetXtimesAsync(IReadOnlyList<string> paths, string uuid, Xtime value,
        CancellationToken cancellationToken = default) =>
        SlaveXtimes.SetEachAsync(this, paths, uuid, value, cancellationToken);

    /// <summary><c>setattr(path, {own, mode, times})</c>, never following a final symlink.</summary>
    Task SetattrAsync(string path, SlaveAttributes attributes, CancellationToken cancellationToken = default);
}

/// <summary>Slave xtimes written one <c>set_xtime</c> per path.</summary>
internal static class SlaveXtimes
{
    /// <summary>
    /// <see cref="ISlaveChannel.SetXtimesAsync"/> for a slave without <c>set_xtimes</c>: one call per path, each path's
    /// refusal (OSError, ValueError) kept as its result.
    /// </summary>
    public static async Task<IReadOnlyList<Exception?>> SetEachAsync(ISlaveChannel slave, IReadOnlyList<string> paths, string uuid,
        Xtime value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var results = new Exception?[paths.Count];
        for (var i = 0; i < paths.Count; i++)
        {
            try
            {
                await slave.SetXtimeAsync(paths[i], uuid, value, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Rpc.RemoteOsException or Rpc.RemoteValueException)
            {
                results[i] = ex;
            }
        }
        return results;
    }
}

/// <summary>One name of a slave directory with its type (<see cref="ISlaveChannel.EntryTypesAsync"/>).</summary>
public sealed record SlaveEntryType(string Name, EntryType Type);

/// <summary>One name of a slave directory with its lstat.</summary>
public sealed record SlaveEntry(string Name, EntryStat Stat);

/// <summary>What <see cref="ISlaveChannel.SetattrAsync"/> applies; a null part is left alone.</summary>
public sealed record SlaveAttributes
{
    /// <summary>lchown to these numeric ids.</summary>
    public (long Uid, long Gid)? Owner { get; init; }

    /// <summary>chmod to these permission bits (07777). Mode 0 cannot be sent: the slave treats it as "leave alone".</summary>
    public int? Mode { get; init; }

    /// <summary>Access and modification times in nanoseconds since the epoch.</summary>
    public (long AccessNs, long ModifyNs)? Times { get; init; }

    /// <summary>Owner, mode and times of a directory's master entry.</summary>
    public static SlaveAttributes OfDirectory(EntryStat stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        return new() { Owner = (stat.Uid, stat.Gid), Mode = stat.Mode, Times = (stat.AccessTimeNs, stat.ModifyTimeNs) };
    }

    /// <summary>
    /// The owner of a symlink's master entry. No times: a 3.3 slave's utime follows the link, so the target's times would
    /// change instead.
    /// </summary>
    public static SlaveAttributes OfSymlink(EntryStat stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        return new() { Owner = (stat.Uid, stat.Gid) };
    }
}
