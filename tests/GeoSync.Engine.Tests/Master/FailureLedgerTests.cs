using GeoSync.Engine.Master;
using GeoSync.Engine.Transport;
using Xunit;

namespace GeoSync.Engine.Tests.Master;

public sealed class FailureLedgerTests : IDisposable
{
    private const string Master = "file:///srv/m";
    private const string Slave = "file:///srv/s";

    private readonly string _directory = Directory.CreateTempSubdirectory("geosync-ledger-").FullName;
    private readonly ManualTimeProvider _clock = new();

    private string LedgerPath => Path.Combine(_directory, "srv_m--srv_s.0a1b2c3d.failures.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void TheLedgerFileSitsNextToTheStateFile() =>
        Assert.Equal("/var/lib/geosync/srv_m--srv_s.0a1b2c3d.failures.json",
            FailureLedger.PathForStateFile("/var/lib/geosync/srv_m--srv_s.0a1b2c3d.json"));

    [Fact]
    public void AttemptsAndTimesCountAcrossTurnsAndTheThresholdMakesAFailurePersistent()
    {
        var ledger = new FailureLedger(persistentAfter: 3, _clock);
        var start = _clock.GetUtcNow();

        var turns = Enumerable.Range(0, 3).Select(_ =>
        {
            var failure = Turn(ledger, ("a/file", "no space", 28));
            _clock.Advance(TimeSpan.FromMinutes(1));
            return Assert.Single(failure);
        }).ToList();

        Assert.Equal([1, 2, 3], turns.Select(f => f.Attempts));
        Assert.Equal([false, false, true], turns.Select(f => f.IsPersistent));
        Assert.All(turns, f => Assert.Equal(start, f.FirstFailed));
        Assert.Equal(start.AddMinutes(2), turns[^1].LastFailed);
        Assert.Null(turns[0].Hint);
        Assert.Equal(FailureCause.NoSpace, turns[^1].Cause);
        Assert.Contains("df -i", turns[^1].Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void ASecondFailureInOneTurnKeepsTheFirstReason()
    {
        var ledger = new FailureLedger(3, _clock);
        var failure = Assert.Single(Turn(ledger, ("f", "first", 30), ("f", "second", 13)));
        Assert.Equal(("first", 1, FailureCause.ReadOnly), (failure.Reason, failure.Attempts, failure.Cause));
    }

    [Fact]
    public void ACompletedTurnClearsWhatArrivedButKeepsWhatItCouldNotVisit()
    {
        var ledger = new FailureLedger(3, _clock);
        Turn(ledger, ("docs/a", "x", 5), ("docs/deep/b", "y", 5), ("top", "z", 5));

        // docs failed this time (say, its slave listing), so nothing below it was visited; top arrived.
        Turn(ledger, ("docs", "cannot list", 13));

        Assert.Equal(["docs", "docs/a", "docs/deep/b"], ledger.Entries.Select(e => e.Path));
        Assert.Equal(1, ledger.Entries.Single(e => e.Path == "docs/a").Attempts);
    }

    [Fact]
    public void ATurnCutShortClearsNothing()
    {
        var ledger = new FailureLedger(3, _clock);
        Turn(ledger, ("a", "x", null), ("b", "y", null));

        ledger.BeginTurn();
        ledger.Record("a", "again", null);
        ledger.EndTurn(completed: false, out _);

        Assert.Equal([("a", 2), ("b", 1)], ledger.Entries.Select(e => (e.Path, e.Attempts)));
    }

    [Fact]
    public void AnOpenedLedgerIsSavedAfterEveryChangingTurnAndReloadedByTheNextProcess()
    {
        var first = FailureLedger.Open(LedgerPath, Master, Slave, 2, _clock);
        Turn(first, ("a", "read-only", 30), ("b", "denied", 13));
        _clock.Advance(TimeSpan.FromSeconds(10));
        Turn(first, ("a", "read-only", 30));

        var file = FailureLedger.ReadFile(LedgerPath);
        Assert.NotNull(file);
        Assert.Equal((Master, Slave), (file.Master, file.Slave));
        var saved = Assert.Single(file.Entries);
        Assert.Equal(("a", "read-only", 30, 2, true), (saved.Path, saved.Reason, saved.Errno, saved.Attempts, saved.IsPersistent));
        Assert.Equal(_clock.GetUtcNow().AddSeconds(-10), saved.FirstFailed);
        Assert.Equal(_clock.GetUtcNow(), saved.LastFailed);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp.*"));

        // A restart: the attempts go on from the file, and FirstFailed is kept.
        var second = FailureLedger.Open(LedgerPath, Master, Slave, 2, _clock);
        var again = Assert.Single(Turn(second, ("a", "read-only", 30)));
        Assert.Equal((3, saved.FirstFailed), (again.Attempts, again.FirstFailed));

        // It arrives: the entry is cleared, in memory and in the file.
        Turn(second);
        Assert.Empty(second.Entries);
        Assert.Empty(FailureLedger.ReadFile(LedgerPath)!.Entries);
    }

    [Fact]
    public void AnUnchangedLedgerIsNotRewritten()
    {
        var ledger = FailureLedger.Open(LedgerPath, Master, Slave, 3, _clock);
        Turn(ledger);
        Assert.False(File.Exists(LedgerPath));

        Turn(ledger, ("a", "x", null));
        Turn(ledger);
        var written = File.GetLastWriteTimeUtc(LedgerPath).AddHours(-1);
        File.SetLastWriteTimeUtc(LedgerPath, written);
        Turn(ledger);
        Turn(ledger);
        Assert.Equal(written, File.GetLastWriteTimeUtc(LedgerPath));
    }

    [Fact]
    public void AFileThatIsNotALedgerIsRefusedWithWhatToDo()
    {
        File.WriteAllText(LedgerPath, "{ not json");

        var ex = Assert.Throws<GeoSyncException>(() => FailureLedger.Open(LedgerPath, Master, Slave, 3, _clock));
        Assert.Contains(LedgerPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("move it away", ex.Message, StringComparison.Ordinal);
        Assert.False(FailureLedger.TryReadFile(LedgerPath, out var ledger, out var problem));
        Assert.Null(ledger);
        Assert.Equal(ex.Message, problem);
        Assert.True(FailureLedger.TryReadFile(Path.Combine(_directory, "absent.failures.json"), out ledger, out problem));
        Assert.Null(ledger);
        Assert.Null(problem);
    }

    [Fact]
    public void ASaveThatFailsIsReportedAndRetriedNextTurn()
    {
        // A file where the ledger's folder should be: neither the folder nor the ledger can be made.
        var missing = Path.Combine(_directory, "gone", "pair.failures.json");
        File.WriteAllText(Path.Combine(_directory, "gone"), "");
        var ledger = FailureLedger.Open(missing, Master, Slave, 3, _clock);
        ledger.BeginTurn();
        ledger.Record("a", "x", null);
        ledger.EndTurn(completed: true, out var saveError);
        Assert.IsAssignableFrom<IOException>(saveError);

        File.Delete(Path.Combine(_directory, "gone"));
        ledger.BeginTurn();
        ledger.Record("a", "x", null);
        ledger.EndTurn(completed: true, out saveError);
        Assert.Null(saveError);
        Assert.Equal(2, Assert.Single(FailureLedger.ReadFile(missing)!.Entries).Attempts);
    }

    [Theory]
    [InlineData(28, FailureCause.NoSpace)]
    [InlineData(122, FailureCause.NoSpace)]
    [InlineData(30, FailureCause.ReadOnly)]
    [InlineData(1, FailureCause.PermissionDenied)]
    [InlineData(13, FailureCause.PermissionDenied)]
    [InlineData(2, FailureCause.NotFound)]
    [InlineData(36, FailureCause.NameTooLong)]
    [InlineData(5, FailureCause.Other)]
    [InlineData(null, FailureCause.Other)]
    public void ErrnoMapsToACause(int? errno, FailureCause cause) => Assert.Equal(cause, FailureCauses.FromErrno(errno));

    [Theory]
    [InlineData("rsync: [receiver] mkstemp \"/s/.f.AbC123\" failed: No space left on device (28)", 28)]
    [InlineData("rsync: [generator] mknod \"/s/dev/null\" failed: Operation not permitted (1)", 1)]
    [InlineData("rsync: [receiver] write failed on \"/s/f\": Read-only file system (30); rsync: [receiver] rename \"/s/.f.x\" -> \"f\": Permission denied (13)", 13)]
    [InlineData("rsync exited with 23 without naming the files that failed", null)]
    [InlineData(null, null)]
    public void TheErrnoOfAnRsyncFailureIsTakenFromItsMessage(string? reason, int? errno) =>
        Assert.Equal(errno, RsyncStderrClassifier.ErrnoIn(reason));

    [Fact]
    public void NotConvergedIdsAreTheContractOnes()
    {
        Assert.True(ReplicationErrorIds.MeansNotConverged("EntryNotSynced"));
        Assert.True(ReplicationErrorIds.MeansNotConverged("PurgeHeld"));
        Assert.False(ReplicationErrorIds.MeansNotConverged("SessionFaulty"));
    }

    private static IReadOnlyList<CrawlFailure> Turn(FailureLedger ledger, params (string Path, string Reason, int? Errno)[] failures)
    {
        ledger.BeginTurn();
        foreach (var (path, reason, errno) in failures) ledger.Record(path, reason, errno);
        var result = ledger.EndTurn(completed: true, out var saveError);
        Assert.Null(saveError);
        return result;
    }
}
