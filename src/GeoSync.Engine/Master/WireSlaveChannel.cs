using System.Numerics;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>Sends one call to the slave and returns its plain-data result (a RePCe client's <c>CallAsync</c>).</summary>
public delegate Task<object?> SlaveCall(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken);

/// <summary>
/// <see cref="ISlaveChannel"/> over any way of reaching the slave's wire methods: builds the argument tuples, reads the
/// plain-data answers, and reports an answer of the wrong shape as a protocol error naming the call.
/// </summary>
public sealed class WireSlaveChannel : ISlaveChannel
{
    private readonly SlaveCall _call;

    // Whether the slave answers set_xtimes; unknown until the first batch (a 3.3 or 10.x gsyncd, an older GeoSync: no).
    private bool? _batchesXtimes;

    public WireSlaveChannel(SlaveCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        _call = call;
    }

    /// <summary>
    /// A channel to a slave server in this process: its exceptions become what a RePCe client raises.
    /// </summary>
    public static WireSlaveChannel InProcess(SlaveServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return new WireSlaveChannel(async (method, args, cancellationToken) =>
        {
            try
            {
                return await server.InvokeAsync(method, args, cancellationToken).ConfigureAwait(false);
            }
            catch (RepceCallException ex)
            {
                throw AsRemote(method, ex.Exception);
            }
        });
    }

    public async Task<IReadOnlyList<string>> EntriesAsync(string path, CancellationToken cancellationToken = default)
    {
        var answer = await CallAsync("entries", [path], cancellationToken).ConfigureAwait(false);
        return Items("entries", path, answer).Select(name => Text("entries", path, name)).ToList();
    }

    public async Task<IReadOnlyList<SlaveEntryType>> EntryTypesAsync(string path, CancellationToken cancellationToken = default)
    {
        var answer = await CallAsync(EntryTypesMethod.Name, [path], cancellationToken).ConfigureAwait(false);
        var entries = new List<SlaveEntryType>();
        foreach (var item in Items(EntryTypesMethod.Name, path, answer))
        {
            if (item is not IReadOnlyList<object?> { Count: 2 } fields) throw Malformed(EntryTypesMethod.Name, path, item);
            var format = Integer(EntryTypesMethod.Name, path, fields[1]);
            if (format is <= 0 or > 0xF000 || (format & 0xFFF) != 0) throw Malformed(EntryTypesMethod.Name, path, item);
            entries.Add(new SlaveEntryType(Text(EntryTypesMethod.Name, path, fields[0]), EntryStat.TypeOf((Mono.Unix.Native.FilePermissions)(uint)format)));
        }
        return entries;
    }

    public async Task<IReadOnlyList<SlaveEntry>> LstatEntriesAsync(string path, CancellationToken cancellationToken = default)
    {
        var answer = await CallAsync(LstatEntriesMethod.Name, [path], cancellationToken).ConfigureAwait(false);
        var entries = new List<SlaveEntry>();
        foreach (var item in Items(LstatEntriesMethod.Name, path, answer))
        {
            // A slave before the device number (the 9th field) sends 8; its devices then compare as number 0.
            if (item is not IReadOnlyList<object?> { Count: 8 or 9 } fields) throw Malformed(LstatEntriesMethod.Name, path, item);
            var mode = Integer(LstatEntriesMethod.Name, path, fields[1]);
            var type = EntryStat.TypeOf((Mono.Unix.Native.FilePermissions)(uint)mode);
            var target = fields[7] is null ? null : Text(LstatEntriesMethod.Name, path, fields[7]);
            entries.Add(new SlaveEntry(
                Text(LstatEntriesMethod.Name, path, fields[0]),
                new EntryStat(
                    type,
                    (int)(mode & 0xFFF),
                    Integer(LstatEntriesMethod.Name, path, fields[2]),
                    Integer(LstatEntriesMethod.Name, path, fields[3]),
                    Integer(LstatEntriesMethod.Name, path, fields[4]),
                    Integer(LstatEntriesMethod.Name, path, fields[5]),
                    Integer(LstatEntriesMethod.Name, path, fields[6]),
                    type == EntryType.Symlink ? target : null)
                {
                    SpecialFileType = type == EntryType.Special ? (int)(mode & (long)Mono.Unix.Native.FilePermissions.S_IFMT) : 0,
                    DeviceNumber = fields.Count > 8 ? Integer(LstatEntriesMethod.Name, path, fields[8]) : 0,
                }));
        }
        return entries;
    }

    public Task PurgeAsync(string path, IReadOnlyCollection<string>? entries = null, CancellationToken cancellationToken = default)
    {
        if (entries is null) return CallAsync("purge", [path], cancellationToken);
        // An empty set would purge nothing on a GeoSync slave but empty the directory on a 3.3 one (docs/gsyncd-flaws.md, #13).
        if (entries.Count == 0) throw new ArgumentException($"purge of '{path}' was given no entries; pass null to purge the path itself", nameof(entries));
        return CallAsync("purge", [path, entries.Cast<object?>().ToList()], cancellationToken);
    }

    public Task MkdirAsync(string path, CancellationToken cancellationToken = default) =>
        CallAsync("mkdir", [path], cancellationToken);

    public Task SymlinkAsync(string target, string path, CancellationToken cancellationToken = default) =>
        CallAsync("symlink", [target, path], cancellationToken);

    public async Task<XtimeReading> XtimeAsync(string path, string uuid, CancellationToken cancellationToken = default)
    {
        var answer = await CallAsync("xtime", [path, uuid], cancellationToken).ConfigureAwait(false);
        if (answer is IReadOnlyList<object?> { Count: 2 } pair)
        {
            var seconds = Integer("xtime", path, pair[0]);
            var microseconds = Integer("xtime", path, pair[1]);
            if (seconds is >= 0 and <= uint.MaxValue && microseconds is >= 0 and <= uint.MaxValue)
            {
                return XtimeReading.Found(new Xtime((uint)seconds, (uint)microseconds));
            }
        }
        else if (answer is long or int or BigInteger)
        {
            var errno = Integer("xtime", path, answer);
            if (errno is > 0 and < 4096) return XtimeReading.Missing((int)errno);
        }
        throw Malformed("xtime", path, answer);
    }

    public Task SetXtimeAsync(string path, string uuid, Xtime value, CancellationToken cancellationToken = default) =>
        CallAsync("set_xtime", [path, uuid, new PyTuple((long)value.Seconds, (long)value.Microseconds)], cancellationToken);

    public async Task<IReadOnlyList<Exception?>> SetXtimesAsync(IReadOnlyList<string> paths, string uuid, Xtime value,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0) return [];
        if (_batchesXtimes != false)
        {
            var mark = new PyTuple((long)value.Seconds, (long)value.Microseconds);
            object? answer;
            try
            {
                answer = await CallAsync(SlaveServer.SetXtimesName, [uuid, paths.Select(p => (object?)new PyTuple(p, mark)).ToList()],
                    cancellationToken).ConfigureAwait(false);
                _batchesXtimes = true;
            }
            catch (RemoteAttributeException) when (_batchesXtimes is null)
            {
                _batchesXtimes = false;
                answer = null;
            }
            if (_batchesXtimes == true) return BatchResults(paths, answer);
        }
        return await SlaveXtimes.SetEachAsync(this, paths, uuid, value, cancellationToken).ConfigureAwait(false);
    }

    // set_xtimes answers one item per path: None, or (errno, strerror) with errno 0 for a refused path.
    private static Exception?[] BatchResults(IReadOnlyList<string> paths, object? answer)
    {
        var items = answer as IReadOnlyList<object?>;
        if (items is null || items.Count != paths.Count) throw Malformed(SlaveServer.SetXtimesName, paths[0], answer);
        var results = new Exception?[paths.Count];
        for (var i = 0; i < paths.Count; i++)
        {
            if (items[i] is null) continue;
            if (items[i] is not IReadOnlyList<object?> { Count: 2 } failure) throw Malformed(SlaveServer.SetXtimesName, paths[i], items[i]);
            var errno = Integer(SlaveServer.SetXtimesName, paths[i], failure[0]);
            var message = Text(SlaveServer.SetXtimesName, paths[i], failure[1]);
            results[i] = errno == 0
                ? new RemoteValueException("set_xtime", new PyException("exceptions", "ValueError", new PyTuple(message)))
                : new RemoteOsException("set_xtime", new PyException("exceptions", "OSError", new PyTuple(errno, message)), (int)errno, message);
        }
        return results;
    }

    public Task SetattrAsync(string path, SlaveAttributes attributes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var wire = new Dictionary<object, object?>(PyEquality.Instance);
        if (attributes.Owner is var (uid, gid)) wire["own"] = new PyTuple(uid, gid);
        if (attributes.Mode is int mode) wire["mode"] = (long)mode;
        if (attributes.Times is var (atime, mtime)) wire["times"] = new PyTuple(Seconds(atime), Seconds(mtime));
        return CallAsync("setattr", [path, wire], cancellationToken);

        static double Seconds(long nanoseconds) => nanoseconds / 1e9;
    }

    /// <summary>The exception a RePCe client raises for a Python exception the slave sent back.</summary>
    internal static RemoteException AsRemote(string method, PyException exception) => exception.TypeName switch
    {
        "OSError" or "IOError" or "EnvironmentError" when exception.Args.Count >= 2 && exception.Args[0] is long errno =>
            new RemoteOsException(method, exception, (int)errno, exception.Args[1] as string ?? ""),
        "ValueError" => new RemoteValueException(method, exception),
        "AttributeError" => new RemoteAttributeException(method, exception),
        _ => new RemoteException(method, exception),
    };

    private async Task<object?> CallAsync(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken) =>
        await _call(method, args, cancellationToken).ConfigureAwait(false);

    private static IEnumerable<object?> Items(string method, string path, object? answer) => answer switch
    {
        IReadOnlyList<object?> list => list,
        _ => throw Malformed(method, path, answer),
    };

    private static string Text(string method, string path, object? value) => value switch
    {
        string s => s,
        byte[] bytes => WireText.ToText(bytes),
        _ => throw Malformed(method, path, value),
    };

    private static long Integer(string method, string path, object? value) => value switch
    {
        long l => l,
        int i => i,
        BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
        _ => throw Malformed(method, path, value),
    };

    private static GeoSyncProtocolException Malformed(string method, string path, object? value) =>
        new($"the slave answered {method}('{path}') with {PyRepr.Format(value)}, which is not what that call returns; " +
            "the slave runs an incompatible gsyncd version");
}
