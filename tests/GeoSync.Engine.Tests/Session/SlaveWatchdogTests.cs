using System.Diagnostics;
using GeoSync.Engine.Session;

namespace GeoSync.Engine.Tests.Session;

public class SlaveWatchdogTests
{
    [Fact]
    public async Task ReportsInactivityAfterOneSilentTimeout()
    {
        var watchdog = new SlaveWatchdog(() => 7, TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();
        var message = await watchdog.WaitForInactivityAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(clock.ElapsedMilliseconds, 190, 2000);
        Assert.Equal("connection inactive for 0 seconds, stopping", message);
    }

    [Fact]
    public async Task KeepsWaitingWhileKeepAlivesArrive()
    {
        long count = 0;
        var watchdog = new SlaveWatchdog(() => Interlocked.Read(ref count), TimeSpan.FromMilliseconds(300));
        var waiting = watchdog.WaitForInactivityAsync();
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 1500)
        {
            Interlocked.Increment(ref count);
            await Task.Delay(50);
            Assert.False(waiting.IsCompleted, $"the watchdog fired after {clock.ElapsedMilliseconds} ms although keep-alives kept coming");
        }
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.InRange(clock.ElapsedMilliseconds, 1500, 3000);
    }

    [Fact]
    public async Task ZeroTimeoutNeverFiresButCancels()
    {
        var watchdog = new SlaveWatchdog(() => 0, TimeSpan.Zero);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watchdog.WaitForInactivityAsync(cancel.Token));
    }
}
