using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell;

/// <summary>
/// Reads the catalog options a cmdlet was called with (its parameters of the options' PowerShell names) back by key, in
/// their option's type: a switch as a bool, a path resolved through the provider (as the user typed it relative to their
/// location). The one way every cmdlet turns its parameters into catalog options (docs/operations.md, "Options").
/// </summary>
internal static class CatalogParameters
{
    public static Dictionary<string, object> Bound(PSCmdlet cmdlet, IEnumerable<ReplicationOption> options)
    {
        var bound = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var option in options)
        {
            if (!cmdlet.MyInvocation.BoundParameters.TryGetValue(option.ParameterName, out var value)) continue;
            // The parameters' own attributes checked the values as the catalog would; the store validates again.
            bound[option.Key] = value switch
            {
                SwitchParameter flag => flag.IsPresent,
                string path when option.Kind == ReplicationOptionKind.Path => cmdlet.GetUnresolvedProviderPathFromPSPath(path),
                _ => value,
            };
        }
        return bound;
    }
}
