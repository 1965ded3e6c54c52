using System.Management.Automation;

namespace GeoSync.PowerShell;

/// <summary>Resolves -Path (wildcards) and -LiteralPath through the PowerShell provider to file-system paths.</summary>
internal static class ProviderPaths
{
    /// <summary>
    /// The provider paths named by <paramref name="paths"/>; a path that does not resolve, or is not on the FileSystem
    /// provider, becomes a non-terminating error and the rest still resolve. A literal path is not checked for existence:
    /// the xattr call reports a missing one.
    /// </summary>
    public static IEnumerable<string> Resolve(PSCmdlet cmdlet, IEnumerable<string> paths, bool literal)
    {
        foreach (var path in paths)
        {
            IEnumerable<string> resolved;
            ProviderInfo provider;
            try
            {
                resolved = literal
                    ? [cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _)]
                    : cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out provider);
            }
            catch (SessionStateException e)
            {
                cmdlet.WriteError(ErrorRecords.PathNotFound(e, path));
                continue;
            }
            if (provider.Name != "FileSystem")
            {
                cmdlet.WriteError(ErrorRecords.NotFileSystemPath(path, provider));
                continue;
            }
            foreach (var providerPath in resolved)
            {
                yield return providerPath;
            }
        }
    }
}
