using System.Numerics;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;

namespace GeoSync.Engine.Verify;

/// <summary>
/// The slave side of a verify over the session's slave channel: <c>verify_entries</c> and <c>checksum_entries</c> run on
/// the slave's own host, as their compact forms <c>verify_listing</c> and <c>checksum_listing</c> when the slave has them
/// (docs/verify.md, "On the wire"). A slave without any of them (GlusterFS's gsyncd) is refused with <see cref="GeoSyncException"/>.
/// </summary>
public sealed class SlaveReplicaSide : IReplicaSide
{
    private readonly SlaveCall _call;
    private readonly bool _withXattrs;
    private readonly string _slaveName;
    private readonly SlaveServer? _server;

    // Set once a slave answers that it lacks the compact methods (a GeoSync slave older than them): the tuple forms from then on.
    private volatile bool _noCompactMethods;

    /// <param name="call">Sends one call to the slave.</param>
    /// <param name="withXattrs">Ask for regular files' user.* xattrs too.</param>
    /// <param name="slaveName">The slave URL, for messages.</param>
    public SlaveReplicaSide(SlaveCall call, bool withXattrs, string slaveName)
    {
        ArgumentNullException.ThrowIfNull(call);
        _call = call;
        _withXattrs = withXattrs;
        _slaveName = slaveName;
    }

    /// <summary>
    /// A slave server in this process, called directly on the caller's thread: the same methods, guard and failures, but
    /// no wire encoding and no thread handoff — the verifier compares a directory on one thread, and its parallelism comes
    /// from comparing several directories at once (docs/performance.md).
    /// </summary>
    internal SlaveReplicaSide(SlaveServer server, bool withXattrs, string slaveName)
    {
        ArgumentNullException.ThrowIfNull(server);
        _server = server;
        _call = (_, _, _) => throw new InvalidOperationException("an in-process slave side is called directly");
        _withXattrs = withXattrs;
        _slaveName = slaveName;
    }

    public async Task<IReadOnlyList<ReplicaEntry>> ListAsync(string path, CancellationToken cancellationToken = default)
    {
        if (_server is { } server) return InProcess(VerifyMethods.ListName, path, () => server.VerifyEntries(path, _withXattrs));
        var (answered, listing) = await TryCompactAsync(VerifyMethods.CompactListName, path, [path, _withXattrs], cancellationToken).ConfigureAwait(false);
        if (answered)
        {
            return VerifyListing.Decode(Text(VerifyMethods.CompactListName, path, listing),
                what => MalformedListing(VerifyMethods.CompactListName, path, what));
        }
        var answer = await CallAsync(VerifyMethods.ListName, path, [path, _withXattrs], cancellationToken).ConfigureAwait(false);
        var entries = new List<ReplicaEntry>();
        foreach (var item in Items(VerifyMethods.ListName, path, answer))
        {
            if (item is not IReadOnlyList<object?> { Count: 9 } f) throw Malformed(VerifyMethods.ListName, path, item);
            var mode = Integer(path, f[1]);
            var type = LocalEntryReader.TypeOf((Mono.Unix.Native.FilePermissions)(uint)mode);
            IReadOnlyDictionary<string, string>? xattrs = null;
            if (f[8] is IReadOnlyDictionary<object, object?> dict)
            {
                xattrs = new SortedDictionary<string, string>(
                    dict.ToDictionary(x => Text(path, x.Key), x => Text(path, x.Value), StringComparer.Ordinal), StringComparer.Ordinal);
            }
            entries.Add(new ReplicaEntry(Text(path, f[0]), type, (int)(mode & 0xFFF), Integer(path, f[2]), Integer(path, f[3]),
                Integer(path, f[4]), Integer(path, f[5]), f[6] is null ? null : Text(path, f[6]), Integer(path, f[7]))
            {
                Xattrs = xattrs,
            });
        }
        return entries;
    }

    public async Task<IReadOnlyList<EntryDigest>> HashAsync(string path, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (_server is { } server)
        {
            var answered = InProcess(VerifyMethods.HashName, path, () => server.ChecksumEntries(path, names, cancellationToken));
            if (answered.Length != names.Count) throw Malformed(VerifyMethods.HashName, path, $"{answered.Length} digests for {names.Count} names");
            return answered;
        }
        var digests = new List<EntryDigest>(names.Count);
        for (var start = 0; start < names.Count; start += VerifyMethods.MaxNamesPerHashCall)
        {
            var round = names.Skip(start).Take(VerifyMethods.MaxNamesPerHashCall).ToList();
            var (answered, text) = await TryCompactAsync(VerifyMethods.CompactHashName, path,
                [path, VerifyListing.EncodeNames(round), LocalEntryReader.DigestAlgorithm], cancellationToken).ConfigureAwait(false);
            if (answered)
            {
                digests.AddRange(VerifyListing.DecodeDigests(Text(VerifyMethods.CompactHashName, path, text), round,
                    what => MalformedListing(VerifyMethods.CompactHashName, path, what)));
                continue;
            }
            var batch = round.Cast<object?>().ToList();
            var answer = await CallAsync(VerifyMethods.HashName, path, [path, batch, LocalEntryReader.DigestAlgorithm], cancellationToken).ConfigureAwait(false);
            foreach (var item in Items(VerifyMethods.HashName, path, answer))
            {
                if (item is not IReadOnlyList<object?> { Count: 3 } f) throw Malformed(VerifyMethods.HashName, path, item);
                digests.Add(new EntryDigest(Text(path, f[0]), f[1] is null ? null : Text(path, f[1]), (int)Integer(path, f[2])));
            }
        }
        if (digests.Count != names.Count) throw Malformed(VerifyMethods.HashName, path, $"{digests.Count} digests for {names.Count} names");
        return digests;
    }

    /// <summary>Calls a compact method; not answered when the slave lacks it, so the caller uses the tuple form.</summary>
    private async Task<(bool Answered, object? Answer)> TryCompactAsync(string method, string path, IReadOnlyList<object?> args,
        CancellationToken cancellationToken)
    {
        if (_noCompactMethods) return (false, null);
        try
        {
            return (true, await _call(method, args, cancellationToken).ConfigureAwait(false));
        }
        catch (RemoteAttributeException)
        {
            _noCompactMethods = true;
            return (false, null);
        }
        catch (RemoteException ex) when (Translate(method, path, ex) is { } translated)
        {
            throw translated;
        }
    }

    private async Task<object?> CallAsync(string method, string path, IReadOnlyList<object?> args, CancellationToken cancellationToken)
    {
        try
        {
            // A remote call only sends its request on this thread, so a local master side lists while the slave answers.
            return await _call(method, args, cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteException ex) when (Translate(method, path, ex) is { } translated)
        {
            throw translated;
        }
    }

    private T InProcess<T>(string method, string path, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (RepceCallException ex)
        {
            var remote = WireSlaveChannel.AsRemote(method, ex.Exception);
            throw Translate(method, path, remote) ?? remote;
        }
    }

    /// <summary>What a failed call means for the verify; null: it stays as it is (a fatal failure).</summary>
    private GeoSyncException? Translate(string method, string path, RemoteException ex) => ex switch
    {
        RemoteAttributeException => new GeoSyncException(
            $"verify needs a GeoSync slave: the slave {_slaveName} has no '{method}' method (GlusterFS's gsyncd has none); " +
            "run 'geosync slave' on the slave host (the remote command of an ssh slave)", ex),
        RemoteOsException os when !LinuxErrno.MeansSessionDown(os.Errno) =>
            new GeoSyncReplicaReadException(path, os.Errno, $"cannot read '{path}' on the slave: {ex.Message}"),
        RemoteValueException => new GeoSyncReplicaReadException(path, 0, $"the slave refused '{path}': {ex.Message}"),
        _ => null,
    };

    private static IEnumerable<object?> Items(string method, string path, object? answer) =>
        answer as IReadOnlyList<object?> ?? throw Malformed(method, path, answer);

    private static string Text(string path, object? value) => Text(VerifyMethods.ListName, path, value);

    private static string Text(string method, string path, object? value) => value switch
    {
        string s => s,
        byte[] bytes => WireText.ToText(bytes),
        _ => throw Malformed(method, path, value),
    };

    private static long Integer(string path, object? value) => value switch
    {
        long l => l,
        int i => i,
        BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
        _ => throw Malformed(VerifyMethods.ListName, path, value),
    };

    private static GeoSyncProtocolException MalformedListing(string method, string path, string what) =>
        new($"the slave answered {method}('{path}') with {what}, which is not what that call returns; " +
            "the slave runs an incompatible GeoSync version");

    private static GeoSyncProtocolException Malformed(string method, string path, object? value) =>
        new($"the slave answered {method}('{path}') with {PyRepr.Format(value)}, which is not what that call returns; " +
            "the slave runs an incompatible GeoSync version");
}
