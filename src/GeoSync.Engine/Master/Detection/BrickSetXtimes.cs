using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Master;

/// <summary>
/// The xtimes of a GlusterFS master read on its bricks where all of them are directories of this host (docs/multi-brick.md):
/// one brick, or several (replica sets, disperse sets, several DHT subvolumes) — a volume of one brick is a layout of one
/// set of one brick, read and vouched for the same way. An entry's xtime is the newest over the bricks
/// that hold it: a replica or disperse set answers the newest over its bricks, and a directory, which DHT makes on every
/// subvolume, the newest over the subvolumes — so a directory's xtime covers every change below it and the crawl may
/// prune by it, which one read through a distributed mount (one subvolume's answer) does not allow.
/// Each turn first checks that the view is whole (<see cref="BeginTurn(out string, out bool)"/>); when it is not, that turn reads through the
/// mount and lists every directory. Only reads: stamps go through the mount.
/// </summary>
public sealed class BrickSetXtimes
{
    private readonly GlusterVolumeLayout _layout;
    private readonly BrickXtimes[] _bricks;
    private readonly int?[] _pids;
    private readonly IXattrStore _xattrs;
    private readonly string? _ns;
    private readonly Func<string?> _layoutStamp;
    private readonly string _openedStamp;
    private readonly Func<int, string, bool> _alive;
    private readonly Func<Task<IReadOnlyList<GlusterBrickStatus>?>>? _refresh;
    private readonly object _gate = new();
    private Task<IReadOnlyList<GlusterBrickStatus>?>? _refreshing;
    // Why the next turn whose bricks are all up must still list through the mount (a session just opened, a brick restarted).
    private string? _listThroughMount;

    private BrickSetXtimes(GlusterVolumeLayout layout, BrickXtimes[] bricks, int?[] pids, IXattrStore xattrs, string? ns,
        Func<string?> layoutStamp, string openedStamp, Func<int, string, bool> alive, Func<Task<IReadOnlyList<GlusterBrickStatus>?>>? refresh)
    {
        _layout = layout;
        _bricks = bricks;
        _pids = pids;
        _xattrs = xattrs;
        _ns = ns;
        _layoutStamp = layoutStamp;
        _openedStamp = openedStamp;
        _alive = alive;
        _refresh = refresh;
    }

    /// <summary>The layout the bricks were opened by.</summary>
    public GlusterVolumeLayout Layout => _layout;

    /// <summary>The brick directories read, in the layout's order.</summary>
    public IReadOnlyList<string> BrickPaths => [.. _bricks.Select(brick => brick.BrickPath)];

    /// <summary>
    /// The volume's bricks when every one of them is a directory of this host carrying the volume's id; else null and
    /// why (a brick on another host: then no turn can see the whole volume here, docs/multi-brick.md).
    /// </summary>
    /// <param name="layout">The volume's bricks and sets (<see cref="GlusterVolumeLayout.Parse"/>).</param>
    /// <param name="status">The bricks' processes (<see cref="GlusterVolumeLayout.ParseStatus"/>); a brick missing here counts as down.</param>
    /// <param name="xattrs">Reads the bricks' attributes.</param>
    /// <param name="ns">The xattr namespace (trusted, or a test's).</param>
    /// <param name="layoutStamp">
    /// What glusterd's stored volume info says now (its bytes, or null when unreadable), read at every turn: any change
    /// (add-brick, remove-brick, replace-brick, an option) ends brick-level reading for this session.
    /// </param>
    /// <param name="alive">Whether a pid is the running brick process of a path; null: <see cref="IsBrickProcess"/>.</param>
    /// <param name="refresh">Asks glusterd for the bricks' processes again, after one was found down; null: never.</param>
    /// <param name="why">Why not, when null is returned.</param>
    public static BrickSetXtimes? TryOpen(GlusterVolumeLayout layout, IReadOnlyList<GlusterBrickStatus> status, IXattrStore xattrs,
        string? ns, Func<string?> layoutStamp, Func<int, string, bool>? alive,
        Func<Task<IReadOnlyList<GlusterBrickStatus>?>>? refresh, out string why)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(xattrs);
        ArgumentNullException.ThrowIfNull(layoutStamp);
        if (layoutStamp() is not { } stamp)
        {
            why = "glusterd's stored info of the volume cannot be read here, so a change of its layout would go unseen";
            return null;
        }
        var bricks = new BrickXtimes[layout.Bricks.Count];
        for (var i = 0; i < bricks.Length; i++)
        {
            var brick = layout.Bricks[i];
            if (BrickXtimes.TryOpen(brick.Path, layout.VolumeId, xattrs, ns, out var whyNot) is not { } opened)
            {
                why = $"brick {brick} is not readable here ({whyNot})";
                return null;
            }
            bricks[i] = opened;
        }
        why = "";
        return new BrickSetXtimes(layout, bricks, PidsOf(layout, status), xattrs, ns, layoutStamp, stamp, alive ?? IsBrickProcess, refresh);
    }

    /// <summary>
    /// Before a turn: whether every brick can be read as the volume's now — glusterd's stored layout unchanged, each
    /// brick's process running, each brick root still the volume's. False and why otherwise: that turn reads through the
    /// mount without pruning (docs/multi-brick.md, "When a turn falls back"). A brick found down makes the next turns ask
    /// glusterd again, so a restarted brick (a new pid) is read again once it is back.
    /// </summary>
    public bool BeginTurn(out string why) => BeginTurn(out why, out _);

    /// <summary>
    /// As <see cref="BeginTurn(out string)"/>; <paramref name="relinking"/> tells a routine fallback — the turn after the
    /// session opened or a brick restarted, which lists through the mount so that every brick links its directories again
    /// (<see cref="ListThroughMountNextTurn"/>) — from one caused by a brick down or a changed volume.
    /// </summary>
    public bool BeginTurn(out string why, out bool relinking)
    {
        relinking = false;
        lock (_gate)
        {
            if (_refreshing is { IsCompleted: true } done)
            {
                if (done.IsCompletedSuccessfully && done.Result is { } fresh)
                {
                    var pids = PidsOf(_layout, fresh);
                    for (var i = 0; i < pids.Length; i++)
                    {
                        if (pids[i] is int pid && pids[i] != _pids[i]) _listThroughMount = $"brick {_layout.Bricks[i]} runs as a new process (pid {pid})";
                    }
                    Array.Copy(pids, _pids, pids.Length);
                }
                _refreshing = null;
            }
            if (_layoutStamp() is not { } stamp || stamp != _openedStamp)
            {
                why = "glusterd's stored info of the volume changed (or cannot be read) since the session read its layout; " +
                    "restart the session to read the bricks again";
                return false;
            }
            for (var i = 0; i < _bricks.Length; i++)
            {
                var brick = _layout.Bricks[i];
                if (_pids[i] is not int pid || !_alive(pid, brick.Path))
                {
                    why = $"brick {brick} is down";
                    if (_refreshing is null && _refresh is { } refresh) _refreshing = Task.Run(refresh);
                    return false;
                }
                if (!_bricks[i].StillCarriesVolume(_xattrs, _ns, out var whyNot))
                {
                    why = $"brick {brick}: {whyNot}";
                    return false;
                }
            }
            if (_listThroughMount is { } reason)
            {
                _listThroughMount = null;
                relinking = true;
                why = $"{reason}; its lookups by name make each brick link its directories again (docs/multi-brick.md, \"A restarted brick\")";
                return false;
            }
            why = "";
            return true;
        }
    }

    /// <summary>
    /// Makes the next turn whose bricks are all up list through the mount once, for <paramref name="reason"/>. A brick
    /// process that started after the last listing through the mount may not know the parents of the directories a client
    /// reaches by gfid, and the marker stamps a change's ancestors only as far as the brick knows them: until a listing
    /// by name links them again, a change can stay below an unstamped directory and pruning would miss it
    /// (docs/multi-brick.md, "A restarted brick").
    /// </summary>
    public void ListThroughMountNextTurn(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        lock (_gate) _listThroughMount = reason;
    }

    /// <summary>
    /// The path's xtime as the volume answers it: the newest over the bricks that hold the entry; unstamped (ENODATA) when
    /// every brick that holds it has none; null when no brick holds it (new, or gone), so that the mount answers. A brick
    /// that holds it but cannot be read throws <see cref="GeoSyncXattrException"/>: the entry fails this turn rather than
    /// be judged on part of the volume.
    /// </summary>
    public XtimeReading? TryRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Xtime? newest = null;
        var held = false;
        foreach (var brick in _bricks)
        {
            if (!brick.TryReadPresent(path, out var value)) continue;
            held = true;
            if (value is Xtime x && (newest is not Xtime n || x > n)) newest = x;
        }
        if (!held) return null;
        return newest is Xtime found ? XtimeReading.Found(found) : XtimeReading.Missing(LinuxErrno.ENODATA);
    }

    /// <summary>Whether <paramref name="pid"/> is a running brick process serving <paramref name="brickPath"/> on this host (its command line names the brick).</summary>
    public static bool IsBrickProcess(int pid, string brickPath)
    {
        try
        {
            var cmdline = File.ReadAllBytes($"/proc/{pid}/cmdline");
            var args = System.Text.Encoding.UTF8.GetString(cmdline).Split('\0');
            return args.Any(arg => arg == brickPath || arg.EndsWith(":" + brickPath, StringComparison.Ordinal));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int?[] PidsOf(GlusterVolumeLayout layout, IReadOnlyList<GlusterBrickStatus> status) =>
        [.. layout.Bricks.Select(brick => status.FirstOrDefault(s => s.Host == brick.Host && s.Path == brick.Path) is { Online: true, Pid: int pid }
            ? pid : (int?)null)];
}
