using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Xattrs;

namespace GeoSync.PowerShell.Commands;

/// <summary>Set-GlusterXtime: writes a volume's xtime on files and directories (the symlink itself, never its target).</summary>
[Cmdlet(VerbsCommon.Set, "GlusterXtime",
    HelpUri = HelpLinks.Commands + "Set-GlusterXtime",
    DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(GlusterXtime))]
public sealed class SetGlusterXtimeCommand : GlusterXattrCommand
{
    // The value comes from -Seconds/-Microseconds (the sets that Get-GlusterXtime output binds to), -Xtime, or -Now.
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private const string PathXtimeSet = "PathXtime";
    private const string LiteralPathXtimeSet = "LiteralPathXtime";
    private const string PathNowSet = "PathNow";
    private const string LiteralPathNowSet = "LiteralPathNow";

    /// <summary>Paths to stamp, wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathXtimeSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathNowSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Paths to stamp, taken exactly as written.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathXtimeSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathNowSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>The volume whose xtime to write.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public Guid VolumeId { get; set; }

    /// <summary>Whole seconds of the xtime (unix time).</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    public uint Seconds { get; set; }

    /// <summary>Microseconds of the xtime, 0 to 999999.</summary>
    [Parameter(ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 999_999)]
    public uint Microseconds { get; set; }

    /// <summary>The xtime as seconds.microseconds, the form of GlusterXtime.Xtime.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathXtimeSet)]
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathXtimeSet)]
    [XtimeTransformation]
    [ValidateXtime]
    public decimal Xtime { get; set; }

    /// <summary>Stamp the current time, as the marker would.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathNowSet)]
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathNowSet)]
    public SwitchParameter Now { get; set; }

    /// <summary>Emit a GlusterXtime for every path written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName is LiteralPathSet or LiteralPathXtimeSet or LiteralPathNowSet;
        var attribute = XattrNames.Xtime(VolumeId, Prefix);
        foreach (var path in ProviderPaths.Resolve(this, literal ? LiteralPath : Path, literal))
        {
            if (Stopping) { return; }
            Xtime value;
            try
            {
                value = NewValue();
            }
            catch (GeoSyncException e)
            {
                // Only -Now can fail (a clock outside the xtime range), and then it fails for every path alike.
                ThrowTerminatingError(ErrorRecords.FromException(e, path));
                return;
            }
            if (!ShouldProcess(path, $"Set the xtime of volume {VolumeId} to {value} ({attribute})")) { continue; }
            WriteVerbose($"Setting the xtime of volume {VolumeId} on '{path}' to {value} ({attribute}).");
            try
            {
                Store.Set(path, VolumeId, value);
            }
            catch (GeoSyncException e)
            {
                WriteError(ErrorRecords.FromException(e, path));
                continue;
            }
            if (PassThru) { WriteObject(new GlusterXtime(path, VolumeId, value)); }
        }
    }


    // -Now is taken per path, so every path gets the time it was actually stamped, as the marker does.
    private Xtime NewValue() => ParameterSetName switch
    {
        PathNowSet or LiteralPathNowSet => Engine.Xattrs.Xtime.Now(),
        PathXtimeSet or LiteralPathXtimeSet => GlusterXtime.FromDecimal(Xtime)!.Value,
        _ => new Xtime(Seconds, Microseconds),
    };
}
