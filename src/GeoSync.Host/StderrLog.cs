using System.Globalization;
using System.Runtime.CompilerServices;

namespace GeoSync.Host;

/// <summary>Severity of a log line; the letter is the line's <c>&lt;L&gt;</c> field.</summary>
internal enum LogLevel
{
    Debug,
    Information,
    Warning,
    Error,
}

/// <summary>
/// Writes gsyncd-format log lines (§6.1) to stderr, where a master that started this process collects them:
/// <c>[YYYY-MM-DD HH:MM:SS.uuuuuu] &lt;L&gt; [&lt;module&gt;(&lt;label&gt;):&lt;line&gt;:&lt;function&gt;] &lt;Class&gt;: &lt;msg&gt;</c>.
/// </summary>
internal sealed class StderrLog(string label, LogLevel minimum = LogLevel.Information)
{
    /// <summary>Logs from the host's own code: module, line and function are the caller's.</summary>
    public void Write(LogLevel level, string className, string message,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string function = "")
    {
        WriteLine(level, Path.GetFileNameWithoutExtension(file), line, function, className, message);
    }

    /// <summary>
    /// Logs a message a library handed to a callback. Such a message carries no source position, so the line field
    /// is 0 and module and function name the component that reported it.
    /// </summary>
    public void WriteFrom(LogLevel level, string component, string function, string message) =>
        WriteLine(level, component, 0, function, component, message);

    private void WriteLine(LogLevel level, string module, int line, string function, string className, string message)
    {
        if (level < minimum)
        {
            return;
        }
        var time = DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        var letter = level switch
        {
            LogLevel.Debug => 'D',
            LogLevel.Information => 'I',
            LogLevel.Warning => 'W',
            _ => 'E',
        };
        // Console.Error is synchronized, so lines from concurrent workers never interleave within a line.
        Console.Error.WriteLine($"[{time}] {letter} [{module}({label}):{line}:{function}] {className}: {message}");
    }
}
