using GeoSync.Engine.Verify;

namespace GeoSync.PowerShell;

/// <summary>One way a slave entry differs from its master entry, as Test-GeoSyncReplica found it.</summary>
public sealed class GeoSyncReplicaDifference
{
    internal GeoSyncReplicaDifference(ReplicaDifference difference, bool afterRepair)
    {
        Path = difference.Path;
        Kind = difference.Kind;
        MasterValue = difference.MasterValue;
        SlaveValue = difference.SlaveValue;
        AfterRepair = afterRepair;
    }

    /// <summary>The entry's path relative to the replica's root.</summary>
    public string Path { get; }

    /// <summary>Missing, Extra, Type, Size, Mode, Owner, Mtime, Link, Content or Xattr.</summary>
    public DifferenceKind Kind { get; }

    /// <summary>What the master has (null for an Extra entry).</summary>
    public string? MasterValue { get; }

    /// <summary>What the slave has (null for a Missing entry).</summary>
    public string? SlaveValue { get; }

    /// <summary>Found by the verify that follows -Repair: the repair did not fix it.</summary>
    public bool AfterRepair { get; }

    public override string ToString() => $"{Kind} {Path}";
}

/// <summary>What one pass of Test-GeoSyncReplica compared and found.</summary>
public sealed class GeoSyncReplicaSummary
{
    internal GeoSyncReplicaSummary(string master, string slave, bool checksum, bool afterRepair, ReplicaVerifyResult result)
    {
        Master = master;
        Slave = slave;
        Checksum = checksum;
        AfterRepair = afterRepair;
        EntriesCompared = result.EntriesCompared;
        DirectoriesCompared = result.DirectoriesCompared;
        Differences = result.Differences;
        Unreadable = result.Unreadable;
        FilesHashed = result.FilesHashed;
        BytesHashed = result.BytesHashed;
        Duration = result.Duration;
    }

    public string Master { get; }

    public string Slave { get; }

    /// <summary>File contents were compared (-Checksum).</summary>
    public bool Checksum { get; }

    /// <summary>This pass ran after -Repair changed the slave.</summary>
    public bool AfterRepair { get; }

    /// <summary>Entries seen on either side (an entry both have counts once).</summary>
    public long EntriesCompared { get; }

    public long DirectoriesCompared { get; }

    /// <summary>Differences found (each one was written to the pipeline).</summary>
    public long Differences { get; }

    /// <summary>Paths that could not be read on one side, so were not compared (each one was written as an error).</summary>
    public long Unreadable { get; }

    public long FilesHashed { get; }

    /// <summary>Bytes of content compared: each file's size once, though both sides read it.</summary>
    public long BytesHashed { get; }

    public TimeSpan Duration { get; }

    /// <summary>Every entry was compared and none differs.</summary>
    public bool Matches => Differences == 0 && Unreadable == 0;
}
