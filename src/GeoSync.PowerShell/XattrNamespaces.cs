using GeoSync.Engine.Xattrs;

namespace GeoSync.PowerShell;

/// <summary>The values of the -Namespace parameters and the attribute prefixes they stand for.</summary>
internal static class XattrNamespaces
{
    public const string Trusted = nameof(Trusted);
    public const string System = nameof(System);

    /// <summary>The prefix for a -Namespace value; null (not given) lets the engine choose by privilege.</summary>
    public static string? ToPrefix(string? value) => value switch
    {
        null => null,
        _ when value.Equals(System, StringComparison.OrdinalIgnoreCase) => XattrNames.SystemNamespace,
        _ => XattrNames.TrustedNamespace,
    };
}
