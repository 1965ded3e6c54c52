namespace GeoSync.Engine.Rpc;

/// <summary>Which Python a RePCe peer runs, which decides how strings are pickled for it (docs/protocol.md, "Opcodes and safe decoding").</summary>
public enum PeerDialect
{
    /// <summary>Python 3 (10.x gsyncd): every string, byte names included, travels as BINUNICODE text.</summary>
    Python3 = 0,

    /// <summary>Python 2 (3.3 gsyncd): every string travels as a byte string; text is sent as UTF-8.</summary>
    Python2 = 1,
}
