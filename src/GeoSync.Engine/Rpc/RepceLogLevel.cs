namespace GeoSync.Engine.Rpc;

/// <summary>Severity of a message a RePCe client or server hands to its log callback.</summary>
public enum RepceLogLevel
{
    /// <summary>Each call and its outcome.</summary>
    Debug,

    /// <summary>Connection life cycle, such as the peer closing its end.</summary>
    Information,

    /// <summary>Degraded but continuing, such as an answer for a call nobody waits for any more.</summary>
    Warning,

    /// <summary>The connection ended abnormally (protocol error, broken pipe), or a handler failed unexpectedly.</summary>
    Error,
}
