using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace GeoSync.Engine.Operations;

/// <summary>
/// Reads and writes the small JSON records of a replication. A write goes to a temporary file in the same folder, is
/// flushed to disk and renamed over the record, so a reader sees the old or the new record, never a torn one, and a
/// crash never leaves a half-written file behind.
/// </summary>
public static class AtomicJsonFile
{
    /// <summary>
    /// Indented, camel-case free (names as declared), enums as names, UTC times in ISO 8601. The records of a loop's
    /// start have generated serialization code (<see cref="RecordJsonContext"/>); the others are read by reflection.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        TypeInfoResolver = JsonTypeInfoResolver.Combine(RecordJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };

    /// <summary>Replaces the record at <paramref name="path"/> (creating its folder), serialized with <see cref="Options"/>.</summary>
    public static void Write<T>(string path, T value) => Write(path, value, Options);

    /// <summary>Replaces the record at <paramref name="path"/> (creating its folder), serialized with <paramref name="options"/>.</summary>
    public static void Write<T>(string path, T value, JsonSerializerOptions options)
    {
        var temporary = WriteTemporary(path, value, options);
        try
        {
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Writes a record that must not exist yet: false, writing nothing, when the file is already there (also when another
    /// process created it a moment earlier: the rename refuses to replace it).
    /// </summary>
    public static bool TryWriteNew<T>(string path, T value)
    {
        var temporary = WriteTemporary(path, value, Options);
        try
        {
            File.Move(temporary, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The record serialized into a temporary file next to <paramref name="path"/>, flushed to disk; its name is returned.</summary>
    private static string WriteTemporary<T>(string path, T value, JsonSerializerOptions options)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = $"{path}.tmp.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}";
        try
        {
            using var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None);
            JsonSerializer.Serialize(stream, value, options);
            stream.WriteByte((byte)'\n');
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        return temporary;
    }

    /// <summary>The record, or default when the file does not exist. A file that is not valid JSON throws, naming it.</summary>
    public static T? Read<T>(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return default;
        }
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options);
        }
        catch (JsonException e)
        {
            throw new GeoSyncException($"'{path}' is not a readable GeoSync record ({e.Message}); move it aside and run the command again.", e);
        }
    }
}
