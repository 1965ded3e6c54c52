using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Xattrs;

namespace GeoSync.PowerShell.Commands;

/// <summary>Get-GlusterVolumeMark: reads a volume root's own volume mark, or the foreign marks masters left on a slave.</summary>
[Cmdlet(VerbsCommon.Get, "GlusterVolumeMark", DefaultParameterSetName = PathSet)]
[OutputType(typeof(GlusterVolumeMark))]
public sealed class GetGlusterVolumeMarkCommand : PSCmdlet, IDisposable
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    private readonly CancellationTokenSource _cancellation = new();
    private XtimeStore _store = null!;
    private string? _prefix;

    /// <summary>Volume roots to read, wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Volume roots to read, taken exactly as written.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>List the foreign marks (volume-mark.&lt;uuid&gt;) instead of the native mark.</summary>
    [Parameter]
    public SwitchParameter Foreign { get; set; }

    /// <summary>trusted.glusterfs or system.glusterfs; by default trusted when running as root, else system.</summary>
    [Parameter]
    [ValidateSet(XattrNamespaces.Trusted, XattrNamespaces.System)]
    public string? Namespace { get; set; }

    protected override void BeginProcessing()
    {
        _prefix = XattrNamespaces.ToPrefix(Namespace);
        _store = new XtimeStore(new PosixXattrStore(), _prefix);
    }

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName == LiteralPathSet;
        var attribute = XattrNames.VolumeMark(_prefix);
        foreach (var path in ProviderPaths.Resolve(this, literal ? LiteralPath : Path, literal))
        {
            if (_cancellation.IsCancellationRequested) { return; }
            try
            {
                if (Foreign)
                {
                    WriteVerbose($"Listing the foreign volume marks of '{path}' ({attribute}.*).");
                    foreach (var mark in _store.GetForeignMarks(path))
                    {
                        WriteObject(new GlusterVolumeMark(path, mark));
                    }
                }
                else
                {
                    WriteVerbose($"Reading the volume mark of '{path}' ({attribute}).");
                    if (_store.GetNativeMark(path) is { } mark) { WriteObject(new GlusterVolumeMark(path, mark)); }
                    else { WriteError(ErrorRecords.VolumeMarkNotFound(path, attribute)); }
                }
            }
            catch (GeoSyncException e)
            {
                WriteError(ErrorRecords.FromException(e, path));
            }
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();
}
