using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell;

/// <summary>Completes -Name with the replications defined in the state directory (-StateDirectory when already typed).</summary>
public sealed class ReplicationNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var stateDirectory = fakeBoundParameters?["StateDirectory"] as string;
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        IEnumerable<string> names;
        try
        {
            names = ReplicationPaths.ListNames(StateDirectory.Resolve(stateDirectory)).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            names = [];
        }
        return names.Where(pattern.IsMatch).Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
    }
}

/// <summary>Completes -Reset with the options a replication stores.</summary>
public sealed class ReplicationOptionCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        ReplicationOptions.Stored
            .Where(option => option.ParameterName.StartsWith((wordToComplete ?? "").Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(option => new CompletionResult(option.ParameterName, option.ParameterName, CompletionResultType.ParameterValue, option.Help));
}

/// <summary>Completes -Master and -Slave with the URLs of the known replications and ad hoc pairs.</summary>
public sealed class ReplicationUrlCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = (wordToComplete ?? "").Trim('\'', '"');
        var slave = string.Equals(parameterName, "Slave", StringComparison.OrdinalIgnoreCase);
        var reader = new ReplicationStatusReader(ReplicationCompletion.StateDirectoryOf(fakeBoundParameters));
        return reader.ReadAll()
            .Select(s => slave ? s.Slave : s.Master)
            .Distinct(StringComparer.Ordinal)
            .Where(url => url.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                || url.Contains("://" + prefix.TrimStart('/'), StringComparison.OrdinalIgnoreCase) && prefix.StartsWith('/'))
            .Order(StringComparer.Ordinal)
            .Select(url => new CompletionResult($"'{url.Replace("'", "''", StringComparison.Ordinal)}'", url, CompletionResultType.ParameterValue, url));
    }
}

internal static class ReplicationCompletion
{
    public static string StateDirectoryOf(IDictionary fakeBoundParameters) =>
        StateDirectory.Resolve(fakeBoundParameters["StateDirectory"] as string);
}
