namespace GeoSync.Engine.Rpc;

/// <summary>
/// What a RePCe server dispatches to: an explicit table of callable methods (never reflection on arbitrary names).
/// </summary>
public interface IRepceHandler
{
    /// <summary>True when <paramref name="method"/> is a public wire method of this handler.</summary>
    bool HasMethod(string method);

    /// <summary>Runs one call. Failures are raised as <see cref="RepceCallException"/> carrying the Python exception to send back.</summary>
    ValueTask<object?> InvokeAsync(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken = default);
}

/// <summary>A call failed in a way the peer must see as a Python exception (OSError with errno, ValueError, ...).</summary>
public class RepceCallException : GeoSyncException
{
    public RepceCallException(PyException exception)
        : base(exception.ToString()) => Exception = exception;

    public PyException Exception { get; }

    public static RepceCallException OsError(int errno, string strerror) =>
        new(new PyException("exceptions", "OSError", new PyTuple((long)errno, strerror)));

    public static RepceCallException ValueError(string message) =>
        new(new PyException("exceptions", "ValueError", new PyTuple(message)));

    public static RepceCallException AttributeError(string message) =>
        new(new PyException("exceptions", "AttributeError", new PyTuple(message)));

    public static RepceCallException TypeError(string message) =>
        new(new PyException("exceptions", "TypeError", new PyTuple(message)));
}

/// <summary>The peer answered a call with an exception.</summary>
public class RemoteException : GeoSyncException
{
    public RemoteException(string method, PyException exception)
        : base($"call ({method}) failed on peer with {exception.TypeName}: {string.Join(", ", exception.Args.Select(PyRepr.Format))}")
    {
        Method = method;
        Exception = exception;
    }

    public string Method { get; }
    public PyException Exception { get; }
}

/// <summary>The peer raised an OSError (or IOError/EnvironmentError); <see cref="Errno"/> is its errno.</summary>
public sealed class RemoteOsException : RemoteException
{
    public RemoteOsException(string method, PyException exception, int errno, string strerror)
        : base(method, exception)
    {
        Errno = errno;
        StrError = strerror;
    }

    public int Errno { get; }
    public string StrError { get; }
}

/// <summary>The peer raised ValueError (the path guard's <c>unsafe path</c>).</summary>
public sealed class RemoteValueException : RemoteException
{
    public RemoteValueException(string method, PyException exception) : base(method, exception) { }
}

/// <summary>The peer raised AttributeError (no such method).</summary>
public sealed class RemoteAttributeException : RemoteException
{
    public RemoteAttributeException(string method, PyException exception) : base(method, exception) { }
}
