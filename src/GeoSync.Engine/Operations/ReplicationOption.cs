using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace GeoSync.Engine.Operations;

/// <summary>The kind of value an option takes; it decides parsing, validation, the PowerShell type and the JSON form.</summary>
public enum ReplicationOptionKind
{
    /// <summary>A whole number in a range (PowerShell <c>int</c>).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The kinds name what a user types, as the help says: an integer, a number, text.")]
    Integer,

    /// <summary>A decimal number in a range (PowerShell <c>double</c>).</summary>
    Number,

    /// <summary>Non-empty text (PowerShell <c>string</c>).</summary>
    Text,

    /// <summary>A file or directory; stored as a full path, since a supervised worker runs in another directory.</summary>
    Path,

    /// <summary>A command, one word per element (PowerShell <c>string[]</c>; on the command line, words separated by blanks).</summary>
    Words,

    /// <summary>On or off (a PowerShell switch; a flag without a value on the command line).</summary>
    Switch,

    /// <summary>One name of an enum (PowerShell takes the enum; the command line also its kebab-case spelling).</summary>
    Choice,
}

/// <summary>
/// One option of the master loop, declared once in <see cref="ReplicationOptions"/>: that declaration drives the
/// <c>geosync master</c> and <c>geosync create</c> flags and their help, the parameters of New-/Set-GeoSyncReplication and
/// Invoke-GeoSyncMaster (tests prove they match), and the validation of the stored configuration. See docs/operations.md.
/// </summary>
public sealed partial class ReplicationOption
{
    internal ReplicationOption(string key, string parameterName, ReplicationOptionKind kind, string help)
    {
        Key = key;
        ParameterName = parameterName;
        Kind = kind;
        Help = help;
    }

    /// <summary>The key in config.json and the command-line flag without its dashes, e.g. <c>sync-jobs</c>.</summary>
    public string Key { get; }

    /// <summary>The PowerShell parameter name, e.g. <c>SyncJobs</c>.</summary>
    public string ParameterName { get; }

    public ReplicationOptionKind Kind { get; }

    /// <summary>One line for <c>--help</c>: what the option does.</summary>
    public string Help { get; }

    /// <summary>
    /// Whether a replication's configuration may hold it. Run-mode options (<c>--once</c>, <c>--max-turns</c>, ...) are
    /// given for one run only.
    /// </summary>
    public bool Stored { get; init; } = true;

    /// <summary>
    /// Read by the supervisor (<c>geosync monitor</c>), not by the master loop: stored with the replication and given to
    /// <c>geosync monitor</c>/<c>geosync start</c>, never a flag of <c>geosync master</c> or a parameter of Invoke-GeoSyncMaster.
    /// </summary>
    public bool ForSupervisor { get; init; }

    /// <summary>The smallest value of an Integer or Number option.</summary>
    public double Minimum { get; init; }

    /// <summary>The largest value of an Integer or Number option.</summary>
    public double Maximum { get; init; } = int.MaxValue;

    /// <summary>The enum of a Choice option.</summary>
    public Type? ChoiceType { get; init; }

    /// <summary>The value used when neither the stored configuration nor the command line gives one; null when the default is computed at run time.</summary>
    public object? Default { get; init; }

    /// <summary>The default as the help says it, e.g. "3, or half the processors when fewer".</summary>
    public string? DefaultText { get; init; }

    /// <summary>What the value stands for in <c>--help</c>, e.g. <c>&lt;seconds&gt;</c>.</summary>
    public string Placeholder { get; init; } = "<value>";

    /// <summary>The command-line flag, e.g. <c>--sync-jobs</c>.</summary>
    public string Flag => "--" + Key;

    /// <summary>The .NET type the PowerShell parameter has (a Switch option is a SwitchParameter there).</summary>
    public Type ValueType => Kind switch
    {
        ReplicationOptionKind.Integer => typeof(int),
        ReplicationOptionKind.Number => typeof(double),
        ReplicationOptionKind.Text or ReplicationOptionKind.Path => typeof(string),
        ReplicationOptionKind.Words => typeof(string[]),
        ReplicationOptionKind.Switch => typeof(bool),
        _ => ChoiceType!,
    };

    /// <summary>The values of a Choice option, as PowerShell names them (the enum's names).</summary>
    public IReadOnlyList<string> Choices => ChoiceType is null ? [] : Enum.GetNames(ChoiceType);

    /// <summary>What the option accepts, in words, for error messages and help.</summary>
    public string Allowed => Kind switch
    {
        ReplicationOptionKind.Integer => Maximum >= int.MaxValue
            ? $"a whole number of at least {Format(Minimum)}"
            : $"a whole number from {Format(Minimum)} to {Format(Maximum)}",
        ReplicationOptionKind.Number => $"a number from {Format(Minimum)} to {Format(Maximum)}",
        ReplicationOptionKind.Text => "non-empty text",
        ReplicationOptionKind.Path => "a file or directory path",
        ReplicationOptionKind.Words => "a command: words separated by blanks (one word per element in PowerShell)",
        ReplicationOptionKind.Switch => "true or false",
        _ => "one of " + string.Join(", ", Choices.Select(Kebab)),
    };

    /// <summary>Parses the command-line text of a value (<c>geosync master --sync-jobs 4</c>, <c>geosync config N sync-jobs 4</c>).</summary>
    public object Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        switch (Kind)
        {
            case ReplicationOptionKind.Integer:
                return int.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)
                    ? Validate(whole) : throw Invalid(text);
            case ReplicationOptionKind.Number:
                return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                    ? Validate(number) : throw Invalid(text);
            case ReplicationOptionKind.Words:
                return Validate(trimmed.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
            case ReplicationOptionKind.Switch:
                return trimmed.ToLowerInvariant() switch
                {
                    "true" or "yes" or "on" or "1" => true,
                    "false" or "no" or "off" or "0" => false,
                    _ => throw Invalid(text),
                };
            case ReplicationOptionKind.Choice:
                return Validate(trimmed);
            default:
                return Validate(text);
        }
    }

    /// <summary>
    /// Checks a typed value (from PowerShell, from config.json or from <see cref="Parse"/>) and returns it in the
    /// option's own type; throws <see cref="InvalidReplicationOptionException"/> naming the key, the value and what is allowed.
    /// </summary>
    public object Validate(object? value)
    {
        switch (Kind)
        {
            case ReplicationOptionKind.Integer:
                if (value is int or long or short or byte && Convert.ToInt64(value, CultureInfo.InvariantCulture) is var whole
                    && whole >= Minimum && whole <= Maximum)
                {
                    return (int)whole;
                }
                throw Invalid(value);
            case ReplicationOptionKind.Number:
                if (value is double or float or int or long or decimal && Convert.ToDouble(value, CultureInfo.InvariantCulture) is var number
                    && double.IsFinite(number) && number >= Minimum && number <= Maximum)
                {
                    return number;
                }
                throw Invalid(value);
            case ReplicationOptionKind.Text:
                return value is string text && !string.IsNullOrWhiteSpace(text) ? text : throw Invalid(value);
            case ReplicationOptionKind.Path:
                return value is string path && !string.IsNullOrWhiteSpace(path) ? System.IO.Path.GetFullPath(path) : throw Invalid(value);
            case ReplicationOptionKind.Words:
                if (value is string single) value = new[] { single };
                if (value is IEnumerable<string> words && words.ToArray() is { Length: > 0 } array && array.All(w => !string.IsNullOrWhiteSpace(w)))
                {
                    return array;
                }
                throw Invalid(value);
            case ReplicationOptionKind.Switch:
                return value is bool flag ? flag : throw Invalid(value);
            default:
                if (value is not null && value.GetType() == ChoiceType) return value;
                if (value is string name)
                {
                    var match = Choices.FirstOrDefault(choice =>
                        string.Equals(choice, name, StringComparison.OrdinalIgnoreCase) ||
                        string.Equals(Kebab(choice), name, StringComparison.OrdinalIgnoreCase));
                    if (match is not null) return Enum.Parse(ChoiceType!, match);
                }
                throw Invalid(value);
        }
    }

    /// <summary>The value as the command line and <c>geosync config</c> write it.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "An option formats its own values: callers ask the option, not the type.")]
    public string Format(object value) => value switch
    {
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        int whole => whole.ToString(CultureInfo.InvariantCulture),
        bool flag => flag ? "true" : "false",
        string[] words => string.Join(' ', words),
        Enum choice => Kebab(choice.ToString()),
        _ => value.ToString() ?? "",
    };

    /// <summary>The value in config.json: numbers, booleans, text, arrays of words, and a choice by its PowerShell name.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "An option writes its own values: callers ask the option, not the type.")]
    public JsonNode ToJson(object value) => value switch
    {
        int whole => JsonValue.Create(whole),
        double number => JsonValue.Create(number),
        bool flag => JsonValue.Create(flag),
        string[] words => new JsonArray(words.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray()),
        Enum choice => JsonValue.Create(choice.ToString())!,
        _ => JsonValue.Create(value.ToString())!,
    };

    /// <summary>Reads and checks a value from config.json.</summary>
    public object FromJson(JsonElement element)
    {
        object? value = element.ValueKind switch
        {
            JsonValueKind.Number when Kind == ReplicationOptionKind.Integer && element.TryGetInt32(out var whole) => whole,
            JsonValueKind.Number => element.GetDouble(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Array => element.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String ? item.GetString()! : "").ToArray(),
            _ => null,
        };
        if (value is null) throw Invalid(element.GetRawText());
        return Validate(value);
    }

    /// <summary>The help line of the flag: <c>--sync-jobs &lt;n&gt;</c> and what it does, with its default.</summary>
    public string FlagUsage => Kind == ReplicationOptionKind.Switch ? Flag : $"{Flag} {Placeholder}";

    internal InvalidReplicationOptionException Invalid(object? value) => new(Key, Describe(value), Allowed);

    private static string Describe(object? value) => value switch
    {
        null => "",
        string text => text,
        IEnumerable<string> words => string.Join(' ', words),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Format(double number) => number.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>InProcess → in-process: how the command line spells a choice.</summary>
    public static string Kebab(string name) => UpperAfterLower().Replace(name, "$1-$2").ToLowerInvariant();

    [GeneratedRegex("([a-z0-9])([A-Z])", RegexOptions.CultureInvariant)]
    private static partial Regex UpperAfterLower();
}

/// <summary>An option key that does not exist, or a value it does not accept; nothing was written.</summary>
public sealed class InvalidReplicationOptionException : GeoSyncException
{
    public InvalidReplicationOptionException(string key, string value, string allowed)
        : base($"'{value}' is not a valid value of {key}: it takes {allowed}.")
    {
        Key = key;
        Value = value;
        Allowed = allowed;
    }

    public InvalidReplicationOptionException(string key, string value, string allowed, string message)
        : base(message)
    {
        Key = key;
        Value = value;
        Allowed = allowed;
    }

    /// <summary>The option key as given (or the one it names).</summary>
    public string Key { get; }

    /// <summary>The value as given; empty for an unknown key.</summary>
    public string Value { get; }

    /// <summary>What would have been accepted (the values, or the known keys).</summary>
    public string Allowed { get; }
}
