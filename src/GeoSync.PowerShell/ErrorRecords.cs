using System.ComponentModel;
using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Master;
using GeoSync.Engine.Session;
using GeoSync.Engine.Transport.Mounting;

namespace GeoSync.PowerShell;

/// <summary>
/// The one place that turns failures into ErrorRecords: stable ids, categories and targets, so scripts can match on
/// FullyQualifiedErrorId and engine exception types never reach the user raw.
/// </summary>
internal static class ErrorRecords
{
    private const int EPERM = 1;
    private const int ENOENT = 2;
    private const int EACCES = 13;
    private const int ENOTDIR = 20;
    private const int ENOSPC = 28;
    private const int EROFS = 30;
    private const int ENODATA = 61;
    private const int EOPNOTSUPP = 95;
    private const int EDQUOT = 122;

    /// <summary>
    /// Maps an engine failure on <paramref name="target"/> to its stable id and category; a failure without an id of its
    /// own gets <paramref name="fallbackId"/> (what the cmdlet was doing: SessionOpenFailed, CrawlFailed, ...).
    /// </summary>
    public static ErrorRecord FromException(GeoSyncException exception, object target, string fallbackId = "GeoSyncOperationFailed")
    {
        var (id, category, action) = exception switch
        {
            GeoSyncXattrException x => FromErrno(x.Errno),
            GlusterMountException m => FromMountFailure(m.Reason),
            GeoSyncUrlException => ("InvalidGeoSyncUrl", ErrorCategory.InvalidArgument, null),
            GeoSyncSessionException s => FromSessionFailure(s.Reason, fallbackId),
            GeoSyncTimestampCorruptionException => ("TimestampCorruption", ErrorCategory.InvalidData, null),
            GeoSyncMasterUnavailableException => ("MasterUnavailable", ErrorCategory.ResourceUnavailable, null),
            GeoSyncSlaveUnavailableException => ("SlaveUnavailable", ErrorCategory.ResourceUnavailable, null),
            GeoSyncRsyncException { ExitCode: null, InnerException: Win32Exception { NativeErrorCode: ENOENT } } =>
                ("RsyncNotInstalled", ErrorCategory.NotInstalled, "Install rsync (apt-get install rsync), or give the full path of the rsync program."),
            GeoSyncRsyncException => ("RsyncFailed", ErrorCategory.InvalidResult, null),
            GeoSyncSshException or GeoSyncProtocolException => (fallbackId, ErrorCategory.ConnectionError, null),
            _ => (fallbackId, ErrorCategory.NotSpecified, null),
        };
        var record = new ErrorRecord(exception, id, category, target);
        if (action is not null)
        {
            record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = action };
        }
        return record;
    }

    public static ErrorRecord XtimeNotFound(string path, Guid volumeId, string attributeName) =>
        new(new ItemNotFoundException(
                $"'{path}' has no xtime for volume {volumeId} (attribute {attributeName} is absent). The marker has not " +
                "stamped it since indexing was enabled, or the path belongs to another volume; Set-GlusterXtime writes one."),
            "XtimeNotFound", ErrorCategory.ObjectNotFound, path);

    public static ErrorRecord VolumeMarkNotFound(string path, string attributeName) =>
        new(new ItemNotFoundException(
                $"'{path}' has no volume mark (attribute {attributeName} is absent). The marker answers it only on a volume " +
                "root mounted with client-pid -1 (as gsyncd mounts it) while geo-replication indexing is on."),
            "VolumeMarkNotFound", ErrorCategory.ObjectNotFound, path);

    public static ErrorRecord PathNotFound(SessionStateException exception, string path) =>
        new(exception, "PathNotFound", ErrorCategory.ObjectNotFound, path);

    public static ErrorRecord NotFileSystemPath(string path, ProviderInfo provider) =>
        new(new ArgumentException(
                $"'{path}' is a {provider.Name} provider path; extended attributes exist only on FileSystem paths."),
            "NotFileSystemPath", ErrorCategory.InvalidArgument, path);

    public static ErrorRecord UrlHostNotResolved(GeoSyncUrlException exception, string url) =>
        new(exception, "UrlHostNotResolved", ErrorCategory.ObjectNotFound, url)
        {
            ErrorDetails = new ErrorDetails(exception.Message)
            {
                RecommendedAction = "Check the host name (DNS or /etc/hosts). The URL's other forms were still emitted, with Canonical empty.",
            },
        };

    private static (string Id, ErrorCategory Category, string? Action) FromSessionFailure(SessionFailure reason, string fallbackId) => reason switch
    {
        SessionFailure.MasterCorrupt => ("MasterCorrupt", ErrorCategory.InvalidData, null),
        SessionFailure.VolumeMarkNotFound => ("VolumeMarkNotFound", ErrorCategory.ObjectNotFound, null),
        SessionFailure.MultipleForeignMasters => ("MultipleForeignMasters", ErrorCategory.InvalidOperation, null),
        SessionFailure.Faulty => ("SessionFaulty", ErrorCategory.InvalidOperation,
            "Stop the session (Stop-GeoSyncSession) and start a new one; it resumes where this one left off."),
        SessionFailure.Stopped => ("SessionStopped", ErrorCategory.InvalidOperation, "Start a new session with Start-GeoSyncSession."),
        SessionFailure.Busy => ("SessionBusy", ErrorCategory.ResourceBusy, null),
        SessionFailure.FailureLedgerUnreadable => ("FailureLedgerUnreadable", ErrorCategory.ReadError, null),
        SessionFailure.ReplicaOverlap => ("ReplicaOverlap", ErrorCategory.InvalidArgument, null),
        SessionFailure.SlaveNotEmpty => ("SlaveNotEmpty", ErrorCategory.ResourceExists, null),
        _ => (fallbackId, ErrorCategory.ConnectionError, null),
    };

    public static ErrorRecord SessionNotFound(string what, object target) =>
        new(new ItemNotFoundException($"no GeoSync session has {what} in this PowerShell session; Get-GeoSyncSession lists them."),
            "SessionNotFound", ErrorCategory.ObjectNotFound, target);

    public static ErrorRecord PathOutsideSource(string path, string source) =>
        new(new ArgumentException($"'{path}' is outside the source directory '{source}'; give paths inside it, relative or absolute."),
            "PathOutsideSource", ErrorCategory.InvalidArgument, path);

    public static ErrorRecord RsyncFileFailed(string relativePath, int attempts, string? reason) =>
        new(new GeoSyncException($"rsync did not sync '{relativePath}' in {attempts} attempt(s): {reason}"),
            "RsyncFileFailed", ErrorCategory.WriteError, relativePath);

    public static ErrorRecord RsyncSourceVanished(string relativePath, string? reason) =>
        new(new ItemNotFoundException($"'{relativePath}' vanished from the source before rsync could copy it: {reason}"),
            "RsyncSourceVanished", ErrorCategory.ObjectNotFound, relativePath);

    public static ErrorRecord DirectoryNotFound(string id, string path, string message) =>
        new(new ItemNotFoundException(message), id, ErrorCategory.ObjectNotFound, path);

    // The engine's messages already say what to do, so no recommended action is repeated here.
    private static (string Id, ErrorCategory Category, string? Action) FromMountFailure(GlusterMountFailure reason) => reason switch
    {
        GlusterMountFailure.VolumeNotFound => ("GlusterVolumeNotFound", ErrorCategory.ObjectNotFound, null),
        GlusterMountFailure.VolumeNotStarted => ("GlusterVolumeNotStarted", ErrorCategory.ResourceUnavailable, null),
        GlusterMountFailure.ServerUnreachable => ("GlusterServerUnreachable", ErrorCategory.ConnectionError, null),
        GlusterMountFailure.ClientNotInstalled => ("GlusterClientNotInstalled", ErrorCategory.NotInstalled, null),
        GlusterMountFailure.MountPointBusy => ("MountPointBusy", ErrorCategory.ResourceBusy, null),
        GlusterMountFailure.NetworkNamespaceNotFound => ("NetworkNamespaceNotFound", ErrorCategory.ObjectNotFound, null),
        GlusterMountFailure.MountBrokerRefused => ("MountBrokerRefused", ErrorCategory.PermissionDenied, null),
        GlusterMountFailure.Timeout => ("GlusterMountTimeout", ErrorCategory.OperationTimeout, null),
        GlusterMountFailure.UnmountFailed => ("GlusterUnmountFailed", ErrorCategory.ResourceUnavailable, null),
        _ => ("GlusterMountFailed", ErrorCategory.NotSpecified, null),
    };

    // Errno 0 is the engine's mark for a value it read but cannot decode (no system call failed).
    private static (string Id, ErrorCategory Category, string? Action) FromErrno(int errno) => errno switch
    {
        0 => ("InvalidXattrValue", ErrorCategory.InvalidData,
            "Rewrite the value (Set-GlusterXtime) or remove the attribute if GlusterFS or gsyncd did not write it."),
        ENOENT or ENOTDIR => ("PathNotFound", ErrorCategory.ObjectNotFound, null),
        EPERM or EACCES => ("XattrPermissionDenied", ErrorCategory.PermissionDenied,
            "Run as root for trusted.*, or use -Namespace System on a mount made by gsyncd. An immutable (chattr +i) " +
            "file refuses every change."),
        EOPNOTSUPP => ("XattrNotSupported", ErrorCategory.InvalidOperation,
            "-Namespace System works only on a GlusterFS mount made by gsyncd; -Namespace Trusted needs a file system " +
            "with extended attributes (ext4, xfs, a brick)."),
        EROFS => ("ReadOnlyFileSystem", ErrorCategory.InvalidOperation, null),
        ENOSPC or EDQUOT => ("XattrNoSpace", ErrorCategory.ResourceUnavailable, null),
        ENODATA => ("XattrNotFound", ErrorCategory.ObjectNotFound, null),
        _ => ("XattrOperationFailed", ErrorCategory.NotSpecified, null),
    };
}
