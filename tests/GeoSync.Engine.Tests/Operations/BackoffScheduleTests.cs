using GeoSync.Engine.Operations;
using GeoSync.Engine.Tests.Master;

namespace GeoSync.Engine.Tests.Operations;

public class BackoffScheduleTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void WaitsDoubleFromOneSecondUpToAMinute()
    {
        var schedule = new BackoffSchedule(new ManualTimeProvider());

        var waits = Enumerable.Range(0, 9).Select(_ => schedule.Failed().TotalSeconds).ToArray();

        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60, 60], waits);
        Assert.Equal(9, schedule.ConsecutiveFailures);
    }

    [Fact]
    public void AnAttemptThatWentWellStartsTheScheduleAgain()
    {
        var schedule = new BackoffSchedule(new ManualTimeProvider());
        schedule.Failed();
        schedule.Failed();
        schedule.Failed();

        schedule.Succeeded();

        Assert.Equal(Second, schedule.Failed());
        Assert.Equal(2 * Second, schedule.NextDelay);
    }

    [Fact]
    public void AnAttemptThatRanLongerThanTheHealthyRunCountsAsWentWell()
    {
        var clock = new ManualTimeProvider();
        var schedule = new BackoffSchedule(clock);
        for (var i = 0; i < 5; i++) schedule.Failed();

        schedule.Started();
        clock.Advance(BackoffSchedule.DefaultHealthyRun);

        Assert.Equal(Second, schedule.Failed());
    }

    [Fact]
    public void AShortAttemptKeepsDoubling()
    {
        var clock = new ManualTimeProvider();
        var schedule = new BackoffSchedule(clock);
        schedule.Failed();
        schedule.Failed();

        schedule.Started();
        clock.Advance(BackoffSchedule.DefaultHealthyRun - Second);

        Assert.Equal(4 * Second, schedule.Failed());
        // The clock only counts from Started: a failure without a new start does not reset either.
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(8 * Second, schedule.Failed());
    }

    [Fact]
    public void BoundsAreChecked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackoffSchedule(null, initial: TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackoffSchedule(null, initial: 10 * Second, maximum: Second));
        var custom = new BackoffSchedule(null, initial: 2 * Second, maximum: 5 * Second);
        Assert.Equal([2, 4, 5, 5], Enumerable.Range(0, 4).Select(_ => custom.Failed().TotalSeconds));
    }
}
