using System.Text.Json.Serialization;

namespace GeoSync.Engine.Operations;

/// <summary>
/// Serialization code generated at build time (and so precompiled with the engine) for the records a master loop reads
/// and writes before its first turn: the state record and the checkpoint. Read by reflection, the state record alone
/// cost a tenth of a second of CPU at every start (docs/performance.md, "Start-up, part 2"). The options still come
/// from <see cref="AtomicJsonFile.Options"/> (indented, enums as names); other records are read by reflection as before.
/// </summary>
[JsonSerializable(typeof(MasterStateRecord))]
[JsonSerializable(typeof(CheckpointRecord))]
internal sealed partial class RecordJsonContext : JsonSerializerContext
{
}
