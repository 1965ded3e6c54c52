using GeoSync.Engine.Rpc;
using GeoSync.Engine.Verify;

namespace GeoSync.Engine.Slave;

/// <summary>
/// The slave side of verify (GeoSync's own methods; GlusterFS's gsyncd lacks them): the slave lists and hashes its own
/// files, so only attributes and digests cross the connection. See docs/verify.md.
/// </summary>
/// <remarks>
/// <c>verify_entries(path, xattrs)</c> → list of <c>(name, st_mode, st_uid, st_gid, st_size, st_mtime_ns, target, st_rdev,
/// xattrs)</c>; <c>target</c> is a symlink's target, else None; <c>xattrs</c> a dict of a regular file's user.* attributes
/// (name → hex value) when asked for, else None. <c>checksum_entries(path, names, algorithm)</c> → list of <c>(name, hexdigest,
/// errno)</c>, digest None when errno is not 0; the algorithm must be "xxh128", so master and slave never compare digests of
/// two kinds. Both: guarded path, never following a symlink, OSError for a directory
/// that cannot be read.
/// <c>verify_listing(path, xattrs)</c> and <c>checksum_listing(path, names, algorithm)</c> are the same calls with their
/// entries, names and digests as one string of NUL-terminated fields (<see cref="VerifyListing"/>), which costs a fraction
/// of a pickled tuple per entry on both sides; the master uses them and falls back to the two above on a slave without them.
/// </remarks>
internal static class VerifyMethods
{
    public const string ListName = "verify_entries";
    public const string HashName = "checksum_entries";
    public const string CompactListName = "verify_listing";
    public const string CompactHashName = "checksum_listing";

    /// <summary>At most this many names per checksum call, so no call holds a worker (or the connection) for long.</summary>
    public const int MaxNamesPerHashCall = 4096;

    public static object? List(PathGuard guard, object treeLock, IReadOnlyList<object?> args)
    {
        WireArgs.Count(ListName, args, 2);
        var entries = ListEntries(guard, treeLock, args[0], WireArgs.IsTruthy(args[1]));
        return entries.Select(e => (object?)new PyTuple(
            e.Name,
            (long)VerifyListing.ModeOf(e),
            e.Uid,
            e.Gid,
            e.Size,
            e.ModifyTimeNs,
            e.LinkTarget,
            e.DeviceNumber,
            e.Xattrs is null ? null : e.Xattrs.ToDictionary(x => (object)x.Key, x => (object?)x.Value, PyEquality.Instance))).ToList();
    }

    /// <summary><c>verify_listing</c>: <c>verify_entries</c>'s entries as one compact string.</summary>
    public static object? CompactList(PathGuard guard, object treeLock, IReadOnlyList<object?> args)
    {
        WireArgs.Count(CompactListName, args, 2);
        return VerifyListing.Encode(ListEntries(guard, treeLock, args[0], WireArgs.IsTruthy(args[1]), CompactListName));
    }

    /// <summary><c>checksum_listing</c>: <c>checksum_entries</c> with the names and the digests as compact strings.</summary>
    public static object? CompactHash(PathGuard guard, object treeLock, IReadOnlyList<object?> args, CancellationToken cancellationToken)
    {
        WireArgs.Count(CompactHashName, args, 3);
        _ = WireArgs.Path(CompactHashName, args[0]);
        CheckAlgorithm(CompactHashName, args[2]);
        var names = VerifyListing.DecodeNames(WireArgs.Text(CompactHashName, "names", args[1]),
            what => RepceCallException.ValueError($"{CompactHashName}(): the names are not NUL-terminated names: {what}"));
        CheckCount(CompactHashName, names.Count);
        return VerifyListing.EncodeDigests(HashEntries(guard, treeLock, args[0], names, cancellationToken, CompactHashName));
    }

    /// <summary><c>verify_entries</c> without the wire encoding, for a caller in the slave's process; fails as the call does.</summary>
    public static List<ReplicaEntry> ListEntries(PathGuard guard, object treeLock, object? pathArgument, bool withXattrs,
        string method = ListName)
    {
        var path = WireArgs.Path(method, pathArgument);
        Master.OpenDirectory dir;
        GuardedPath target;
        // As for hashing: resolved and opened under the lock, read relative to the open descriptor outside it.
        lock (treeLock)
        {
            target = Resolve(guard, path);
            dir = Read(() => LocalEntryReader.Open(target.FullPath, WireText.ToText(path)));
        }
        using (dir)
        {
            return Read(() => LocalEntryReader.List(dir, target.FullPath, WireText.ToText(path), withXattrs));
        }
    }

    public static object? Hash(PathGuard guard, object treeLock, IReadOnlyList<object?> args, CancellationToken cancellationToken)
    {
        WireArgs.Count(HashName, args, 3);
        // A bad path is refused before a bad algorithm or name, as it always was.
        _ = WireArgs.Path(HashName, args[0]);
        CheckAlgorithm(HashName, args[2]);
        var names = WireArgs.Items(HashName, "names", args[1]).Select(n => WireArgs.Text(HashName, "name", n)).ToList();
        CheckCount(HashName, names.Count);
        return HashEntries(guard, treeLock, args[0], names, cancellationToken)
            .Select(d => (object?)new PyTuple(d.Name, d.Digest, (long)d.Errno)).ToList();
    }

    /// <summary><c>checksum_entries</c> without the wire encoding, for a caller in the slave's process; fails as the call does.</summary>
    public static EntryDigest[] HashEntries(PathGuard guard, object treeLock, object? pathArgument, IReadOnlyList<string> names,
        CancellationToken cancellationToken, string method = HashName)
    {
        var path = WireArgs.Path(method, pathArgument);
        if (names.Any(n => n.Length == 0 || n.Contains('/', StringComparison.Ordinal) || n is "." or ".."))
        {
            throw RepceCallException.ValueError("unsafe path");
        }
        Master.OpenDirectory dir;
        // The directory is resolved and opened under the lock; hashing runs outside it, relative to the open descriptor.
        lock (treeLock)
        {
            var target = Resolve(guard, path);
            dir = Read(() => LocalEntryReader.Open(target.FullPath, WireText.ToText(path)));
        }
        using (dir)
        {
            return LocalEntryReader.Hash(dir, names, cancellationToken);
        }
    }

    private static void CheckAlgorithm(string method, object? argument)
    {
        var algorithm = WireArgs.Text(method, "algorithm", argument);
        if (algorithm != LocalEntryReader.DigestAlgorithm)
        {
            throw RepceCallException.ValueError($"{method}(): unknown digest algorithm '{algorithm}'; this slave hashes with '{LocalEntryReader.DigestAlgorithm}'");
        }
    }

    private static void CheckCount(string method, int count)
    {
        if (count > MaxNamesPerHashCall)
        {
            throw RepceCallException.ValueError($"{method}(): at most {MaxNamesPerHashCall} names per call, got {count}");
        }
    }

    private static GuardedPath Resolve(PathGuard guard, byte[] path)
    {
        try
        {
            return guard.Resolve(path);
        }
        catch (GeoSyncPathGuardException)
        {
            throw RepceCallException.ValueError("unsafe path");
        }
    }

    private static T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (GeoSyncReplicaReadException ex)
        {
            throw WireArgs.OsError(ex.Errno);
        }
    }
}
