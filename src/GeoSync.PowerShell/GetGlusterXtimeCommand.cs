using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Xattrs;

namespace GeoSync.PowerShell.Commands;

/// <summary>Get-GlusterXtime: reads the xtime a volume's marker (or gsyncd) stored on files and directories.</summary>
[Cmdlet(VerbsCommon.Get, "GlusterXtime",
    HelpUri = HelpLinks.Commands + "Get-GlusterXtime", DefaultParameterSetName = PathSet)]
[OutputType(typeof(GlusterXtime))]
public sealed class GetGlusterXtimeCommand : GlusterXattrCommand
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    /// <summary>Paths to read, wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Paths to read, taken exactly as written.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>The volume whose xtime to read; Get-GlusterVolumeMark output binds it by property name.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public Guid VolumeId { get; set; }

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName == LiteralPathSet;
        var attribute = XattrNames.Xtime(VolumeId, Prefix);
        foreach (var path in ProviderPaths.Resolve(this, literal ? LiteralPath : Path, literal))
        {
            if (Stopping) { return; }
            WriteVerbose($"Reading the xtime of volume {VolumeId} from '{path}' ({attribute}).");
            Xtime? xtime;
            try
            {
                xtime = Store.Get(path, VolumeId);
            }
            catch (GeoSyncException e)
            {
                WriteError(ErrorRecords.FromException(e, path));
                continue;
            }
            if (xtime is { } value) { WriteObject(new GlusterXtime(path, VolumeId, value)); }
            else { WriteError(ErrorRecords.XtimeNotFound(path, VolumeId, attribute)); }
        }
    }
}
