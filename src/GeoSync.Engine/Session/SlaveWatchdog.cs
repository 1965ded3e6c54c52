using GeoSync.Engine.Slave;

namespace GeoSync.Engine.Session;

/// <summary>
/// The slave's inactivity watchdog (docs/protocol.md, "Keep-alive and the watchdog"): remembers the keep-alive counter, waits one timeout, and reports inactivity
/// when the counter has not moved, so the slave ends itself once its master is gone.
/// </summary>
public sealed class SlaveWatchdog
{
    private readonly Func<long> _keepAliveCount;
    private readonly TimeProvider _clock;

    /// <param name="keepAliveCount">The number of keep-alives answered so far.</param>
    /// <param name="timeout">The slave's <c>--timeout</c>; zero never reports.</param>
    /// <param name="clock">Times the waits; the system clock when null.</param>
    public SlaveWatchdog(Func<long> keepAliveCount, TimeSpan timeout, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(keepAliveCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        _keepAliveCount = keepAliveCount;
        Timeout = timeout;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Watches the keep-alives of <paramref name="server"/>.</summary>
    public SlaveWatchdog(SlaveServer server, TimeSpan timeout, TimeProvider? clock = null)
        : this(server is null ? throw new ArgumentNullException(nameof(server)) : () => server.KeepAliveCount, timeout, clock)
    {
    }

    public TimeSpan Timeout { get; }

    /// <summary>
    /// Completes with <c>connection inactive for &lt;n&gt; seconds, stopping</c> once a whole timeout passed without a
    /// keep-alive; with a zero timeout it only ends by cancellation.
    /// </summary>
    public async Task<string> WaitForInactivityAsync(CancellationToken cancellationToken = default)
    {
        if (Timeout == TimeSpan.Zero)
        {
            await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, _clock, cancellationToken).ConfigureAwait(false);
        }
        var seen = _keepAliveCount();
        while (true)
        {
            await Task.Delay(Timeout, _clock, cancellationToken).ConfigureAwait(false);
            var now = _keepAliveCount();
            if (now == seen)
            {
                return $"connection inactive for {Timeout.TotalSeconds:0} seconds, stopping";
            }
            seen = now;
        }
    }
}
