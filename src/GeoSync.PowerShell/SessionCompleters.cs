using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace GeoSync.PowerShell;

/// <summary>Completes -Name with the names of the sessions in the module's registry.</summary>
public sealed class SessionNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return GeoSyncSessionRegistry.All
            .Where(s => pattern.IsMatch(s.Name))
            .Select(s => new CompletionResult(
                s.Name.Any(c => char.IsWhiteSpace(c) || c is '\'' or '$' or '`') ? $"'{s.Name.Replace("'", "''", StringComparison.Ordinal)}'" : s.Name,
                s.Name, CompletionResultType.ParameterValue, $"{s.Name} ({s.State}): {s.Master} -> {s.Slave}"));
    }
}

/// <summary>Completes -Id with the ids of the sessions in the module's registry.</summary>
public sealed class SessionIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        GeoSyncSessionRegistry.All
            .Select(s => s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Where(id => id.StartsWith(wordToComplete ?? "", StringComparison.Ordinal))
            .Select(id => new CompletionResult(id, id, CompletionResultType.ParameterValue, $"session {id}"));
}
