using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;

namespace GeoSync.Engine.Session;

/// <summary>What the slave's host says about itself in a preflight (docs/operations.md, "Preflight").</summary>
/// <param name="Version">GeoSync's version on the slave host.</param>
/// <param name="Clock">The slave host's clock when it answered.</param>
/// <param name="FreeBytes">Bytes an unprivileged writer may still use on the slave root's file system.</param>
/// <param name="TotalBytes">That file system's size.</param>
/// <param name="FreeInodes">Inodes still free there (0 total: the file system does not count them).</param>
/// <param name="TotalInodes">That file system's inodes.</param>
/// <param name="WriteError">Null when a directory could be created and removed at the root, else why not.</param>
/// <param name="XattrError">Null when the xtime attribute could be kept there, else why not.</param>
/// <param name="Rsync">The rsync a transfer would start on the slave host; null when there is none.</param>
public sealed record SlaveProbe(string Version, DateTimeOffset Clock, long FreeBytes, long TotalBytes, long FreeInodes, long TotalInodes,
    string? WriteError, string? XattrError, string? Rsync);

public sealed partial class GeoSyncSession
{
    /// <summary>
    /// Whether the slave is this master's replica already, or empty, or holds someone else's entries (with the refusal a
    /// first sync would meet); writes nothing.
    /// </summary>
    public async Task<(SlaveClaimStatus Status, GeoSyncSessionException? Refusal)> InspectSlaveClaimAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) ThrowUnlessActive();
        var masterEntries = _masterTree!.Entries(".").ToHashSet(StringComparer.Ordinal);
        var (claimed, content) = await SlaveClaim.InspectAsync(SlaveChannel(), ClaimId(), _volumeInfo?.VolumeId, masterEntries, Slave.Normalized,
            TimeProvider.System, Log, cancellationToken).ConfigureAwait(false);
        if (claimed) return (new SlaveClaimStatus(Claimed: true, Empty: false), null);
        if (content!.IsEmpty) return (new SlaveClaimStatus(Claimed: false, Empty: true), null);
        return (new SlaveClaimStatus(Claimed: false, Empty: false), SlaveClaim.Refusal(Slave.Normalized, content));
    }

    /// <summary>
    /// Asks the slave's host for its clock, free space and whether it takes writes and xtime attributes at the root
    /// (<c>preflight_probe</c>); null for a slave that does not answer it (GlusterFS's gsyncd).
    /// </summary>
    public async Task<SlaveProbe?> ProbeSlaveAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) ThrowUnlessActive();
        object? answer;
        try
        {
            answer = await _slave!.CallAsync(PreflightProbeMethod.Name, [], _options.ConnectionTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteAttributeException)
        {
            return null;
        }
        if (answer is not System.Collections.IDictionary wire)
        {
            throw new GeoSyncProtocolException($"the slave answered {PreflightProbeMethod.Name} with {PyRepr.Format(answer)}, not a dict");
        }
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in wire)
        {
            if (AsText(entry.Key) is { } key) fields[key] = entry.Value;
        }
        long Number(string key) => fields.TryGetValue(key, out var value) && value is long or int ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)
            : throw new GeoSyncProtocolException($"the slave's {PreflightProbeMethod.Name} answer lacks the number '{key}'");
        string? Text(string key) => fields.TryGetValue(key, out var value) ? AsText(value) : null;
        return new SlaveProbe(
            Text("version") ?? "unknown",
            DateTimeOffset.UnixEpoch.AddTicks(Number("time_ns") / 100),
            Number("free_bytes"), Number("total_bytes"), Number("free_inodes"), Number("total_inodes"),
            Text("write_error"), Text("xattr_error"), Text("rsync"));
    }

    private static string? AsText(object? value) => value switch
    {
        string s => s,
        byte[] b => System.Text.Encoding.UTF8.GetString(b),
        _ => null,
    };
}
