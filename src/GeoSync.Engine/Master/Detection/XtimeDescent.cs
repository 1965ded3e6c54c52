using GeoSync.Engine.Rpc;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// Change detection on a GlusterFS master (docs/master-loop.md, "The crawl"): the marker stamps every ancestor of a
/// change, so a turn descends only where the master's xtime is newer than the slave's, and each entry's slave xtime is
/// the master xtime read before its data moved.
/// </summary>
internal sealed class XtimeDescent : IChangeDetector
{
    private readonly IMasterXtimes _xtimes;
    private readonly BrickSetXtimes? _bricks;
    private readonly string _uuid;
    private readonly bool _prune;
    private string? _lastFallback;

    /// <param name="xtimes">The master's xtimes.</param>
    /// <param name="prune">Skip a directory whose master xtime equals the slave's (<see cref="Crawler.PrunesByDirectoryXtime"/>).</param>
    /// <param name="bricks">
    /// Every brick of the master, all on this host (docs/multi-brick.md; a one-brick volume is a set of one): a turn whose
    /// view of them is whole reads the xtimes there and prunes by their merged directory xtimes, whatever
    /// <paramref name="prune"/> says; any other turn reads through the mount and prunes only as <paramref name="prune"/> says.
    /// </param>
    public XtimeDescent(IMasterXtimes xtimes, bool prune, BrickSetXtimes? bricks = null)
    {
        _xtimes = xtimes;
        _bricks = bricks;
        _uuid = XattrNames.FormatUuid(xtimes.VolumeId);
        _prune = prune;
    }

    /// <summary>The master's bricks the xtimes are read on when a turn's view is whole, if any.</summary>
    internal BrickSetXtimes? Bricks => _bricks;

    /// <summary>
    /// This turn's reading of the master's bricks (docs/multi-brick.md): its bricks when all can be read, else none — and
    /// the log says when that changes, and at every turn that falls back.
    /// </summary>
    private BrickSetXtimes? BricksForTurn(CrawlTurn turn)
    {
        if (_bricks is not { } bricks) return null;
        var whole = bricks.BeginTurn(out var why, out var relinking);
        var previous = Interlocked.Exchange(ref _lastFallback, whole ? "" : why);
        if (whole)
        {
            if (previous is null || previous.Length > 0)
            {
                turn.Log(CrawlLogLevel.Info, bricks.BrickPaths.Count == 1
                    ? $"master xtimes are read on the volume's one brick, {bricks.BrickPaths[0]}; the crawl prunes by them"
                    : $"master xtimes are read on the volume's {bricks.BrickPaths.Count} bricks " +
                      $"({bricks.Layout.Subvolumes.Count} subvolumes of {bricks.Layout.SetSize}), merged per subvolume; the crawl prunes by them");
            }
            return bricks;
        }
        turn.Log(previous == why ? CrawlLogLevel.Debug : relinking ? CrawlLogLevel.Info : CrawlLogLevel.Warning,
            $"this turn reads master xtimes through the mount{(_prune ? "" : " and lists every directory (no pruning)")}: {why}");
        return null;
    }

    public Task<Task<bool>> WalkAsync(CrawlTurn turn, CancellationToken cancellationToken) =>
        new Walk(this, turn).DescendAsync(CrawlTurn.Root, null, null, SlaveEntryState.Root, cancellationToken);

    /// <summary>One turn's descent.</summary>
    private sealed class Walk
    {
        private readonly CrawlTurn _turn;
        private readonly IMasterXtimes _xtimes;
        private readonly BrickSetXtimes? _bricks;
        private readonly string _uuid;
        private readonly bool _prune;

        public Walk(XtimeDescent detector, CrawlTurn turn)
        {
            _turn = turn;
            _xtimes = detector._xtimes;
            _bricks = detector.BricksForTurn(turn);
            _uuid = detector._uuid;
            // Merged over every brick, a directory's xtime is the newest below it: safe to prune by (docs/multi-brick.md).
            _prune = detector._prune || _bricks is not null;
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
        public async Task<Task<bool>> DescendAsync(string path, Xtime? knownMasterXtime, EntryStat? masterStat,
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
                if (value is not Xtime read) return _turn.Fail(path, $"cannot read the master's xtime: {problem}");
                masterXtime = read;
            }

            Xtime? slaveXtime = null;
            var changed = true;
            if (!slaveState.Exists || slaveState.Type is { } slaveType && slaveType != EntryType.Directory)
            {
                // The parent's listing already told: no xtime call needed.
                if (!await _turn.MakeDirectoryAsync(path, purgeFirst: slaveState.Exists, cancellationToken).ConfigureAwait(false)) return CrawlTurn.Failed;
            }
            else
            {
                XtimeReading reading;
                try
                {
                    reading = await _turn.Slave.XtimeAsync(path, _uuid, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (CrawlTurn.IsEntryFailure(ex))
                {
                    return _turn.Fail(path, $"cannot read the slave's xtime: {ex.Message}", CrawlTurn.ErrnoOf(ex));
                }

                if (reading.Value is null && !reading.IsUnstamped)
                {
                    // ENOENT: missing; ENOTDIR: something else is in the way.
                    var purge = reading.Errno != LinuxErrno.ENOENT;
                    if (!await _turn.MakeDirectoryAsync(path, purge, cancellationToken).ConfigureAwait(false)) return CrawlTurn.Failed;
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
                                XattrNames.XtimeFor(_uuid, XattrNames.TrustedNamespace));
                        }
                        if (_prune && !changed) return CrawlTurn.Succeeded;
                    }
                }
            }

            var masterNames = _turn.ListMaster(path);
            if (masterNames is null) return CrawlTurn.Failed;
            // Only the slave entries' types count here: a listing without lstats spares a round trip per entry on a
            // GlusterFS slave (docs/performance.md, "Slave listings and xtimes on a GlusterFS slave").
            var slaveListing = await _turn.ListSlaveAsync(path, cancellationToken, typesOnly: true).ConfigureAwait(false);
            if (slaveListing is null) return CrawlTurn.Failed;

            var jobs = new List<Task<bool>>();
            changed |= await _turn.PurgeGoneAsync(path, masterNames, slaveListing, jobs, cancellationToken).ConfigureAwait(false);
            changed |= slaveListing.Recreated;
            foreach (var name in _turn.InVisitOrder(masterNames))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var child = CrawlTurn.Join(path, name);
                var there = slaveListing.StateOf(name);
                EntryStat? knownStat = null;
                if (_prune && !there.Exists)
                {
                    // A regular file the slave lacks is sent whatever its own xtime says, and marked with this directory's
                    // xtime: read before the listing, it covers every change the copy can contain, and a later change
                    // stamps the file later. That spares a first sync one xattr round trip through FUSE per file (the
                    // lstat comes from the kernel's cache, which the listing filled).
                    knownStat = _turn.LstatMaster(child);
                    if (knownStat is null)
                    {
                        jobs.Add(CrawlTurn.Failed);
                        continue;
                    }
                    if (knownStat.Type is EntryType.Regular or EntryType.Special)
                    {
                        changed = true;
                        jobs.Add(await _turn.QueueFileAsync(child, knownStat, there, masterXtime, cancellationToken).ConfigureAwait(false));
                        continue;
                    }
                    if (knownStat.Type == EntryType.Directory && _turn.SendsDirectoriesWhole)
                    {
                        // A directory the slave lacks goes to rsync whole, and everything rsync made below it gets the
                        // same mark once it arrived: rsync reads the directory as `rsync -a` does instead of resolving
                        // each name through the mount (docs/master-loop.md, "Whole new directories").
                        changed = true;
                        jobs.Add(await _turn.QueueTreeAsync(child, there, cancellationToken, masterXtime).ConfigureAwait(false));
                        continue;
                    }
                }
                var (childXtime, problem) = AmendedMasterXtime(child);
                if (childXtime is not Xtime childMark)
                {
                    // 3.3 only warned here and marked the parent anyway, losing the change for good (docs/gsyncd-flaws.md, #9).
                    jobs.Add(_turn.Fail(child, $"irregular xtime on the master: {problem}"));
                    continue;
                }
                // Pruning compares with this directory's slave xtime, not the child's own (docs/master-loop.md, "The crawl").
                var unchanged = slaveXtime is Xtime parentMark && childMark <= parentMark;
                if (unchanged && _prune) continue;

                // Changed since the slave's mark: what is sent must be at least as new as the xtime just read.
                if (knownStat is null && !unchanged) _xtimes.RefreshAttributes(child);
                var stat = knownStat ?? _turn.LstatMaster(child);
                if (stat is null)
                {
                    jobs.Add(CrawlTurn.Failed);
                    continue;
                }
                // Without pruning only a subdirectory is visited regardless: its xtime may be an older subvolume's answer.
                if (unchanged && stat.Type != EntryType.Directory) continue;
                changed |= stat.Type is EntryType.Regular or EntryType.Symlink or EntryType.Special;
                switch (stat.Type)
                {
                    case EntryType.Symlink:
                        jobs.Add(await _turn.CopySymlinkAsync(child, stat, childMark, cancellationToken).ConfigureAwait(false));
                        break;
                    case EntryType.Regular:
                        if (await AlreadySentAsync(child, childMark, there, cancellationToken).ConfigureAwait(false)) break;
                        jobs.Add(await _turn.QueueFileAsync(child, stat, there, childMark, cancellationToken).ConfigureAwait(false));
                        break;
                    case EntryType.Directory:
                        jobs.Add(await DescendAsync(child, childMark, stat, there, cancellationToken).ConfigureAwait(false));
                        break;
                    default:
                        // Special files go through rsync like regular ones: it makes fifos, sockets and devices as -a does.
                        jobs.Add(await _turn.QueueFileAsync(child, stat, there, childMark, cancellationToken).ConfigureAwait(false));
                        break;
                }
            }

            if (!changed)
            {
                // Only without pruning: the slave's mark already covers this directory, so only its subdirectories' jobs count.
                return _turn.FinishDirectoryAsync(path, jobs, null, null, cancellationToken);
            }
            _turn.SawChanges();
            // The root keeps its own owner and mode on the slave (docs/master-loop.md, "The crawl": only its xtime is set).
            var attributes = masterStat is null ? null : SlaveAttributes.OfDirectory(masterStat);
            var mark = slaveXtime is Xtime previous && previous > masterXtime ? previous : masterXtime;
            return _turn.FinishDirectoryAsync(path, jobs, mark, attributes, cancellationToken);
        }

        /// <summary>
        /// Without pruning, a file whose master xtime passed its directory's slave mark may only have been re-stamped by a
        /// heal (which stamps the healed copy, not its parent): its own slave xtime, set after it was last sent, tells
        /// whether that copy already covers the master's xtime.
        /// </summary>
        private async Task<bool> AlreadySentAsync(string path, Xtime masterXtime, SlaveEntryState there, CancellationToken cancellationToken)
        {
            if (_prune || there.Type != EntryType.Regular) return false;
            try
            {
                var reading = await _turn.Slave.XtimeAsync(path, _uuid, cancellationToken).ConfigureAwait(false);
                return Amended(reading.Value) is Xtime sent && sent >= masterXtime;
            }
            catch (Exception ex) when (CrawlTurn.IsEntryFailure(ex))
            {
                return false;
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
                // Every entry of a changed directory is read: on the brick that is a local call, through FUSE a round trip.
                reading = _bricks?.TryRead(path) ?? _xtimes.Read(path);
            }
            catch (Exception ex) when (CrawlTurn.IsEntryFailure(ex))
            {
                return (null, ex.Message);
            }
            if (Amended(reading.Value) is Xtime value) return (value, null);
            if (reading.Value is null && !reading.IsUnstamped) return (null, LinuxErrno.Name(reading.Errno));

            var now = Xtime.Now(_turn.Options.Clock);
            try
            {
                _xtimes.Write(path, now);
            }
            catch (Exception ex) when (CrawlTurn.IsEntryFailure(ex))
            {
                return (null, $"it has no usable xtime and cannot be stamped: {ex.Message}");
            }
            _turn.Log(CrawlLogLevel.Debug, $"stamped '{path}' with {now}: it had no xtime of this volume's index");
            return (now, null);
        }

        /// <summary>An xtime older than the volume mark predates the index and counts as none (docs/master-loop.md, "The crawl").</summary>
        private Xtime? Amended(Xtime? value) =>
            value is Xtime x && !(_turn.Options.VolumeMark is Xtime mark && x < mark) ? x : null;
    }
}
