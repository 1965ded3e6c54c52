using GeoSync.Engine.Master;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Master;

/// <summary>
/// The loop's wake-up on a GlusterFS master read on its bricks (docs/master-loop.md, "Waking on a GlusterFS master"), on
/// real inotify: an attribute set on a brick root (what the marker does for every change below it) ends the pause; a
/// turn starting takes the events before it; nothing else ends the pause before its timeout.
/// </summary>
public sealed class BrickWakeTests
{
    private static readonly TimeSpan EventWait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AnAttributeSetOnAnyBrickRootEndsThePause()
    {
        using var first = new TempDirectory("geosync-brick-");
        using var second = new TempDirectory("geosync-brick-");
        using var wake = BrickWake.TryOpen([first.Path, second.Path], out var why);
        Assert.True(wake is not null, why);
        var xattrs = new PosixXattrStore();

        // Nothing changed: the whole timeout passes.
        Assert.False(await wake.WaitForChangeAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));

        // The marker's stamp on the second brick's root, while the loop waits.
        var waiting = wake.WaitForChangeAsync(EventWait, CancellationToken.None);
        xattrs.Set(second.Path, "user.geosync-test-xtime", [1, 2, 3]);
        Assert.True(await waiting);

        // A stamp while a turn runs ends the next pause at once; one before the turn started does not.
        wake.TurnStarting();
        xattrs.Set(first.Path, "user.geosync-test-xtime", [4, 5, 6]);
        Assert.True(SpinWait.SpinUntil(() => wake.WaitForChangeAsync(TimeSpan.Zero, CancellationToken.None).Result, EventWait),
            "the stamp during the turn ends the pause");
        wake.TurnStarting();
        Assert.False(await wake.WaitForChangeAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));
    }

    [Fact]
    public void ABrickRootThatCannotBeWatchedMeansNoWake()
    {
        using var brick = new TempDirectory("geosync-brick-");
        Assert.Null(BrickWake.TryOpen([brick.Path, Path.Combine(brick.Path, "absent")], out var why));
        Assert.Contains("cannot be watched", why, StringComparison.Ordinal);
        Assert.Contains("ENOENT", why, StringComparison.Ordinal);
    }
}
