namespace GeoSync.Engine.Master;

/// <summary>
/// The names GlusterFS keeps for itself at a volume's root, as a client mount shows them. They belong to each volume, not
/// to the data: copied, they would plant one volume's internals in another; purged, they break the slave volume (AFR's
/// anonymous-inode directory is where entry self-heal parks inodes — without it heal fails with ESTALE for good).
/// </summary>
public static class GlusterInternalNames
{
    /// <summary>The fixed names: the brick's gfid store, the trash translator's directory, the shard translator's store.</summary>
    public static IReadOnlyList<string> Names { get; } = [".glusterfs", ".trashcan", ".shard"];

    /// <summary>AFR (GlusterFS 9 and later) adds <c>.glusterfs-anonymous-inode-&lt;volume uuid&gt;</c>.</summary>
    public const string AnonymousInodePrefix = ".glusterfs-anonymous-inode-";

    /// <summary>Whether <paramref name="name"/>, an entry of the volume root, is one of GlusterFS's own.</summary>
    public static bool IsInternal(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.StartsWith(AnonymousInodePrefix, StringComparison.Ordinal) || Names.Contains(name, StringComparer.Ordinal);
    }
}
