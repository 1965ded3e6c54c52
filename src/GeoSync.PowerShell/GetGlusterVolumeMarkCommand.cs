using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Xattrs;

namespace GeoSync.PowerShell.Commands;

/// <summary>Get-GlusterVolumeMark: reads a volume root's own volume mark, or the foreign marks masters left on a slave.</summary>
[Cmdlet(VerbsCommon.Get, "GlusterVolumeMark",
    HelpUri = HelpLinks.Commands + "Get-GlusterVolumeMark", DefaultParameterSetName = PathSet)]
[OutputType(typeof(GlusterVolumeMark))]
public sealed class GetGlusterVolumeMarkCommand : GlusterXattrCommand
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

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

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName == LiteralPathSet;
        var attribute = XattrNames.VolumeMark(Prefix);
        foreach (var path in ProviderPaths.Resolve(this, literal ? LiteralPath : Path, literal))
        {
            if (Stopping) { return; }
            try
            {
                if (Foreign)
                {
                    WriteVerbose($"Listing the foreign volume marks of '{path}' ({attribute}.*).");
                    foreach (var mark in Store.GetForeignMarks(path))
                    {
                        WriteObject(new GlusterVolumeMark(path, mark));
                    }
                }
                else
                {
                    WriteVerbose($"Reading the volume mark of '{path}' ({attribute}).");
                    if (Store.GetNativeMark(path) is { } mark) { WriteObject(new GlusterVolumeMark(path, mark)); }
                    else { WriteError(ErrorRecords.VolumeMarkNotFound(path, attribute)); }
                }
            }
            catch (GeoSyncException e)
            {
                WriteError(ErrorRecords.FromException(e, path));
            }
        }
    }
}
