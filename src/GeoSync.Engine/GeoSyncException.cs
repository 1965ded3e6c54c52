namespace GeoSync.Engine;

/// <summary>Root of every error the engine raises; messages say what failed, on what, and what to do.</summary>
public class GeoSyncException : Exception
{
    public GeoSyncException(string message) : base(message) { }
    public GeoSyncException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A URL that does not follow the gsyncd grammar, or a pair of URLs that cannot work together.</summary>
public class GeoSyncUrlException : GeoSyncException
{
    public GeoSyncUrlException(string url, string message) : base(message) => Url = url;
    public string Url { get; }
}

/// <summary>A RePCe peer sent something outside the protocol, or the connection broke.</summary>
public class GeoSyncProtocolException : GeoSyncException
{
    public GeoSyncProtocolException(string message) : base(message) { }
    public GeoSyncProtocolException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>An extended-attribute operation failed on a path.</summary>
public class GeoSyncXattrException : GeoSyncException
{
    public GeoSyncXattrException(string path, string name, int errno, string message)
        : base(message)
    {
        Path = path;
        AttributeName = name;
        Errno = errno;
    }

    public string Path { get; }
    public string AttributeName { get; }
    public int Errno { get; }
}

/// <summary>A path given to the slave would leave its root, or passes through a symlink.</summary>
public class GeoSyncPathGuardException : GeoSyncException
{
    public GeoSyncPathGuardException(string path, string reason)
        : base($"unsafe path '{path}': {reason}") => Path = path;

    public string Path { get; }
}

/// <summary>A child process (rsync, ssh, glusterfs) could not start or exited with a failure.</summary>
public class GeoSyncProcessException : GeoSyncException
{
    public GeoSyncProcessException(string message, IReadOnlyList<string> argv, int? exitCode, string stderrTail, Exception? innerException = null)
        : base(message, innerException)
    {
        Argv = argv;
        ExitCode = exitCode;
        StderrTail = stderrTail;
    }

    public IReadOnlyList<string> Argv { get; }
    public int? ExitCode { get; }
    public string StderrTail { get; }
}

/// <summary>rsync failed; carries its argv, exit code and the tail of its stderr.</summary>
public class GeoSyncRsyncException : GeoSyncProcessException
{
    public GeoSyncRsyncException(string message, IReadOnlyList<string> argv, int? exitCode, string stderrTail, Exception? innerException = null)
        : base(message, argv, exitCode, stderrTail, innerException) { }
}

/// <summary>ssh failed to connect or the connection dropped.</summary>
public class GeoSyncSshException : GeoSyncProcessException
{
    public GeoSyncSshException(string message, IReadOnlyList<string> argv, int? exitCode, string stderrTail)
        : base(message, argv, exitCode, stderrTail) { }
}

/// <summary>Mounting or unmounting a GlusterFS volume failed.</summary>
public class GeoSyncMountException : GeoSyncException
{
    public GeoSyncMountException(string volume, string message, Exception? innerException = null)
        : base(message, innerException) => Volume = volume;

    public string Volume { get; }
}
