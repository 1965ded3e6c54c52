namespace GeoSync.Engine.Rpc;

/// <summary>Constants of the RePCe protocol itself (docs/protocol.md, "Dispatch, handshake and timeouts").</summary>
public static class RepceProtocol
{
    /// <summary>The protocol version both 3.3 and 10.x answer to <see cref="VersionMethod"/>.</summary>
    public const double Version = 1.0;

    /// <summary>The call the RPC layer answers itself, before any handler sees it.</summary>
    public const string VersionMethod = "__repce_version__";
}

/// <summary>
/// A call as it travels: <c>(rid, method, arg1, ..., argN)</c> (docs/protocol.md, "RePCe framing and messages"). <see cref="Dialect"/> records how the
/// method name arrived (byte string: Python 2 peer; text: Python 3 peer) so the answer can be written the same way.
/// </summary>
public sealed record RepceRequest(object? Rid, string Method, IReadOnlyList<object?> Args, PeerDialect Dialect)
{
    /// <summary>Checks that a decoded message is shaped as a request.</summary>
    /// <exception cref="GeoSyncProtocolException">It is not a tuple of rid, method name and arguments.</exception>
    public static RepceRequest FromMessage(object? message)
    {
        if (message is not PyTuple tuple || tuple.Count < 2)
        {
            throw PickleDecoder.Error($"a request must be a tuple (rid, method, args...), got {Describe(message)}");
        }
        var (method, dialect) = tuple[1] switch
        {
            string text => (text, PeerDialect.Python3),
            byte[] bytes => (PyText.DecodeSurrogateEscape(bytes), PeerDialect.Python2),
            var other => throw PickleDecoder.Error($"the method name of a request must be a string, got a {PickleDecoder.TypeName(other)}"),
        };
        return new RepceRequest(tuple[0], method, tuple.Skip(2).ToArray(), dialect);
    }

    /// <summary>The request as one pickle frame in its dialect.</summary>
    /// <exception cref="ArgumentException">An argument is of a type RePCe cannot carry.</exception>
    public byte[] Encode() => PickleWriter.Encode(new PyTuple([Rid, Method, .. Args]), Dialect);

    internal static string Describe(object? message) =>
        message is PyTuple tuple ? $"a tuple of {tuple.Count}" : $"a {PickleDecoder.TypeName(message)}";
}

/// <summary>An answer as it travels: <c>(rid, is_exception, payload)</c> (docs/protocol.md, "RePCe framing and messages").</summary>
public sealed record RepceResponse(object? Rid, bool IsException, object? Payload)
{
    /// <summary>Checks that a decoded message is shaped as a response.</summary>
    /// <exception cref="GeoSyncProtocolException">It is not a tuple of rid, flag and payload, or the flag is set
    /// without an exception as payload.</exception>
    public static RepceResponse FromMessage(object? message)
    {
        if (message is not PyTuple { Count: 3 } tuple)
        {
            throw PickleDecoder.Error($"a response must be a tuple (rid, is_exception, payload), got {RepceRequest.Describe(message)}");
        }
        if (tuple[1] is not bool isException)
        {
            throw PickleDecoder.Error($"the is_exception flag of a response must be a bool, got a {PickleDecoder.TypeName(tuple[1])}");
        }
        if (isException && tuple[2] is not PyException)
        {
            throw PickleDecoder.Error($"an exception response carries a {PickleDecoder.TypeName(tuple[2])} instead of an exception");
        }
        return new RepceResponse(tuple[0], isException, tuple[2]);
    }

    /// <summary>The response as one pickle frame for a peer of the given dialect.</summary>
    /// <exception cref="ArgumentException">The payload is of a type RePCe cannot carry.</exception>
    public byte[] Encode(PeerDialect dialect) => PickleWriter.Encode(new PyTuple(Rid, IsException, Payload), dialect);
}
