using GeoSync.Engine.Master;
using GeoSync.Engine.Operations;
using GeoSync.Engine.Tests.Master;

namespace GeoSync.Engine.Tests.Operations;

public sealed class MasterStateFileTests : IDisposable
{
    private const string Master = "file:///srv/m";
    private const string Slave = "file:///srv/s";
    private readonly string _directory = Directory.CreateTempSubdirectory("geosync-state-").FullName;
    private readonly ManualTimeProvider _clock = new();

    private string StatePath => Path.Combine(_directory, "state.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private MasterStateFile Open(string? checkpointPath = null, string? ledgerPath = null) =>
        MasterStateFile.Open(StatePath, Master, Slave, ledgerPath, checkpointPath, _clock, processId: 4242, processStartTime: _clock.GetUtcNow());

    private static TurnCounts Turn(long turn, long files, long bytes, int failures = 0, int held = 0, long created = 0, long purged = 0) =>
        new(turn, DirectoriesScanned: 1, created, purged, files, bytes, failures, held, ChangesSeen: files + created + purged + failures > 0, TimeSpan.FromSeconds(1));

    private static MasterStateRecord Saved(string path) => AtomicJsonFile.Read<MasterStateRecord>(path)!;

    [Fact]
    public void CountersCarryOverToTheNextRunOfTheLoopWhileTurnsAndReconnectsStartAgain()
    {
        using (var first = Open())
        {
            first.Connected("Session1", 10);
            first.BeginTurn(() => null);
            first.CompleteTurn(Turn(1, files: 3, bytes: 300, created: 2));
            first.Fault("slave went away", "SessionFaulty", TimeSpan.FromSeconds(1));
            first.End(MasterLoopState.Stopped);
        }

        using var second = Open();
        second.Write();
        var carried = Saved(StatePath);
        Assert.Equal(MasterLoopState.Starting, carried.State);
        Assert.Equal(3, carried.FilesSynced);
        Assert.Equal(300, carried.BytesSynced);
        Assert.Equal(2, carried.EntriesCreated);
        Assert.Equal(CrawlKind.Incremental, carried.Crawl);
        Assert.NotNull(carried.LastSynced);
        Assert.Equal(0, carried.TurnsCompleted);
        Assert.Equal(0, carried.Reconnects);
        Assert.Null(carried.LastError);

        second.Connected("Session2", 11);
        second.BeginTurn(() => null);
        second.CompleteTurn(Turn(1, files: 1, bytes: 5, purged: 4));
        var after = Saved(StatePath);
        Assert.Equal(4, after.FilesSynced);
        Assert.Equal(305, after.BytesSynced);
        Assert.Equal(4, after.EntriesPurged);
        Assert.Equal(1, after.TurnsCompleted);
    }

    [Fact]
    public void LastSyncedIsTheStartOfTheLastTurnThatCompletedWithNothingFailedOrHeld()
    {
        using var state = Open();
        state.Connected("S", null);
        Assert.Equal(CrawlKind.FirstSync, state.Record.Crawl);

        var firstStart = _clock.GetUtcNow();
        state.BeginTurn(() => null);
        _clock.Advance(TimeSpan.FromSeconds(30));
        state.CompleteTurn(Turn(1, files: 10, bytes: 10));
        Assert.Equal(firstStart, state.Record.LastSynced);
        Assert.Equal(CrawlKind.Incremental, state.Record.Crawl);

        _clock.Advance(TimeSpan.FromSeconds(5));
        state.BeginTurn(() => null);
        state.CompleteTurn(Turn(2, files: 1, bytes: 1, failures: 1));
        Assert.Equal(firstStart, state.Record.LastSynced);

        state.BeginTurn(() => null);
        state.CompleteTurn(Turn(3, files: 0, bytes: 0, failures: 1, held: 1));
        Assert.Equal(firstStart, state.Record.LastSynced);

        _clock.Advance(TimeSpan.FromSeconds(5));
        var convergedStart = _clock.GetUtcNow();
        state.BeginTurn(() => null);
        _clock.Advance(TimeSpan.FromSeconds(2));
        state.CompleteTurn(Turn(4, files: 1, bytes: 1));
        Assert.Equal(convergedStart, state.Record.LastSynced);
        Assert.Equal(convergedStart, Saved(StatePath).LastSynced);
    }

    [Fact]
    public void ProgressOfARunningTurnIsWrittenOnTopOfTheCompletedTurnsAtMostOncePerInterval()
    {
        using var state = Open();
        state.Connected("S", null);
        state.BeginTurn(() => null);
        state.CompleteTurn(Turn(1, files: 100, bytes: 1000));

        state.BeginTurn(() => null);
        Assert.True(state.ReportProgress(new TurnProgress(2, 5, 0, 0, FilesSynced: 10, BytesSynced: 20)));
        Assert.Equal(110, Saved(StatePath).FilesSynced);
        Assert.False(state.ReportProgress(new TurnProgress(2, 6, 0, 0, FilesSynced: 11, BytesSynced: 22)), "within the interval");
        Assert.Equal(110, Saved(StatePath).FilesSynced);
        _clock.Advance(MasterStateFile.ProgressInterval);
        Assert.True(state.ReportProgress(new TurnProgress(2, 7, 0, 0, FilesSynced: 12, BytesSynced: 24)));
        Assert.Equal(1024, Saved(StatePath).BytesSynced);
        _clock.Advance(MasterStateFile.ProgressInterval);
        Assert.False(state.ReportProgress(new TurnProgress(2, 7, 0, 0, FilesSynced: 12, BytesSynced: 24)), "unchanged");

        // The completed turn settles its own counts once, not on top of its progress.
        state.CompleteTurn(Turn(2, files: 13, bytes: 26));
        Assert.Equal(113, Saved(StatePath).FilesSynced);
        Assert.False(state.ReportProgress(new TurnProgress(2, 7, 0, 0, FilesSynced: 14, BytesSynced: 28)), "no turn runs");
    }

    [Fact]
    public async Task TheProgressTimerPollsTheRunningTurn()
    {
        using var state = Open();
        state.Connected("S", null);
        var progress = new TurnProgress(1, 1, 0, 0, FilesSynced: 7, BytesSynced: 70);
        state.BeginTurn(() => progress);
        await WaitUntil(() => Saved(StatePath).FilesSynced == 7);
        progress = progress with { FilesSynced = 9 };
        await WaitUntil(() => Saved(StatePath).FilesSynced == 9);
    }

    [Fact]
    public void AFailedTurnDropsItsProgressAndTheFaultIsRecordedWithItsId()
    {
        using var state = Open();
        state.Connected("S", 5);
        state.BeginTurn(() => null);
        state.ReportProgress(new TurnProgress(1, 1, 0, 0, FilesSynced: 50, BytesSynced: 500));
        state.Fault("the slave process ended", "SessionFaulty", TimeSpan.FromSeconds(2));

        var saved = Saved(StatePath);
        Assert.Equal(MasterLoopState.Faulty, saved.State);
        Assert.Equal(0, saved.FilesSynced);
        Assert.Equal(1, saved.Reconnects);
        Assert.Equal("SessionFaulty", saved.LastErrorId);
        Assert.Equal("the slave process ended", saved.LastError);
        Assert.Equal(_clock.GetUtcNow().AddSeconds(2), saved.NextAttempt);
        Assert.Null(saved.SessionName);
        Assert.Null(saved.SlaveProcessId);
    }

    [Fact]
    public void IdleTurnsRefreshTheRecordOnlyEveryIdleWriteInterval()
    {
        using var state = Open();
        state.Connected("S", null);
        state.BeginTurn(() => null);
        Assert.True(state.CompleteTurn(Turn(1, files: 1, bytes: 1)), "the first sync is written");
        state.BeginTurn(() => null);
        Assert.False(state.CompleteTurn(Turn(2, files: 0, bytes: 0)));
        _clock.Advance(MasterStateFile.IdleWriteInterval);
        state.BeginTurn(() => null);
        Assert.True(state.CompleteTurn(Turn(3, files: 0, bytes: 0)));
    }

    [Fact]
    public void FailuresArePendingLedgerEntries()
    {
        var ledgerPath = Path.Combine(_directory, "failures.json");
        File.WriteAllText(ledgerPath, """
            { "Master": "file:///srv/m", "Slave": "file:///srv/s", "Entries": [
              { "Path": "a", "Error": "x", "Attempts": 1 }, { "Path": "b", "Error": "y", "Attempts": 2 } ] }
            """);
        using var state = Open(ledgerPath: ledgerPath);
        Assert.Equal(2, state.Record.Failures);
        File.WriteAllText(ledgerPath, """{ "Master": "file:///srv/m", "Slave": "file:///srv/s", "Entries": [] }""");
        state.BeginTurn(() => null);
        state.CompleteTurn(Turn(1, files: 2, bytes: 2));
        Assert.Equal(0, Saved(StatePath).Failures);
    }

    [Fact]
    public void ACheckpointCompletesAtTheEndOfTheFirstTurnThatStartedAfterIt()
    {
        var checkpointPath = Path.Combine(_directory, "checkpoint.json");
        using var state = Open(checkpointPath);
        state.Connected("S", null);

        state.BeginTurn(() => null);
        _clock.Advance(TimeSpan.FromSeconds(10));
        var checkpoint = _clock.GetUtcNow();
        AtomicJsonFile.Write(checkpointPath, new CheckpointRecord(checkpoint, checkpoint));
        state.CompleteTurn(Turn(1, files: 5, bytes: 5));
        Assert.Equal(checkpoint, state.Record.Checkpoint);
        Assert.Null(state.Record.CheckpointCompletedAt);

        _clock.Advance(TimeSpan.FromSeconds(1));
        state.BeginTurn(() => null);
        state.CompleteTurn(Turn(2, files: 0, bytes: 0, failures: 1));
        Assert.Null(state.Record.CheckpointCompletedAt);

        state.BeginTurn(() => null);
        _clock.Advance(TimeSpan.FromSeconds(3));
        var end = _clock.GetUtcNow();
        Assert.True(state.CompleteTurn(Turn(3, files: 1, bytes: 1)));
        Assert.Equal(end, Saved(StatePath).CheckpointCompletedAt);

        // Later turns keep the first completion; a new checkpoint starts over.
        _clock.Advance(TimeSpan.FromSeconds(3));
        state.BeginTurn(() => null);
        state.CompleteTurn(Turn(4, files: 0, bytes: 0));
        Assert.Equal(end, state.Record.CheckpointCompletedAt);
        var later = _clock.GetUtcNow().AddMinutes(5);
        AtomicJsonFile.Write(checkpointPath, new CheckpointRecord(later, _clock.GetUtcNow()));
        state.BeginTurn(() => null);
        state.CompleteTurn(Turn(5, files: 0, bytes: 0));
        Assert.Equal(later, Saved(StatePath).Checkpoint);
        Assert.Null(Saved(StatePath).CheckpointCompletedAt);
    }

    [Theory]
    [InlineData("gluster://gluster1:mvol", "ssh://root@backup1:file:///srv/mvol copy", "gluster1_mvol--root_backup1_file_srv_mvol_copy.7132a08f.json")]
    [InlineData("FILE:///srv/data", "file:///mnt/backup", "srv_data--mnt_backup.85c4f833.json")]
    public void AnAdHocPairKeepsTheFileNameEarlierVersionsGaveIt(string master, string slave, string expected) =>
        Assert.Equal(expected, MasterStateFile.PairFileName(master, slave));

    // Moves the clock on an interval at a time (the timer re-arms itself on the thread pool) until the condition holds.
    private async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true within 10 s");
            _clock.Advance(MasterStateFile.ProgressInterval);
            await Task.Delay(20);
        }
    }

    [Fact]
    public void TheGeneratedSerializerWritesAndReadsTheRecordsAsReflectionDoes()
    {
        // The state record and the checkpoint are written by generated code (RecordJsonContext), the files that existed
        // before were written by reflection: both must stay byte for byte the same (enums as names, names as declared).
        var time = new DateTimeOffset(2026, 12, 8, 3, 4, 5, 678, TimeSpan.Zero);
        var record = new MasterStateRecord
        {
            Master = Master, Slave = Slave, State = MasterLoopState.Faulty, ProcessId = 42, ProcessStartTime = 1234567890123,
            StartTime = time, Updated = time, SessionName = "Session1", SlaveProcessId = 43, TurnsCompleted = 2, Reconnects = 1,
            Crawl = CrawlKind.Incremental, FilesSynced = 5, BytesSynced = 6, EntriesCreated = 7, EntriesPurged = 8, Failures = 9,
            LastSynced = time, Checkpoint = time, CheckpointCompletedAt = time,
            LastTurn = new TurnSummary(2, time, 3, 4, 5, 6, 7, 8, 0.5), LastError = "gone", LastErrorId = "SessionFaulty",
            LastErrorTime = time, NextAttempt = time,
        };
        var checkpoint = new CheckpointRecord(time, time.AddMinutes(1));
        var reflection = new System.Text.Json.JsonSerializerOptions(AtomicJsonFile.Options)
        {
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        };

        var json = System.Text.Json.JsonSerializer.Serialize(record, AtomicJsonFile.Options);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(record, reflection), json);
        Assert.Contains("\"State\": \"Faulty\"", json, StringComparison.Ordinal);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(checkpoint, reflection), System.Text.Json.JsonSerializer.Serialize(checkpoint, AtomicJsonFile.Options));
        Assert.Equal(record, System.Text.Json.JsonSerializer.Deserialize<MasterStateRecord>(System.Text.Json.JsonSerializer.Serialize(record, reflection), AtomicJsonFile.Options));
    }
}
