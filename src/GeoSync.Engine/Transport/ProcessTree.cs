using System.Diagnostics;
using System.Globalization;
using Mono.Unix.Native;

namespace GeoSync.Engine.Transport;

/// <summary>Finds and signals a process and its descendants through /proc, guarding against reused pids.</summary>
internal static class ProcessTree
{
    private static readonly TimeSpan ReapLimit = TimeSpan.FromSeconds(10);

    /// <summary>A process as found at one moment: a pid is only the same process while its start time matches.</summary>
    internal readonly record struct Member(int Pid, ulong StartTime);

    /// <summary>The fields of /proc/&lt;pid&gt;/stat the tree needs; null when the process is gone.</summary>
    internal readonly record struct StatFields(char State, int ParentPid, ulong StartTime);

    /// <summary>
    /// SIGTERM to the child and all its descendants, SIGKILL to those still alive after <paramref name="grace"/>
    /// (or forked meanwhile), then waits until the child is reaped.
    /// </summary>
    public static void Terminate(Process child, TimeSpan grace)
    {
        var members = Snapshot(child.Id);
        Signal(members, Signum.SIGTERM);

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < grace && members.Exists(IsAlive))
        {
            Thread.Sleep(10);
        }

        var survivors = members.Where(IsAlive).ToList();
        if (!child.HasExited)
        {
            survivors.AddRange(Snapshot(child.Id));
        }

        Signal(survivors.Distinct().ToList(), Signum.SIGKILL);

        // The runtime reaps its children; waiting makes that happen before we return. A child stuck in the kernel
        // (a hung FUSE mount) cannot die at all, so the wait is bounded.
        child.WaitForExit(ReapLimit);
    }

    /// <summary>The process and all its descendants, parents before children; empty if it is gone.</summary>
    public static List<Member> Snapshot(int rootPid)
    {
        var children = new Dictionary<int, List<Member>>();
        Member? root = null;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || ReadStat(pid) is not { } stat)
            {
                continue;
            }

            var member = new Member(pid, stat.StartTime);
            if (pid == rootPid)
            {
                root = member;
            }
            else if (children.TryGetValue(stat.ParentPid, out var siblings))
            {
                siblings.Add(member);
            }
            else
            {
                children[stat.ParentPid] = [member];
            }
        }

        var tree = new List<Member>();
        if (root is { } found)
        {
            tree.Add(found);
            for (var i = 0; i < tree.Count; i++)
            {
                if (children.TryGetValue(tree[i].Pid, out var below))
                {
                    tree.AddRange(below);
                }
            }
        }

        return tree;
    }

    /// <summary>Running (not a zombie) and still the process that was found.</summary>
    public static bool IsAlive(Member member) =>
        ReadStat(member.Pid) is { } stat && stat.StartTime == member.StartTime && stat.State is not ('Z' or 'X');

    public static StatFields? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // The command name is in parentheses and may itself contain ')' and spaces, so fields start after the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return new StatFields(
            fields[0][0],
            int.Parse(fields[1], CultureInfo.InvariantCulture),
            ulong.Parse(fields[19], CultureInfo.InvariantCulture));
    }

    /// <summary>Signals each member that is still the process that was found.</summary>
    public static void Signal(IEnumerable<Member> members, Signum signal)
    {
        foreach (var member in members)
        {
            // Checked right before signalling so a pid reused since the snapshot is left alone; ESRCH means it just went.
            if (IsAlive(member))
            {
                Syscall.kill(member.Pid, signal);
            }
        }
    }
}
