namespace GeoSync.Engine.Operations;

/// <summary>
/// How long to wait before the next attempt after a failure: 1, 2, 4 … 60 s, back to 1 s once an attempt went well.
/// The master loop's reconnects and the supervisor's worker restarts both use it (docs/operations.md).
/// </summary>
/// <remarks>
/// "Went well" is said by the caller (<see cref="Succeeded"/>: the loop completed a turn) or measured on the clock: an
/// attempt that ran for <see cref="HealthyRun"/> or longer before it failed starts the schedule again (the supervisor
/// cannot see turns, only how long its worker lived).
/// </remarks>
public sealed class BackoffSchedule
{
    public static readonly TimeSpan DefaultInitial = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultMaximum = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultHealthyRun = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _clock;
    private TimeSpan _next;
    private long? _attemptStarted;

    public BackoffSchedule() : this(null) { }

    public BackoffSchedule(TimeProvider? clock, TimeSpan? initial = null, TimeSpan? maximum = null, TimeSpan? healthyRun = null)
    {
        _clock = clock ?? TimeProvider.System;
        Initial = initial ?? DefaultInitial;
        Maximum = maximum ?? DefaultMaximum;
        HealthyRun = healthyRun ?? DefaultHealthyRun;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Initial, TimeSpan.Zero, nameof(initial));
        ArgumentOutOfRangeException.ThrowIfLessThan(Maximum, Initial, nameof(maximum));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HealthyRun, TimeSpan.Zero, nameof(healthyRun));
        _next = Initial;
    }

    /// <summary>The first wait, and the wait after an attempt that went well.</summary>
    public TimeSpan Initial { get; }

    /// <summary>The longest wait: the doubling stops here.</summary>
    public TimeSpan Maximum { get; }

    /// <summary>An attempt that lasted this long before failing counts as one that went well.</summary>
    public TimeSpan HealthyRun { get; }

    /// <summary>Failures since the schedule last started again.</summary>
    public int ConsecutiveFailures { get; private set; }

    /// <summary>The wait the next failure will get (unless the attempt in between runs long enough to reset it).</summary>
    public TimeSpan NextDelay => _next;

    /// <summary>An attempt begins now; its length decides, when it fails, whether the schedule starts again.</summary>
    public void Started() => _attemptStarted = _clock.GetTimestamp();

    /// <summary>The attempt went well (a turn completed): the next failure waits <see cref="Initial"/> again.</summary>
    public void Succeeded()
    {
        _next = Initial;
        ConsecutiveFailures = 0;
    }

    /// <summary>The attempt failed: returns how long to wait before the next one, and doubles the wait after it.</summary>
    public TimeSpan Failed()
    {
        if (_attemptStarted is { } started && _clock.GetElapsedTime(started) >= HealthyRun) Succeeded();
        _attemptStarted = null;
        var delay = _next;
        ConsecutiveFailures++;
        _next = delay * 2 > Maximum ? Maximum : delay * 2;
        return delay;
    }
}
