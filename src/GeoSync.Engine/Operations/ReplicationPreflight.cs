using System.Diagnostics;
using System.Globalization;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport.Mounting;
using GeoSync.Engine.Urls;

namespace GeoSync.Engine.Operations;

/// <summary>How one preflight check came out.</summary>
public enum PreflightResult
{
    /// <summary>The check holds.</summary>
    Passed,

    /// <summary>Replication can run, but something deserves attention (low space, skewed clocks, a forced first sync).</summary>
    Warning,

    /// <summary>Replication would fail or destroy something; the hint says what to do.</summary>
    Failed,

    /// <summary>Not checked: an earlier check failed, or the slave cannot answer it (GlusterFS's gsyncd).</summary>
    Skipped,
}

/// <summary>One check of a preflight: its name, how it came out, what was found and what to do about it.</summary>
public sealed record PreflightCheck(string Name, PreflightResult Result, string Detail, string? Hint = null)
{
    /// <summary>False only for a failed check; a warning or a skipped check does not stop a replication.</summary>
    public bool Passed => Result != PreflightResult.Failed;
}

/// <summary>
/// The preflight of a replication (docs/operations.md, "Preflight"): every failure that gsyncd users meet in their first
/// months, checked before anything is written — the URLs, the master, the slave and its host (reachable, GeoSync and
/// rsync there, writable, free space, xtime attributes, clock), overlap, and whether the slave is empty or already this
/// master's replica. It opens a session like a replication would and stops it; it writes nothing but one directory it
/// removes at once on the slave root.
/// </summary>
public static class ReplicationPreflight
{
    public const string Urls = "Urls";
    public const string LocalTools = "LocalTools";
    public const string MasterReadable = "MasterReadable";
    public const string SlaveReachable = "SlaveReachable";
    public const string NoOverlap = "NoOverlap";
    public const string SlaveWritable = "SlaveWritable";
    public const string SlaveFreeSpace = "SlaveFreeSpace";
    public const string XtimeAttributes = "XtimeAttributes";
    public const string ClockSkew = "ClockSkew";
    public const string SlaveEmptyOrReplica = "SlaveEmptyOrReplica";

    /// <summary>The checks, in the order they run and are reported.</summary>
    public static readonly IReadOnlyList<string> CheckNames =
        [Urls, LocalTools, MasterReadable, SlaveReachable, NoOverlap, SlaveWritable, SlaveFreeSpace, XtimeAttributes, ClockSkew, SlaveEmptyOrReplica];

    /// <summary>Clocks further apart than this get a warning: LastSynced, lag and checkpoints read the master's clock.</summary>
    public static readonly TimeSpan ClockSkewWarning = TimeSpan.FromSeconds(2);

    /// <summary>Less free space than this share of the slave's file system gets a warning.</summary>
    public const double LowSpaceShare = 0.05;

    /// <summary>Runs every check (each reported once, in <see cref="CheckNames"/> order).</summary>
    public static async Task<IReadOnlyList<PreflightCheck>> RunAsync(SessionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var checks = new List<PreflightCheck>();
        void SkipRest(string why)
        {
            foreach (var name in CheckNames.Where(n => checks.All(c => c.Name != n)))
            {
                checks.Add(new PreflightCheck(name, PreflightResult.Skipped, $"not checked: {why}"));
            }
        }

        GeoSyncUrl master, slave;
        try
        {
            options.Validate();
            master = GeoSyncUrl.Parse(options.Master);
            slave = GeoSyncUrl.Parse(options.Slave);
            GeoSyncUrl.EnsureConnectible(master, slave, options.AllowDirectoryMaster);
            checks.Add(new PreflightCheck(Urls, PreflightResult.Passed, $"{master.Normalized} -> {slave.Normalized}"));
        }
        catch (GeoSyncException ex)
        {
            checks.Add(new PreflightCheck(Urls, PreflightResult.Failed, ex.Message,
                "Correct the master or slave URL (see Get-Help about_GeoSync, 'URLs')."));
            SkipRest("the URLs are not usable");
            return checks;
        }

        checks.Add(CheckLocalTools(options, master, slave));
        if (master.Scheme == UrlScheme.File && CheckDirectoryMaster(master) is { } unreadable)
        {
            checks.Add(unreadable);
            SkipRest("the master cannot be read");
            return checks;
        }

        GeoSyncSession session;
        // No ledger: a preflight must not create the pair's files.
        var clock = Stopwatch.StartNew();
        try
        {
            session = await GeoSyncSession.OpenAsync(options with { FailureLedgerPath = null }, cancellationToken).ConfigureAwait(false);
        }
        catch (GeoSyncSessionException ex) when (ex.Reason == SessionFailure.ReplicaOverlap)
        {
            checks.Add(new PreflightCheck(MasterReadable, PreflightResult.Passed, $"{master.Normalized} opened"));
            checks.Add(new PreflightCheck(SlaveReachable, PreflightResult.Passed, $"{slave.Normalized} answered"));
            checks.Add(new PreflightCheck(NoOverlap, PreflightResult.Failed, ex.Message,
                "Give a slave outside the master and a master outside the slave."));
            SkipRest("master and slave overlap");
            return checks;
        }
        catch (GeoSyncSessionException ex) when (ex.Reason is SessionFailure.VolumeMarkNotFound or SessionFailure.MasterCorrupt
            or SessionFailure.MultipleForeignMasters)
        {
            checks.Add(new PreflightCheck(MasterReadable, PreflightResult.Failed, ex.Message, MasterHint(ex.Reason)));
            SkipRest("the master cannot be replicated");
            return checks;
        }
        catch (Exception ex) when (ex is GeoSyncException or IOException or UnauthorizedAccessException)
        {
            // The master was checked above when it is a directory; for a volume, the message names which side failed.
            var masterSide = master.Scheme != UrlScheme.File && ex.Message.Contains(master.Normalized, StringComparison.Ordinal)
                && !ex.Message.Contains(slave.Normalized, StringComparison.Ordinal);
            checks.Add(masterSide
                ? new PreflightCheck(MasterReadable, PreflightResult.Failed, ex.Message,
                    "Start the master volume and check that this host reaches its glusterd (gluster volume status).")
                : new PreflightCheck(SlaveReachable, PreflightResult.Failed, ex.Message, SlaveHint(slave)));
            SkipRest("the session did not open");
            return checks;
        }

        await using (session.ConfigureAwait(false))
        {
            var opened = clock.Elapsed;
            checks.Add(new PreflightCheck(MasterReadable, PreflightResult.Passed, DescribeMaster(session)));
            var before = DateTimeOffset.UtcNow;
            var probe = await session.ProbeSlaveAsync(cancellationToken).ConfigureAwait(false);
            var probedAt = before + (DateTimeOffset.UtcNow - before) / 2;
            var answered = $"{slave.Normalized} answered in {opened.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s ";
            checks.Add(probe switch
            {
                null => new PreflightCheck(SlaveReachable, PreflightResult.Passed, answered + "(GlusterFS's gsyncd, not GeoSync)"),
                { Rsync: null } => new PreflightCheck(SlaveReachable, PreflightResult.Failed,
                    answered + $"(GeoSync {probe.Version}), but its host has no rsync on the PATH", "Install rsync on the slave host."),
                _ => new PreflightCheck(SlaveReachable, PreflightResult.Passed, answered + $"(GeoSync {probe.Version}, rsync {probe.Rsync})"),
            });
            checks.Add(new PreflightCheck(NoOverlap, PreflightResult.Passed, "master and slave are different trees, neither inside the other"));
            if (probe is null)
            {
                foreach (var name in new[] { SlaveWritable, SlaveFreeSpace, XtimeAttributes, ClockSkew })
                {
                    checks.Add(new PreflightCheck(name, PreflightResult.Skipped,
                        "not checked: the slave is GlusterFS's gsyncd, which does not answer GeoSync's preflight probe"));
                }
            }
            else
            {
                checks.AddRange(ProbeChecks(probe, probedAt, slave));
            }
            checks.Add(await CheckClaimAsync(session, options.Force, cancellationToken).ConfigureAwait(false));
            await session.StopAsync().ConfigureAwait(false);
        }
        return checks;
    }

    private static PreflightCheck CheckLocalTools(SessionOptions options, GeoSyncUrl master, GeoSyncUrl slave)
    {
        var system = new LinuxMountSystem();
        var missing = new List<string>();
        if (system.FindProgram(options.RsyncCommand) is null) missing.Add(options.RsyncCommand);
        var needsClient = master.Scheme == UrlScheme.Gluster || (slave.Scheme == UrlScheme.Gluster && options.SlaveMode != SlaveMode.Ssh);
        if (needsClient && system.FindProgram("glusterfs", options.GlusterCommandDirectory) is null) missing.Add("glusterfs");
        if (slave.Scheme == UrlScheme.Ssh && system.FindProgram(options.Ssh.SshCommand.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "ssh") is null) missing.Add("ssh");
        return missing.Count == 0
            ? new PreflightCheck(LocalTools, PreflightResult.Passed, "rsync" + (needsClient ? ", glusterfs" : "") + (slave.Scheme == UrlScheme.Ssh ? ", ssh" : "") + " found")
            : new PreflightCheck(LocalTools, PreflightResult.Failed, $"not found on this host: {string.Join(", ", missing)}",
                "Install them (apt-get install rsync openssh-client glusterfs-client) or give their directory (-GlusterCommandDirectory).");
    }

    private static PreflightCheck? CheckDirectoryMaster(GeoSyncUrl master)
    {
        var path = master.Path!;
        try
        {
            if (!Directory.Exists(path))
            {
                return new PreflightCheck(MasterReadable, PreflightResult.Failed, $"the master directory '{path}' does not exist",
                    "Give an existing directory as the master (file:///DIR).");
            }
            using var entries = Directory.EnumerateFileSystemEntries(path).GetEnumerator();
            entries.MoveNext();
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new PreflightCheck(MasterReadable, PreflightResult.Failed, $"the master directory '{path}' cannot be listed: {ex.Message}",
                "Run as a user who can read the whole master tree (root for a tree of several owners).");
        }
    }

    private static string DescribeMaster(GeoSyncSession session) => session.MasterVolumeId is Guid volume
        ? $"volume {session.Master.Normalized} (id {volume}, {session.MasterSubvolumeCount} subvolume(s)) mounted, marker xtimes readable"
        : $"directory {session.MasterRoot ?? session.Master.Normalized} readable";

    private static IEnumerable<PreflightCheck> ProbeChecks(SlaveProbe probe, DateTimeOffset probedAt, GeoSyncUrl slave)
    {
        yield return probe.WriteError is null
            ? new PreflightCheck(SlaveWritable, PreflightResult.Passed, "a directory was created and removed at the slave root")
            : new PreflightCheck(SlaveWritable, PreflightResult.Failed, probe.WriteError,
                "Make the slave root writable by the slave's user (mounted read-write, owner or mode), or give another slave.");

        var free = $"{Bytes(probe.FreeBytes)} free of {Bytes(probe.TotalBytes)}" +
            (probe.TotalInodes > 0 ? $", {probe.FreeInodes.ToString("N0", CultureInfo.InvariantCulture)} inodes free" : "");
        if (probe.FreeBytes == 0 || (probe.TotalInodes > 0 && probe.FreeInodes == 0))
        {
            yield return new PreflightCheck(SlaveFreeSpace, PreflightResult.Failed, $"the slave is full: {free}",
                "Free space on the slave (or grow its volume) before replicating.");
        }
        else if (probe.TotalBytes > 0 && probe.FreeBytes < probe.TotalBytes * LowSpaceShare)
        {
            yield return new PreflightCheck(SlaveFreeSpace, PreflightResult.Warning, $"little space left on the slave: {free}",
                "Make sure the slave can hold the whole master.");
        }
        else
        {
            yield return new PreflightCheck(SlaveFreeSpace, PreflightResult.Passed, free);
        }

        yield return probe.XattrError is null
            ? new PreflightCheck(XtimeAttributes, PreflightResult.Passed, "the slave root keeps xtime attributes")
            : new PreflightCheck(XtimeAttributes, PreflightResult.Failed, probe.XattrError,
                slave.Scheme == UrlScheme.Gluster || slave.Scheme == UrlScheme.Ssh && slave.Path is null
                    ? "The slave volume's glusterfs client must run as root (trusted.* attributes)."
                    : "Put the slave directory on a file system with extended attributes (ext4, xfs, tmpfs) and run the slave as root, or as a user allowed user.* attributes.");

        var skew = probe.Clock - probedAt;
        var skewText = $"{Math.Abs(skew.TotalSeconds).ToString("0.0", CultureInfo.InvariantCulture)} s {(skew >= TimeSpan.Zero ? "ahead of" : "behind")} this host";
        yield return skew.Duration() <= ClockSkewWarning
            ? new PreflightCheck(ClockSkew, PreflightResult.Passed, $"the slave's clock is {skewText}")
            : new PreflightCheck(ClockSkew, PreflightResult.Warning, $"the slave's clock is {skewText}",
                "Synchronise both clocks (chrony or systemd-timesyncd): lag and checkpoints are read from the master's clock.");
    }

    private static async Task<PreflightCheck> CheckClaimAsync(GeoSyncSession session, bool force, CancellationToken cancellationToken)
    {
        var (status, refusal) = await session.InspectSlaveClaimAsync(cancellationToken).ConfigureAwait(false);
        if (status.Claimed) return new PreflightCheck(SlaveEmptyOrReplica, PreflightResult.Passed, "the slave is already this master's replica");
        if (refusal is null) return new PreflightCheck(SlaveEmptyOrReplica, PreflightResult.Passed, "the slave is empty");
        return force
            ? new PreflightCheck(SlaveEmptyOrReplica, PreflightResult.Warning,
                $"{refusal.Message.Split(" Nothing was written.")[0]}; -Force/--force is given, so the first sync will delete them",
                "Drop -Force unless those entries may go.")
            : new PreflightCheck(SlaveEmptyOrReplica, PreflightResult.Failed, refusal.Message.Split(" Nothing was written.")[0],
                "Give an empty slave, or pass -Force (--force) if the entries the master lacks may be deleted; --dry-run shows them.");
    }

    private static string MasterHint(SessionFailure reason) => reason switch
    {
        SessionFailure.VolumeMarkNotFound => "Turn on the marker: gluster volume set VOL geo-replication.indexing on.",
        SessionFailure.MasterCorrupt => "The master volume's marker timestamp file is unusable; see docs/gluster-notes.md.",
        _ => "Only one foreign master may feed an intermediate master; stop the others.",
    };

    private static string SlaveHint(GeoSyncUrl slave) => slave.Scheme switch
    {
        UrlScheme.Ssh => "Check ssh to the slave host (key, known_hosts, port) and that it runs 'geosync slave' (see the error).",
        UrlScheme.Gluster => "Start the slave volume and check that this host reaches its glusterd.",
        _ => "Give an existing slave directory this user can write.",
    };

    private static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return $"{value.ToString(unit == 0 ? "0" : "0.0", CultureInfo.InvariantCulture)} {units[unit]}";
    }
}
