using System.Runtime.ExceptionServices;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// One crawl from the root. The walk is depth-first and sequential; each directory hands back a completion task that
/// finishes once everything beneath it reached the slave (files through the syncer, subdirectories through their own
/// completions) and only then sets the directory's attributes and xtime — so a failure anywhere below keeps every
/// ancestor unmarked, and the walk moves on while files are still in flight.
/// </summary>
internal sealed class CrawlTurn
{
    private const string Root = ".";

    private static readonly Task<bool> Succeeded = Task.FromResult(true);
    private static readonly Task<bool> Failed = Task.FromResult(false);

    private readonly Crawler _crawler;
    private readonly long _number;
    private readonly IMasterXtimes? _xtimes;
    private readonly string? _uuid;
    private readonly bool _prune;
    private readonly TurnCounters _counters = new();
    private readonly RunningJobs _jobs = new();
    private readonly SemaphoreSlim _fileSlots;
    private CancellationTokenSource? _abort;
    private ExceptionDispatchInfo? _fatal;

    public CrawlTurn(Crawler crawler, long number)
    {
        _crawler = crawler;
        _number = number;
        _xtimes = crawler.Master.Xtimes;
        _uuid = _xtimes is null ? null : XattrNames.FormatUuid(_xtimes.VolumeId);
        _prune = crawler.PrunesByDirectoryXtime;
        _fileSlots = new SemaphoreSlim(crawler.Options.MaxPendingFiles);
    }

    public TurnProgress Progress => new(_number, _counters.DirectoriesScanned, _counters.EntriesCreated, _counters.EntriesPurged,
        _counters.FilesSynced, _counters.BytesSynced);

    private ISlaveChannel Slave => _crawler.Slave;
    private CrawlerOptions Options => _crawler.Options;

    public async Task<TurnResult> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Options.Clock;
        var started = clock.GetTimestamp();
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _abort = abort;
        var token = abort.Token;
        _crawler.Ledger.BeginTurn();
        var completed = false;
        IReadOnlyList<CrawlFailure> failures;
        try
        {
            // Also before an idle turn, which may prune at the root without listing anything: rsync reads by this path.
            _crawler.Master.EnsureVouched();
            var root = new SlaveEntryState(Exists: true, Stat: null);
            var done = _xtimes is null
                ? await CrawlByComparisonAsync(Root, null, root, token).ConfigureAwait(false)
                : await CrawlByXtimeAsync(Root, null, null, root, token).ConfigureAwait(false);
            await _crawler.Syncer.FlushAsync(token).ConfigureAwait(false);
            await done.ConfigureAwait(false);
            _fatal?.Throw();
            // Jobs that saw the cancellation return "not done" instead of throwing.
            cancellationToken.ThrowIfCancellationRequested();
            completed = true;
        }
        catch (Exception ex)
        {
            await abort.CancelAsync().ConfigureAwait(false);
            await _jobs.WhenIdle().ConfigureAwait(false);
            // A job's fatal error outranks the cancellation it caused in the walk. A slave that answers ENOTCONN lost its
            // volume (or the slave's root check found its mount gone): that is the slave being unavailable, not one call failing.
            if ((_fatal?.SourceException ?? ex) is RemoteOsException { Errno: var errno } lost && LinuxErrno.MeansSessionDown(errno))
            {
                throw new GeoSyncSlaveUnavailableException(
                    $"its root answered {LinuxErrno.Name(errno)} ({lost.StrError}) to {lost.Method}: the slave volume's client lost " +
                    "the volume, or its mount was unmounted or replaced", lost);
            }
            _fatal?.Throw();
            throw;
        }
        finally
        {
            failures = _crawler.Ledger.EndTurn(completed, out var saveError);
            if (saveError is not null)
            {
                _crawler.Log(CrawlLogLevel.Warning, $"cannot save the failure ledger {_crawler.Ledger.FilePath}: {saveError.Message}; the next turn tries again");
            }
        }

        var result = new TurnResult(_number, _counters, failures, clock.GetElapsedTime(started));
        _crawler.Log(CrawlLogLevel.Info,
            $"turn {_number}: {result.DirectoriesScanned} directories scanned, {result.EntriesCreated} entries created, " +
            $"{result.EntriesPurged} purged, {result.FilesSynced} files ({result.BytesSynced} bytes) synced, " +
            $"{result.Failures.Count} failures ({result.PersistentFailures.Count} persistent) in {result.Duration.TotalSeconds:F1} s");
        return result;
    }

    /// <summary>
    /// One directory of a GlusterFS master (docs/master-loop.md, "The crawl"): compare its master xtime with the slave's, prune when equal, else
    /// list both sides, purge what the master lost, and visit each child whose master xtime beats this directory's slave
    /// xtime. The directory is marked with the master xtime read before any data moved.
    /// </summary>
    /// <remarks>
    /// Without pruning (a master whose directory xtime is one subvolume's answer, possibly an older one) every
    /// subdirectory is visited whatever its xtime says, and the mark is the newer of the slave's old mark and the xtime
    /// read here. Both are safe: every change stamped up to either was seen, by this crawl or by the one that wrote the
    /// old mark, and a later change gets a later stamp. So the mark never goes back, and an older answer costs at most
    /// one extra copy of a file, never a lost change. The children's own xtimes are not folded in: one read early in the
    /// listing can change again before a later child shows a newer stamp.
    /// </remarks>
    private async Task<Task<bool>> CrawlByXtimeAsync(string path, Xtime? knownMasterXtime, EntryStat? masterStat,
        SlaveEntryState slaveState, CancellationToken cancellationToken)
    {
        Xtime masterXtime;
        if (knownMasterXtime is Xtime known)
        {
            masterXtime = known;
        }
        else
        {
            var (value, problem) = AmendedMasterXtime(path);
            if (value is not Xtime read) return Fail(path, $"cannot read the master's xtime: {problem}");
            masterXtime = read;
        }

        Xtime? slaveXtime = null;
        var changed = true;
        if (!slaveState.Exists || slaveState.Stat is { Type: not EntryType.Directory })
        {
            // The parent's listing already told: no xtime call needed.
            if (!await MakeDirectoryAsync(path, purgeFirst: slaveState.Exists, cancellationToken).ConfigureAwait(false)) return Failed;
        }
        else
        {
            XtimeReading reading;
            try
            {
                reading = await Slave.XtimeAsync(path, _uuid!, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsEntryFailure(ex))
            {
                return Fail(path, $"cannot read the slave's xtime: {ex.Message}", ErrnoOf(ex));
            }

            if (reading.Value is null && !reading.IsUnstamped)
            {
                // ENOENT: missing; ENOTDIR: something else is in the way.
                var purge = reading.Errno != LinuxErrno.ENOENT;
                if (!await MakeDirectoryAsync(path, purge, cancellationToken).ConfigureAwait(false)) return Failed;
            }
            else
            {
                slaveXtime = Amended(reading.Value);
                if (slaveXtime is Xtime slave)
                {
                    changed = masterXtime > slave;
                    // Only a master that answers the newest xtime over its subvolumes can be caught behind its slave.
                    if (_prune && slave > masterXtime)
                    {
                        throw new GeoSyncTimestampCorruptionException(path, masterXtime, slave,
                            XattrNames.XtimeFor(_uuid!, XattrNames.TrustedNamespace));
                    }
                    if (_prune && !changed) return Succeeded;
                }
            }
        }

        var masterNames = ListMaster(path);
        if (masterNames is null) return Failed;
        var slaveListing = await ListSlaveAsync(path, cancellationToken).ConfigureAwait(false);
        if (slaveListing is null) return Failed;

        var jobs = new List<Task<bool>>();
        changed |= await PurgeGoneAsync(path, masterNames, slaveListing, jobs, cancellationToken).ConfigureAwait(false);
        changed |= slaveListing.Recreated;
        foreach (var name in InVisitOrder(masterNames))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var child = Join(path, name);
            var there = slaveListing.StateOf(name);
            EntryStat? knownStat = null;
            if (_prune && !there.Exists)
            {
                // A regular file the slave lacks is sent whatever its own xtime says, and marked with this directory's
                // xtime: read before the listing, it covers every change the copy can contain, and a later change
                // stamps the file later. That spares a first sync one xattr round trip through FUSE per file (the
                // lstat comes from the kernel's cache, which the listing filled).
                knownStat = LstatMaster(child);
                if (knownStat is null)
                {
                    jobs.Add(Failed);
                    continue;
                }
                if (knownStat.Type is EntryType.Regular or EntryType.Special)
                {
                    changed = true;
                    jobs.Add(await QueueFileAsync(child, knownStat, there, masterXtime, cancellationToken).ConfigureAwait(false));
                    continue;
                }
            }
            var (childXtime, problem) = AmendedMasterXtime(child);
            if (childXtime is not Xtime childMark)
            {
                // 3.3 only warned here and marked the parent anyway, losing the change for good (docs/gsyncd-flaws.md, #9).
                jobs.Add(Fail(child, $"irregular xtime on the master: {problem}"));
                continue;
            }
            // Pruning compares with this directory's slave xtime, not the child's own (docs/master-loop.md, "The crawl").
            var unchanged = slaveXtime is Xtime parentMark && childMark <= parentMark;
            if (unchanged && _prune) continue;

            // Changed since the slave's mark: what is sent must be at least as new as the xtime just read.
            if (knownStat is null && !unchanged) _xtimes!.RefreshAttributes(child);
            var stat = knownStat ?? LstatMaster(child);
            if (stat is null)
            {
                jobs.Add(Failed);
                continue;
            }
            // Without pruning only a subdirectory is visited regardless: its xtime may be an older subvolume's answer.
            if (unchanged && stat.Type != EntryType.Directory) continue;
            changed |= stat.Type is EntryType.Regular or EntryType.Symlink or EntryType.Special;
            switch (stat.Type)
            {
                case EntryType.Symlink:
                    jobs.Add(await CopySymlinkAsync(child, stat, childMark, cancellationToken).ConfigureAwait(false));
                    break;
                case EntryType.Regular:
                    if (await AlreadySentAsync(child, childMark, there, cancellationToken).ConfigureAwait(false)) break;
                    jobs.Add(await QueueFileAsync(child, stat, there, childMark, cancellationToken).ConfigureAwait(false));
                    break;
                case EntryType.Directory:
                    jobs.Add(await CrawlByXtimeAsync(child, childMark, stat, there, cancellationToken).ConfigureAwait(false));
                    break;
                default:
                    // Special files go through rsync like regular ones: it makes fifos, sockets and devices as -a does.
                    jobs.Add(await QueueFileAsync(child, stat, there, childMark, cancellationToken).ConfigureAwait(false));
                    break;
            }
        }

        if (!changed)
        {
            // Only without pruning: the slave's mark already covers this directory, so only its subdirectories' jobs count.
            return FinishDirectoryAsync(path, jobs, null, null, cancellationToken);
        }
        _counters.SawChanges();
        // The root keeps its own owner and mode on the slave (docs/master-loop.md, "The crawl": only its xtime is set).
        var attributes = masterStat is null ? null : SlaveAttributes.OfDirectory(masterStat);
        var mark = slaveXtime is Xtime previous && previous > masterXtime ? previous : masterXtime;
        return FinishDirectoryAsync(path, jobs, mark, attributes, cancellationToken);
    }

    /// <summary>
    /// The hybrid crawl of a plain-directory master: no xtimes, so every directory is listed on both sides and each entry
    /// is compared with the slave's lstat; only what differs is sent. A directory's owner, mode and times are set after
    /// its subtree, when anything in it changed or they differ.
    /// </summary>
    private async Task<Task<bool>> CrawlByComparisonAsync(string path, EntryStat? masterStat, SlaveEntryState slaveState,
        CancellationToken cancellationToken)
    {
        var changed = false;
        if (!slaveState.Exists || slaveState.Stat is { Type: not EntryType.Directory })
        {
            if (!await MakeDirectoryAsync(path, purgeFirst: slaveState.Exists, cancellationToken).ConfigureAwait(false)) return Failed;
            changed = true;
        }

        var masterNames = ListMaster(path);
        if (masterNames is null) return Failed;
        var slaveListing = await ListSlaveAsync(path, cancellationToken).ConfigureAwait(false);
        if (slaveListing is null) return Failed;
        changed |= slaveListing.Recreated;

        var jobs = new List<Task<bool>>();
        changed |= await PurgeGoneAsync(path, masterNames, slaveListing, jobs, cancellationToken).ConfigureAwait(false);
        foreach (var name in InVisitOrder(masterNames))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var child = Join(path, name);
            var stat = LstatMaster(child);
            if (stat is null)
            {
                jobs.Add(Failed);
                continue;
            }
            var there = slaveListing.StateOf(name);
            switch (stat.Type)
            {
                case EntryType.Regular:
                    if (there.Stat is { } replica && stat.SameFileAs(replica)) continue;
                    changed = true;
                    jobs.Add(await QueueFileAsync(child, stat, there, null, cancellationToken).ConfigureAwait(false));
                    break;
                case EntryType.Symlink:
                    if (there.Stat is { } link && stat.SameSymlinkAs(link)) continue;
                    changed = true;
                    jobs.Add(await CopySymlinkAsync(child, stat, null, cancellationToken).ConfigureAwait(false));
                    break;
                case EntryType.Directory:
                    // Making the child directory changes this one's mtime.
                    changed |= there.Stat is not { Type: EntryType.Directory };
                    jobs.Add(there.Stat is not { Type: EntryType.Directory } && (there.Stat is not null || !there.Exists)
                        && _crawler.Syncer.SendsDirectoriesWhole
                        ? await QueueTreeAsync(child, there, cancellationToken).ConfigureAwait(false)
                        : await CrawlByComparisonAsync(child, stat, there, cancellationToken).ConfigureAwait(false));
                    break;
                default:
                    if (there.Stat is { } special && stat.SameSpecialAs(special)) continue;
                    changed = true;
                    jobs.Add(await QueueFileAsync(child, stat, there, null, cancellationToken).ConfigureAwait(false));
                    break;
            }
        }

        SlaveAttributes? attributes = null;
        if (masterStat is not null
            && (changed || slaveState.Stat is not { } replicaDirectory || !masterStat.SameDirectoryAttributesAs(replicaDirectory)))
        {
            attributes = SlaveAttributes.OfDirectory(masterStat);
        }
        if (changed || attributes is not null) _counters.SawChanges();
        return FinishDirectoryAsync(path, jobs, null, attributes, cancellationToken);
    }

    /// <summary>
    /// Waits for every job of a directory (all of them run, even after one failed); if all succeeded, sets the directory's
    /// attributes and then its xtime — the mark that lets later crawls prune it.
    /// </summary>
    private async Task<bool> FinishDirectoryAsync(string path, List<Task<bool>> jobs, Xtime? mark, SlaveAttributes? attributes,
        CancellationToken cancellationToken)
    {
        _jobs.Started();
        try
        {
            var succeeded = true;
            foreach (var job in jobs) succeeded &= await job.ConfigureAwait(false);
            if (!succeeded) return false;
            if (attributes is not null) await Slave.SetattrAsync(path, attributes, cancellationToken).ConfigureAwait(false);
            if (mark is Xtime xtime) await Slave.SetXtimeAsync(path, _uuid!, xtime, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            return RecordFailure(path, $"cannot set the directory's attributes or xtime on the slave: {ex.Message}", ErrnoOf(ex));
        }
        catch (Exception ex)
        {
            return Abort(ex);
        }
        finally
        {
            _jobs.Finished();
        }
    }

    /// <summary>Queues a regular or special file for the syncer, after removing what is in its way on the slave; returns its job.</summary>
    private async Task<Task<bool>> QueueFileAsync(string path, EntryStat stat, SlaveEntryState there, Xtime? mark,
        CancellationToken cancellationToken)
    {
        // rsync cannot put a file where a non-empty directory is. Without the slave's types (a 3.3 slave), a file that
        // failed last turn may be failing for that reason, so its slave entry is cleared before it is sent again.
        var inTheWay = there.Exists
            && (there.Stat is { } replica && replica.Type != stat.Type || (there.Stat is null && _crawler.Ledger.FailedBefore(path)));
        if (inTheWay)
        {
            try
            {
                await Slave.PurgeAsync(path, null, cancellationToken).ConfigureAwait(false);
                _counters.Purged(1);
            }
            catch (Exception ex) when (IsEntryFailure(ex))
            {
                return Fail(path, $"cannot remove what is in the file's place on the slave: {ex.Message}", ErrnoOf(ex));
            }
        }
        if (!_fileSlots.Wait(0, cancellationToken))
        {
            // Every slot is held by a file the syncer has: a batch still gathering would never fill while the walk waits here.
            _crawler.Syncer.SendQueued();
            await _fileSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        return SyncFileAsync(path, stat, mark, cancellationToken);
    }

    /// <summary>
    /// A directory the slave lacks goes to the syncer whole (docs/master-loop.md, "Whole new directories"): rsync copies it
    /// with everything below it, attributes included, instead of the walk naming each file. What is in its place on the
    /// slave is removed first; rsync's items feed the counters as they arrive, and a path rsync names as failed below it
    /// goes into the ledger and fails this job, so no ancestor is finished.
    /// </summary>
    private async Task<Task<bool>> QueueTreeAsync(string path, SlaveEntryState there, CancellationToken cancellationToken)
    {
        if (there.Exists)
        {
            try
            {
                await Slave.PurgeAsync(path, null, cancellationToken).ConfigureAwait(false);
                _counters.Purged(1);
            }
            catch (Exception ex) when (IsEntryFailure(ex))
            {
                return Fail(path, $"cannot remove what is in the directory's place on the slave: {ex.Message}", ErrnoOf(ex));
            }
        }
        if (!_fileSlots.Wait(0, cancellationToken))
        {
            _crawler.Syncer.SendQueued();
            await _fileSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        return SyncTreeAsync(path, cancellationToken);
    }

    private async Task<bool> SyncTreeAsync(string path, CancellationToken cancellationToken)
    {
        _jobs.Started();
        try
        {
            var outcome = await _crawler.Syncer.AddTree(path, Arrived).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (outcome.Succeeded) return true;
            foreach (var below in outcome.FailedBelow) RecordFailure(below.RelativePath, $"failed to sync: {below.Reason}", below.Errno);
            // Pinned on nothing below: the directory itself is what failed (the next turn lists what arrived and sends the rest).
            return outcome.FailedBelow.Count == 0 && RecordFailure(path, $"failed to sync: {outcome.FailureReason}", outcome.Errno);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex)
        {
            return Abort(ex);
        }
        finally
        {
            _fileSlots.Release();
            _jobs.Finished();
        }

        void Arrived(RsyncItem item)
        {
            switch (item.Kind)
            {
                case RsyncItemKind.File when item.Transferred:
                    _counters.FileSynced(item.Size);
                    break;
                case RsyncItemKind.Special when item.Transferred:
                    _counters.SpecialFileSynced();
                    break;
                case RsyncItemKind.Directory when item.Transferred:
                    // rsync listed it for the walk: the next turn's progress counts on every directory of the tree.
                    _counters.DirectoryScanned();
                    _counters.Created();
                    break;
                case RsyncItemKind.Symlink when item.Transferred:
                    _counters.Created();
                    break;
            }
        }
    }

    /// <summary>One file's job: its data (or special node) through the syncer, then (on a GlusterFS master) its slave xtime.</summary>
    private async Task<bool> SyncFileAsync(string path, EntryStat stat, Xtime? mark, CancellationToken cancellationToken)
    {
        _jobs.Started();
        try
        {
            var outcome = await _crawler.Syncer.Add(path).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!outcome.Succeeded) return RecordFailure(path, $"failed to sync: {outcome.FailureReason}", outcome.Errno);
            if (stat.Type == EntryType.Special) _counters.SpecialFileSynced();
            else _counters.FileSynced(stat.Size);
            if (mark is Xtime xtime) await Slave.SetXtimeAsync(path, _uuid!, xtime, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            return RecordFailure(path, $"cannot set the file's xtime on the slave: {ex.Message}", ErrnoOf(ex));
        }
        catch (Exception ex)
        {
            return Abort(ex);
        }
        finally
        {
            _fileSlots.Release();
            _jobs.Finished();
        }
    }

    /// <summary>symlink + setattr(own) + set_xtime (docs/master-loop.md, "The crawl"); an entry of another type in its place is replaced by the slave.</summary>
    private async Task<Task<bool>> CopySymlinkAsync(string path, EntryStat stat, Xtime? mark, CancellationToken cancellationToken)
    {
        try
        {
            await Slave.SymlinkAsync(stat.LinkTarget!, path, cancellationToken).ConfigureAwait(false);
            _counters.Created();
            await Slave.SetattrAsync(path, SlaveAttributes.OfSymlink(stat), cancellationToken).ConfigureAwait(false);
            if (mark is Xtime xtime) await Slave.SetXtimeAsync(path, _uuid!, xtime, cancellationToken).ConfigureAwait(false);
            return Succeeded;
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            return Fail(path, $"cannot create the symlink on the slave: {ex.Message}", ErrnoOf(ex));
        }
    }

    private async Task<bool> MakeDirectoryAsync(string path, bool purgeFirst, CancellationToken cancellationToken)
    {
        try
        {
            if (purgeFirst)
            {
                await Slave.PurgeAsync(path, null, cancellationToken).ConfigureAwait(false);
                _counters.Purged(1);
            }
            await Slave.MkdirAsync(path, cancellationToken).ConfigureAwait(false);
            _counters.Created();
            return true;
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            return RecordFailure(path, $"cannot create the directory on the slave: {ex.Message}", ErrnoOf(ex));
        }
    }

    /// <summary>
    /// Without pruning, a file whose master xtime passed its directory's slave mark may only have been re-stamped by a
    /// heal (which stamps the healed copy, not its parent): its own slave xtime, set after it was last sent, tells
    /// whether that copy already covers the master's xtime.
    /// </summary>
    private async Task<bool> AlreadySentAsync(string path, Xtime masterXtime, SlaveEntryState there, CancellationToken cancellationToken)
    {
        if (_prune || there.Stat is not { Type: EntryType.Regular }) return false;
        try
        {
            var reading = await Slave.XtimeAsync(path, _uuid!, cancellationToken).ConfigureAwait(false);
            return Amended(reading.Value) is Xtime sent && sent >= masterXtime;
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            return false;
        }
    }

    /// <summary>
    /// Purges the slave's names the master does not have (never with an empty set); true when it purged any. Each is
    /// first confirmed gone on the master, and a mass deletion is held (docs/sessions.md, "What GeoSync will not do with
    /// a view it cannot vouch for").
    /// </summary>
    private async Task<bool> PurgeGoneAsync(string path, IReadOnlyList<string> masterNames, SlaveListing slaveListing,
        List<Task<bool>> jobs, CancellationToken cancellationToken)
    {
        if (Options.IgnoreDeletes) return false;
        var onMaster = new HashSet<string>(masterNames, StringComparer.Ordinal);
        var missing = slaveListing.Names.Where(name => !onMaster.Contains(name)).ToList();
        if (missing.Count == 0) return false;
        var gone = ConfirmGone(path, missing, jobs);
        if (gone is null || gone.Count == 0) return false;
        var slaveEntries = slaveListing.Count;
        if (gone.Count >= Options.MassDeleteMinimum && gone.Count > Options.MaxDeleteShare * slaveEntries)
        {
            _counters.PurgeHeld(new HeldPurge(path, gone.Count, slaveEntries));
            jobs.Add(Fail(path,
                $"purge held back: the master lacks {gone.Count} of the {slaveEntries} entries the slave has here, more than the " +
                $"allowed share of {Options.MaxDeleteShare:0.##} in one turn. If they really are gone from the master, allow it " +
                "with --max-delete-share 1 (-MaxDeleteShare 1); until then the directory is retried every turn"));
            return false;
        }
        try
        {
            await Slave.PurgeAsync(path, gone, cancellationToken).ConfigureAwait(false);
            _counters.Purged(gone.Count);
            return true;
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            jobs.Add(Fail(path, $"cannot purge {gone.Count} entries the master no longer has: {ex.Message}", ErrnoOf(ex)));
            return false;
        }
    }

    /// <summary>
    /// The names among <paramref name="missing"/> that the master confirms gone: lstat through its opened root answers
    /// ENOENT, or it answers from the kernel's cache of an entry removed through another mount (a FUSE entry stays cached
    /// for its entry timeout) and a fresh listing still lacks it. A name the fresh listing shows exists again and is left
    /// alone. Null, with the directory failed, when the master answers anything else for a name (EIO, ESTALE: a
    /// subvolume down) — then it cannot vouch that any is gone.
    /// </summary>
    private List<string>? ConfirmGone(string path, List<string> missing, List<Task<bool>> jobs)
    {
        var gone = new List<string>(missing.Count);
        var answered = new List<string>();
        foreach (var name in missing)
        {
            try
            {
                if (_crawler.Master.Lstat(Join(path, name)) is null) gone.Add(name);
                else answered.Add(name);
            }
            catch (Exception ex) when (IsEntryFailure(ex))
            {
                jobs.Add(Fail(path, $"purge stopped: the master cannot vouch that '{name}' is gone ({ex.Message}); nothing purged here"));
                return null;
            }
        }
        if (answered.Count == 0) return gone;
        IReadOnlyList<string> again;
        try
        {
            again = _crawler.Master.Entries(path);
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            jobs.Add(Fail(path, $"purge stopped: the master directory cannot be listed again ({ex.Message}); nothing purged here"));
            return null;
        }
        var listed = new HashSet<string>(again, StringComparer.Ordinal);
        foreach (var name in answered)
        {
            if (listed.Contains(name)) _crawler.Log(CrawlLogLevel.Debug, $"'{Join(path, name)}' is on the master again; not purged");
            else gone.Add(name);
        }
        return gone;
    }

    /// <summary>
    /// Lists the slave directory. One that is missing or not a directory is recreated and listed once more (docs/master-loop.md, "The crawl"); other
    /// errors only fail the directory — purging on, say, EACCES would destroy a subtree that is merely unreadable.
    /// </summary>
    private async Task<SlaveListing?> ListSlaveAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadSlaveListingAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteOsException ex) when (ex.Errno is LinuxErrno.ENOENT or LinuxErrno.ENOTDIR && path != Root)
        {
            _crawler.Log(CrawlLogLevel.Debug, $"'{path}' cannot be listed on the slave ({LinuxErrno.Name(ex.Errno)}); recreating it");
            if (!await MakeDirectoryAsync(path, purgeFirst: true, cancellationToken).ConfigureAwait(false)) return null;
            try
            {
                var listing = await ReadSlaveListingAsync(path, cancellationToken).ConfigureAwait(false);
                listing.Recreated = true;
                return listing;
            }
            catch (Exception again) when (IsEntryFailure(again))
            {
                RecordFailure(path, $"cannot list the slave directory even after recreating it: {again.Message}", ErrnoOf(again));
                return null;
            }
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            RecordFailure(path, $"cannot list the slave directory: {ex.Message}", ErrnoOf(ex));
            return null;
        }
    }

    private async Task<SlaveListing> ReadSlaveListingAsync(string path, CancellationToken cancellationToken)
    {
        if (_crawler.SlaveListsStats != false)
        {
            try
            {
                var entries = await Slave.LstatEntriesAsync(path, cancellationToken).ConfigureAwait(false);
                _crawler.SlaveListsStats = true;
                return new SlaveListing(entries.Where(e => IsReplicated(path, e.Name))
                    .ToDictionary(e => e.Name, e => (EntryStat?)e.Stat, StringComparer.Ordinal));
            }
            catch (RemoteAttributeException ex) when (_xtimes is null)
            {
                throw new GeoSyncException(
                    "the slave has no 'lstat_entries' method: a directory master compares every entry with the slave's and " +
                    "needs a GeoSync slave; upgrade the slave, or replicate from a GlusterFS volume instead", ex);
            }
            catch (RemoteAttributeException) when (_crawler.SlaveListsStats is null)
            {
                _crawler.SlaveListsStats = false;
                _crawler.Log(CrawlLogLevel.Info,
                    "the slave has no 'lstat_entries' (a 3.3 or 10.x gsyncd): listing with 'entries', without the slave's entry types");
            }
        }
        var names = await Slave.EntriesAsync(path, cancellationToken).ConfigureAwait(false);
        return new SlaveListing(names.Where(n => IsReplicated(path, n)).ToDictionary(n => n, _ => (EntryStat?)null, StringComparer.Ordinal));
    }

    /// <summary>
    /// The master directory's names, after checking that the master root is still the tree the session opened: a listing
    /// can lead to a purge, and rsync reads by the root's path. An unvouched root throws (fatal).
    /// </summary>
    private IReadOnlyList<string>? ListMaster(string path)
    {
        _crawler.Master.EnsureVouched();
        try
        {
            var names = _crawler.Master.Entries(path);
            _counters.DirectoryScanned();
            return path == Root && Options.SkipGlusterInternalNames ? names.Where(n => IsReplicated(path, n)).ToList() : names;
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            RecordFailure(path, ex.Message, ErrnoOf(ex));
            return null;
        }
    }

    /// <summary>The master entry's lstat; null (with the failure recorded) when it vanished or cannot be read.</summary>
    private EntryStat? LstatMaster(string path)
    {
        try
        {
            var stat = _crawler.Master.Lstat(path);
            if (stat is null) RecordFailure(path, "vanished from the master during the crawl; the next turn propagates the removal");
            return stat;
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            RecordFailure(path, ex.Message, ErrnoOf(ex));
            return null;
        }
    }

    /// <summary>
    /// Amending on the master (docs/master-loop.md, "The crawl"): a never-stamped entry, or one stamped before the volume mark, is stamped now so that it is
    /// synced. Returns the xtime, or why there is none (the entry vanished, the attribute is unreadable).
    /// </summary>
    private (Xtime? Value, string? Problem) AmendedMasterXtime(string path)
    {
        XtimeReading reading;
        try
        {
            reading = _xtimes!.Read(path);
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            return (null, ex.Message);
        }
        if (Amended(reading.Value) is Xtime value) return (value, null);
        if (reading.Value is null && !reading.IsUnstamped) return (null, LinuxErrno.Name(reading.Errno));

        var now = Xtime.Now(Options.Clock);
        try
        {
            _xtimes.Write(path, now);
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            return (null, $"it has no usable xtime and cannot be stamped: {ex.Message}");
        }
        _crawler.Log(CrawlLogLevel.Debug, $"stamped '{path}' with {now}: it had no xtime of this volume's index");
        return (now, null);
    }

    /// <summary>An xtime older than the volume mark predates the index and counts as none (docs/master-loop.md, "The crawl").</summary>
    private Xtime? Amended(Xtime? value) =>
        value is Xtime x && !(Options.VolumeMark is Xtime mark && x < mark) ? x : null;

    private IEnumerable<string> InVisitOrder(IReadOnlyList<string> names)
    {
        if (!Options.ShuffleEntries) return names;
        var shuffled = names.ToArray();
        Random.Shared.Shuffle(shuffled);
        return shuffled;
    }

    private Task<bool> Fail(string path, string reason, int? errno = null)
    {
        RecordFailure(path, reason, errno);
        return Failed;
    }

    private bool RecordFailure(string path, string reason, int? errno = null)
    {
        var failure = _crawler.Ledger.Record(path, reason, errno);
        // Not a warning: the turn result lists every failure, and the cmdlet writes an error record for each.
        _crawler.Log(failure.IsPersistent ? CrawlLogLevel.Error : CrawlLogLevel.Info,
            $"'{path}' did not reach the slave (attempt {failure.Attempts}{(failure.IsPersistent ? ", persistent" : "")}): {failure.Reason}");
        return false;
    }

    /// <summary>Stops the turn: the first fatal error is rethrown by <see cref="RunAsync"/> once every job has ended.</summary>
    private bool Abort(Exception ex)
    {
        Interlocked.CompareExchange(ref _fatal, ExceptionDispatchInfo.Capture(ex), null);
        _abort?.Cancel();
        return false;
    }

    /// <summary>
    /// Failures that concern one entry and are retried next turn. Anything else (a broken connection, a session gone down,
    /// an unusable slave) ends the turn.
    /// </summary>
    private static bool IsEntryFailure(Exception ex) => ex switch
    {
        RemoteOsException os => !LinuxErrno.MeansSessionDown(os.Errno),
        RemoteValueException => true,
        GeoSyncMasterTreeException master => !LinuxErrno.MeansSessionDown(master.Errno),
        GeoSyncXattrException xattr => !LinuxErrno.MeansSessionDown(xattr.Errno),
        _ => false,
    };

    /// <summary>False for GlusterFS's own names at the root when the session involves a volume: neither copied nor purged.</summary>
    private bool IsReplicated(string directory, string name) =>
        !(directory == Root && Options.SkipGlusterInternalNames && GlusterInternalNames.IsInternal(name));

    /// <summary>The errno behind an entry failure, when the exception carries one.</summary>
    private static int? ErrnoOf(Exception ex) => ex switch
    {
        RemoteOsException os => os.Errno,
        GeoSyncMasterTreeException master => master.Errno,
        GeoSyncXattrException xattr => xattr.Errno,
        _ => null,
    };

    private static string Join(string directory, string name) => directory == Root ? name : directory + "/" + name;

    /// <summary>What the parent's slave listing said about an entry: absent, present with its lstat, or present of unknown type.</summary>
    private readonly record struct SlaveEntryState(bool Exists, EntryStat? Stat);

    private sealed class SlaveListing
    {
        private readonly Dictionary<string, EntryStat?> _entries;

        public SlaveListing(Dictionary<string, EntryStat?> entries) => _entries = entries;

        public IEnumerable<string> Names => _entries.Keys;

        public int Count => _entries.Count;

        /// <summary>The directory was recreated before this listing.</summary>
        public bool Recreated { get; set; }

        public SlaveEntryState StateOf(string name) =>
            _entries.TryGetValue(name, out var stat) ? new SlaveEntryState(true, stat) : new SlaveEntryState(false, null);
    }

    /// <summary>Counts the jobs still running, so an aborted turn can wait for them before it returns.</summary>
    private sealed class RunningJobs
    {
        private readonly object _lock = new();
        private int _running;
        private TaskCompletionSource? _idle;

        public void Started()
        {
            lock (_lock) _running++;
        }

        public void Finished()
        {
            lock (_lock)
            {
                if (--_running == 0) _idle?.TrySetResult();
            }
        }

        public Task WhenIdle()
        {
            lock (_lock)
            {
                if (_running == 0) return Task.CompletedTask;
                _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return _idle.Task;
            }
        }
    }
}
