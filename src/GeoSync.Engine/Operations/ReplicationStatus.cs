namespace GeoSync.Engine.Operations;

/// <summary>The state of a replication or ad hoc pair as Get-GeoSyncStatus shows it.</summary>
public enum ReplicationState
{
    /// <summary>Defined (config.json) but never started.</summary>
    Created,

    /// <summary>The supervisor or the loop runs, no session connected yet.</summary>
    Starting,

    /// <summary>A session runs turns.</summary>
    Active,

    /// <summary>Paused by the administrator; resumes where it left off.</summary>
    Paused,

    /// <summary>The last session failed; the loop reconnects.</summary>
    Faulty,

    /// <summary>Stopped normally.</summary>
    Stopped,

    /// <summary>Gave up: a failure no retry can fix, or too many in a row.</summary>
    Failed,

    /// <summary>Its record says it runs, but its process is gone (killed).</summary>
    Defunct,
}

/// <summary>
/// One replication (or ad hoc pair) as Get-GeoSyncStatus and <c>geosync status</c> show it: the stored definition, the
/// supervisor's record, the worker's state record and the checkpoint combined (docs/operations.md, "Status").
/// </summary>
public sealed record ReplicationStatus
{
    /// <summary>The replication's name; null for an ad hoc pair (<c>geosync master M S</c>).</summary>
    public string? Name { get; init; }
    public required string Master { get; init; }
    public required string Slave { get; init; }
    public required ReplicationState State { get; init; }

    /// <summary>First full sync or incremental; null before the loop ever ran.</summary>
    public CrawlKind? Crawl { get; init; }

    /// <summary>Every change made on the master before this time (the master's clock) is on the slave.</summary>
    public DateTimeOffset? LastSynced { get; init; }

    /// <summary>Now minus LastSynced, in whole seconds.</summary>
    public long? LagSeconds { get; init; }
    public long FilesSynced { get; init; }
    public long BytesSynced { get; init; }
    public long EntriesCreated { get; init; }
    public long EntriesPurged { get; init; }

    /// <summary>Paths that failed and have not arrived since (Get-GeoSyncFailure lists them).</summary>
    public int Failures { get; init; }

    /// <summary>Worker restarts by the supervisor over the replication's life.</summary>
    public int Restarts { get; init; }
    public DateTimeOffset? Checkpoint { get; init; }
    public bool CheckpointCompleted { get; init; }
    public DateTimeOffset? CheckpointCompletedAt { get; init; }

    /// <summary>The last error, as a message.</summary>
    public string? LastError { get; init; }

    /// <summary>What to do about the last error or the state (<see cref="ErrorHints"/>).</summary>
    public string? Hint { get; init; }
    public int? SupervisorPid { get; init; }
    public int? WorkerPid { get; init; }

    /// <summary>The stable id of the last error.</summary>
    public string? LastErrorId { get; init; }
    public DateTimeOffset? LastErrorTime { get; init; }

    /// <summary>When a Faulty loop reconnects.</summary>
    public DateTimeOffset? NextAttempt { get; init; }
    public string? SessionName { get; init; }
    public int? SlaveProcessId { get; init; }

    /// <summary>Turns and failed sessions of the loop's current (or last) run.</summary>
    public long TurnsCompleted { get; init; }
    public int Reconnects { get; init; }
    public TurnSummary? LastTurn { get; init; }

    /// <summary>When the loop's current (or last) run started, and when its record was written.</summary>
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? Updated { get; init; }

    /// <summary>The worker's state record file.</summary>
    public required string Path { get; init; }
}

/// <summary>The JSON form of statuses (<c>geosync status --json</c>): the property names as keys, enums as names, times in UTC ISO 8601.</summary>
public static class ReplicationStatusJson
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(), new UtcTimeConverter() },
    };

    /// <summary>A JSON array of <paramref name="statuses"/>.</summary>
    public static string Serialize(IEnumerable<ReplicationStatus> statuses) =>
        System.Text.Json.JsonSerializer.Serialize(statuses.ToList(), Options);

    private sealed class UtcTimeConverter : System.Text.Json.Serialization.JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
            DateTimeOffset.Parse(reader.GetString()!, System.Globalization.CultureInfo.InvariantCulture);

        public override void Write(System.Text.Json.Utf8JsonWriter writer, DateTimeOffset value, System.Text.Json.JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
    }
}
