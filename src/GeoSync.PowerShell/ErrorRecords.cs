using System.Management.Automation;
using GeoSync.Engine;

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

    /// <summary>True for the failures a cmdlet reports per item: engine errors and a stored value the engine cannot decode.</summary>
    public static bool IsItemFailure(Exception exception) =>
        exception is GeoSyncException or ArgumentException or FormatException or IOException or UnauthorizedAccessException;

    /// <summary>Maps an engine (or I/O) failure on <paramref name="target"/> to its stable id and category.</summary>
    public static ErrorRecord FromException(Exception exception, object target)
    {
        var (id, category, action) = exception switch
        {
            GeoSyncXattrException x => FromErrno(x.Errno),
            GeoSyncUrlException => ("InvalidGeoSyncUrl", ErrorCategory.InvalidArgument,
                "Write the URL as <scheme>://<body> or in a sugared form such as /dir, :volume, host::volume or user@host:/dir."),
            GeoSyncException => ("GeoSyncOperationFailed", ErrorCategory.NotSpecified, null),
            ArgumentException or FormatException => ("InvalidXattrValue", ErrorCategory.InvalidData,
                "The stored value is not in gsyncd's format; rewrite it (Set-GlusterXtime) or remove the attribute."),
            UnauthorizedAccessException => ("XattrPermissionDenied", ErrorCategory.PermissionDenied, null),
            _ => ("XattrOperationFailed", ErrorCategory.NotSpecified, null),
        };
        var record = new ErrorRecord(exception, id, category, target);
        if (exception is ArgumentException or FormatException)
        {
            record.ErrorDetails = new ErrorDetails($"The extended attribute on '{target}' cannot be decoded: {exception.Message}");
        }
        if (action is not null)
        {
            record.ErrorDetails ??= new ErrorDetails(exception.Message);
            record.ErrorDetails.RecommendedAction = action;
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

    public static ErrorRecord UrlHostNotResolved(Exception exception, string url)
    {
        var record = new ErrorRecord(exception, "UrlHostNotResolved", ErrorCategory.ObjectNotFound, url);
        record.ErrorDetails = new ErrorDetails($"Cannot make the canonical form of '{url}': {exception.Message}")
        {
            RecommendedAction = "Check the host name (DNS or /etc/hosts); the other forms of the URL were still emitted.",
        };
        return record;
    }

    private static (string Id, ErrorCategory Category, string? Action) FromErrno(int errno) => errno switch
    {
        ENOENT or ENOTDIR => ("PathNotFound", ErrorCategory.ObjectNotFound, null),
        EPERM or EACCES => ("XattrPermissionDenied", ErrorCategory.PermissionDenied,
            "trusted.* attributes need root; an unprivileged user can only use -Namespace System on a gsyncd mount. " +
            "An immutable (chattr +i) file refuses every change."),
        EOPNOTSUPP => ("XattrNotSupported", ErrorCategory.InvalidOperation,
            "The file system does not store this attribute namespace: system.glusterfs.* works only on a GlusterFS " +
            "mount made by gsyncd, trusted.* needs a file system with extended attributes (ext4, xfs, a brick)."),
        EROFS => ("ReadOnlyFileSystem", ErrorCategory.InvalidOperation, null),
        ENOSPC or EDQUOT => ("XattrNoSpace", ErrorCategory.ResourceUnavailable, null),
        ENODATA => ("XattrNotFound", ErrorCategory.ObjectNotFound, null),
        _ => ("XattrOperationFailed", ErrorCategory.NotSpecified, null),
    };
}
