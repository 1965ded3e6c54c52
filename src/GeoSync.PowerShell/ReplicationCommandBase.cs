using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>What the replication cmdlets share: the state directory and the one way they report the store's refusals.</summary>
public abstract class ReplicationCommandBase : PSCmdlet
{
    /// <summary>The state directory: $env:GEOSYNC_STATE_DIR, else /var/lib/geosync for root, else ~/.local/state/geosync.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    private protected ReplicationStore OpenStore() =>
        new(StateDirectory is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(StateDirectory));

    /// <summary>The error record of a refused replication operation on <paramref name="target"/>.</summary>
    private protected static ErrorRecord ErrorOf(GeoSyncException exception, object target) => exception switch
    {
        InvalidReplicationOptionException => new ErrorRecord(exception, "InvalidReplicationOption", ErrorCategory.InvalidArgument, target),
        GeoSyncReplicationNotFoundException => new ErrorRecord(exception, "ReplicationNotFound", ErrorCategory.ObjectNotFound, target),
        GeoSyncReplicationExistsException => new ErrorRecord(exception, "ReplicationExists", ErrorCategory.ResourceExists, target),
        GeoSyncReplicationRunningException => new ErrorRecord(exception, "ReplicationRunning", ErrorCategory.ResourceBusy, target),
        GeoSyncReplicationNameException => new ErrorRecord(exception, "InvalidReplicationName", ErrorCategory.InvalidArgument, target),
        _ => ErrorRecords.FromException(exception, target, "ReplicationStoreFailed"),
    };

    /// <summary>Runs a store operation, turning its refusals into a non-terminating error on <paramref name="target"/>.</summary>
    private protected bool TryStore(object target, Action operation)
    {
        try
        {
            operation();
            return true;
        }
        catch (GeoSyncException e)
        {
            WriteError(ErrorOf(e, target));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(new ErrorRecord(e, "ReplicationStoreFailed", ErrorCategory.WriteError, target));
        }
        return false;
    }
}

/// <summary>
/// The replication options as parameters, for New- and Set-GeoSyncReplication. Each mirrors one option of
/// <see cref="ReplicationOptions"/> (name, type, range, allowed values): tests/Module/ReplicationOptions.Tests.ps1 proves
/// they match the catalog exactly; static parameters give tab completion and complete Get-Help (docs/operations.md).
/// </summary>
public abstract class ReplicationOptionsCommandBase : ReplicationCommandBase
{
    /// <summary>sync-jobs.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 64)]
    public int SyncJobs { get; set; }

    /// <summary>interval.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0.0, 3600.0)]
    public double Interval { get; set; }

    /// <summary>timeout.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 86400)]
    public int Timeout { get; set; }

    /// <summary>connection-timeout.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 3600)]
    public int ConnectionTimeoutSec { get; set; }

    /// <summary>slave-mode.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public GeoSync.Engine.Session.SlaveMode SlaveMode { get; set; }

    /// <summary>ssh-command.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SshCommand { get; set; }

    /// <summary>ssh-port.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int SshPort { get; set; }

    /// <summary>identity-file.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? IdentityFile { get; set; }

    /// <summary>known-hosts-file.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? KnownHostsFile { get; set; }

    /// <summary>remote-command.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? RemoteCommand { get; set; }

    /// <summary>slave-command.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? SlaveCommand { get; set; }

    /// <summary>network-namespace.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? NetworkNamespace { get; set; }

    /// <summary>gluster-command-dir.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? GlusterCommandDirectory { get; set; }

    /// <summary>gluster-log-dir.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? GlusterLogDirectory { get; set; }

    /// <summary>ignore-deletes.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter IgnoreDeletes { get; set; }

    /// <summary>max-delete-share.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0.0, 1.0)]
    public double MaxDeleteShare { get; set; }

    /// <summary>directory-pruning.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public GeoSync.Engine.Session.DirectoryPruning DirectoryPruning { get; set; }

    /// <summary>watch.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public GeoSync.Engine.Session.MasterWatch Watch { get; set; }

    /// <summary>xattrs.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter Xattrs { get; set; }

    /// <summary>hang-timeout (the supervisor's).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1.0, 86400.0)]
    public double HangTimeoutSec { get; set; }

    /// <summary>stop-timeout (the supervisor's).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1.0, 3600.0)]
    public double StopTimeoutSec { get; set; }

    /// <summary>log-max-size (the supervisor's).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1024, int.MaxValue)]
    public int LogMaxSize { get; set; }

    /// <summary>log-keep (the supervisor's).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 100)]
    public int LogKeep { get; set; }

    /// <summary>
    /// The options given on this call, by PowerShell name, read through the catalog (so a parameter here that the catalog
    /// lacks is never stored); paths are resolved through the provider, as the user typed them relative to their location.
    /// </summary>
    private protected IEnumerable<KeyValuePair<string, object?>> BoundOptions() =>
        CatalogParameters.Bound(this, ReplicationOptions.Stored).Select(pair => new KeyValuePair<string, object?>(pair.Key, pair.Value));
}
