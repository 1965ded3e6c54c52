using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Urls;

namespace GeoSync.PowerShell.Commands;

/// <summary>Resolve-GeoSyncUrl: parses gsyncd URLs and shows their normalized, canonical and remote-side forms.</summary>
[Cmdlet(VerbsDiagnostic.Resolve, "GeoSyncUrl", HelpUri = HelpLinks.Commands + "Resolve-GeoSyncUrl")]
[OutputType(typeof(GeoSyncUrlInfo))]
public sealed class ResolveGeoSyncUrlCommand : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();

    /// <summary>URLs in full (scheme://body) or sugared form. An empty string is accepted so it is reported like any other bad URL.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string[] Url { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var url in Url)
        {
            if (_cancellation.IsCancellationRequested) { return; }
            WriteVerbose($"Resolving the GeoSync URL '{url}'.");
            if (!GeoSyncUrl.TryParse(url, out var parsed, out var parseError))
            {
                WriteError(ErrorRecords.FromException(parseError, url));
                continue;
            }
            // A host that does not resolve spoils only the canonical forms: the object is still emitted (Canonical = null)
            // so the parse result stays usable, and the failure is reported once per URL after it.
            var info = Describe(parsed, out var canonicalError);
            WriteObject(info);
            if (canonicalError is GeoSyncUrlException unresolved) { WriteError(ErrorRecords.UrlHostNotResolved(unresolved, url)); }
            else if (canonicalError is not null) { WriteError(ErrorRecords.FromException(canonicalError, url)); }
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();

    private GeoSyncUrlInfo Describe(GeoSyncUrl url, out GeoSyncException? canonicalError)
    {
        var inner = url.Inner is null ? null : Describe(url.Inner, out _);
        string? canonical = null;
        string? escaped = null;
        canonicalError = null;
        try
        {
            WriteDebug($"Canonicalizing '{url.Normalized}'.");
            canonical = url.ToCanonical();
            // Escaping the same text, rather than resolving again, keeps both forms equal under round-robin DNS.
            escaped = UrlEscaping.Escape(canonical);
        }
        catch (GeoSyncException e)
        {
            canonicalError = e;
        }
        return new GeoSyncUrlInfo(url, canonical, escaped, inner);
    }
}
