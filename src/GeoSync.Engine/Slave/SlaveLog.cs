using System.Globalization;
using System.Runtime.CompilerServices;

namespace GeoSync.Engine.Slave;

/// <summary>Severity of a slave log line; the letter is the line's <c>&lt;L&gt;</c> field.</summary>
public enum SlaveLogLevel
{
    Debug,
    Information,
    Warning,
    Error,
}

/// <summary>
/// Writes gsyncd-format log lines (docs/protocol.md, "Transport"), on stderr for a slave process, where the master that started it collects them:
/// <c>[YYYY-MM-DD HH:MM:SS.uuuuuu] &lt;L&gt; [&lt;module&gt;(&lt;label&gt;):&lt;line&gt;:&lt;function&gt;] &lt;Class&gt;: &lt;msg&gt;</c>.
/// </summary>
public sealed class SlaveLog(TextWriter writer, string label, SlaveLogLevel minimum = SlaveLogLevel.Information)
{
    private readonly object _gate = new();

    /// <summary>Logs from GeoSync's own code: module, line and function are the caller's.</summary>
    public void Write(SlaveLogLevel level, string className, string message,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string function = "")
    {
        WriteLine(level, Path.GetFileNameWithoutExtension(file), line, function, className, message);
    }

    /// <summary>
    /// Logs a message a library handed to a callback. Such a message carries no source position, so the line field
    /// is 0 and module and function name the component that reported it.
    /// </summary>
    public void WriteFrom(SlaveLogLevel level, string component, string function, string message) =>
        WriteLine(level, component, 0, function, component, message);

    private void WriteLine(SlaveLogLevel level, string module, int line, string function, string className, string message)
    {
        if (level < minimum)
        {
            return;
        }
        var time = DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        var letter = level switch
        {
            SlaveLogLevel.Debug => 'D',
            SlaveLogLevel.Information => 'I',
            SlaveLogLevel.Warning => 'W',
            _ => 'E',
        };
        // Lines from concurrent workers must not interleave within a line.
        var text = $"[{time}] {letter} [{module}({label}):{line}:{function}] {className}: {message}";
        lock (_gate)
        {
            writer.WriteLine(text);
            writer.Flush();
        }
    }
}
