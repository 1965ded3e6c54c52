using System.Globalization;
using System.Text;

namespace GeoSync.Engine.Operations;

/// <summary>How serious a log line is; a filter for a minimum level keeps that level and the ones after it.</summary>
public enum ReplicationLogLevel
{
    Verbose,
    Info,
    Warning,
    Error,
}

/// <summary>One line of a replication's log: when (UTC), how serious, which part of GeoSync wrote it, and what.</summary>
public sealed record ReplicationLogEntry(DateTimeOffset Time, ReplicationLogLevel Level, string Component, string Message)
{
    /// <summary>The line as it is stored: <c>2026-12-07T17:00:00.123Z INFO supervisor message</c>.</summary>
    public override string ToString() =>
        $"{Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)} {ReplicationLog.LevelWord(Level)} {Component} {Message}";
}

/// <summary>
/// The log of one named replication (<see cref="ReplicationPaths.LogFile"/>): the supervisor's lines and its worker's
/// output, one line each, rotated by size. <c>geosync.log</c> is the newest file, <c>geosync.log.1</c> the one before,
/// up to <see cref="Keep"/> old files; a file is rotated before a line would take it past <see cref="MaxBytes"/>.
/// Only the supervisor writes it (the worker's output comes through it), so one writer needs no lock between processes.
/// </summary>
public sealed class ReplicationLog : IDisposable
{
    public const long DefaultMaxBytes = 10 * 1024 * 1024;
    public const int DefaultKeep = 5;

    private readonly object _gate = new();
    private readonly TimeProvider _clock;
    private TextWriter? _echo;
    private FileStream? _stream;

    /// <summary>
    /// A log at <paramref name="path"/>; <paramref name="echo"/>, when given, also gets every line (the foreground
    /// monitor's stderr: under systemd, the journal) — a writer that fails is dropped, never the log.
    /// </summary>
    public ReplicationLog(string path, long maxBytes = DefaultMaxBytes, int keep = DefaultKeep, TimeProvider? clock = null, TextWriter? echo = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024, nameof(maxBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(keep, nameof(keep));
        Path = System.IO.Path.GetFullPath(path);
        MaxBytes = maxBytes;
        Keep = keep;
        _clock = clock ?? TimeProvider.System;
        _echo = echo;
    }

    public string Path { get; }

    /// <summary>The size a log file may reach before it is rotated.</summary>
    public long MaxBytes { get; }

    /// <summary>How many rotated files are kept (<c>geosync.log.1</c> … <c>.N</c>); older ones are deleted.</summary>
    public int Keep { get; }

    /// <summary>Appends one line (a message with line breaks is kept on one line); safe from any thread.</summary>
    public void Write(ReplicationLogLevel level, string component, string message)
    {
        var entry = new ReplicationLogEntry(_clock.GetUtcNow(), level, component, OneLine(message));
        var bytes = Encoding.UTF8.GetBytes(entry + "\n");
        lock (_gate)
        {
            var stream = _stream ??= Open();
            if (stream.Length > 0 && stream.Length + bytes.Length > MaxBytes)
            {
                Rotate();
                stream = _stream = Open();
            }
            stream.Write(bytes);
            stream.Flush();
            try
            {
                _echo?.WriteLine(entry.ToString());
                _echo?.Flush();
            }
            catch (IOException)
            {
                _echo = null;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }

    /// <summary>The log files of <paramref name="logFile"/>, oldest first (the rotated ones, then the current one).</summary>
    public static IReadOnlyList<string> Files(string logFile)
    {
        var rotated = new List<(int Index, string Path)>();
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(logFile))!;
        var name = System.IO.Path.GetFileName(logFile);
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory, name + ".*"))
            {
                // The pattern also matches the current file itself, which has no index.
                var fileName = System.IO.Path.GetFileName(file);
                if (fileName.Length > name.Length + 1 && int.TryParse(fileName[(name.Length + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    rotated.Add((index, file));
                }
            }
        }
        var files = rotated.OrderByDescending(r => r.Index).Select(r => r.Path).ToList();
        if (File.Exists(logFile)) files.Add(System.IO.Path.GetFullPath(logFile));
        return files;
    }

    /// <summary>
    /// The entries of the log, oldest first, across the rotated files: all of them, or the last <paramref name="tail"/>
    /// of those at <paramref name="minimumLevel"/> or above. A line that is not in the log's format (cut by a crash) is
    /// kept as an Info line of component <c>unknown</c>, so nothing is hidden.
    /// </summary>
    public static IReadOnlyList<ReplicationLogEntry> Read(string logFile, int? tail = null, ReplicationLogLevel minimumLevel = ReplicationLogLevel.Verbose)
    {
        if (tail is < 0) throw new ArgumentOutOfRangeException(nameof(tail), tail, "the tail is a count of lines");
        var files = Files(logFile);
        var entries = new List<ReplicationLogEntry>();
        // Newest file first, so a tail stops reading once it has enough.
        for (var i = files.Count - 1; i >= 0; i--)
        {
            List<ReplicationLogEntry> fromFile;
            try
            {
                fromFile = File.ReadLines(files[i]).Where(line => line.Length > 0).Select(Parse).Where(e => e.Level >= minimumLevel).ToList();
            }
            catch (FileNotFoundException)
            {
                continue; // rotated away while we read
            }
            entries.InsertRange(0, fromFile);
            if (tail is { } count && entries.Count >= count) break;
        }
        return tail is { } last && entries.Count > last ? entries[^last..] : entries;
    }

    /// <summary>Reads back one stored line.</summary>
    public static ReplicationLogEntry Parse(string line)
    {
        var parts = line.Split(' ', 4);
        if (parts.Length >= 3
            && DateTimeOffset.TryParseExact(parts[0], "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            && TryParseLevel(parts[1], out var level))
        {
            return new ReplicationLogEntry(time, level, parts[2], parts.Length > 3 ? parts[3] : "");
        }
        return new ReplicationLogEntry(DateTimeOffset.MinValue, ReplicationLogLevel.Info, "unknown", line);
    }

    /// <summary>The word a level is stored as.</summary>
    public static string LevelWord(ReplicationLogLevel level) => level switch
    {
        ReplicationLogLevel.Verbose => "VERBOSE",
        ReplicationLogLevel.Info => "INFO",
        ReplicationLogLevel.Warning => "WARNING",
        ReplicationLogLevel.Error => "ERROR",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, null),
    };

    public static bool TryParseLevel(string word, out ReplicationLogLevel level)
    {
        foreach (var candidate in Enum.GetValues<ReplicationLogLevel>())
        {
            if (string.Equals(word, LevelWord(candidate), StringComparison.OrdinalIgnoreCase) || string.Equals(word, candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                level = candidate;
                return true;
            }
        }
        level = ReplicationLogLevel.Info;
        return false;
    }

    /// <summary>
    /// The level and text of a line the worker wrote: <c>geosync master</c> prefixes warnings, verbose lines and errors
    /// with <c>WARNING:</c>, <c>VERBOSE:</c> and <c>ERROR:</c> on stderr; other lines (turn lines) are Info.
    /// </summary>
    public static (ReplicationLogLevel Level, string Message) ClassifyWorkerLine(string line)
    {
        foreach (var level in new[] { ReplicationLogLevel.Warning, ReplicationLogLevel.Verbose, ReplicationLogLevel.Error })
        {
            var prefix = LevelWord(level) + ": ";
            if (line.StartsWith(prefix, StringComparison.Ordinal)) return (level, line[prefix.Length..]);
        }
        return (ReplicationLogLevel.Info, line);
    }

    private static string OneLine(string message) =>
        message.Contains('\n', StringComparison.Ordinal) || message.Contains('\r', StringComparison.Ordinal)
            ? string.Join(" | ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
            : message;

    private FileStream Open()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        return new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
    }

    private void Rotate()
    {
        _stream?.Dispose();
        _stream = null;
        if (Keep == 0)
        {
            File.Delete(Path);
            return;
        }
        File.Delete($"{Path}.{Keep}");
        for (var index = Keep - 1; index >= 1; index--)
        {
            if (File.Exists($"{Path}.{index}")) File.Move($"{Path}.{index}", $"{Path}.{index + 1}");
        }
        File.Move(Path, $"{Path}.1");
    }
}
