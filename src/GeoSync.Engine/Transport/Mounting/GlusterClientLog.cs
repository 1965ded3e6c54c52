using System.Text.RegularExpressions;

namespace GeoSync.Engine.Transport.Mounting;

/// <summary>What a glusterfs client log says about a failed mount: the cause, and the lines that show it.</summary>
internal sealed record ClientLogDiagnosis(GlusterMountFailure? Cause, IReadOnlyList<string> Evidence);

/// <summary>Reads the cause of a failed mount out of the glusterfs client's log (GlusterFS 10.x message texts).</summary>
internal static partial class GlusterClientLog
{
    // The messages the client writes for each cause; the first match wins, so the most specific comes first.
    private static readonly (string Text, GlusterMountFailure Cause)[] Signatures =
    [
        ("failed to fetch volume file", GlusterMountFailure.VolumeNotFound),
        ("failed to get the port number for remote subvolume", GlusterMountFailure.VolumeNotStarted),
        ("DNS resolution failed", GlusterMountFailure.ServerUnreachable),
        ("Exhausted all volfile servers", GlusterMountFailure.ServerUnreachable),
    ];

    private const int MaxEvidenceLines = 4;

    /// <summary>The cause named by <paramref name="logText"/> (the part written by this mount), and its evidence.</summary>
    public static ClientLogDiagnosis Diagnose(string logText)
    {
        var entries = Parse(logText).ToList();
        foreach (var (text, cause) in Signatures)
        {
            if (entries.Any(e => e.Message.Contains(text, StringComparison.Ordinal)))
            {
                return new ClientLogDiagnosis(cause, Evidence(entries, text));
            }
        }

        return new ClientLogDiagnosis(null, Evidence(entries, null));
    }

    // The matching line alone, or else the newest errors; messages only, without timestamps and source locations.
    private static List<string> Evidence(List<LogEntry> entries, string? signature)
    {
        if (signature is not null)
        {
            return [entries.First(e => e.Message.Contains(signature, StringComparison.Ordinal)).Message];
        }

        var lines = new List<string>();
        foreach (var entry in entries.Where(e => e.Level is 'E' or 'C' or 'A').Reverse())
        {
            if (lines.Count >= MaxEvidenceLines)
            {
                break;
            }

            if (!lines.Contains(entry.Message))
            {
                lines.Add(entry.Message);
            }
        }

        lines.Reverse();
        return lines;
    }

    private readonly record struct LogEntry(char Level, string Message);

    private static IEnumerable<LogEntry> Parse(string logText)
    {
        foreach (var line in logText.Split('\n'))
        {
            var match = LogLine().Match(line.TrimEnd('\r'));
            if (match.Success)
            {
                var message = Backtrace().Replace(match.Groups["message"].Value, "").Trim();
                yield return new LogEntry(match.Groups["level"].Value[0], message);
            }
        }
    }

    // "[2026-11-25 21:34:02.300401 +0000] E [MSGID: 1] [glusterfsd-mgmt.c:2371:mgmt_getspec_cbk] 0-mgmt: failed to ..."
    [GeneratedRegex(@"^\[[^\]]*\] (?<level>[TDINWECA]) (?:\[[^\]]*\] )+(?:\d+-[^:\s]*: )?(?<message>.*)$")]
    private static partial Regex LogLine();

    // "(-->/lib/x86_64-linux-gnu/libgfrpc.so.0(+0x100bf) [0x7f4b59f3c0bf] ) 0-timer: Either ctx is NULL": the call chain.
    [GeneratedRegex(@"^\(-->.*?\] \) (?:\d+-[^:\s]*: )?")]
    private static partial Regex Backtrace();
}
