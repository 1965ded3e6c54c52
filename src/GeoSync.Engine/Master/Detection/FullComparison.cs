namespace GeoSync.Engine.Master;

/// <summary>
/// Change detection on a plain-directory master (docs/master-loop.md, "The crawl"): no xtimes, so every directory is
/// listed on both sides and each entry is compared with the slave's lstat; only what differs is sent.
/// </summary>
internal sealed class FullComparison : IChangeDetector
{
    public Task<Task<bool>> WalkAsync(CrawlTurn turn, CancellationToken cancellationToken) =>
        new Walk(turn).CompareAsync(CrawlTurn.Root, null, SlaveEntryState.Root, cancellationToken);

    /// <summary>One turn's comparison.</summary>
    private sealed class Walk
    {
        private readonly CrawlTurn _turn;

        public Walk(CrawlTurn turn) => _turn = turn;

        /// <summary>
        /// The hybrid crawl of a plain-directory master: no xtimes, so every directory is listed on both sides and each entry
        /// is compared with the slave's lstat; only what differs is sent. A directory's owner, mode and times are set after
        /// its subtree, when anything in it changed or they differ.
        /// </summary>
        public async Task<Task<bool>> CompareAsync(string path, EntryStat? masterStat, SlaveEntryState slaveState,
            CancellationToken cancellationToken)
        {
            var changed = false;
            if (!slaveState.Exists || slaveState.Stat is { Type: not EntryType.Directory })
            {
                if (!await _turn.MakeDirectoryAsync(path, purgeFirst: slaveState.Exists, cancellationToken).ConfigureAwait(false)) return CrawlTurn.Failed;
                changed = true;
            }

            var masterNames = _turn.ListMaster(path);
            if (masterNames is null) return CrawlTurn.Failed;
            var slaveListing = await _turn.ListSlaveAsync(path, cancellationToken).ConfigureAwait(false);
            if (slaveListing is null) return CrawlTurn.Failed;
            changed |= slaveListing.Recreated;

            var jobs = new List<Task<bool>>();
            changed |= await _turn.PurgeGoneAsync(path, masterNames, slaveListing, jobs, cancellationToken).ConfigureAwait(false);
            foreach (var name in _turn.InVisitOrder(masterNames))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var child = CrawlTurn.Join(path, name);
                var stat = _turn.LstatMaster(child);
                if (stat is null)
                {
                    jobs.Add(CrawlTurn.Failed);
                    continue;
                }
                var there = slaveListing.StateOf(name);
                switch (stat.Type)
                {
                    case EntryType.Regular:
                        if (there.Stat is { } replica && stat.SameFileAs(replica)) continue;
                        changed = true;
                        jobs.Add(await _turn.QueueFileAsync(child, stat, there, null, cancellationToken).ConfigureAwait(false));
                        break;
                    case EntryType.Symlink:
                        if (there.Stat is { } link && stat.SameSymlinkAs(link)) continue;
                        changed = true;
                        jobs.Add(await _turn.CopySymlinkAsync(child, stat, null, cancellationToken).ConfigureAwait(false));
                        break;
                    case EntryType.Directory:
                        // Making the child directory changes this one's mtime.
                        changed |= there.Stat is not { Type: EntryType.Directory };
                        jobs.Add(await CompareAsync(child, stat, there, cancellationToken).ConfigureAwait(false));
                        break;
                    default:
                        if (there.Stat is { } special && stat.SameSpecialAs(special)) continue;
                        changed = true;
                        jobs.Add(await _turn.QueueFileAsync(child, stat, there, null, cancellationToken).ConfigureAwait(false));
                        break;
                }
            }

            SlaveAttributes? attributes = null;
            if (masterStat is not null
                && (changed || slaveState.Stat is not { } replicaDirectory || !masterStat.SameDirectoryAttributesAs(replicaDirectory)))
            {
                attributes = SlaveAttributes.OfDirectory(masterStat);
            }
            if (changed || attributes is not null) _turn.SawChanges();
            return _turn.FinishDirectoryAsync(path, jobs, null, attributes, cancellationToken);
        }
    }
}
