namespace GeoSync.Engine.Master;

/// <summary>
/// Change detection on a plain-directory master (docs/master-loop.md, "The crawl"): no xtimes, so every directory is
/// listed on both sides and each entry is compared with the slave's lstat; only what differs is sent.
/// </summary>
internal sealed class FullComparison : IChangeDetector
{
    public Task<Task<bool>> WalkAsync(CrawlTurn turn, CancellationToken cancellationToken) =>
        new Walk(turn).CompareAsync(CrawlTurn.Root, null, SlaveEntryState.Root, cancellationToken);

    /// <summary>
    /// One turn's comparison. A detector that knows where changes are (<see cref="WatchedChanges"/>) derives from it and
    /// chooses which subdirectories to compare (<see cref="VisitDirectoryAsync"/>); the comparison of entries is this one.
    /// </summary>
    internal class Walk
    {
        private readonly CrawlTurn _turn;

        public Walk(CrawlTurn turn) => _turn = turn;

        protected CrawlTurn Turn => _turn;

        /// <summary>A subdirectory of a directory being compared: compared in turn (here, always).</summary>
        protected virtual Task<Task<bool>> VisitDirectoryAsync(string path, string name, EntryStat stat, SlaveEntryState there,
            CancellationToken cancellationToken) =>
            CompareAsync(path, stat, there, cancellationToken);

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

            // Both sides at once (docs/performance.md, "Directory master"): an in-process slave answers on the calling
            // thread, so its listing goes to another one while this one lists and lstats the master's entries.
            var listingSlave = Task.Run(() => _turn.ListSlaveAsync(path, cancellationToken), cancellationToken);
            // Listed and lstat'ed through the opened directory: one path resolution per directory, not per entry.
            var masterEntries = _turn.ListMasterWithStats(path);
            var masterNames = masterEntries?.Select(entry => entry.Name).ToList();
            var masterStats = masterEntries?.ToDictionary(entry => entry.Name, entry => _turn.StatOf(CrawlTurn.Join(path, entry.Name), entry),
                StringComparer.Ordinal);
            var slaveListing = await listingSlave.ConfigureAwait(false);
            if (masterNames is null || masterStats is null || slaveListing is null) return CrawlTurn.Failed;
            changed |= slaveListing.Recreated;

            var jobs = new List<Task<bool>>();
            changed |= await _turn.PurgeGoneAsync(path, masterNames, slaveListing, jobs, cancellationToken).ConfigureAwait(false);
            foreach (var name in _turn.InVisitOrder(masterNames))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var child = CrawlTurn.Join(path, name);
                var stat = masterStats[name];
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
                        // One the slave lacks goes whole (docs/master-loop.md, "Whole new directories"): nothing below it to compare.
                        jobs.Add(there.Stat is not { Type: EntryType.Directory } && (there.Stat is not null || !there.Exists)
                            && _turn.SendsDirectoriesWhole
                            ? await _turn.QueueTreeAsync(child, there, cancellationToken).ConfigureAwait(false)
                            : await VisitDirectoryAsync(child, name, stat, there, cancellationToken).ConfigureAwait(false));
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
            // Attributes set where the slave's were not known (a watched turn that did not list the parent) are no change.
            if (changed || attributes is not null && slaveState.Stat is not null) _turn.SawChanges();
            return _turn.FinishDirectoryAsync(path, jobs, null, attributes, cancellationToken);
        }
    }
}
