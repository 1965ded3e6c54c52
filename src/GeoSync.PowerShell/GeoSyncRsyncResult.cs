using GeoSync.Engine.Master;
using GeoSync.Engine.Transport;

namespace GeoSync.PowerShell;

/// <summary>What Invoke-GeoSyncRsync did with one file.</summary>
public sealed class GeoSyncRsyncResult
{
    internal GeoSyncRsyncResult(SyncOutcome outcome)
    {
        RelativePath = outcome.RelativePath;
        Status = outcome.Status;
        Reason = outcome.Reason;
        Attempts = outcome.Attempts;
    }

    /// <summary>The file, relative to the source directory.</summary>
    public string RelativePath { get; }

    /// <summary>True when rsync synced the file.</summary>
    public bool Succeeded => Status == RsyncFileStatus.Synced;

    /// <summary>Synced, Failed (rsync reported it; worth retrying) or Vanished (the source was gone).</summary>
    public RsyncFileStatus Status { get; }

    /// <summary>rsync's message when the file did not sync.</summary>
    public string? Reason { get; }

    /// <summary>How many rsync runs the file was part of.</summary>
    public int Attempts { get; }
}

/// <summary>The totals of one Invoke-GeoSyncRsync call, output with -Summary.</summary>
public sealed class GeoSyncRsyncSummary
{
    internal GeoSyncRsyncSummary(string source, string destination, int synced, int failed, int vanished, long bytes, int rsyncRuns,
        TimeSpan elapsed)
    {
        Source = source;
        Destination = destination;
        Synced = synced;
        Failed = failed;
        Vanished = vanished;
        Bytes = bytes;
        RsyncRuns = rsyncRuns;
        Elapsed = elapsed;
    }

    public string Source { get; }
    public string Destination { get; }

    /// <summary>Files with an outcome: synced, failed and vanished.</summary>
    public int Files => Synced + Failed + Vanished;

    public int Synced { get; }
    public int Failed { get; }
    public int Vanished { get; }

    /// <summary>The sizes of the synced files when they were queued.</summary>
    public long Bytes { get; }

    /// <summary>How many rsync processes ran.</summary>
    public int RsyncRuns { get; }

    public TimeSpan Elapsed { get; }
}
