using GeoSync.Engine.Rpc;
using GeoSync.Engine.Session;
using GeoSync.Engine.Verify;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Slave;

/// <summary>
/// The slave's RePCe methods (docs/protocol.md, "The slave's API") over a root directory: an explicit table of wire names, every path checked by a
/// <see cref="PathGuard"/>, no final symlink ever followed.
/// </summary>
public sealed class SlaveServer : IRepceHandler
{
    private const double ApiVersion = 1.0;
    private const int AtFdCwd = -100; // ignored by the *at calls for the absolute paths used here
    private const int ModeBits = 0xFFF; // 07777
    private const int SetXtimesParallelism = 4;

    /// <summary>The wire name of the batched <c>set_xtime</c> (<see cref="SetXtimes"/>).</summary>
    public const string SetXtimesName = "set_xtimes";
    private const OpenFlags DirectoryNoFollow =
        OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC;

    private static readonly int ENOENT = NativeConvert.FromErrno(Errno.ENOENT);
    private static readonly int ENOTDIR = NativeConvert.FromErrno(Errno.ENOTDIR);
    private static readonly int ENODATA = NativeConvert.FromErrno(Errno.ENODATA);
    private static readonly int ENOTCONN = NativeConvert.FromErrno(Errno.ENOTCONN);
    private static readonly string[] VolumeMarkKeys = ["version", "uuid", "retval", "volume_mark", "timeout"];

    private readonly PathGuard _guard;
    private readonly IXattrStore _xattrs;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, Func<IReadOnlyList<object?>, object?>> _methods;
    private readonly Action<string, Exception>? _onCallFailed;
    private readonly string? _rootPathToVouch;
    private readonly (ulong Device, ulong Inode) _rootIdentity;

    // Held from the guard's lstat of the ancestors to the last system call of a method, so that the server's own
    // concurrent calls (symlink in one worker, mkdir below it in another) cannot slip a symlink past the guard.
    private readonly object _treeLock = new();

    private long _keepAlives;
    private long _lastKeepAliveUtcTicks;

    /// <param name="rootPath">The slave root. For a lazily unmounted GlusterFS mount that is the process's cwd: pass <c>/proc/self/cwd</c>.</param>
    /// <param name="xattrs">Extended attributes of the local file system.</param>
    /// <param name="xattrNamespace">The <c>&lt;ns&gt;</c> of docs/protocol.md, "Extended attributes: names and layouts"; null for <see cref="XattrNames.DefaultNamespace"/>.</param>
    /// <param name="clock">Decides which foreign marks have expired, and stamps keep-alives.</param>
    /// <param name="options">Server settings.</param>
    public SlaveServer(string rootPath, IXattrStore xattrs, string? xattrNamespace = null, TimeProvider? clock = null, SlaveServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(xattrs);
        _guard = new PathGuard(rootPath);
        _xattrs = xattrs;
        _clock = clock ?? TimeProvider.System;
        XattrNamespace = xattrNamespace ?? XattrNames.DefaultNamespace;
        options ??= new SlaveServerOptions();
        _onCallFailed = options.OnCallFailed;

        // "<root>/." resolves only if the root is (or leads to) a directory.
        if (Syscall.stat(_guard.RootSelf, out var rootStat) != 0)
        {
            throw new GeoSyncException($"the slave root '{_guard.Root}' cannot be served: {Stdlib.strerror(Stdlib.GetLastError())}; give an existing directory (or mount the slave volume first)");
        }
        _rootPathToVouch = options.RootPathToVouch;
        _rootIdentity = (rootStat.st_dev, rootStat.st_ino);

        _methods = new Dictionary<string, Func<IReadOnlyList<object?>, object?>>(StringComparer.Ordinal)
        {
            ["entries"] = Entries,
            ["purge"] = Purge,
            ["mkdir"] = Mkdir,
            ["symlink"] = Symlink,
            ["xtime"] = Xtime,
            ["xtime_vec"] = XtimeVec,
            ["set_xtime"] = SetXtime,
            ["set_xtime_vec"] = SetXtimeVec,
            [SetXtimesName] = SetXtimes,
            ["setattr"] = SetAttr,
            ["keep_alive"] = KeepAlive,
            ["version"] = Version,
            ["pid"] = Pid,
            [LstatEntriesMethod.Name] = LstatEntries,
            [EntryTypesMethod.Name] = EntryTypes,
            [RootIdentity.WireMethod] = RootIdentityOfRoot,
            [VerifyMethods.ListName] = args => VerifyMethods.List(_guard, _treeLock, args),
            [VerifyMethods.HashName] = args => VerifyMethods.Hash(_guard, _treeLock, args, CancellationToken.None),
            [VerifyMethods.CompactListName] = args => VerifyMethods.CompactList(_guard, _treeLock, args),
            [VerifyMethods.CompactHashName] = args => VerifyMethods.CompactHash(_guard, _treeLock, args, CancellationToken.None),
            [PreflightProbeMethod.Name] = args =>
            {
                EnsureRootVouched(PreflightProbeMethod.Name, args);
                return PreflightProbeMethod.Run(_guard, _treeLock, _xattrs, XattrNamespace, _clock, args);
            },
        };
        if (options.ServesGlusterVolume)
        {
            _methods["native_volume_info"] = NativeVolumeInfo;
            _methods["foreign_volume_infos"] = ForeignVolumeInfos;
        }
    }

    public string Root => _guard.Root;

    public string XattrNamespace { get; }

    /// <summary>The wire names this server answers.</summary>
    public IReadOnlyCollection<string> Methods => _methods.Keys;

    /// <summary>keep_alive calls answered so far; a watchdog that sees it unchanged for a timeout stops the slave (docs/protocol.md, "Keep-alive and the watchdog").</summary>
    public long KeepAliveCount => Interlocked.Read(ref _keepAlives);

    /// <summary>When the last keep_alive arrived, by the server's clock; null before the first.</summary>
    public DateTimeOffset? LastKeepAlive
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastKeepAliveUtcTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public bool HasMethod(string method) => _methods.ContainsKey(method);

    public ValueTask<object?> InvokeAsync(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(args);
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<object?>(cancellationToken);
        try
        {
            if (!_methods.TryGetValue(method, out var call))
            {
                throw RepceCallException.AttributeError($"'SlaveServer' object has no attribute '{method}'");
            }
            return ValueTask.FromResult(call(args));
        }
        catch (Exception ex)
        {
            _onCallFailed?.Invoke(method, ex);
            return ValueTask.FromException<object?>(ToWire(method, ex));
        }
    }

    /// <summary>
    /// <c>verify_entries</c> for a verifier in this process: the same entries, guard and failures as the call, without
    /// encoding each entry for the wire and decoding it again (docs/performance.md). Fails with <see cref="RepceCallException"/>.
    /// </summary>
    internal List<ReplicaEntry> VerifyEntries(string path, bool withXattrs) =>
        Typed(VerifyMethods.ListName, () => VerifyMethods.ListEntries(_guard, _treeLock, path, withXattrs));

    /// <summary><c>checksum_entries</c> for a verifier in this process, as <see cref="VerifyEntries"/> is <c>verify_entries</c>.</summary>
    internal EntryDigest[] ChecksumEntries(string path, IReadOnlyList<string> names, CancellationToken cancellationToken) =>
        Typed(VerifyMethods.HashName, () => VerifyMethods.HashEntries(_guard, _treeLock, path, names, cancellationToken));

    private T Typed<T>(string method, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _onCallFailed?.Invoke(method, ex);
            throw ToWire(method, ex);
        }
    }

    private static RepceCallException ToWire(string method, Exception ex) => ex switch
    {
        RepceCallException call => call,
        // Python masters know this exact refusal (docs/protocol.md, "The slave's API"); the reason goes to OnCallFailed only.
        GeoSyncPathGuardException => RepceCallException.ValueError("unsafe path"),
        GeoSyncXattrException xattr when xattr.Errno != 0 => WireArgs.OsError(xattr.Errno),
        _ => WireArgs.RuntimeError($"{method}() failed on the slave: {ex.GetType().Name}: {ex.Message}"),
    };

    private object? LstatEntries(IReadOnlyList<object?> args)
    {
        EnsureRootVouched(LstatEntriesMethod.Name, args);
        lock (_treeLock) return LstatEntriesMethod.Invoke(_guard, args);
    }

    private object? EntryTypes(IReadOnlyList<object?> args)
    {
        EnsureRootVouched(EntryTypesMethod.Name, args);
        lock (_treeLock) return EntryTypesMethod.Invoke(_guard, args);
    }

    /// <summary>
    /// Before the root is listed — every crawl of the tree starts there, and a listing can lead to purges and rsync runs —
    /// the path rsync writes to must still show the served root (<see cref="SlaveServerOptions.RootPathToVouch"/>).
    /// </summary>
    private void EnsureRootVouched(string method, IReadOnlyList<object?> args)
    {
        if (_rootPathToVouch is null || args.Count != 1) return;
        GuardedPath target;
        try
        {
            target = _guard.Resolve(WireArgs.Path(method, args[0]));
        }
        catch (GeoSyncPathGuardException)
        {
            return; // the method itself refuses it
        }
        if (!target.IsRoot) return;
        string? why = null;
        if (Syscall.stat(_guard.RootSelf, out var served) != 0)
        {
            why = $"the slave volume answers {Stdlib.GetLastError()} (its client lost the volume)";
        }
        else if (Syscall.stat(_rootPathToVouch, out var now) != 0)
        {
            why = $"{_rootPathToVouch} answers {Stdlib.GetLastError()}";
        }
        else if ((now.st_dev, now.st_ino) != _rootIdentity || (served.st_dev, served.st_ino) != _rootIdentity)
        {
            why = $"{_rootPathToVouch} is no longer the slave volume that was mounted there (it was unmounted or replaced), " +
                "so rsync would write somewhere else";
        }
        if (why is not null) throw RepceCallException.OsError(ENOTCONN, $"slave root not vouched for: {why}");
    }

    /// <summary>
    /// <c>root_identity()</c>, a GeoSync extension: what the slave root is on its host, so a master on the same host can
    /// refuse a slave that is its own tree or overlaps it (docs/sessions.md).
    /// </summary>
    private object? RootIdentityOfRoot(IReadOnlyList<object?> args)
    {
        WireArgs.Count(RootIdentity.WireMethod, args, 0);
        return RootIdentity.Read(_guard.Root).ToWire();
    }

    private object? Entries(IReadOnlyList<object?> args)
    {
        WireArgs.Count("entries", args, 1);
        var path = WireArgs.Path("entries", args[0]);
        EnsureRootVouched("entries", args);
        lock (_treeLock)
        {
            var target = _guard.Resolve(path);
            if (Syscall.lstat(target.FullPath, out var stat) != 0) throw WireArgs.OsError(Stdlib.GetLastError());
            // A symlink is not a directory here, whatever it points to.
            if ((stat.st_mode & FilePermissions.S_IFMT) != FilePermissions.S_IFDIR) throw WireArgs.OsError(Errno.ENOTDIR);
            var fd = Syscall.open(target.FullPath, DirectoryNoFollow);
            if (fd < 0) throw WireArgs.OsError(Stdlib.GetLastError());
            var dir = OpenDirectoryStream(fd);
            try
            {
                return ReadNames(dir).Select(name => (object?)WireText.ToText(WireText.FromNative(name))).ToList();
            }
            finally
            {
                _ = Syscall.closedir(dir);
            }
        }
    }

    private object? Purge(IReadOnlyList<object?> args)
    {
        WireArgs.Count("purge", args, 1, 2);
        var path = WireArgs.Path("purge", args[0]);
        var entries = args.Count > 1 && args[1] is not null
            ? WireArgs.Items("purge", "entries", args[1]).Select(e => WireArgs.Bytes("purge", "entry", e)).ToList()
            : null;
        lock (_treeLock)
        {
            var container = _guard.Resolve(path);
            if (entries is null)
            {
                RemoveTree(container);
                return null;
            }
            // An empty container purges nothing: 3.3 emptied the whole directory here (docs/gsyncd-flaws.md, #13).
            // Every entry is checked before anything is removed, so one bad name refuses the whole call.
            var targets = entries.Select(entry => _guard.Resolve(JoinEntry(path, entry))).ToList();
            foreach (var target in targets) RemoveTree(target);
            return null;
        }
    }

    private object? Mkdir(IReadOnlyList<object?> args)
    {
        WireArgs.Count("mkdir", args, 1);
        var path = WireArgs.Path("mkdir", args[0]);
        lock (_treeLock)
        {
            // 0777 less the process umask, applied by the kernel: the umask is never changed (docs/gsyncd-flaws.md, #28).
            Create(_guard.Resolve(path), full => Syscall.mkdir(full, FilePermissions.ACCESSPERMS));
        }
        return null;
    }

    private object? Symlink(IReadOnlyList<object?> args)
    {
        WireArgs.Count("symlink", args, 2);
        // The link target is content (what the master's link says), never resolved here.
        var linkTarget = WireArgs.Bytes("symlink", "target", args[0]);
        if (linkTarget.Contains((byte)0)) throw RepceCallException.ValueError("embedded null byte");
        var path = WireArgs.Path("symlink", args[1]);
        lock (_treeLock)
        {
            Create(_guard.Resolve(path), full => Syscall.symlink(WireText.ToNative(linkTarget), full));
        }
        return null;
    }

    private object? Xtime(IReadOnlyList<object?> args)
    {
        WireArgs.Count("xtime", args, 2);
        var path = WireArgs.Path("xtime", args[0]);
        var uuid = UuidToken("xtime", args[1]);
        lock (_treeLock)
        {
            return ReadXtime(_guard.Resolve(path), uuid);
        }
    }

    private object? XtimeVec(IReadOnlyList<object?> args)
    {
        WireArgs.Count("xtime_vec", args, 1, int.MaxValue);
        var path = WireArgs.Path("xtime_vec", args[0]);
        var uuids = args.Skip(1).Select(u => UuidToken("xtime_vec", u)).ToList();
        lock (_treeLock)
        {
            var target = _guard.Resolve(path);
            var xtimes = new Dictionary<object, object?>(PyEquality.Instance);
            foreach (var uuid in uuids)
            {
                var xtime = ReadXtime(target, uuid);
                if (xtime is long errno)
                {
                    if (errno != ENODATA) return errno;
                    xtime = null;
                }
                xtimes[uuid] = xtime;
            }
            return xtimes;
        }
    }

    private object? SetXtime(IReadOnlyList<object?> args)
    {
        WireArgs.Count("set_xtime", args, 3);
        var path = WireArgs.Path("set_xtime", args[0]);
        var uuid = UuidToken("set_xtime", args[1]);
        var mark = XtimeArgument("set_xtime", args[2]);
        lock (_treeLock)
        {
            _xattrs.Set(_guard.Resolve(path).FullPath, XattrNames.XtimeFor(uuid, XattrNamespace), mark.ToBytes());
        }
        return null;
    }

    /// <summary>
    /// <c>set_xtimes(uuid, [(path, (sec, usec)), ...])</c>, a GeoSync extension (3.3 and 10.x slaves lack it): many
    /// <c>set_xtime</c>s in one call (docs/protocol.md, "The slave's API"). Answers a list with one item per path, in
    /// order: None when it was set, else <c>(errno, strerror)</c> of what that path's own <c>set_xtime</c> would have
    /// raised — errno 0 for a path the guard refuses (its <c>ValueError('unsafe path')</c>). A malformed argument fails
    /// the whole call, as it would <c>set_xtime</c>.
    /// </summary>
    /// <remarks>
    /// The paths are checked under the tree lock with each ancestor directory lstat'ed once per call instead of once per
    /// path, and the attributes written a few at a time: through a GlusterFS mount each of those is a round trip to the
    /// brick, and the client serves several at once (docs/performance.md, "Slave listings and xtimes on a GlusterFS slave").
    /// </remarks>
    private object? SetXtimes(IReadOnlyList<object?> args)
    {
        WireArgs.Count(SetXtimesName, args, 2);
        var uuid = UuidToken(SetXtimesName, args[0]);
        var name = XattrNames.XtimeFor(uuid, XattrNamespace);
        var items = WireArgs.Items(SetXtimesName, "items", args[1])
            .Select(item =>
            {
                var pair = WireArgs.Sequence(SetXtimesName, "item", item, 2);
                return (Path: WireArgs.Path(SetXtimesName, pair[0]), Mark: XtimeArgument(SetXtimesName, pair[1]));
            })
            .ToList();
        var results = new object?[items.Count];
        lock (_treeLock)
        {
            var checkedDirectories = new HashSet<string>(StringComparer.Ordinal);
            var targets = new string?[items.Count];
            for (var i = 0; i < items.Count; i++)
            {
                try
                {
                    targets[i] = _guard.Resolve(items[i].Path, checkedDirectories).FullPath;
                }
                catch (GeoSyncPathGuardException)
                {
                    results[i] = new PyTuple(0L, "unsafe path");
                }
            }
            Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = SetXtimesParallelism }, i =>
            {
                if (targets[i] is not { } target) return;
                try
                {
                    _xattrs.Set(target, name, items[i].Mark.ToBytes());
                }
                catch (GeoSyncXattrException ex) when (ex.Errno != 0)
                {
                    var errno = NativeConvert.TryToErrno(ex.Errno, out var e) ? Stdlib.strerror(e) : $"errno {ex.Errno}";
                    results[i] = new PyTuple((long)ex.Errno, errno);
                }
            });
        }
        return results.ToList();
    }

    private object? SetXtimeVec(IReadOnlyList<object?> args)
    {
        WireArgs.Count("set_xtime_vec", args, 2);
        var path = WireArgs.Path("set_xtime_vec", args[0]);
        var marks = WireArgs.Dict("set_xtime_vec", "marks", args[1])
            .Select(pair => (Uuid: UuidToken("set_xtime_vec", pair.Key), Mark: XtimeArgument("set_xtime_vec", pair.Value)))
            .ToList();
        lock (_treeLock)
        {
            var target = _guard.Resolve(path);
            foreach (var (uuid, mark) in marks)
            {
                _xattrs.Set(target.FullPath, XattrNames.XtimeFor(uuid, XattrNamespace), mark.ToBytes());
            }
        }
        return null;
    }

    private object? SetAttr(IReadOnlyList<object?> args)
    {
        WireArgs.Count("setattr", args, 2);
        var path = WireArgs.Path("setattr", args[0]);
        var attributes = WireArgs.Dict("setattr", "attributes", args[1]);
        (uint Uid, uint Gid)? owner = null;
        if (WireArgs.TryGet(attributes, "own", out var own) && WireArgs.IsTruthy(own))
        {
            var pair = WireArgs.Sequence("setattr", "'own'", own, 2);
            owner = (Id("uid", pair[0]), Id("gid", pair[1]));
        }
        long? mode = null;
        if (WireArgs.TryGet(attributes, "mode", out var modeValue) && WireArgs.IsTruthy(modeValue))
        {
            mode = WireArgs.Integer("setattr", "'mode'", modeValue) & ModeBits;
        }
        Timespec[]? times = null;
        if (WireArgs.TryGet(attributes, "times", out var timesValue) && WireArgs.IsTruthy(timesValue))
        {
            var pair = WireArgs.Sequence("setattr", "'times'", timesValue, 2);
            times = [TimeArgument(pair[0]), TimeArgument(pair[1])];
        }

        lock (_treeLock)
        {
            var target = _guard.Resolve(path);
            if (owner is var (uid, gid) && Syscall.lchown(target.FullPath, uid, gid) != 0)
            {
                throw WireArgs.OsError(Stdlib.GetLastError());
            }
            if (mode is long bits) ChangeModeUnlessSymlink(target.FullPath, (FilePermissions)bits);
            if (times is not null && Syscall.utimensat(AtFdCwd, target.FullPath, times, AtFlags.AT_SYMLINK_NOFOLLOW) != 0)
            {
                throw WireArgs.OsError(Stdlib.GetLastError());
            }
        }
        return null;

        static uint Id(string what, object? value)
        {
            var id = WireArgs.Integer("setattr", what, value);
            // -1 leaves that id unchanged, as with chown(2).
            return id == -1 ? uint.MaxValue
                : id is >= 0 and < uint.MaxValue ? (uint)id
                : throw RepceCallException.TypeError($"setattr(): {what} {id} is out of range");
        }
    }

    private object? KeepAlive(IReadOnlyList<object?> args)
    {
        WireArgs.Count("keep_alive", args, 1);
        if (WireArgs.IsTruthy(args[0]))
        {
            var payload = WireArgs.Dict("keep_alive", "payload", args[0]);
            var mark = ForeignMark(payload);
            lock (_treeLock)
            {
                _xattrs.Set(_guard.RootSelf, XattrNames.ForeignVolumeMark(mark.VolumeId, XattrNamespace), mark.Encode());
            }
        }
        Interlocked.Exchange(ref _lastKeepAliveUtcTicks, _clock.GetUtcNow().UtcTicks);
        return Interlocked.Increment(ref _keepAlives);
    }

    private object? Version(IReadOnlyList<object?> args)
    {
        WireArgs.Count("version", args, 0);
        return ApiVersion;
    }

    private object? Pid(IReadOnlyList<object?> args)
    {
        WireArgs.Count("pid", args, 0);
        return (long)Environment.ProcessId;
    }

    private object? NativeVolumeInfo(IReadOnlyList<object?> args)
    {
        WireArgs.Count("native_volume_info", args, 0);
        lock (_treeLock)
        {
            var value = _xattrs.Get(_guard.RootSelf, XattrNames.VolumeMark(XattrNamespace));
            return value is null ? null : DecodeMark(value, VolumeMark.NativeLength).ToWireDictionary();
        }
    }

    private object? ForeignVolumeInfos(IReadOnlyList<object?> args)
    {
        WireArgs.Count("foreign_volume_infos", args, 0);
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var prefix = XattrNames.ForeignVolumeMarkPrefix(XattrNamespace);
        var live = new List<object?>();
        lock (_treeLock)
        {
            foreach (var name in _xattrs.List(_guard.RootSelf))
            {
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var value = _xattrs.Get(_guard.RootSelf, name);
                if (value is null) continue;
                var mark = DecodeMark(value, VolumeMark.ForeignLength);
                if (mark.Expiry > now)
                {
                    live.Add(mark.ToWireDictionary());
                    continue;
                }
                try
                {
                    _xattrs.Remove(_guard.RootSelf, name);
                }
                catch (GeoSyncXattrException)
                {
                    // An expired mark that cannot be removed is still expired; the next call tries again.
                }
            }
        }
        return live;
    }

    private object ReadXtime(GuardedPath target, string uuid)
    {
        byte[]? value;
        try
        {
            value = _xattrs.Get(target.FullPath, XattrNames.XtimeFor(uuid, XattrNamespace));
        }
        catch (GeoSyncXattrException ex) when (ex.Errno == ENOENT || ex.Errno == ENOTDIR)
        {
            // Answers, not failures: the crawl reacts to these numbers (docs/protocol.md, "The slave's API").
            return (long)ex.Errno;
        }
        if (value is null) return (long)ENODATA;
        // The original read at most 8 bytes: a longer value was ERANGE, a shorter one failed to unpack.
        if (value.Length > Xattrs.Xtime.EncodedLength) throw WireArgs.OsError(Errno.ERANGE);
        if (value.Length < Xattrs.Xtime.EncodedLength) throw WireArgs.StructError("unpack requires a string argument of length 8");
        var xtime = Xattrs.Xtime.FromBytes(value);
        return new PyTuple((long)xtime.Seconds, (long)xtime.Microseconds);
    }

    private static VolumeMark DecodeMark(byte[] value, int length)
    {
        if (value.Length > length) throw WireArgs.OsError(Errno.ERANGE);
        if (value.Length < length) throw WireArgs.StructError($"unpack requires a string argument of length {length}");
        return VolumeMark.Decode(value);
    }

    private static VolumeMark ForeignMark(IReadOnlyDictionary<object, object?> payload)
    {
        foreach (var key in VolumeMarkKeys)
        {
            if (!WireArgs.TryGet(payload, key, out _)) throw WireArgs.KeyError(key);
        }
        VolumeMark mark;
        try
        {
            mark = VolumeMark.FromWireDictionary(payload);
        }
        catch (GeoSyncException ex)
        {
            // The original packed the payload with struct, which is what refused bad values there.
            throw WireArgs.StructError(ex.Message);
        }
        return mark.IsForeign ? mark : throw WireArgs.StructError("keep_alive(): the payload's 'timeout' must be an integer");
    }

    /// <summary>Runs a creating call; on EEXIST destroys whatever is in the way and runs it once more (docs/protocol.md, "The slave's API" <c>_create</c>).</summary>
    private static void Create(GuardedPath target, Func<string, int> create)
    {
        RefuseRootOrDot(target);
        if (create(target.FullPath) == 0) return;
        var errno = Stdlib.GetLastError();
        if (errno != Errno.EEXIST) throw WireArgs.OsError(errno);
        RemovePath(target.FullPath);
        if (create(target.FullPath) != 0) throw WireArgs.OsError(Stdlib.GetLastError());
    }

    private static void RemoveTree(GuardedPath target)
    {
        RefuseRootOrDot(target);
        RemovePath(target.FullPath);
    }

    // POSIX refuses to remove or create "x/." (EINVAL); the root itself is never removed or replaced. 3.3 emptied
    // the directory first and failed only at the end.
    private static void RefuseRootOrDot(GuardedPath target)
    {
        if (target.IsRoot || target.EndsWithDot) throw WireArgs.OsError(Errno.EINVAL);
    }

    /// <summary>
    /// Removes a path of any type without following it: unlink; a directory is emptied through its own file
    /// descriptor (nothing below it is reached by path, so nothing can be swapped for a symlink) and removed.
    /// </summary>
    private static void RemovePath(string full)
    {
        if (Syscall.unlink(full) == 0) return;
        var errno = Stdlib.GetLastError();
        if (errno == Errno.EISDIR)
        {
            var fd = Syscall.open(full, DirectoryNoFollow);
            if (fd >= 0)
            {
                RemoveContents(fd);
                if (Syscall.rmdir(full) == 0) return;
                throw WireArgs.OsError(Stdlib.GetLastError());
            }
            errno = Stdlib.GetLastError(); // no longer a directory
        }
        if (errno is Errno.ENOTDIR or Errno.ENOENT or Errno.ELOOP)
        {
            // Gone already counts as removed; anything else in the way is unlinked once more.
            if (Syscall.unlink(full) == 0) return;
            errno = Stdlib.GetLastError();
            if (errno == Errno.ENOENT) return;
        }
        throw WireArgs.OsError(errno);
    }

    private static void RemoveContents(int dirFd)
    {
        var dir = OpenDirectoryStream(dirFd);
        try
        {
            foreach (var name in ReadNames(dir))
            {
                if (Syscall.unlinkat(dirFd, name, 0) == 0) continue;
                var errno = Stdlib.GetLastError();
                if (errno == Errno.ENOENT) continue;
                if (errno != Errno.EISDIR) throw WireArgs.OsError(errno);

                var childFd = Syscall.openat(dirFd, name, DirectoryNoFollow);
                if (childFd >= 0)
                {
                    RemoveContents(childFd);
                    UnlinkAt(dirFd, name, AtFlags.AT_REMOVEDIR);
                    continue;
                }
                errno = Stdlib.GetLastError();
                if (errno == Errno.ENOENT) continue;
                if (errno is not (Errno.ENOTDIR or Errno.ELOOP)) throw WireArgs.OsError(errno);
                UnlinkAt(dirFd, name, 0); // replaced by a non-directory since the first try
            }
        }
        finally
        {
            _ = Syscall.closedir(dir); // closes dirFd too
        }
    }

    private static void UnlinkAt(int dirFd, string name, AtFlags flags)
    {
        if (Syscall.unlinkat(dirFd, name, flags) == 0) return;
        var errno = Stdlib.GetLastError();
        if (errno != Errno.ENOENT) throw WireArgs.OsError(errno);
    }

    private static IntPtr OpenDirectoryStream(int fd)
    {
        var dir = Syscall.fdopendir(fd);
        if (dir != IntPtr.Zero) return dir;
        var errno = Stdlib.GetLastError();
        _ = Syscall.close(fd);
        throw WireArgs.OsError(errno);
    }

    private static List<string> ReadNames(IntPtr dir)
    {
        var names = new List<string>();
        for (var entry = Syscall.readdir(dir); entry is not null; entry = Syscall.readdir(dir))
        {
            if (entry.d_name is not ("." or "..")) names.Add(entry.d_name);
        }
        return names;
    }

    /// <summary>Python's os.path.join of a container and one of its entries.</summary>
    private static byte[] JoinEntry(byte[] container, byte[] entry)
    {
        // An empty entry would name the container itself ("dir/"), which 3.3 then removed whole.
        if (entry.Length == 0) throw new GeoSyncPathGuardException(WireText.ToText(container), "an empty entry name");
        if (entry[0] == (byte)'/') return entry;
        return container[^1] == (byte)'/' ? [.. container, .. entry] : [.. container, (byte)'/', .. entry];
    }

    private static void ChangeModeUnlessSymlink(string full, FilePermissions mode)
    {
        if (Syscall.fchmodat(AtFdCwd, full, mode, AtFlags.AT_SYMLINK_NOFOLLOW) == 0) return;
        var errno = Stdlib.GetLastError();
        // Linux links have no mode of their own; the C library answers EOPNOTSUPP instead of following the link.
        if (errno == Errno.EOPNOTSUPP && Syscall.lstat(full, out var stat) == 0
            && (stat.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFLNK)
        {
            return;
        }
        throw WireArgs.OsError(errno);
    }

    /// <summary>A uuid as the peer spelled it (the xattr name must match what the master wrote); no dots, NULs or slashes.</summary>
    private static string UuidToken(string method, object? value)
    {
        var token = WireArgs.Text(method, "uuid", value);
        if (token.Length is > 0 and <= 64 && token.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')) return token;
        throw RepceCallException.ValueError($"{method}(): '{token}' is not a volume uuid (letters, digits and '-' only)");
    }

    private static Xattrs.Xtime XtimeArgument(string method, object? value)
    {
        if (value is not IReadOnlyList<object?> pair) throw RepceCallException.TypeError($"{method}(): an xtime must be a (sec, usec) tuple, not {PyRepr.Format(value)}");
        if (pair.Count != 2) throw WireArgs.StructError($"pack expected 2 items for packing (got {pair.Count})");
        return new Xattrs.Xtime(Half(pair[0]), Half(pair[1]));

        uint Half(object? half)
        {
            if (half is not (long or int or System.Numerics.BigInteger))
            {
                throw WireArgs.StructError($"{method}(): xtime halves must be integers, not {PyRepr.Format(half)}");
            }
            var number = half is System.Numerics.BigInteger big ? big : new System.Numerics.BigInteger(Convert.ToInt64(half, System.Globalization.CultureInfo.InvariantCulture));
            return number >= 0 && number <= uint.MaxValue
                ? (uint)number
                : throw WireArgs.StructError("'I' format requires 0 <= number <= 4294967295");
        }
    }

    private static Timespec TimeArgument(object? value)
    {
        if (value is double seconds && double.IsFinite(seconds))
        {
            var whole = Math.Floor(seconds);
            return new Timespec { tv_sec = (long)whole, tv_nsec = (long)Math.Min((seconds - whole) * 1e9, 999_999_999) };
        }
        return new Timespec { tv_sec = WireArgs.Integer("setattr", "a time", value), tv_nsec = 0 };
    }
}
