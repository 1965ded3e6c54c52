namespace GeoSync.Engine.Rpc;

/// <summary>The bounds a pickle reader enforces on every message from a peer (docs/protocol.md, "Opcodes and safe decoding").</summary>
public sealed class PickleLimits
{
    /// <summary>16 MiB: far above any RePCe message, small enough that a hostile length cannot exhaust memory.</summary>
    public const int DefaultMaxFrameBytes = 16 * 1024 * 1024;

    /// <summary>Nesting depth of containers allowed in one message.</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>The limits used when none are given.</summary>
    public static PickleLimits Default { get; } = new();

    /// <summary>
    /// Most bytes one message may have; a length field above it is refused before anything is allocated. A quarter
    /// of it is also the most values a message may hold, memo references counted in full (see <see cref="MaxValues"/>).
    /// </summary>
    public int MaxFrameBytes { get; init; } = DefaultMaxFrameBytes;

    /// <summary>
    /// Most values one message may create or expand to through memo references: a quarter of
    /// <see cref="MaxFrameBytes"/>, since RePCe values (names, xtimes, rids) take well over four bytes each on the wire.
    /// Keeps a frame of one-byte opcodes or a memo "billion laughs" from costing many times the frame in memory or time.
    /// </summary>
    public int MaxValues => MaxFrameBytes / 4;

    /// <summary>Deepest nesting of tuples, lists, dicts and sets allowed.</summary>
    public int MaxDepth { get; init; } = DefaultMaxDepth;
}
