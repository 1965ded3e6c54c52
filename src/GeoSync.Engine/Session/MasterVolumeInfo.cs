using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Session;

/// <summary>
/// Which volume mark a GlusterFS master works under (docs/master-loop.md, "The crawl"): the one live foreign mark when another master feeds this
/// volume (a cascade; its uuid keys the xtimes), else the volume's own native mark.
/// </summary>
public static class MasterVolumeInfo
{
    /// <summary>
    /// Chooses the volume info from the master root's native mark and its foreign marks. Expired foreign marks are
    /// ignored. Throws <see cref="GeoSyncSessionException"/> for a corrupt mark, for several live foreign marks, and when
    /// there is no mark at all.
    /// </summary>
    /// <param name="volume">The master volume, for messages.</param>
    /// <param name="native">The native mark, null when absent.</param>
    /// <param name="foreign">The foreign marks found on the root.</param>
    /// <param name="nowUnixSeconds">The current time, to expire foreign marks.</param>
    public static VolumeMark Select(string volume, VolumeMark? native, IEnumerable<VolumeMark> foreign, long nowUnixSeconds)
    {
        ArgumentNullException.ThrowIfNull(foreign);
        var live = foreign.Where(m => m.Expiry is uint expiry && expiry > nowUnixSeconds).ToList();
        if (live.Select(m => m.VolumeId).Distinct().Count() > 1)
        {
            throw new GeoSyncSessionException(SessionFailure.MultipleForeignMasters,
                $"cannot work with multiple foreign masters: volume {volume} is fed by " +
                $"{string.Join(", ", live.Select(m => XattrNames.FormatUuid(m.VolumeId)).Distinct())}. Stop all but one of the " +
                "sessions that replicate into it, and wait for the others' marks to expire.");
        }

        var chosen = live.Count > 0 ? live[0] : native;
        if (chosen is null)
        {
            throw new GeoSyncSessionException(SessionFailure.VolumeMarkNotFound,
                $"waiting for volume info ...: the master volume {volume} has no volume mark, so geo-replication indexing " +
                $"is off. Turn it on with 'gluster volume set {volume} geo-replication.indexing on' and start the session again.");
        }

        if (chosen.IsCorrupt)
        {
            throw new GeoSyncSessionException(SessionFailure.MasterCorrupt,
                $"master is corrupt: the {(chosen.IsForeign ? "foreign" : "native")} volume mark of {volume} " +
                $"(uuid {XattrNames.FormatUuid(chosen.VolumeId)}) has retval {chosen.Retval}, so the marker's timestamp file is " +
                "unusable and xtimes cannot be trusted. Reset indexing on the master volume (turn geo-replication.indexing " +
                "off and on, which re-marks the volume and resends everything).");
        }

        return chosen;
    }
}
