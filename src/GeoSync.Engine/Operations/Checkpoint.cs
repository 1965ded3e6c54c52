namespace GeoSync.Engine.Operations;

/// <summary>
/// A checkpoint (checkpoint.json): a master time the administrator wants to know is on the slave. It is complete when
/// the replication's LastSynced reaches it: everything written on the master before it has arrived (docs/operations.md).
/// </summary>
/// <param name="At">The checkpoint time.</param>
/// <param name="SetAt">When it was set.</param>
public sealed record CheckpointRecord(DateTimeOffset At, DateTimeOffset SetAt)
{
    /// <summary>Whether a replication whose LastSynced is <paramref name="lastSynced"/> has everything written before the checkpoint.</summary>
    public bool IsReachedBy(DateTimeOffset? lastSynced) => lastSynced is { } synced && synced >= At;
}

/// <summary>Raised by <see cref="CheckpointWait"/> when the checkpoint did not complete in time.</summary>
public sealed class GeoSyncCheckpointTimeoutException(string name, DateTimeOffset checkpoint, TimeSpan timeout, string message)
    : GeoSyncException(message)
{
    public string Name { get; } = name;
    public DateTimeOffset Checkpoint { get; } = checkpoint;
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>Raised when a replication has no checkpoint to wait for.</summary>
public sealed class GeoSyncCheckpointNotSetException(string name, string message) : GeoSyncException(message)
{
    public string Name { get; } = name;
}

/// <summary>Waits for a replication's checkpoint to complete, polling its status (Wait-GeoSyncCheckpoint).</summary>
public static class CheckpointWait
{
    /// <summary>How often the status is read while waiting.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Returns the status that shows the checkpoint complete; throws <see cref="GeoSyncCheckpointTimeoutException"/> when
    /// <paramref name="timeout"/> passes first (null: wait as long as it takes). <paramref name="onPoll"/> sees every
    /// status read, for progress.
    /// </summary>
    public static async Task<ReplicationStatus> WaitAsync(string name, Func<ReplicationStatus> readStatus, TimeSpan? timeout,
        Action<ReplicationStatus>? onPoll = null, TimeProvider? clock = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readStatus);
        clock ??= TimeProvider.System;
        var started = clock.GetTimestamp();
        while (true)
        {
            var status = readStatus();
            onPoll?.Invoke(status);
            if (status.Checkpoint is not { } checkpoint)
            {
                throw new GeoSyncCheckpointNotSetException(name, $"replication '{name}' has no checkpoint to wait for; set one with Set-GeoSyncCheckpoint -Name {name} (geosync checkpoint {name} now).");
            }
            if (status.CheckpointCompleted) return status;
            var waited = clock.GetElapsedTime(started);
            if (timeout is { } limit && waited >= limit)
            {
                var synced = status.LastSynced is { } last ? $"everything before {last:u} is on the slave" : "no turn has completed with nothing failed yet";
                throw new GeoSyncCheckpointTimeoutException(name, checkpoint, limit,
                    $"the checkpoint {checkpoint:u} of replication '{name}' did not complete within {limit.TotalSeconds:0.#} s ({synced}; state {status.State}). " +
                    "Wait longer, or look at Get-GeoSyncStatus and Get-GeoSyncFailure for what holds it back.");
            }
            var delay = timeout is { } bound && bound - waited < PollInterval ? bound - waited : PollInterval;
            await Task.Delay(delay, clock, cancellationToken).ConfigureAwait(false);
        }
    }
}
