using System.Collections.Concurrent;
using GeoSync.Engine.Session;

namespace GeoSync.PowerShell;

/// <summary>
/// The sessions Start-GeoSyncSession opened in this module instance, by id: Get-/Stop-GeoSyncSession and
/// Invoke-GeoSyncCrawl find them here, and module removal stops the rest.
/// </summary>
internal static class GeoSyncSessionRegistry
{
    private static readonly ConcurrentDictionary<int, GeoSyncSession> Sessions = new();

    public static void Add(GeoSyncSession session) => Sessions[session.Id] = session;

    public static GeoSyncSession? Find(int id) => Sessions.TryGetValue(id, out var session) ? session : null;

    /// <summary>The sessions in the order they were started.</summary>
    public static IReadOnlyList<GeoSyncSession> All => Sessions.Values.OrderBy(s => s.Id).ToList();

    /// <summary>Takes the session out of the registry; false when it is not (or no longer) registered.</summary>
    public static bool TryRemove(GeoSyncSession session) =>
        Sessions.TryRemove(new KeyValuePair<int, GeoSyncSession>(session.Id, session));

    public static void StopAll()
    {
        foreach (var session in All)
        {
            if (TryRemove(session))
            {
                session.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }
}
