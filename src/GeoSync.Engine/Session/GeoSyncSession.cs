using GeoSync.Engine.Operations;
using GeoSync.Engine.Master;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Transport.Mounting;
using GeoSync.Engine.Urls;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Session;

/// <summary>Where a session is in its life (docs/master-loop.md, "The state file", as a session sees it).</summary>
public enum SessionState
{
    /// <summary>Connecting the master and the slave.</summary>
    Starting,

    /// <summary>Connected; turns can run.</summary>
    Active,

    /// <summary>Lost its slave or hit a fatal error (see <see cref="GeoSyncSession.LastError"/>); stop it and open a new one.</summary>
    Faulty,

    /// <summary>Stopped: nothing of it is left running or mounted.</summary>
    Stopped,
}

/// <summary>
/// One geo-replication session: the master tree (a GlusterFS aux mount or a directory), a connected slave (in process, a
/// local <c>geosync slave</c> child, or over ssh), the rsync syncer towards it and the keep-alive. Runs crawl turns on
/// request; stopping it ends the slave and unmounts everything it mounted.
/// </summary>
public sealed partial class GeoSyncSession : IAsyncDisposable
{
    // A broken stream: the endpoint waits up to 5 s for the process to exit before it reports. Anything else (an rsync
    // run that failed because the slave's directory went away) waits only briefly for a broken connection.
    private static readonly TimeSpan BrokenExplanationGrace = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan OtherFailureGrace = TimeSpan.FromSeconds(1);
    private static int s_lastId;

    private readonly SessionOptions _options;
    private readonly IProcessRunner _runner;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly object _gate = new();
    private readonly List<Action<SessionLogLevel, string>> _listeners = [];
    private readonly List<IAsyncDisposable> _resources = [];
    private SlaveEndpoint? _slave;
    private Crawler? _crawler;
    private WatchedChanges? _watch;
    private BrickWake? _brickWake;
    private FailureLedger? _failureLedger;
    private IMasterTree? _masterTree;
    private bool _slaveClaimed;
    private bool _verifyOnly;
    private VolumeMark? _volumeInfo;
    private BrickSetXtimes? _localBricks;
    private Task _keepAlive = Task.CompletedTask;
    private Task? _runningTurn;
    private Task? _stopping;
    private SessionState _state = SessionState.Starting;
    private Exception? _lastError;
    private TurnResult? _lastTurn;
    private long _turns;
    private long _filesSynced;
    private long _bytesSynced;
    private long _keepAlives;
    private DateTimeOffset? _lastKeepAlive;

    private GeoSyncSession(SessionOptions options, GeoSyncUrl master, GeoSyncUrl slave, IProcessRunner runner)
    {
        _options = options;
        _runner = runner;
        Id = Interlocked.Increment(ref s_lastId);
        Name = options.Name ?? $"Session{Id}";
        Master = master;
        Slave = slave;
        StartTime = DateTimeOffset.Now;
    }

    /// <summary>A number unique in this process.</summary>
    public int Id { get; }

    public string Name { get; }

    public GeoSyncUrl Master { get; }

    public GeoSyncUrl Slave { get; }

    public SessionState State
    {
        get { lock (_gate) return _state; }
    }

    /// <summary>The uuid the xtimes are kept under (docs/master-loop.md, "The crawl"): the master volume's, or a foreign master's in a cascade; null for a directory master.</summary>
    public Guid? MasterVolumeId => _volumeInfo?.VolumeId;

    /// <summary>Another master feeds the master volume, and this session passes its changes on under that master's uuid (docs/master-loop.md, "The crawl").</summary>
    public bool IsIntermediateMaster => _volumeInfo?.IsForeign ?? false;

    /// <summary>
    /// The DHT subvolumes the master volume is distributed over, read from <c>trusted.glusterfs.pathinfo</c> on its root
    /// (1: a single brick or replica set); null for a directory master or when the layout could not be read.
    /// </summary>
    public int? MasterSubvolumeCount { get; private set; }

    /// <summary>
    /// The master's bricks, all directories of this host, where turns read its xtimes while all of them are up
    /// (docs/multi-brick.md; one for a one-brick volume); empty when they are read through the aux mount.
    /// </summary>
    public IReadOnlyList<string> MasterXtimeBricks => _localBricks?.BrickPaths ?? [];

    /// <summary>
    /// The crawl skips subtrees whose directory xtime equals the slave's (docs/master-loop.md, "The crawl"). False for a directory master and for a
    /// master distributed over several subvolumes, where GlusterFS 10.x answers a directory's xtime from one brick per
    /// read (docs/gluster-notes.md): then every directory is listed each turn.
    /// </summary>
    public bool PrunesByDirectoryXtime => _crawler?.PrunesByDirectoryXtime ?? false;

    /// <summary>How the slave is reached (never <see cref="SlaveMode.Auto"/>).</summary>
    public SlaveMode SlaveMode { get; private set; }

    /// <summary>Where rsync writes: the slave directory, the slave process's cwd (<c>/proc/&lt;pid&gt;/cwd</c>), or either over ssh.</summary>
    public RsyncTarget? RsyncTarget => _slave?.RsyncTarget;

    /// <summary>The slave server's process id (this process for an in-process slave).</summary>
    public int? SlaveProcessId => _slave?.ServerProcessId;

    /// <summary>The local process carrying the slave connection: the geosync slave child, or ssh; null in process.</summary>
    public int? SlaveConnectionProcessId => _slave?.ConnectionProcessId;

    /// <summary>Where the master volume is mounted (the aux mount), or the master directory.</summary>
    public string? MasterRoot { get; private set; }

    public DateTimeOffset StartTime { get; }

    /// <summary>What put the session into <see cref="SessionState.Faulty"/>, or the last turn's fatal error.</summary>
    public Exception? LastError
    {
        get { lock (_gate) return _lastError; }
    }

    /// <summary>The result of the newest turn that ran to its end.</summary>
    public TurnResult? LastTurn
    {
        get { lock (_gate) return _lastTurn; }
    }

    /// <summary>Turns that ran to their end.</summary>
    public long TurnsCompleted => Interlocked.Read(ref _turns);

    /// <summary>Files synced over all turns.</summary>
    public long FilesSynced => Interlocked.Read(ref _filesSynced);

    /// <summary>Bytes of the files synced over all turns.</summary>
    public long BytesSynced => Interlocked.Read(ref _bytesSynced);

    /// <summary>Keep-alives the slave answered.</summary>
    public long KeepAlivesSent => Interlocked.Read(ref _keepAlives);

    public DateTimeOffset? LastKeepAlive
    {
        get { lock (_gate) return _lastKeepAlive; }
    }

    /// <summary>What the running turn has done so far; null between turns.</summary>
    public TurnProgress? CurrentTurn => _crawler?.CurrentProgress;

    /// <summary>
    /// Opens a session (docs/sessions.md, "Opening, step by step"): the master (aux mount and volume info, or a directory), the slave with the RePCe handshake
    /// and <c>pid()</c>, the syncer and the keep-alive. On failure everything made so far is undone and
    /// <see cref="GeoSyncSessionException"/> (or the URL, mount or ssh exception that stopped it) is thrown.
    /// </summary>
    public static Task<GeoSyncSession> OpenAsync(SessionOptions options, CancellationToken cancellationToken = default) =>
        OpenAsync(options, new ProcessRunner(), cancellationToken);

    internal static Task<GeoSyncSession> OpenAsync(SessionOptions options, IProcessRunner runner, CancellationToken cancellationToken) =>
        OpenAsync(options, runner, verifyOnly: false, cancellationToken);

    /// <summary>
    /// Opens a session that can only verify (<see cref="CreateVerifier"/>): the master, the slave and the overlap check
    /// as <see cref="OpenAsync(SessionOptions, CancellationToken)"/> does, but no syncer, crawler, master watch or
    /// failure ledger, and no keep-alive that writes on the slave — a verify never writes there, and its open is most of
    /// a small verify's time (docs/performance.md). A remote slave still gets keep-alives, without payload, so its
    /// watchdog does not end it during a long verify. Turns, dry runs and repairs on it throw
    /// <see cref="InvalidOperationException"/>.
    /// </summary>
    public static Task<GeoSyncSession> OpenForVerifyAsync(SessionOptions options, CancellationToken cancellationToken = default) =>
        OpenAsync(options, new ProcessRunner(), verifyOnly: true, cancellationToken);

    private static async Task<GeoSyncSession> OpenAsync(SessionOptions options, IProcessRunner runner, bool verifyOnly,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var master = GeoSyncUrl.Parse(options.Master);
        var slave = GeoSyncUrl.Parse(options.Slave);
        GeoSyncUrl.EnsureConnectible(master, slave, options.AllowDirectoryMaster);
        var ledger = verifyOnly ? null : OpenFailureLedger(options, master, slave);
        var session = new GeoSyncSession(options, master, slave, runner) { _failureLedger = ledger, _verifyOnly = verifyOnly };
        try
        {
            await session.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await session.ReleaseAsync(throwOnFailure: false).ConfigureAwait(false);
            throw;
        }
        return session;
    }

    /// <summary>Receives the session's log from now on (any thread) until the returned handle is disposed.</summary>
    public IDisposable AddLogListener(Action<SessionLogLevel, string> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_listeners) _listeners.Add(listener);
        return new Subscription(() =>
        {
            lock (_listeners) _listeners.Remove(listener);
        });
    }

    /// <summary>
    /// Runs one crawl turn (docs/master-loop.md, "The crawl") and returns what it did. Throws <see cref="GeoSyncSessionException"/> when the session is
    /// not active or loses its slave during the turn; a fatal crawl error (timestamp corruption, a broken connection, an
    /// rsync that cannot run) is thrown as it is and leaves the session <see cref="SessionState.Faulty"/>. Cancelling
    /// abandons the turn; the session stays usable.
    /// </summary>
    public Task<TurnResult> RunTurnAsync(CancellationToken cancellationToken = default) =>
        RunCrawlAsync(TurnCrawler(), cancellationToken);

    /// <summary>The session's crawler; a session opened for verify only has none.</summary>
    private Crawler TurnCrawler() => _crawler ?? throw new InvalidOperationException(
        $"session {Name} was opened for verify only (OpenForVerifyAsync); open it with OpenAsync to run turns or repairs");

    /// <summary>
    /// Runs one turn of a crawler over this session's master, slave and syncer, never two at once: the session's own, or
    /// a repair's. The slave is claimed first (docs/sessions.md, "What a session refuses"); <paramref name="before"/> runs
    /// after that, inside the turn.
    /// </summary>
    private async Task<TurnResult> RunCrawlAsync(Crawler crawler, CancellationToken cancellationToken,
        Func<CancellationToken, Task>? before = null)
    {
        var result = await RunExclusiveAsync(async token =>
        {
            if (!_slaveClaimed)
            {
                await ClaimSlaveAsync(token).ConfigureAwait(false);
                _slaveClaimed = true;
            }
            if (before is not null) await before(token).ConfigureAwait(false);
            _brickWake?.TurnStarting();
            return await crawler.RunTurnAsync(token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _turns);
        Interlocked.Add(ref _filesSynced, result.FilesSynced);
        Interlocked.Add(ref _bytesSynced, result.BytesSynced);
        lock (_gate) _lastTurn = result;
        return result;
    }

    /// <summary>
    /// A dry run of one turn (<see cref="Crawler.PlanTurnAsync"/>): reads the master and the slave, writes nothing on
    /// either, and reports each change the turn would make to <paramref name="onChange"/>. It does not count as a turn.
    /// The session's keep-alive goes on meanwhile (on a GlusterFS master it refreshes the volume mark on the slave root,
    /// which says who feeds the slave, not what it holds). Errors as for <see cref="RunTurnAsync"/>.
    /// </summary>
    public Task<TurnPlan> PlanTurnAsync(Action<PlannedChange>? onChange = null, int examplesPerAction = 10,
        CancellationToken cancellationToken = default)
    {
        var crawler = TurnCrawler();
        return RunExclusiveAsync(token => crawler.PlanTurnAsync(onChange, examplesPerAction, token), cancellationToken);
    }

    /// <summary>Runs a turn or a dry run of the crawler, one at a time; a fatal error leaves the session Faulty.</summary>
    private async Task<T> RunExclusiveAsync<T>(Func<CancellationToken, Task<T>> crawl, CancellationToken cancellationToken)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            ThrowUnlessActive();
            if (_runningTurn is not null)
            {
                throw new GeoSyncSessionException(SessionFailure.Busy,
                    $"session {Name} is already running a turn; wait for it to finish before starting the next");
            }
            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _runningTurn = done.Task;
        }
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
            return await crawl(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (GeoSyncSessionException ex) when (ex.Reason == SessionFailure.SlaveNotEmpty)
        {
            // A refusal, not a fault: nothing was written and the session is as it was.
            Log(SessionLogLevel.Error, ex.Message);
            throw;
        }
        catch (Exception ex) when (_lifetime.IsCancellationRequested)
        {
            // Faulted or stopped from elsewhere while the turn ran; the turn's own error is a consequence.
            lock (_gate) throw NotActive(ex);
        }
        catch (Exception ex)
        {
            var explained = await ExplainAsync(ex).ConfigureAwait(false);
            Fault(explained);
            // The slave is gone: that, not the symptom the turn ran into first, is the error.
            if (!ReferenceEquals(explained, ex)) lock (_gate) throw NotActive(ex);
            throw;
        }
        finally
        {
            lock (_gate) _runningTurn = null;
            done.SetResult();
        }
    }

    /// <summary>
    /// Stops the session: the keep-alive and any running turn end, the slave is told to exit (EOF) and terminated if it
    /// does not, aux mounts are unmounted. Throws <see cref="GeoSyncSessionException"/> when something could not be
    /// released (a mount left behind); calling it again returns the same outcome.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stopping ??= StopCoreAsync();
        }
    }

    /// <summary>Stops the session like <see cref="StopAsync"/>, without throwing.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (GeoSyncException)
        {
            // Disposal cannot report; StopAsync is the call that does.
        }
    }

    public override string ToString() => $"{Name} ({Master} -> {Slave})";

    private async Task StopCoreAsync()
    {
        Task? turn;
        lock (_gate)
        {
            _state = SessionState.Stopped;
            turn = _runningTurn;
        }
        Log(SessionLogLevel.Verbose, $"stopping session {Name}");
        await _lifetime.CancelAsync().ConfigureAwait(false);
        if (turn is not null) await turn.ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);
        await ReleaseAsync(throwOnFailure: true).ConfigureAwait(false);
    }

    /// <summary>The ledger file a previous loop left is read before anything connects: one that cannot be read stops the open.</summary>
    private static FailureLedger? OpenFailureLedger(SessionOptions options, GeoSyncUrl master, GeoSyncUrl slave)
    {
        if (options.FailureLedgerPath is not { } path) return null;
        try
        {
            return FailureLedger.Open(path, master.Normalized, slave.Normalized, options.PersistentFailureAttempts);
        }
        catch (GeoSyncException e)
        {
            throw new GeoSyncSessionException(SessionFailure.FailureLedgerUnreadable, e.Message, e);
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var masterTree = await OpenMasterAsync(cancellationToken).ConfigureAwait(false);
        // Its root descriptor is closed before the master volume is unmounted (resources go newest first).
        _resources.Add(new Releasing(masterTree));
        _masterTree = masterTree;
        _slave = await OpenSlaveAsync(cancellationToken).ConfigureAwait(false);
        _resources.Add(_slave);
        // Formatted only for a listener: the enum's formatting alone costs a short verify's start measurably.
        if (IsLogged) Log(SessionLogLevel.Verbose, $"slave {Slave} connected ({SlaveMode}, slave pid {_slave.ServerProcessId}); rsync writes to {_slave.RsyncTarget}");
        // Before anything reaches the slave, the first keep-alive included (it writes a mark on the slave root).
        var slaveEndpoint = _slave;
        await OverlapGuard.CheckAsync(Master.Normalized, RootIdentity.Read(masterTree.RootPath), Slave.Normalized,
            ct => slaveEndpoint.CallAsync(RootIdentity.WireMethod, [], _options.ConnectionTimeout, ct), Log, cancellationToken).ConfigureAwait(false);
        if (_verifyOnly)
        {
            // Only a slave process has a watchdog to feed.
            Activate(keepAlive: _options.TimeoutSeconds > 0 && _slave.ConnectionProcessId is not null);
            return;
        }

        var rsync = new RsyncClient(_runner, new RsyncOptions(masterTree.RootPath, _slave.RsyncTarget)
        {
            Command = _options.RsyncCommand,
            Xattrs = _options.Xattrs,
            ExcludeGlusterInternalNames = InvolvesGlusterVolume(),
        }, line => Log(SessionLogLevel.Debug, line));
        var syncer = new Syncer(rsync, new SyncerOptions { SyncJobs = _options.SyncJobs },
            report => Log(SessionLogLevel.Debug,
                $"{string.Join(' ', report.Argv)}: exited {report.ExitCode} for {report.Files} files ({report.Synced} synced, {report.Failed} failed, " +
                $"{report.Vanished} vanished, {report.Retrying} retried) in {report.Elapsed.TotalSeconds:F2} s"));
        _resources.Add(syncer);
        var endpoint = _slave;
        var channel = new WireSlaveChannel((method, args, ct) => endpoint.CallAsync(method, args, null, ct));
        void CrawlLog(CrawlLogLevel level, string message) => Log(level switch
        {
            CrawlLogLevel.Error => SessionLogLevel.Error,
            CrawlLogLevel.Warning => SessionLogLevel.Warning,
            CrawlLogLevel.Info => SessionLogLevel.Verbose,
            _ => SessionLogLevel.Debug,
        }, message);
        // Watches go up before the first turn, so every change during its full comparison is an event for the next.
        _watch = WatchMaster(masterTree, CrawlLog);
        _brickWake = WakeOnBricks();
        _crawler = new Crawler(masterTree, channel, syncer, new CrawlerOptions
        {
            IgnoreDeletes = _options.IgnoreDeletes,
            MaxDeleteShare = _options.MaxDeleteShare,
            SkipGlusterInternalNames = InvolvesGlusterVolume(),
            PersistentFailureAttempts = _options.PersistentFailureAttempts,
            FailureLedger = _failureLedger,
            PruneByDirectoryXtime = ChoosePruning(),
            VolumeMark = _volumeInfo?.Mark,
            // Disabled pruning stays disabled: merged brick xtimes are only good for pruning.
            LocalBricks = _options.DirectoryPruning == DirectoryPruning.Disabled ? null : _localBricks,
            Log = CrawlLog,
        }, _watch);

        if (_options.TimeoutSeconds > 0)
        {
            // The first keep-alive goes out now: it tells the slave at once who feeds it, and proves the call works.
            await SendKeepAliveAsync(cancellationToken).ConfigureAwait(false);
        }
        Activate(keepAlive: _options.TimeoutSeconds > 0);
    }

    private void Activate(bool keepAlive)
    {
        lock (_gate) _state = SessionState.Active;
        _keepAlive = keepAlive ? KeepAliveLoopAsync() : Task.CompletedTask;
        _ = WatchSlaveAsync(_slave!);
        Log(SessionLogLevel.Verbose, _verifyOnly
            ? $"session {Name} is open for verify only: {Master} -> {Slave}"
            : $"session {Name} is active: {Master} -> {Slave}");
    }

    /// <summary>
    /// The watcher of a directory master (docs/master-loop.md, "Watching a directory master"), unless watching is off or
    /// the master is a volume; null, said in the log, where inotify cannot be had: every turn then compares in full.
    /// </summary>
    private WatchedChanges? WatchMaster(IMasterTree masterTree, Action<CrawlLogLevel, string> log)
    {
        if (_options.Watch == MasterWatch.Disabled || masterTree is not DirectoryMasterTree) return null;
        var source = InotifyEventSource.TryOpen(masterTree.RootPath, out var errno);
        if (source is null)
        {
            Log(SessionLogLevel.Warning, $"inotify is not available ({LinuxErrno.Name(errno)}): every turn compares the whole master tree");
            return null;
        }
        var watch = new WatchedChanges(source, masterTree.RootPath, log);
        _resources.Add(new Releasing(watch));
        return watch;
    }

    /// <summary>
    /// On a GlusterFS master read on its bricks, in loop mode (option watch not disabled): an inotify watch on each brick
    /// root ends the idle pause when the marker stamps it (docs/master-loop.md, "Waking on a GlusterFS master"); null
    /// otherwise, and where inotify cannot be had (said in the log): the pause is then the interval.
    /// </summary>
    private BrickWake? WakeOnBricks()
    {
        if (_options.Watch == MasterWatch.Disabled || _localBricks is not { } bricks) return null;
        var wake = BrickWake.TryOpen(bricks.BrickPaths, out var why);
        if (wake is null)
        {
            Log(SessionLogLevel.Verbose, $"the loop polls the master every interval: {why}");
            return null;
        }
        _resources.Add(new Releasing(wake));
        Log(SessionLogLevel.Verbose, $"a change stamped on the master's brick roots ({string.Join(", ", bricks.BrickPaths)}) ends the loop's pause");
        return wake;
    }

    /// <summary>
    /// Waits <paramref name="timeout"/>, or less when the session's watcher sees the master change (docs/master-loop.md,
    /// "Watching a directory master"), or when the marker stamps a brick root of a GlusterFS master read on its bricks
    /// ("Waking on a GlusterFS master"): the loop's pause after an idle turn. True when a change ended the wait; false at
    /// the timeout, and when the session stopped or faulted meanwhile. Without either it waits the whole time.
    /// </summary>
    public async Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        try
        {
            if (_watch is { } watch) return await watch.WaitForChangeAsync(timeout, linked.Token).ConfigureAwait(false);
            if (_brickWake is { } wake) return await wake.WaitForChangeAsync(timeout, linked.Token).ConfigureAwait(false);
            await Task.Delay(timeout, linked.Token).ConfigureAwait(false);
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether turns look only where the watcher saw changes: a directory master watched with inotify. False for a
    /// GlusterFS master, with watching disabled, and once watching had to stop (the log says why).
    /// </summary>
    public bool WatchesMaster => _watch is { Stopped: null };

    /// <summary>
    /// Whether a change stamped on the brick roots of a GlusterFS master read on its bricks ends the loop's pause
    /// (docs/master-loop.md, "Waking on a GlusterFS master").
    /// </summary>
    public bool WakesOnMasterBricks => _brickWake is not null;

    /// <summary>
    /// Before the session's first write: the slave must be empty, or already this master's (docs/sessions.md).
    /// </summary>
    private async Task ClaimSlaveAsync(CancellationToken cancellationToken)
    {
        var masterEntries = _masterTree!.Entries(".").ToHashSet(StringComparer.Ordinal);
        await SlaveClaim.EnsureAsync(SlaveChannel(), ClaimId(), _volumeInfo?.VolumeId, masterEntries, _options.Force, Slave.Normalized,
            TimeProvider.System, Log, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>This master's claim uuid on its slaves: the volume's, or this machine's and the directory's.</summary>
    private Guid ClaimId() => _volumeInfo is { } info
        ? SlaveClaim.ForVolume(info.VolumeId)
        : SlaveClaim.ForDirectory(RootSystem.HostIdentity.MachineId ?? RootSystem.HostIdentity.BootId ?? Environment.MachineName,
            RootSystem.Local.RealPath(_masterTree!.RootPath));

    private WireSlaveChannel SlaveChannel()
    {
        var endpoint = _slave!;
        return new WireSlaveChannel((method, args, ct) => endpoint.CallAsync(method, args, null, ct));
    }

    /// <summary>
    /// A GlusterFS volume on either side: its own names at the root (<see cref="GlusterInternalNames"/>) are then neither
    /// copied nor purged. A directory-to-directory pair replicates every name.
    /// </summary>
    private bool InvolvesGlusterVolume() =>
        Master.Scheme == UrlScheme.Gluster || (Slave.Inner ?? Slave).Scheme == UrlScheme.Gluster;

    private async Task<LocalMasterTree> OpenMasterAsync(CancellationToken cancellationToken)
    {
        if (Master.Scheme == UrlScheme.File)
        {
            Log(SessionLogLevel.Verbose, $"master {Master} is a plain directory (GeoSync extension): the crawl compares entries with the slave");
            var tree = new DirectoryMasterTree(Master.Path!);
            MasterRoot = tree.RootPath;
            return tree;
        }

        var mount = await MountAsync(Master, "master", cancellationToken).ConfigureAwait(false);
        _resources.Add(mount);
        MasterRoot = mount.MountPoint;
        var xattrs = new PosixXattrStore();
        var ns = XattrNames.DefaultNamespace;
        var native = xattrs.Get(mount.MountPoint, XattrNames.VolumeMark(ns)) is { } bytes ? VolumeMark.Decode(bytes) : null;
        var foreignPrefix = XattrNames.ForeignVolumeMarkPrefix(ns);
        var foreign = xattrs.List(mount.MountPoint)
            .Where(name => name.StartsWith(foreignPrefix, StringComparison.Ordinal))
            .Select(name => xattrs.Get(mount.MountPoint, name))
            .OfType<byte[]>()
            .Where(value => value.Length == VolumeMark.ForeignLength)
            .Select(value => VolumeMark.Decode(value));
        _volumeInfo = MasterVolumeInfo.Select(Master.Volume!, native, foreign, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        if (_volumeInfo.IsForeign)
        {
            Log(SessionLogLevel.Warning, $"master {Master} is fed by another master: new master is {XattrNames.FormatUuid(_volumeInfo.VolumeId)}; " +
                "passing its changes on under that uuid (cascade)");
        }
        Log(SessionLogLevel.Verbose, $"master {Master} mounted on {mount.MountPoint}; volume {XattrNames.FormatUuid(_volumeInfo.VolumeId)}, " +
            $"volume mark {_volumeInfo.Mark}");
        MasterSubvolumeCount = ReadSubvolumeCount(xattrs, mount.MountPoint);
        if (_volumeInfo is { IsForeign: false })
        {
            _localBricks = await FindLocalBricksAsync(Master.Volume!, _volumeInfo.VolumeId, xattrs, ns, cancellationToken).ConfigureAwait(false);
            // Whether a brick restarted since the last listing by name is not known here: the first turn lists by name.
            _localBricks?.ListThroughMountNextTurn("the session has just opened");
        }
        return new GlusterMasterTree(mount.MountPoint, _volumeInfo.VolumeId, xattrs, ns);
    }

    /// <summary>
    /// A master whose every brick is a directory of this host — one brick or several: a one-brick volume is a layout of one
    /// set of one brick: its layout and brick processes come from glusterd (<c>gluster volume info|status --xml</c>), and
    /// turns read the xtimes on the bricks while each turn's check vouches for them (docs/multi-brick.md). Null, and the log says why, when any of that fails:
    /// then every turn reads through the mount, as before.
    /// </summary>
    private async Task<BrickSetXtimes?> FindLocalBricksAsync(string volume, Guid volumeId, IXattrStore xattrs, string ns,
        CancellationToken cancellationToken)
    {
        var system = new LinuxMountSystem();
        if (system.FindProgram("gluster", _options.GlusterCommandDirectory) is not { } gluster)
        {
            Log(SessionLogLevel.Verbose, $"master xtimes are read through the aux mount: no gluster command to ask glusterd for the bricks of volume {volume}");
            return null;
        }
        // glusterd is asked the way gsyncd asks for a volume's info: over TCP from the mount's network namespace.
        List<string> argv = [gluster, $"--remote-host={Master.Host}", "--mode=script", "--log-file=-"];
        if (_options.NetworkNamespace is { } netns && system.FindProgram("nsenter") is { } nsenter)
        {
            argv = GlusterMountArgv.InNetworkNamespace(nsenter, netns.Contains('/', StringComparison.Ordinal) ? netns : Path.Combine("/var/run/netns", netns), argv);
        }
        async Task<string> Cli(CancellationToken token, params string[] args)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token, _lifetime.Token);
            timeout.CancelAfter(_options.ConnectionTimeout);
            var result = await _runner.RunAsync(new ProcessSpec(argv[0], [.. argv.Skip(1), .. args]), cancellationToken: timeout.Token)
                .ConfigureAwait(false);
            return result.EnsureSuccess().StandardOutputText;
        }
        async Task<IReadOnlyList<GlusterBrickStatus>?> Status(CancellationToken token)
        {
            try
            {
                return GlusterVolumeLayout.ParseStatus(await Cli(token, "volume", "status", volume, "--xml").ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
            {
                Log(SessionLogLevel.Debug, $"cannot ask glusterd for the bricks of master volume {volume}: {ex.Message}");
                return null;
            }
        }

        GlusterVolumeLayout layout;
        IReadOnlyList<GlusterBrickStatus>? status;
        string infoFile;
        try
        {
            var info = Cli(cancellationToken, "volume", "info", volume, "--xml");
            var statusRead = Status(cancellationToken);
            var workDir = Cli(cancellationToken, "system::", "getwd");
            layout = GlusterVolumeLayout.Parse(await info.ConfigureAwait(false), volume);
            status = await statusRead.ConfigureAwait(false);
            infoFile = Path.Combine((await workDir.ConfigureAwait(false)).Trim(), "vols", volume, "info");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log(SessionLogLevel.Verbose, $"master xtimes are read through the aux mount: the layout of volume {volume} could not be " +
                $"read from glusterd ({gluster} volume info): {ex.Message}");
            return null;
        }
        if (layout.VolumeId != volumeId)
        {
            Log(SessionLogLevel.Verbose, $"master xtimes are read through the aux mount: glusterd's volume {volume} is " +
                $"{XattrNames.FormatUuid(layout.VolumeId)}, the mount's {XattrNames.FormatUuid(volumeId)}");
            return null;
        }
        static string? ReadStamp(string file)
        {
            try
            {
                return File.ReadAllText(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
        var bricks = BrickSetXtimes.TryOpen(layout, status ?? [], xattrs, ns, () => ReadStamp(infoFile), alive: null,
            refresh: () => Status(_lifetime.Token), out var why);
        Log(SessionLogLevel.Verbose, bricks is null
            ? $"master xtimes are read through the aux mount: {why}"
            : layout.Bricks.Count == 1
            ? $"master xtimes are read on the volume's one brick, {layout.Bricks[0].Path}, a directory of this host, while it is up"
            : $"master volume {volume} ({layout.Type}, {layout.Subvolumes.Count} subvolumes of {layout.SetSize}) has all its " +
              $"{layout.Bricks.Count} bricks on this host: turns read the master xtimes there and prune by them while every brick is up");
        return bricks;
    }

    private int? ReadSubvolumeCount(IXattrStore xattrs, string root)
    {
        string? pathInfo;
        try
        {
            pathInfo = xattrs.Get(root, GlusterPathInfo.XattrName) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;
        }
        catch (GeoSyncXattrException ex)
        {
            Log(SessionLogLevel.Debug, $"cannot read {GlusterPathInfo.XattrName} on {root}: {ex.Message}");
            return null;
        }
        var count = pathInfo is null ? null : GlusterPathInfo.DistributeCount(pathInfo);
        Log(SessionLogLevel.Debug, $"{GlusterPathInfo.XattrName} of {root}: {pathInfo ?? "(none)"}");
        return count;
    }

    /// <summary>
    /// Prune by directory xtime unless told otherwise or the master is (or may be) distributed: GlusterFS 10.x answers a
    /// distributed directory's xtime from one brick per read, and pruning by an older brick's answer loses changes.
    /// </summary>
    private bool ChoosePruning()
    {
        if (Master.Scheme == UrlScheme.File) return false;
        var volume = Master.Volume;
        var (prune, why, level) = (_options.DirectoryPruning, MasterSubvolumeCount) switch
        {
            (DirectoryPruning.Enabled, > 1) => (true, $"as the session options say, although master volume {volume} is distributed " +
                $"over {MasterSubvolumeCount} subvolumes: a change on one brick can be missed", SessionLogLevel.Warning),
            (DirectoryPruning.Enabled, _) => (true, "as the session options say", SessionLogLevel.Verbose),
            (DirectoryPruning.Disabled, _) => (false, "as the session options say", SessionLogLevel.Verbose),
            (_, 1) => (true, $"master volume {volume} has one subvolume, so a directory's xtime is the newest below it",
                SessionLogLevel.Verbose),
            (_, int count) => (false, $"master volume {volume} is distributed over {count} subvolumes, and GlusterFS answers a " +
                "directory's xtime from one of them per read", SessionLogLevel.Verbose),
            _ => (false, $"the layout of master volume {volume} could not be read ({GlusterPathInfo.XattrName}), so it may be " +
                "distributed; set DirectoryPruning to Enabled if it is not", _localBricks is null ? SessionLogLevel.Warning : SessionLogLevel.Verbose),
        };
        Log(level,
            prune
                ? $"the crawl prunes unchanged subtrees by directory xtime: {why}"
                : $"the crawl lists every directory each turn and sends files by their own xtimes (no pruning by directory xtime): {why}");
        if (!prune && _localBricks is not null && _options.DirectoryPruning != DirectoryPruning.Disabled)
        {
            // Merged over every brick, a directory's xtime covers its subtree (docs/multi-brick.md).
            Log(SessionLogLevel.Verbose, $"except on turns that read the master xtimes on every brick of volume {volume}: those prune " +
                "unchanged subtrees by the merged directory xtimes");
        }
        return prune;
    }

    private async Task<SlaveEndpoint> OpenSlaveAsync(CancellationToken cancellationToken)
    {
        SlaveMode = ChooseSlaveMode();
        var slaveArguments = new SshSlaveArguments
        {
            SessionOwner = _volumeInfo is null ? null : XattrNames.FormatUuid(_volumeInfo.VolumeId),
            UseRsyncXattrs = _options.Xattrs,
            TimeoutSeconds = _options.TimeoutSeconds,
        };
        switch (SlaveMode)
        {
            case SlaveMode.Ssh:
                {
                    var ssh = SshTransport.Create(Slave, _options.Ssh, _runner, line => Log(SessionLogLevel.Debug, line));
                    try
                    {
                        return await RepceSlaveEndpoint.StartSshAsync(ssh, slaveArguments, _options, Log, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        await ssh.DisposeAsync().ConfigureAwait(false);
                        throw;
                    }
                }
            case SlaveMode.Child:
                {
                    List<string> argv = [.. _options.SlaveCommand];
                    if (Slave.Scheme == UrlScheme.Gluster)
                    {
                        if (_options.NetworkNamespace is { } ns) argv.AddRange(["--network-namespace", ns]);
                        if (_options.GlusterCommandDirectory is { } dir) argv.AddRange(["--gluster-command-dir", dir]);
                        if (_options.GlusterLogDirectory is not null) argv.AddRange(["--gluster-log-file", LogFileFor("slave", Slave.Volume!)!]);
                    }
                    // As many RePCe workers as rsync jobs, so their set_xtime calls do not queue behind each other (docs/protocol.md, "Dispatch, handshake and timeouts"), and
                    // no fewer than the slave's default, so a keep-alive never waits behind a long purge.
                    var workers = Math.Max(_options.SyncJobs, GeoSync.Engine.Slave.SlaveHostOptions.DefaultSyncJobs);
                    argv.AddRange(["--sync-jobs", workers.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    argv.AddRange(slaveArguments.ToArgv(Slave.Normalized));
                    var directory = Slave.Scheme == UrlScheme.File ? Slave.Path : null;
                    return await RepceSlaveEndpoint.StartChildAsync(_runner, argv, Slave.Normalized, directory, _options, Log, cancellationToken)
                        .ConfigureAwait(false);
                }
            default:
                {
                    var xattrs = new PosixXattrStore();
                    if (Slave.Scheme == UrlScheme.File)
                    {
                        var server = new SlaveServer(Slave.Path!, xattrs, options: new SlaveServerOptions { ServesGlusterVolume = false });
                        return new InProcessSlaveEndpoint(server, null);
                    }
                    var mount = await MountAsync(Slave, "slave", cancellationToken).ConfigureAwait(false);
                    VouchedRoot? root = null;
                    try
                    {
                        // The server works through a descriptor of the volume's root (a dead client answers ENOTCONN), rsync
                        // by the mount point, which every root listing checks still shows that volume.
                        root = VouchedRoot.TryOpen(mount.MountPoint, out var errno)
                            ?? throw new GeoSyncSessionException(SessionFailure.OpenFailed,
                                $"cannot open the root of slave {Slave} mounted on {mount.MountPoint}: {errno}");
                        var server = new SlaveServer(root.ProcPath, xattrs,
                            options: new SlaveServerOptions { RootPathToVouch = mount.MountPoint });
                        return new InProcessSlaveEndpoint(server, mount, mount.MountPoint, root);
                    }
                    catch
                    {
                        root?.Dispose();
                        await mount.DisposeAsync().ConfigureAwait(false);
                        throw;
                    }
                }
        }
    }

    private SlaveMode ChooseSlaveMode()
    {
        var remote = Slave.Scheme == UrlScheme.Ssh;
        switch (_options.SlaveMode)
        {
            case SlaveMode.Auto:
                return remote ? SlaveMode.Ssh : SlaveMode.InProcess;
            case SlaveMode.Ssh when !remote:
                throw new GeoSyncSessionException(SessionFailure.OpenFailed,
                    $"the slave {Slave} is local, so it cannot be reached over ssh; give an ssh:// slave URL or another slave mode");
            case SlaveMode.InProcess or SlaveMode.Child when remote:
                throw new GeoSyncSessionException(SessionFailure.OpenFailed,
                    $"the slave {Slave} is on another host, so it can only be reached over ssh; use the Ssh slave mode (the default for ssh:// URLs)");
            default:
                return _options.SlaveMode;
        }
    }

    /// <summary>An aux mount of a gluster URL's volume (direct, client-pid -1); the caller owns it.</summary>
    private async Task<AuxMount> MountAsync(GeoSyncUrl url, string role, CancellationToken cancellationToken)
    {
        var mounter = new GlusterMounter(_runner)
        {
            Verbose = message => Log(SessionLogLevel.Verbose, message),
            Debug = message => Log(SessionLogLevel.Debug, message),
        };
        var mount = await mounter.MountAsync(new GlusterMountOptions
        {
            Volume = url.Volume!,
            Server = url.Host!,
            NetworkNamespace = _options.NetworkNamespace,
            GlusterCommandDirectory = _options.GlusterCommandDirectory,
            LogFile = LogFileFor(role, url.Volume!),
            Timeout = _options.ConnectionTimeout,
            // Should the volume mount go away, its mount point shows an empty read-only directory, not the host's.
            ReadOnlyUnderlay = true,
            // What rsync copies is what the volume holds now, never an older size the kernel remembers
            // (docs/gluster-notes.md, "Coherent reads").
            UncachedMetadata = true,
        }, cancellationToken).ConfigureAwait(false);
        return mount;
    }

    private string? LogFileFor(string role, string volume) =>
        _options.GlusterLogDirectory is { } dir ? Path.Combine(dir, $"geosync-{role}-{volume}.log") : null;

    /// <summary>
    /// Keep-alive (docs/protocol.md, "Keep-alive and the watchdog"): every timeout/2 (min(10, timeout/2) while no volume info is known, as for a directory master) a keep-alive
    /// carrying the volume info with its expiry; a failed one makes the session faulty.
    /// </summary>
    private async Task KeepAliveLoopAsync()
    {
        var half = TimeSpan.FromSeconds(_options.TimeoutSeconds / 2.0);
        var period = _volumeInfo is null ? TimeSpan.FromSeconds(Math.Min(10, _options.TimeoutSeconds / 2.0)) : half;
        try
        {
            while (true)
            {
                await Task.Delay(period, _lifetime.Token).ConfigureAwait(false);
                await SendKeepAliveAsync(_lifetime.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            var explained = await ExplainAsync(ex).ConfigureAwait(false);
            Fault(new GeoSyncSessionException(SessionFailure.Faulty,
                $"the keep-alive to the slave {Slave} failed: {explained.Message}", explained));
        }
    }

    /// <summary>
    /// When the slave's process ended, that explains a failed call or rsync run better than the failure itself: the
    /// endpoint reports it (exit code and stderr, or ssh's diagnosis) a moment after the stream ends. Returns the
    /// endpoint's reason if it comes within a grace, else <paramref name="reason"/>.
    /// </summary>
    private async Task<Exception> ExplainAsync(Exception reason)
    {
        if (_slave is not { ConnectionProcessId: not null } slave) return reason;
        var grace = reason is GeoSyncProtocolException ? BrokenExplanationGrace : OtherFailureGrace;
        var first = await Task.WhenAny(slave.Broken, Task.Delay(grace)).ConfigureAwait(false);
        return first == slave.Broken ? await slave.Broken.ConfigureAwait(false) : reason;
    }

    private async Task SendKeepAliveAsync(CancellationToken cancellationToken)
    {
        object? payload = null;
        // A verify feeds nothing, so it never claims the slave with the master volume's mark.
        if (_volumeInfo is { } info && !_verifyOnly)
        {
            var expiry = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + _options.TimeoutSeconds;
            payload = (info with { Expiry = (uint)expiry }).ToWireDictionary();
        }
        // A slave that cannot answer within its own timeout has stopped waiting for us anyway.
        await _slave!.CallAsync("keep_alive", [payload], TimeSpan.FromSeconds(_options.TimeoutSeconds), cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _keepAlives);
        lock (_gate) _lastKeepAlive = DateTimeOffset.Now;
        if (_options.HeartbeatPath is { } heartbeat)
        {
            try
            {
                Heartbeat.Touch(heartbeat);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A missed beat only makes the supervisor look closer; the session itself is fine.
                Log(SessionLogLevel.Warning, $"could not touch the heartbeat file {heartbeat}: {e.Message}");
            }
        }
    }

    private async Task WatchSlaveAsync(SlaveEndpoint slave)
    {
        var reason = await slave.Broken.ConfigureAwait(false);
        Fault(reason);
    }

    private void Fault(Exception reason)
    {
        lock (_gate)
        {
            if (_state != SessionState.Active) return;
            _state = SessionState.Faulty;
            _lastError = reason;
        }
        Log(SessionLogLevel.Error, $"session {Name} is faulty: {reason.Message}");
        _lifetime.Cancel();
    }

    private void ThrowUnlessActive()
    {
        if (_state != SessionState.Active) throw NotActive(null);
    }

    private GeoSyncSessionException NotActive(Exception? cause) => _state == SessionState.Faulty
        ? new GeoSyncSessionException(SessionFailure.Faulty,
            $"session {Name} is faulty: {_lastError?.Message ?? cause?.Message}. Stop it and start a new session to continue; " +
            "the next session resumes where this one left off.", _lastError ?? cause)
        : new GeoSyncSessionException(SessionFailure.Stopped, $"session {Name} was stopped; start a new session to continue", cause);

    /// <summary>Releases what the session holds, newest first, each attempted even when one fails.</summary>
    private async Task ReleaseAsync(bool throwOnFailure)
    {
        var failures = new List<Exception>();
        for (var i = _resources.Count - 1; i >= 0; i--)
        {
            try
            {
                await _resources[i].DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is GeoSyncException or IOException or InvalidOperationException)
            {
                failures.Add(ex);
            }
        }
        _resources.Clear();
        if (failures.Count > 0)
        {
            var message = $"stopping session {Name} left something behind: {string.Join("; ", failures.Select(f => f.Message))}";
            Log(SessionLogLevel.Error, message);
            if (throwOnFailure) throw new GeoSyncSessionException(SessionFailure.CleanupFailed, message, failures[0]);
        }
        Log(SessionLogLevel.Verbose, $"session {Name} released its slave, syncer and mounts");
    }

    /// <summary>Someone receives the session's log (its options' callback or a listener).</summary>
    private bool IsLogged
    {
        get
        {
            if (_options.Log is not null) return true;
            lock (_listeners) return _listeners.Count > 0;
        }
    }

    private void Log(SessionLogLevel level, string message)
    {
        _options.Log?.Invoke(level, message);
        Action<SessionLogLevel, string>[] listeners;
        lock (_listeners) listeners = [.. _listeners];
        foreach (var listener in listeners) listener(level, message);
    }

    /// <summary>Releases a synchronous resource with the session's others.</summary>
    private sealed class Releasing(IDisposable resource) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            resource.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
