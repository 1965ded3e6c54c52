namespace GeoSync.Engine.Operations;

/// <summary>
/// What an administrator should do about a replication's last error or state: one policy keyed by the error's stable id
/// (the ids Invoke-GeoSyncMaster and Start-GeoSyncSession write), used by Get-GeoSyncStatus's Hint.
/// </summary>
public static class ErrorHints
{
    private static readonly Dictionary<string, string> ByErrorId = new(StringComparer.Ordinal)
    {
        ["SlaveNotEmpty"] = "The slave holds entries this master did not put there: empty it, or start the first sync with -Force (--force) to delete them.",
        ["ReplicaOverlap"] = "Master and slave are the same tree or one contains the other: choose a slave outside the master.",
        ["RsyncNotInstalled"] = "Install rsync on this host (apt-get install rsync) and start the replication again.",
        ["GlusterClientNotInstalled"] = "Install the glusterfs client (glusterfs-client) on this host, or set the gluster command directory.",
        ["GlusterVolumeNotFound"] = "Check the volume name (gluster volume list) in the master or slave URL.",
        ["GlusterVolumeNotStarted"] = "Start the volume (gluster volume start VOL); the loop reconnects by itself.",
        ["GlusterServerUnreachable"] = "Check that glusterd runs on the server in the URL and that this host reaches it (ports 24007 and the bricks').",
        ["VolumeMarkNotFound"] = "Turn on geo-replication indexing on the master volume (gluster volume set VOL geo-replication.indexing on).",
        ["MasterCorrupt"] = "The master volume's marker is unusable: see docs/faults.md before starting again.",
        ["MultipleForeignMasters"] = "More than one master feeds this master volume: stop the other replications into it.",
        ["FailureLedgerUnreadable"] = "Move the failure ledger file named in the error aside; the next turn rebuilds it.",
        ["InvalidGeoSyncUrl"] = "Correct the master or slave URL of the replication.",
        ["InvalidSessionArgument"] = "Correct the option named in the error.",
        ["MasterReconnectsExhausted"] = "The loop gave up after failing too often in a row: fix the cause in LastError, then start it again.",
        ["SessionFaulty"] = "The session lost its slave or a turn failed; the loop reconnects by itself. If it keeps failing, check the slave host and the log.",
        ["SessionOpenFailed"] = "The session could not open; the loop retries. Check that the master and slave are reachable (Test-GeoSyncReplication).",
        ["SlaveUnavailable"] = "The slave is unreachable; the loop retries. Check the slave host, ssh and its disk.",
        ["MasterUnavailable"] = "The master is unreadable; the loop retries. Check the master volume or directory.",
        ["CheckpointTimeout"] = "The checkpoint has not completed yet: look at LagSeconds and Failures, then wait again.",
    };

    /// <summary>The hint for an error id, or null when there is none for it.</summary>
    public static string? ForErrorId(string? errorId) =>
        errorId is not null && ByErrorId.TryGetValue(errorId, out var hint) ? hint : null;

    /// <summary>
    /// The hint for a replication: its state first when that alone says what to do (Defunct, Failed), else the last
    /// error's, else the pending failures'.
    /// </summary>
    public static string? For(ReplicationState state, string? errorId, int failures, string? name)
    {
        var start = name is null ? "run 'geosync master' for the pair again" : $"start it again (geosync start {name})";
        return state switch
        {
            ReplicationState.Defunct => $"Its process is gone (killed or crashed): {start}.",
            ReplicationState.Failed => ForErrorId(errorId) ?? $"The loop gave up: fix the cause in LastError, then {start}.",
            ReplicationState.Faulty or ReplicationState.Starting when ForErrorId(errorId) is { } hint => hint,
            _ when failures > 0 => $"{failures} path(s) did not reach the slave and are retried every turn: Get-GeoSyncFailure (geosync failures) shows why.",
            _ => null,
        };
    }
}
