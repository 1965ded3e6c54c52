using GeoSync.Engine.Master;
using GeoSync.Engine.Verify;

namespace GeoSync.Engine.Session;

public sealed partial class GeoSyncSession
{
    /// <summary>
    /// A verifier comparing this session's master tree (the directory, or the aux mount) with its slave over the session's
    /// slave channel; the slave lists and hashes on its own host. See docs/verify.md.
    /// </summary>
    public ReplicaVerifier CreateVerifier(ReplicaVerifyOptions? options = null)
    {
        options ??= new ReplicaVerifyOptions();
        lock (_gate) ThrowUnlessActive();
        // User xattrs are only replicated when rsync copies them; otherwise comparing them would report what was never promised.
        options = options with { Xattrs = options.Xattrs && _options.Xattrs, SkipGlusterInternalNames = InvolvesGlusterVolume() };
        var endpoint = _slave!;
        var slave = endpoint is InProcessSlaveEndpoint inProcess
            ? new SlaveReplicaSide(inProcess.Server, options.Xattrs, Slave.ToString())
            : new SlaveReplicaSide((method, args, ct) => endpoint.CallAsync(method, args, null, ct), options.Xattrs, Slave.ToString());
        return new ReplicaVerifier(new LocalReplicaSide(_masterTree!.RootPath, options.Xattrs), slave, options);
    }

    /// <summary>
    /// Makes the slave match the master through the normal sync path: files whose content differs at equal size and mtime
    /// (<paramref name="contentDifferences"/>) are removed from the slave first, since rsync's quick check would pass them;
    /// then one comparison crawl of the whole tree (the directory master's crawl, whatever the master is) sends every file
    /// that differs in size, mtime, mode or owner, recreates what is missing or of another type, purges what the master
    /// lacks and sets directories' attributes. It stamps no xtime, so the slave's marks never claim more than the crawl
    /// that set them saw. Runs exclusively of other turns of this session.
    /// </summary>
    public Task<TurnResult> RepairAsync(IReadOnlyCollection<string> contentDifferences, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contentDifferences);
        lock (_gate) ThrowUnlessActive();
        var crawler = TurnCrawler();
        // The session's own rules (mass-deletion guard, GlusterFS-internal names, ...) hold for a repair too.
        var repair = new Crawler(new ComparisonView(crawler.Master), crawler.Slave, crawler.Syncer, crawler.Options);
        Log(SessionLogLevel.Verbose, $"repairing {Slave}: {contentDifferences.Count} files of other content removed first, then a comparison crawl");
        return RunCrawlAsync(repair, cancellationToken, async token =>
        {
            foreach (var path in contentDifferences)
            {
                try
                {
                    await crawler.Slave.PurgeAsync(path, null, token).ConfigureAwait(false);
                }
                catch (Rpc.RemoteOsException ex) when (!LinuxErrno.MeansSessionDown(ex.Errno))
                {
                    // The verify after the repair reports the file again.
                    Log(SessionLogLevel.Warning, $"cannot remove '{path}' (other content) from the slave before resending it: {ex.Message}");
                }
            }
        });
    }

    /// <summary>A master tree with its xtimes hidden, so the crawl compares every entry with the slave instead of trusting marks.</summary>
    private sealed class ComparisonView(IMasterTree tree) : IMasterTree
    {
        public string RootPath => tree.RootPath;

        public IMasterXtimes? Xtimes => null;

        public IReadOnlyList<string> Entries(string path) => tree.Entries(path);

        public EntryStat? Lstat(string path) => tree.Lstat(path);

        public void EnsureVouched() => tree.EnsureVouched();
    }
}
