using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using GeoSync.Engine.Master;
using GeoSync.Engine.Session;

namespace GeoSync.Engine.Operations;

/// <summary>
/// The worker loop's state record and the rules that change it: the script loop composes the cmdlets and tells this
/// object what happened (connected, a turn began or completed, a failure, the end); it keeps the counters cumulative
/// across restarts, moves them during a turn, computes LastSynced, follows the checkpoint, and writes the record
/// atomically (docs/master-loop.md, "The state file"; docs/operations.md).
/// </summary>
public sealed partial class MasterStateFile : IDisposable
{
    /// <summary>How often counts of a running turn are written at most.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often an idle loop refreshes the record (LastSynced and so the lag move on every idle turn).</summary>
    public static readonly TimeSpan IdleWriteInterval = TimeSpan.FromSeconds(10);

    private readonly object _gate = new();
    private readonly TimeProvider _clock;
    private MasterStateRecord _record;

    // The counters as of the last completed turn; a running turn's progress is shown on top of them.
    private MasterStateRecord _settled;
    private long _lastWrite;
    private long _lastProgressWrite;
    private DateTimeOffset? _turnStartedAt;
    private ITimer? _progressTimer;
    private Func<TurnProgress?>? _progressSource;
    private TurnProgress? _progressWritten;

    private MasterStateFile(string path, MasterStateRecord record, string? failureLedgerPath, string? checkpointPath, TimeProvider clock)
    {
        FilePath = path;
        // PowerShell passes $null for a string as "": both mean none.
        FailureLedgerPath = string.IsNullOrEmpty(failureLedgerPath) ? null : failureLedgerPath;
        CheckpointPath = string.IsNullOrEmpty(checkpointPath) ? null : checkpointPath;
        _clock = clock;
        _record = record;
        _settled = record;
    }

    /// <summary>The state record's file.</summary>
    public string FilePath { get; }

    /// <summary>The pair's failure ledger, whose pending entries are the record's Failures.</summary>
    public string? FailureLedgerPath { get; }

    /// <summary>The checkpoint file the loop follows; null when none is followed.</summary>
    public string? CheckpointPath { get; }

    /// <summary>The record as last changed.</summary>
    public MasterStateRecord Record
    {
        get { lock (_gate) return _record; }
    }

    /// <summary>Why the previous record could not be read (its counters then start from zero); null when it was read or absent.</summary>
    public string? PreviousRecordProblem { get; private init; }

    /// <summary>
    /// Starts the record of a new run of the loop in <paramref name="path"/>: state Starting, this process, and what
    /// outlives a run carried over from the previous record there (counters, crawl, LastSynced, checkpoint).
    /// Nothing is written until <see cref="Write"/> or a change.
    /// </summary>
    public static MasterStateFile Open(string path, string master, string slave, string? failureLedgerPath = null,
        string? checkpointPath = null, TimeProvider? clock = null, int? processId = null, DateTimeOffset? processStartTime = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        clock ??= TimeProvider.System;
        MasterStateRecord? previous = null;
        string? problem = null;
        try
        {
            previous = AtomicJsonFile.Read<MasterStateRecord>(path);
        }
        catch (GeoSyncException e)
        {
            problem = e.Message;
        }
        // A previous record of another pair (a hand-made file) is not carried over.
        if (previous is not null && (previous.Master != master || previous.Slave != slave)) previous = null;

        if (processId is null || processStartTime is null)
        {
            using var self = Process.GetCurrentProcess();
            processId ??= self.Id;
            processStartTime ??= new DateTimeOffset(self.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        var record = new MasterStateRecord
        {
            Master = master,
            Slave = slave,
            State = MasterLoopState.Starting,
            ProcessId = processId.Value,
            ProcessStartTime = processStartTime.Value.ToUnixTimeMilliseconds(),
            StartTime = clock.GetUtcNow(),
            Crawl = previous?.Crawl ?? CrawlKind.FirstSync,
            FilesSynced = previous?.FilesSynced ?? 0,
            BytesSynced = previous?.BytesSynced ?? 0,
            EntriesCreated = previous?.EntriesCreated ?? 0,
            EntriesPurged = previous?.EntriesPurged ?? 0,
            Failures = previous?.Failures ?? 0,
            LastSynced = previous?.LastSynced,
            Checkpoint = previous?.Checkpoint,
            CheckpointCompletedAt = previous?.CheckpointCompletedAt,
            LastTurn = previous?.LastTurn,
        };
        var file = new MasterStateFile(path, record, failureLedgerPath, checkpointPath, clock) { PreviousRecordProblem = problem };
        if (file.PendingFailures() is { } pending) file._record = file._settled = record with { Failures = pending };
        return file;
    }

    /// <summary>The current time on the loop's clock (the master host's: the loop runs where the master is read).</summary>
    public DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>Writes the record as it is.</summary>
    public void Write()
    {
        lock (_gate) WriteLocked();
    }

    /// <summary>A session connected: Active, with the session and its slave process.</summary>
    public void Connected(string sessionName, int? slaveProcessId) => Change(r => r with
    {
        State = MasterLoopState.Active,
        SessionName = sessionName,
        SlaveProcessId = slaveProcessId,
        NextAttempt = null,
    }, write: true);

    /// <summary>
    /// A turn begins now (its start is what LastSynced becomes if it completes with nothing failed). While it runs, the
    /// counts of <paramref name="session"/>'s turn are written on top of the completed ones, at most once per
    /// <see cref="ProgressInterval"/>, so status moves during a long first sync.
    /// </summary>
    public void BeginTurn(GeoSyncSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        BeginTurn(() => session.CurrentTurn);
    }

    /// <summary><see cref="BeginTurn(GeoSyncSession)"/> with any source of the running turn's counts.</summary>
    public void BeginTurn(Func<TurnProgress?> progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        lock (_gate)
        {
            StopProgressLocked();
            _turnStartedAt = _clock.GetUtcNow();
            _progressSource = progress;
            _progressWritten = null;
            _progressTimer = _clock.CreateTimer(_ => PollProgress(), null, ProgressInterval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Shows a running turn's counts on top of the completed ones; written when they changed and
    /// <see cref="ProgressInterval"/> has passed since the last progress write. Returns whether it wrote.
    /// </summary>
    public bool ReportProgress(TurnProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        lock (_gate)
        {
            if (_turnStartedAt is null || progress == _progressWritten) return false;
            if (_progressWritten is not null && _clock.GetElapsedTime(_lastProgressWrite) < ProgressInterval) return false;
            _record = _record with
            {
                FilesSynced = _settled.FilesSynced + progress.FilesSynced,
                BytesSynced = _settled.BytesSynced + progress.BytesSynced,
                EntriesCreated = _settled.EntriesCreated + progress.EntriesCreated,
                EntriesPurged = _settled.EntriesPurged + progress.EntriesPurged,
            };
            _progressWritten = progress;
            _lastProgressWrite = _clock.GetTimestamp();
            WriteLocked();
            return true;
        }
    }

    /// <summary>
    /// The turn begun last completed with <paramref name="turn"/>: counters added, Failures from the ledger, the crawl
    /// incremental from now on, LastSynced moved to the turn's start when nothing failed or was held, and the checkpoint
    /// looked at. Written when something worth showing changed, else at most every <see cref="IdleWriteInterval"/>.
    /// Returns whether it wrote.
    /// </summary>
    public bool CompleteTurn(TurnResult turn)
    {
        ArgumentNullException.ThrowIfNull(turn);
        return CompleteTurn(new TurnCounts(turn.Turn, turn.DirectoriesScanned, turn.EntriesCreated, turn.EntriesPurged,
            turn.FilesSynced, turn.BytesSynced, turn.Failures.Count, turn.HeldPurges.Count, turn.ChangesSeen, turn.Duration));
    }

    /// <summary><see cref="CompleteTurn(TurnResult)"/> from the counts alone.</summary>
    public bool CompleteTurn(TurnCounts turn)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var pending = PendingFailures() ?? turn.Failures;
        var checkpoint = ReadCheckpoint();
        lock (_gate)
        {
            StopProgressLocked();
            var now = _clock.GetUtcNow();
            var startedAt = _turnStartedAt ?? now;
            _turnStartedAt = null;
            var firstSync = _settled.Crawl == CrawlKind.FirstSync;
            var busy = turn.ChangesSeen || turn.Failures > 0 || firstSync;
            var converged = turn.Failures == 0 && turn.HeldPurges == 0;
            var next = _record with
            {
                TurnsCompleted = _record.TurnsCompleted + 1,
                Crawl = CrawlKind.Incremental,
                FilesSynced = _settled.FilesSynced + turn.FilesSynced,
                BytesSynced = _settled.BytesSynced + turn.BytesSynced,
                EntriesCreated = _settled.EntriesCreated + turn.EntriesCreated,
                EntriesPurged = _settled.EntriesPurged + turn.EntriesPurged,
                Failures = pending,
                LastSynced = converged ? startedAt : _record.LastSynced,
                LastTurn = busy
                    ? new TurnSummary(turn.Turn, now, turn.DirectoriesScanned, turn.EntriesCreated, turn.EntriesPurged, turn.FilesSynced,
                        turn.BytesSynced, turn.Failures, Math.Round(turn.Duration.TotalSeconds, 3))
                    : _record.LastTurn,
            };
            next = FollowCheckpoint(next, checkpoint, now);
            var checkpointChanged = next.Checkpoint != _record.Checkpoint || next.CheckpointCompletedAt != _record.CheckpointCompletedAt;
            var failuresChanged = next.Failures != _settled.Failures;
            _record = _settled = next;
            if (busy || checkpointChanged || failuresChanged || _clock.GetElapsedTime(_lastWrite) >= IdleWriteInterval)
            {
                WriteLocked();
                return true;
            }
            return false;
        }
    }

    /// <summary>
    /// The session failed or could not open (the error as a message and its stable id): Faulty until the next attempt
    /// after <paramref name="retryIn"/>. A running turn's progress is dropped: what it sent shows in the next turn.
    /// </summary>
    public void Fault(string message, string errorId, TimeSpan retryIn) => Change(r => r with
    {
        State = MasterLoopState.Faulty,
        SessionName = null,
        SlaveProcessId = null,
        Reconnects = r.Reconnects + 1,
        NextAttempt = _clock.GetUtcNow() + retryIn,
        LastError = message,
        LastErrorId = errorId,
        LastErrorTime = _clock.GetUtcNow(),
    }, write: true);

    /// <summary>Records the error that is about to end the loop (written with the final state by <see cref="End"/>).</summary>
    public void RecordError(string message, string errorId) => Change(r => r with
    {
        LastError = message,
        LastErrorId = errorId,
        LastErrorTime = _clock.GetUtcNow(),
    }, write: false);

    /// <summary>The loop ends in <paramref name="state"/> (Stopped or Failed): no session, written.</summary>
    public void End(MasterLoopState state) => Change(r => r with
    {
        State = state,
        SessionName = null,
        SlaveProcessId = null,
        NextAttempt = null,
    }, write: true);

    /// <summary>Stops the progress timer; the record stays as last written.</summary>
    public void Dispose()
    {
        lock (_gate) StopProgressLocked();
    }

    /// <summary>
    /// The file name of an ad hoc pair's state record (<c>geosync master M S</c> without a replication name): the URLs
    /// with every character outside [A-Za-z0-9.-] replaced, plus a hash of the exact pair, since two URLs may differ only
    /// in replaced characters.
    /// </summary>
    public static string PairFileName(string master, string slave)
    {
        ArgumentException.ThrowIfNullOrEmpty(master);
        ArgumentException.ThrowIfNullOrEmpty(slave);
        var readable = SchemeAtStart().Replace($"{master}--{slave}", "");
        readable = SchemeAfterSeparator().Replace(readable, "--");
        readable = Unreadable().Replace(readable, "_");
        if (readable.Length > 120) readable = readable[..120];
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{master}\n{slave}"));
        return $"{readable}.{Convert.ToHexString(hash, 0, 4).ToLowerInvariant()}.json";
    }

    /// <summary>The pending entries of the failure ledger; null without a ledger file to read.</summary>
    private int? PendingFailures()
    {
        if (FailureLedgerPath is null) return null;
        try
        {
            return FailureLedger.ReadFile(FailureLedgerPath)?.Entries.Count ?? 0;
        }
        catch (GeoSyncException)
        {
            // The session refuses an unreadable ledger itself (FailureLedgerUnreadable); the record keeps its count.
            return null;
        }
    }

    private CheckpointRecord? ReadCheckpoint()
    {
        if (CheckpointPath is null) return null;
        try
        {
            return AtomicJsonFile.Read<CheckpointRecord>(CheckpointPath);
        }
        catch (GeoSyncException)
        {
            // Set-GeoSyncCheckpoint writes the file atomically; one edited by hand into nonsense is ignored, not fatal.
            return null;
        }
    }

    /// <summary>
    /// The record's checkpoint after a turn: a new or cleared checkpoint resets the completion; a checkpoint that
    /// LastSynced reached completes now (the end of the first turn that saw it reached).
    /// </summary>
    internal static MasterStateRecord FollowCheckpoint(MasterStateRecord record, CheckpointRecord? checkpoint, DateTimeOffset now)
    {
        if (checkpoint is null) return record with { Checkpoint = null, CheckpointCompletedAt = null };
        if (record.Checkpoint != checkpoint.At) record = record with { Checkpoint = checkpoint.At, CheckpointCompletedAt = null };
        if (record.CheckpointCompletedAt is null && checkpoint.IsReachedBy(record.LastSynced))
        {
            record = record with { CheckpointCompletedAt = now };
        }
        return record;
    }

    private void Change(Func<MasterStateRecord, MasterStateRecord> change, bool write)
    {
        lock (_gate)
        {
            if (_turnStartedAt is not null && change(_record).State != MasterLoopState.Active)
            {
                // The turn ended without completing: its counts were never settled.
                StopProgressLocked();
                _turnStartedAt = null;
                _record = _record with
                {
                    FilesSynced = _settled.FilesSynced,
                    BytesSynced = _settled.BytesSynced,
                    EntriesCreated = _settled.EntriesCreated,
                    EntriesPurged = _settled.EntriesPurged,
                };
            }
            _record = change(_record);
            if (write) WriteLocked();
        }
    }

    private void PollProgress()
    {
        Func<TurnProgress?>? source;
        lock (_gate)
        {
            source = _progressSource;
            if (source is null) return;
        }
        if (source() is { } progress) ReportProgress(progress);
        lock (_gate)
        {
            // Re-armed only while the same turn runs; CompleteTurn and failures clear the source.
            if (_progressSource == source) _progressTimer?.Change(ProgressInterval, Timeout.InfiniteTimeSpan);
        }
    }

    private void StopProgressLocked()
    {
        _progressTimer?.Dispose();
        _progressTimer = null;
        _progressSource = null;
    }

    private void WriteLocked()
    {
        _record = _record with { Updated = _clock.GetUtcNow() };
        AtomicJsonFile.Write(FilePath, _record);
        _lastWrite = _clock.GetTimestamp();
    }

    [GeneratedRegex("^[a-z]+:/+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SchemeAtStart();

    [GeneratedRegex("--[a-z]+:/+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SchemeAfterSeparator();

    [GeneratedRegex("[^A-Za-z0-9.-]+", RegexOptions.CultureInvariant)]
    private static partial Regex Unreadable();
}

/// <summary>The counts of a completed turn that the state record needs (from a <see cref="TurnResult"/>, or made up in tests).</summary>
public sealed record TurnCounts(
    long Turn,
    long DirectoriesScanned,
    long EntriesCreated,
    long EntriesPurged,
    long FilesSynced,
    long BytesSynced,
    int Failures,
    int HeldPurges,
    bool ChangesSeen,
    TimeSpan Duration);
