namespace GeoSync.Engine.Operations;

/// <summary>
/// The worker's sign of life: a file whose modification time the worker moves on at every turn end and keep-alive
/// answer. The supervisor reads its age to tell a hung worker from a busy one (docs/operations.md).
/// </summary>
public static class Heartbeat
{
    /// <summary>Sets the file's modification time to now, creating it (and its folder) when missing.</summary>
    public static void Touch(string path)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            using (File.Open(path, FileMode.OpenOrCreate, FileAccess.Write)) { }
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
    }

    /// <summary>When the file was last touched; null when it does not exist.</summary>
    public static DateTimeOffset? LastBeat(string path) =>
        File.Exists(path) ? new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero) : null;
}
