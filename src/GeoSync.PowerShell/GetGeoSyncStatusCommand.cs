using System.Management.Automation;
using GeoSync.Engine.Operations;
using GeoSync.Engine.Urls;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Get-GeoSyncStatus: one object per named replication and per ad hoc pair in the state directory — state, crawl,
/// LastSynced and lag, cumulative counters, pending failures, restarts, checkpoint, last error and what to do about it
/// (docs/operations.md, "Status").
/// </summary>
[Cmdlet(VerbsCommon.Get, "GeoSyncStatus", HelpUri = HelpLinks.Commands + "Get-GeoSyncStatus")]
[OutputType(typeof(ReplicationStatus))]
public sealed class GetGeoSyncStatusCommand : PSCmdlet
{
    /// <summary>Replication names; wildcards allowed. Ad hoc pairs are listed only without -Name.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ReplicationNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Only the replications and pairs with this master: a URL in any form the URL parser takes, or a wildcard pattern.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ReplicationUrlCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Master { get; set; }

    /// <summary>Only the replications and pairs with this slave: a URL in any form the URL parser takes, or a wildcard pattern.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ReplicationUrlCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Slave { get; set; }

    /// <summary>The state directory; the default rule of StateDirectory.Resolve when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    protected override void ProcessRecord()
    {
        var masterPattern = UrlPattern(Master);
        var slavePattern = UrlPattern(Slave);
        var directory = ReplicationCommands.ResolveStateDirectory(this, StateDirectory);
        if (!Directory.Exists(directory))
        {
            WriteVerbose($"No state directory at {directory}: no replication is defined and no master loop has run with it.");
            return;
        }

        var reader = new ReplicationStatusReader(directory);
        var unmatched = Name?.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)).ToHashSet(StringComparer.Ordinal) ?? [];
        var namePatterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var status in reader.ReadAll((path, problem) => WriteError(ReplicationCommands.StateFileUnreadable(path, problem))))
        {
            if (namePatterns is not null && (status.Name is null || !namePatterns.Any(p => p.IsMatch(status.Name)))) continue;
            if (status.Name is not null) unmatched.Remove(status.Name);
            if (masterPattern?.IsMatch(status.Master) == false || slavePattern?.IsMatch(status.Slave) == false) continue;
            WriteObject(status);
        }
        foreach (var name in unmatched.Order(StringComparer.Ordinal))
        {
            WriteError(ReplicationCommands.ReplicationNotFound(name, directory));
        }
    }

    /// <summary>
    /// A URL is compared in its normalized form, as the records keep it (so /srv/m finds file:///srv/m); a pattern
    /// with wildcards is matched as it is.
    /// </summary>
    private WildcardPattern? UrlPattern(string? url)
    {
        if (url is null) return null;
        if (WildcardPattern.ContainsWildcardCharacters(url)) return WildcardPattern.Get(url, WildcardOptions.IgnoreCase);
        if (!GeoSyncUrl.TryParse(url, out var parsed, out var error))
        {
            ThrowTerminatingError(new ErrorRecord(error, "InvalidGeoSyncUrl", ErrorCategory.InvalidArgument, url));
        }
        return new WildcardPattern(WildcardPattern.Escape(parsed!.Normalized), WildcardOptions.None);
    }
}
