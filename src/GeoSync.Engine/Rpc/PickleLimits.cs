namespace GeoSync.Engine.Rpc;

/// <summary>The bounds a pickle reader enforces on every message from a peer (spec §3.8).</summary>
public sealed class PickleLimits
{
    /// <summary>16 MiB: far above any RePCe message, small enough that a hostile length cannot exhaust memory.</summary>
    public const int DefaultMaxFrameBytes = 16 * 1024 * 1024;

    /// <summary>Nesting depth of containers allowed in one message.</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>The limits used when none are given.</summary>
    public static PickleLimits Default { get; } = new();

    /// <summary>
    /// Most bytes one message may have; a length field above it is refused before anything is allocated. It also
    /// caps how many values a message may expand to through memo references (a legitimate value costs at least a byte).
    /// </summary>
    public int MaxFrameBytes { get; init; } = DefaultMaxFrameBytes;

    /// <summary>Deepest nesting of tuples, lists, dicts and sets allowed.</summary>
    public int MaxDepth { get; init; } = DefaultMaxDepth;
}
