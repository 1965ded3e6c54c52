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
    internal const string Root = ".";

    /// <summary>Paths per <c>set_xtimes</c> call when a directory sent whole is marked.</summary>
    internal const int MarkBatchSize = 2000;

    internal static readonly Task<bool> Succeeded = Task.FromResult(true);
    internal static readonly Task<bool> Failed = Task.FromResult(false);

    private readonly Crawler _crawler;
    private readonly long _number;
    private readonly string? _uuid;
    private readonly TurnCounters _counters = new();
    private readonly RunningJobs _jobs = new();
    private readonly SemaphoreSlim _fileSlots;
    private CancellationTokenSource? _abort;
    private ExceptionDispatchInfo? _fatal;

    public CrawlTurn(Crawler crawler, long number)
    {
        _crawler = crawler;
        _number = number;
        _uuid = crawler.Master.Xtimes is { } xtimes ? XattrNames.FormatUuid(xtimes.VolumeId) : null;
        _fileSlots = new SemaphoreSlim(crawler.Options.MaxPendingFiles);
    }

    public TurnProgress Progress => new(_number, _counters.DirectoriesScanned, _counters.EntriesCreated, _counters.EntriesPurged,
        _counters.FilesSynced, _counters.BytesSynced);

    internal ISlaveChannel Slave => _crawler.Slave;
    internal CrawlerOptions Options => _crawler.Options;
    internal IMasterTree Master => _crawler.Master;
    internal FailureLedger Ledger => _crawler.Ledger;

    /// <summary>Counts this turn as one that changed something on the slave.</summary>
    internal void SawChanges() => _counters.SawChanges();

    /// <summary>Whether a directory the slave lacks may go to the syncer whole (docs/master-loop.md, "Whole new directories").</summary>
    internal bool SendsDirectoriesWhole => _crawler.Syncer.SendsDirectoriesWhole;

    internal void Log(CrawlLogLevel level, string message) => _crawler.Log(level, message);

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
            var done = await _crawler.Detector.WalkAsync(this, token).ConfigureAwait(false);
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
            _crawler.Detector.TurnEnded(completed);
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
    /// Waits for every job of a directory (all of them run, even after one failed); if all succeeded, sets the directory's
    /// attributes and then its xtime — the mark that lets later crawls prune it.
    /// </summary>
    internal async Task<bool> FinishDirectoryAsync(string path, List<Task<bool>> jobs, Xtime? mark, SlaveAttributes? attributes,
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
    internal async Task<Task<bool>> QueueFileAsync(string path, EntryStat stat, SlaveEntryState there, Xtime? mark,
        CancellationToken cancellationToken)
    {
        // rsync cannot put a file where a non-empty directory is. Without the slave's types (a 3.3 slave), a file that
        // failed last turn may be failing for that reason, so its slave entry is cleared before it is sent again.
        var inTheWay = there.Exists
            && (there.Type is { } replica && replica != stat.Type || (there.Type is null && _crawler.Ledger.FailedBefore(path)));
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
    /// <param name="path">The directory, relative to the master root.</param>
    /// <param name="there">What the parent's slave listing said of it.</param>
    /// <param name="cancellationToken">Ends the job.</param>
    /// <param name="mark">
    /// On a GlusterFS master: the slave xtime for the directory and every entry rsync made below it, written (in batches)
    /// once the run succeeded — an xtime read before any of the data moved (docs/master-loop.md, "Whole new directories").
    /// </param>
    internal async Task<Task<bool>> QueueTreeAsync(string path, SlaveEntryState there, CancellationToken cancellationToken, Xtime? mark = null)
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
        return SyncTreeAsync(path, mark, cancellationToken);
    }

    private async Task<bool> SyncTreeAsync(string path, Xtime? mark, CancellationToken cancellationToken)
    {
        _jobs.Started();
        long files = 0, bytes = 0, specials = 0;
        // What rsync made below the directory, to be marked once it all arrived; only with a mark to write.
        var made = mark is null ? null : new List<string>();
        try
        {
            var outcome = await _crawler.Syncer.AddTree(path, Arrived).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (outcome.Succeeded)
            {
                if (mark is not Xtime xtime) return true;
                List<string> paths;
                lock (made!) paths = [.. made.Where(p => p != path).Distinct(StringComparer.Ordinal), path];
                return await MarkTreeAsync(paths, xtime, cancellationToken).ConfigureAwait(false);
            }
            // Counted as rsync named them (so progress moves). A failure rsync could not pin on paths, or a slave that
            // refuses writes (full, read-only), leaves unknown which of them arrived: the turn claims none of them.
            if (outcome.FailedBelow.Count == 0
                || outcome.FailedBelow.Any(f => FailureCauses.FromErrno(f.Errno) is FailureCause.NoSpace or FailureCause.ReadOnly))
            {
                _counters.Withdraw(Interlocked.Read(ref files), Interlocked.Read(ref bytes), Interlocked.Read(ref specials));
            }
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
            if (made is not null && item.Path is { } madePath && item.Kind != RsyncItemKind.Other)
            {
                lock (made) made.Add(madePath);
            }
            switch (item.Kind)
            {
                case RsyncItemKind.File when item.Transferred:
                    _counters.FileSynced(item.Size);
                    Interlocked.Increment(ref files);
                    Interlocked.Add(ref bytes, item.Size);
                    break;
                case RsyncItemKind.Special when item.Transferred:
                    _counters.SpecialFileSynced();
                    Interlocked.Increment(ref specials);
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

    /// <summary>
    /// Writes one slave xtime on every path of a directory sent whole, the directory itself last, in calls of
    /// <see cref="MarkBatchSize"/> paths (one <c>set_xtimes</c> each on a GeoSync slave, else one <c>set_xtime</c> per
    /// path). A path the slave refuses is a failure of its own and fails the job, so no ancestor is marked.
    /// </summary>
    private async Task<bool> MarkTreeAsync(List<string> paths, Xtime mark, CancellationToken cancellationToken)
    {
        var succeeded = true;
        foreach (var chunk in paths.Chunk(MarkBatchSize))
        {
            IReadOnlyList<Exception?> results;
            try
            {
                results = await Slave.SetXtimesAsync(chunk, _uuid!, mark, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsEntryFailure(ex))
            {
                return RecordFailure(chunk[0], $"cannot set the xtimes of a directory sent whole on the slave: {ex.Message}", ErrnoOf(ex));
            }
            for (var i = 0; i < chunk.Length; i++)
            {
                if (results[i] is not { } failure) continue;
                RecordFailure(chunk[i], $"cannot set the entry's xtime on the slave: {failure.Message}", ErrnoOf(failure));
                succeeded = false;
            }
        }
        return succeeded;
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
    internal async Task<Task<bool>> CopySymlinkAsync(string path, EntryStat stat, Xtime? mark, CancellationToken cancellationToken)
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

    internal async Task<bool> MakeDirectoryAsync(string path, bool purgeFirst, CancellationToken cancellationToken)
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
    /// Purges the slave's names the master does not have (never with an empty set); true when it purged any. Each is
    /// first confirmed gone on the master, and a mass deletion is held (docs/sessions.md, "What GeoSync will not do with
    /// a view it cannot vouch for").
    /// </summary>
    internal async Task<bool> PurgeGoneAsync(string path, IReadOnlyList<string> masterNames, SlaveListing slaveListing,
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
    /// <param name="path">The slave directory.</param>
    /// <param name="cancellationToken">Ends the listing.</param>
    /// <param name="typesOnly">The caller needs each entry's type and nothing else of its lstat (a GlusterFS master's descent).</param>
    internal async Task<SlaveListing?> ListSlaveAsync(string path, CancellationToken cancellationToken, bool typesOnly = false)
    {
        try
        {
            return await ReadSlaveListingAsync(path, typesOnly, cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteOsException ex) when (ex.Errno is LinuxErrno.ENOENT or LinuxErrno.ENOTDIR && path != Root)
        {
            _crawler.Log(CrawlLogLevel.Debug, $"'{path}' cannot be listed on the slave ({LinuxErrno.Name(ex.Errno)}); recreating it");
            if (!await MakeDirectoryAsync(path, purgeFirst: true, cancellationToken).ConfigureAwait(false)) return null;
            try
            {
                var listing = await ReadSlaveListingAsync(path, typesOnly, cancellationToken).ConfigureAwait(false);
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

    private async Task<SlaveListing> ReadSlaveListingAsync(string path, bool typesOnly, CancellationToken cancellationToken)
    {
        if (typesOnly && _crawler.SlaveListsTypes != false)
        {
            try
            {
                var typed = await Slave.EntryTypesAsync(path, cancellationToken).ConfigureAwait(false);
                _crawler.SlaveListsTypes = true;
                return new SlaveListing(typed.Where(e => IsReplicated(path, e.Name))
                    .ToDictionary(e => e.Name, e => e.Type, StringComparer.Ordinal));
            }
            catch (RemoteAttributeException) when (_crawler.SlaveListsTypes is null)
            {
                _crawler.SlaveListsTypes = false;
                _crawler.Log(CrawlLogLevel.Debug, "the slave has no 'entry_types' (an older GeoSync slave or a gsyncd): listing with lstats");
            }
        }
        if (_crawler.SlaveListsStats != false)
        {
            try
            {
                var entries = await Slave.LstatEntriesAsync(path, cancellationToken).ConfigureAwait(false);
                _crawler.SlaveListsStats = true;
                return new SlaveListing(entries.Where(e => IsReplicated(path, e.Name))
                    .ToDictionary(e => e.Name, e => (EntryStat?)e.Stat, StringComparer.Ordinal));
            }
            catch (RemoteAttributeException ex) when (_crawler.Master.Xtimes is null)
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
    internal IReadOnlyList<string>? ListMaster(string path)
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

    /// <summary>
    /// The master directory's entries with their lstats (<see cref="IMasterTree.EntriesWithStats"/>), after the same
    /// root check as <see cref="ListMaster"/>; null (with the failure recorded) when it cannot be listed. Each entry's
    /// stat goes through <see cref="StatOf"/>.
    /// </summary>
    internal IReadOnlyList<MasterEntry>? ListMasterWithStats(string path)
    {
        _crawler.Master.EnsureVouched();
        try
        {
            var entries = _crawler.Master.EntriesWithStats(path);
            _counters.DirectoryScanned();
            return path == Root && Options.SkipGlusterInternalNames ? entries.Where(e => IsReplicated(path, e.Name)).ToList() : entries;
        }
        catch (Exception ex) when (IsEntryFailure(ex))
        {
            RecordFailure(path, ex.Message, ErrnoOf(ex));
            return null;
        }
    }

    /// <summary>
    /// A listed entry's lstat, as <see cref="LstatMaster"/> answers it: null (with the failure recorded) when it vanished or
    /// could not be read; a failure that is not the entry's own (the master lost) is thrown.
    /// </summary>
    internal EntryStat? StatOf(string path, MasterEntry entry)
    {
        if (entry.Failure is { } failure)
        {
            if (!IsEntryFailure(failure)) ExceptionDispatchInfo.Throw(failure);
            RecordFailure(path, failure.Message, ErrnoOf(failure));
            return null;
        }
        if (entry.Stat is null) RecordFailure(path, "vanished from the master during the crawl; the next turn propagates the removal");
        return entry.Stat;
    }

    /// <summary>The master entry's lstat; null (with the failure recorded) when it vanished or cannot be read.</summary>
    internal EntryStat? LstatMaster(string path)
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


    internal IEnumerable<string> InVisitOrder(IReadOnlyList<string> names)
    {
        if (!Options.ShuffleEntries) return names;
        var shuffled = names.ToArray();
        Random.Shared.Shuffle(shuffled);
        return shuffled;
    }

    internal Task<bool> Fail(string path, string reason, int? errno = null)
    {
        RecordFailure(path, reason, errno);
        return Failed;
    }

    internal bool RecordFailure(string path, string reason, int? errno = null)
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
    internal static bool IsEntryFailure(Exception ex) => ex switch
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
    internal static int? ErrnoOf(Exception ex) => ex switch
    {
        RemoteOsException os => os.Errno,
        GeoSyncMasterTreeException master => master.Errno,
        GeoSyncXattrException xattr => xattr.Errno,
        _ => null,
    };

    internal static string Join(string directory, string name) => directory == Root ? name : directory + "/" + name;

}
