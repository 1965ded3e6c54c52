using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Session;

/// <summary>What a slave root is to a master: already its replica, or empty, or holding someone else's entries.</summary>
public sealed record SlaveClaimStatus(bool Claimed, bool Empty);

/// <summary>
/// The claim a master lays on its slave's root before its first write (docs/sessions.md, "What a session refuses"): an
/// xtime under a uuid derived from the master, stored with the ordinary <c>set_xtime</c> call so GeoSync and gsyncd
/// slaves keep it alike. A slave root holding entries, but neither this claim nor the master volume's own xtime, was
/// filled by someone else: a first sync into it is refused unless forced, because the sync would delete what the
/// master lacks.
/// </summary>
internal static class SlaveClaim
{
    private const string Root = ".";

    /// <summary>How many of a refused slave's entries the error names.</summary>
    internal const int NamesShown = 5;

    // Name-based uuids (RFC 4122 version 5) under GeoSync's own namespace.
    private static readonly Guid ClaimNamespace = new("6b1f0c52-3f7e-4c1a-9a57-1e0f2d5b8c33");

    /// <summary>The claim uuid of a GlusterFS master volume.</summary>
    public static Guid ForVolume(Guid volumeId) => NameBased($"gluster-volume:{XattrNames.FormatUuid(volumeId)}");

    /// <summary>The claim uuid of a directory master: this machine's id and the directory's canonical path.</summary>
    public static Guid ForDirectory(string machineId, string canonicalRoot) => NameBased($"directory:{machineId}:{canonicalRoot}");

    /// <summary>
    /// Makes sure the slave root is this master's before the first write: claimed already (or carrying the master
    /// volume's xtime) → nothing to do; empty, or <paramref name="force"/> → claim it now; else throw
    /// <see cref="GeoSyncSessionException"/> with <see cref="SessionFailure.SlaveNotEmpty"/>, having written nothing.
    /// </summary>
    /// <param name="slave">The slave's methods.</param>
    /// <param name="claim">This master's claim uuid.</param>
    /// <param name="masterVolume">The master volume's uuid (its xtimes on the slave root also prove the claim); null for a directory master.</param>
    /// <param name="masterEntries">The names at the master root, to say which slave entries a sync would delete.</param>
    /// <param name="force">Claim a non-empty slave anyway.</param>
    /// <param name="slaveUrl">The slave, for messages.</param>
    /// <param name="clock">Stamps the claim.</param>
    /// <param name="log">The session's log.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    public static async Task EnsureAsync(ISlaveChannel slave, Guid claim, Guid? masterVolume, IReadOnlyCollection<string> masterEntries,
        bool force, string slaveUrl, TimeProvider clock, Action<SessionLogLevel, string> log, CancellationToken cancellationToken)
    {
        var (claimed, content) = await InspectAsync(slave, claim, masterVolume, masterEntries, slaveUrl, clock, log, cancellationToken).ConfigureAwait(false);
        if (claimed) return;
        if (!content!.IsEmpty && !force) throw NotEmpty(slaveUrl, content);
        if (!content.IsEmpty)
        {
            log(SessionLogLevel.Warning, $"the slave {slaveUrl} holds {SlaveContentCount.Describe(content.Total, content.Complete)} this master did not put there; " +
                "replicating into it anyway, as -Force/--force says: entries the master lacks will be deleted");
        }

        var claimToken = XattrNames.FormatUuid(claim);
        try
        {
            await slave.SetXtimeAsync(Root, claimToken, Xtime.Now(clock), cancellationToken).ConfigureAwait(false);
            log(SessionLogLevel.Verbose, $"claimed the slave {slaveUrl} for this master ({claimToken}) before its first write");
        }
        catch (RemoteOsException ex)
        {
            // The sync itself can still run; only a later session cannot tell this master's partial copy from foreign data.
            log(SessionLogLevel.Warning, $"the slave {slaveUrl} cannot keep this master's claim on its root ({ex.Message}); " +
                "if this first sync is interrupted, the next session will find the slave non-empty and need -Force/--force");
        }
    }

    /// <summary>
    /// Reads, writing nothing, whether the slave root is this master's already (its claim, or the master volume's xtime)
    /// and, when it is not, what it holds (GlusterFS-internal names aside). The preflight asks this too.
    /// </summary>
    public static async Task<(bool Claimed, SlaveContentCount? Content)> InspectAsync(ISlaveChannel slave, Guid claim, Guid? masterVolume,
        IReadOnlyCollection<string> masterEntries, string slaveUrl, TimeProvider clock, Action<SessionLogLevel, string> log,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(slave);
        ArgumentNullException.ThrowIfNull(masterEntries);
        ArgumentNullException.ThrowIfNull(log);
        var claimToken = XattrNames.FormatUuid(claim);
        if (await HasXtimeAsync(slave, claimToken, cancellationToken).ConfigureAwait(false))
        {
            log(SessionLogLevel.Debug, $"the slave {slaveUrl} carries this master's claim {claimToken}");
            return (true, null);
        }
        if (masterVolume is Guid volume && await HasXtimeAsync(slave, XattrNames.FormatUuid(volume), cancellationToken).ConfigureAwait(false))
        {
            log(SessionLogLevel.Debug, $"the slave {slaveUrl} carries master volume {XattrNames.FormatUuid(volume)}'s xtime: synced by this master before");
            return (true, null);
        }
        return (false, await SlaveContentCount.CountAsync(slave, masterEntries, clock, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The refusal a first sync into a slave holding <paramref name="content"/> meets.</summary>
    public static GeoSyncSessionException Refusal(string slaveUrl, SlaveContentCount content) => NotEmpty(slaveUrl, content);

    private static async Task<bool> HasXtimeAsync(ISlaveChannel slave, string uuid, CancellationToken cancellationToken)
    {
        try
        {
            return (await slave.XtimeAsync(".", uuid, cancellationToken).ConfigureAwait(false)).Value is not null;
        }
        catch (RemoteOsException)
        {
            // A slave that cannot read xattrs here (no permission, not supported) keeps no claim either.
            return false;
        }
    }

    private static GeoSyncSessionException NotEmpty(string slaveUrl, SlaveContentCount content)
    {
        var shown = content.Doomed.Count > 0 ? content.Doomed : content.Shared;
        var names = string.Join(", ", shown.Take(NamesShown).Select(n => $"'{n}'")) + (shown.Count > NamesShown ? ", ..." : "");
        var message = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"the slave {slaveUrl} is not empty and this master never synced to it: it holds {SlaveContentCount.Describe(content.Total, content.Complete)}")
            .Append(content.Doomed.Count > 0
                ? $"; a first sync would delete {SlaveContentCount.Describe(content.DoomedTotal, content.DoomedComplete, "of them")}: " +
                    $"{content.Doomed.Count} root {(content.Doomed.Count == 1 ? "entry" : "entries")} the master lacks ({names})" +
                    (content.DoomedTotal > content.Doomed.Count ? " and everything below them." : ".")
                : $", below root entries the master has too ({names}), which a first sync would overwrite where they differ.")
            .Append(" Nothing was written. To replicate into it anyway, run again with -Force (--force); --dry-run (-WhatIf) shows what would change. ")
            .Append("Or give an empty slave directory.")
            .ToString();
        return new GeoSyncSessionException(SessionFailure.SlaveNotEmpty, message);
    }

    private static Guid NameBased(string name)
    {
        Span<byte> input = stackalloc byte[16];
        ClaimNamespace.TryWriteBytes(input, bigEndian: true, out _);
        var bytes = Encoding.UTF8.GetBytes(name);
#pragma warning disable CA5350 // SHA-1 is what RFC 4122 prescribes for version-5 uuids; no security rests on it.
        var hash = SHA1.HashData([.. input, .. bytes]);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
