using System.Text;

namespace GeoSync.Engine.Transport;

/// <summary>How a command ended: its exit code, everything it wrote to stdout, and the tail of its stderr.</summary>
public sealed record ProcessResult(IReadOnlyList<string> Argv, int ExitCode, byte[] StandardOutput, string StderrTail)
{
    public string StandardOutputText => Encoding.UTF8.GetString(StandardOutput);

    /// <summary>Returns this result if the command exited with 0; otherwise throws a <see cref="GeoSyncProcessException"/> saying why.</summary>
    public ProcessResult EnsureSuccess() => ExitCode == 0
        ? this
        : throw new GeoSyncProcessException(DescribeFailure(Argv, ExitCode, StderrTail), Argv, ExitCode, StderrTail);

    /// <summary><c>command "&lt;argv&gt;" returned with &lt;code&gt;, saying:</c> and each stderr line as <c>&lt;argv0&gt;&gt; &lt;line&gt;</c> (docs/protocol.md, "Transport").</summary>
    public static string DescribeFailure(IReadOnlyList<string> argv, int exitCode, string stderrTail)
    {
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentNullException.ThrowIfNull(stderrTail);
        var message = new StringBuilder($"command \"{string.Join(' ', argv)}\" returned with {exitCode}");
        var lines = stderrTail.Split('\n');
        var count = lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        if (count > 0)
        {
            message.Append(", saying:");
            foreach (var line in lines.AsSpan(0, count))
            {
                message.Append('\n').Append(PrefixStderrLine(argv[0], line.TrimEnd('\r')));
            }
        }

        return message.ToString();
    }

    internal static string PrefixStderrLine(string argv0, string line) => $"{argv0}> {line}";
}
