namespace GeoSync.Engine.Transport;

/// <summary>What to run: an argv (never a shell string) and how the child's standard streams are wired.</summary>
/// <param name="FileName">argv[0]: a path, or a name looked up on PATH.</param>
/// <param name="Arguments">The remaining argv, passed literally.</param>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>The default bound of the stderr tail (docs/protocol.md, "Transport").</summary>
    public const int DefaultStderrTailBytes = 1024 * 1024;

    /// <summary>The child's working directory; the caller's when null.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to set in the child's inherited environment; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Gives the child a pipe as stdin (<see cref="IRunningProcess.StandardInput"/>); otherwise it inherits the caller's.</summary>
    public bool RedirectStandardInput { get; init; }

    /// <summary>Gives the child a pipe as stdout (<see cref="IRunningProcess.StandardOutput"/>); otherwise it inherits the caller's.</summary>
    public bool RedirectStandardOutput { get; init; }

    /// <summary>Called on a background thread with each stderr line as <c>&lt;argv0&gt;&gt; &lt;line&gt;</c>, for logging.</summary>
    public Action<string>? StderrLine { get; init; }

    /// <summary>How many of the newest stderr bytes <see cref="IRunningProcess.StderrTail"/> keeps.</summary>
    public int StderrTailBytes { get; init; } = DefaultStderrTailBytes;

    /// <summary>argv[0] followed by the arguments.</summary>
    public IReadOnlyList<string> Argv => [FileName, .. Arguments];
}
