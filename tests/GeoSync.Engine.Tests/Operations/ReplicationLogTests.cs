using GeoSync.Engine.Operations;
using GeoSync.Engine.Tests.Master;

namespace GeoSync.Engine.Tests.Operations;

public sealed class ReplicationLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("geosync-log-").FullName;

    private string LogFile => Path.Combine(_directory, "log", "geosync.log");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void WritesUtcTimeLevelComponentAndMessageOnOneLine()
    {
        var clock = new ManualTimeProvider();
        using (var log = new ReplicationLog(LogFile, clock: clock))
        {
            clock.Advance(TimeSpan.FromMilliseconds(123));
            log.Write(ReplicationLogLevel.Info, "supervisor", "worker started (process 42)");
            log.Write(ReplicationLogLevel.Error, "worker", "first\nsecond");
        }

        Assert.Equal(
            ["2024-01-01T00:00:00.123Z INFO supervisor worker started (process 42)", "2024-01-01T00:00:00.123Z ERROR worker first | second"],
            File.ReadAllLines(LogFile));
        var entries = ReplicationLog.Read(LogFile);
        Assert.Equal(new ReplicationLogEntry(new DateTimeOffset(2024, 1, 1, 0, 0, 0, 123, TimeSpan.Zero), ReplicationLogLevel.Info, "supervisor", "worker started (process 42)"), entries[0]);
        Assert.Equal(ReplicationLogLevel.Error, entries[1].Level);
    }

    [Fact]
    public void RotatesBySizeAndKeepsTheNewestFiles()
    {
        using (var log = new ReplicationLog(LogFile, maxBytes: 1024, keep: 2))
        {
            for (var i = 0; i < 200; i++) log.Write(ReplicationLogLevel.Info, "worker", $"line {i:D3} " + new string('x', 40));
        }

        var files = ReplicationLog.Files(LogFile);
        Assert.Equal([LogFile + ".2", LogFile + ".1", LogFile], files);
        Assert.All(files, file => Assert.InRange(new FileInfo(file).Length, 1, 1024));
        Assert.False(File.Exists(LogFile + ".3"));
        var entries = ReplicationLog.Read(LogFile);
        // Oldest first across the files, without a gap, and ending with the last line written.
        Assert.EndsWith("line 199 " + new string('x', 40), entries[^1].Message);
        var numbers = entries.Select(e => int.Parse(e.Message[5..8], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(numbers[0], numbers.Count), numbers);
        Assert.True(numbers[0] > 0, "the oldest lines went with the deleted files");
    }

    [Fact]
    public void TailReachesIntoRotatedFilesAndLevelFilters()
    {
        using (var log = new ReplicationLog(LogFile, maxBytes: 1024, keep: 5))
        {
            for (var i = 0; i < 60; i++)
            {
                log.Write(i % 10 == 0 ? ReplicationLogLevel.Warning : ReplicationLogLevel.Info, "supervisor", $"message {i:D2} " + new string('y', 30));
            }
        }
        Assert.True(ReplicationLog.Files(LogFile).Count > 2);

        var tail = ReplicationLog.Read(LogFile, tail: 30);
        Assert.Equal(30, tail.Count);
        Assert.StartsWith("message 30", tail[0].Message);
        Assert.StartsWith("message 59", tail[^1].Message);

        var warnings = ReplicationLog.Read(LogFile, minimumLevel: ReplicationLogLevel.Warning);
        Assert.All(warnings, w => Assert.Equal(ReplicationLogLevel.Warning, w.Level));
        Assert.Equal(["message 00", "message 10", "message 20", "message 30", "message 40", "message 50"], warnings.Select(w => w.Message[..10]));
    }

    [Theory]
    [InlineData("WARNING: slow slave", ReplicationLogLevel.Warning, "slow slave")]
    [InlineData("VERBOSE: turn 3", ReplicationLogLevel.Verbose, "turn 3")]
    [InlineData("ERROR: '/a' did not reach the slave", ReplicationLogLevel.Error, "'/a' did not reach the slave")]
    [InlineData("2026-12-07 17:00:00 Session1 turn 2: 3 files", ReplicationLogLevel.Info, "2026-12-07 17:00:00 Session1 turn 2: 3 files")]
    public void ClassifiesTheWorkersLinesByTheirPrefix(string line, ReplicationLogLevel level, string message)
    {
        Assert.Equal((level, message), ReplicationLog.ClassifyWorkerLine(line));
    }

    [Fact]
    public void ALineNotInTheFormatIsKeptNotHidden()
    {
        var entry = ReplicationLog.Parse("garbage cut by a crash");
        Assert.Equal("unknown", entry.Component);
        Assert.Equal("garbage cut by a crash", entry.Message);
    }
}
