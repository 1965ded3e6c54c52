using System.Management.Automation;
using GeoSync.Engine.Xattrs;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// What the xattr cmdlets (Get-GlusterXtime, Set-GlusterXtime, Get-GlusterVolumeMark) share: -Namespace and the store
/// it selects. Ctrl+C ends their walk between paths through <see cref="Cmdlet.Stopping"/>.
/// </summary>
public abstract class GlusterXattrCommand : PSCmdlet
{
    /// <summary>trusted.glusterfs or system.glusterfs; by default trusted when running as root, else system.</summary>
    [Parameter]
    [ValidateSet(XattrNamespaces.Trusted, XattrNamespaces.System)]
    public string? Namespace { get; set; }

    /// <summary>The attribute prefix -Namespace stands for; null lets the engine choose by privilege.</summary>
    protected string? Prefix { get; private set; }

    /// <summary>The xtimes and volume marks under <see cref="Prefix"/>.</summary>
    protected XtimeStore Store { get; private set; } = null!;

    protected override void BeginProcessing()
    {
        Prefix = XattrNamespaces.ToPrefix(Namespace);
        Store = new XtimeStore(new PosixXattrStore(), Prefix);
    }
}
