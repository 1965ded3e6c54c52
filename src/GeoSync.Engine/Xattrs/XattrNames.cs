using Mono.Unix.Native;

namespace GeoSync.Engine.Xattrs;

/// <summary>The GlusterFS geo-replication attribute names (docs/protocol.md, "Extended attributes: names and layouts"): xtimes and volume marks.</summary>
public static class XattrNames
{
    public const string TrustedNamespace = "trusted.glusterfs";
    public const string SystemNamespace = "system.glusterfs";

    private const string VolumeMarkSuffix = "volume-mark";
    private const string XtimeSuffix = "xtime";

    private static readonly Lazy<string> DefaultNamespaceValue =
        new(() => Syscall.geteuid() == 0 ? TrustedNamespace : SystemNamespace);

    /// <summary><see cref="TrustedNamespace"/> for root, else <see cref="SystemNamespace"/> (which a gsyncd FUSE mount maps onto trusted.*).</summary>
    public static string DefaultNamespace => DefaultNamespaceValue.Value;

    public static string Xtime(Guid volumeId, string? ns = null) => XtimeFor(FormatUuid(volumeId), ns);

    public static string VolumeMark(string? ns = null) => $"{ns ?? DefaultNamespace}.{VolumeMarkSuffix}";

    public static string ForeignVolumeMark(Guid volumeId, string? ns = null) =>
        $"{ForeignVolumeMarkPrefix(ns)}{FormatUuid(volumeId)}";

    /// <summary>The lower-case 8-4-4-4-12 form every name and wire dict uses.</summary>
    public static string FormatUuid(Guid volumeId) => volumeId.ToString("D");

    /// <summary>Every foreign mark's name starts with this; a listing is filtered by it.</summary>
    internal static string ForeignVolumeMarkPrefix(string? ns = null) => $"{VolumeMark(ns)}.";

    /// <summary>
    /// The xtime name for a uuid exactly as a peer spelled it: the slave must read back what the master wrote, and the
    /// original accepted any token (its observed answers use 'abcd').
    /// </summary>
    internal static string XtimeFor(string uuidToken, string? ns = null) => $"{ns ?? DefaultNamespace}.{uuidToken}.{XtimeSuffix}";
}
