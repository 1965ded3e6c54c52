using GeoSync.Engine.Master;
using GeoSync.Engine.Session;

namespace GeoSync.PowerShell;

/// <summary>What one Invoke-GeoSyncCrawl turn of a session did.</summary>
public sealed class GeoSyncTurnResult
{
    internal GeoSyncTurnResult(GeoSyncSession session, TurnResult result)
    {
        SessionId = session.Id;
        SessionName = session.Name;
        Turn = result.Turn;
        DirectoriesScanned = result.DirectoriesScanned;
        EntriesCreated = result.EntriesCreated;
        EntriesPurged = result.EntriesPurged;
        FilesSynced = result.FilesSynced;
        BytesSynced = result.BytesSynced;
        SpecialFiles = result.SpecialFiles;
        ChangesSeen = result.ChangesSeen;
        Failures = [.. result.Failures];
        HeldPurges = [.. result.HeldPurges];
        Duration = result.Duration;
    }

    /// <summary>The session's id; pipes into Get-/Stop-GeoSyncSession -Id.</summary>
    public int SessionId { get; }

    public string SessionName { get; }

    /// <summary>1 for the session's first turn, and so on.</summary>
    public long Turn { get; }

    /// <summary>Directories whose entries were listed.</summary>
    public long DirectoriesScanned { get; }

    /// <summary>Directories and symlinks made on the slave.</summary>
    public long EntriesCreated { get; }

    /// <summary>Slave entries removed: gone from the master, or in the way of an entry of another type.</summary>
    public long EntriesPurged { get; }

    /// <summary>Regular files whose data reached the slave.</summary>
    public long FilesSynced { get; }

    /// <summary>The sizes of those files (rsync sends less: only what differs).</summary>
    public long BytesSynced { get; }

    /// <summary>Fifos, sockets and device nodes that reached the slave (one that could not be made is in Failures).</summary>
    public long SpecialFiles { get; }

    /// <summary>The slave was found behind the master.</summary>
    public bool ChangesSeen { get; }

    /// <summary>Paths that did not reach the slave; they are retried next turn.</summary>
    public CrawlFailure[] Failures { get; }

    /// <summary>Purges the mass-deletion guard held back (see Start-GeoSyncSession -MaxDeleteShare); each is also a failure.</summary>
    public HeldPurge[] HeldPurges { get; }

    /// <summary>True when nothing failed: the slave has what this turn saw on the master.</summary>
    public bool Converged => Failures.Length == 0;

    public TimeSpan Duration { get; }
}
