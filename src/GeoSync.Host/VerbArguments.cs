namespace GeoSync.Host;

/// <summary>
/// The arguments of a verb that takes only words, <c>--state-dir</c> and on/off flags (status, check, delete,
/// failures): one reading of <c>--help</c>, <c>--state-dir</c> and unknown options for all of them. Each verb then
/// says how many words it takes and what they are.
/// </summary>
internal sealed record VerbArguments(IReadOnlyList<string> Words, IReadOnlySet<string> Flags, string? StateDirectory)
{
    /// <summary>
    /// Reads <paramref name="args"/> of <paramref name="verb"/>, which knows <paramref name="flags"/>; null when they ask
    /// for help. A word that starts with '-' (other than '-' alone) and is not a known option is refused.
    /// </summary>
    public static VerbArguments? Read(string verb, string[] args, params string[] flags)
    {
        var words = new List<string>();
        var given = new HashSet<string>(StringComparer.Ordinal);
        string? stateDirectory = null;
        for (var i = 0; i < args.Length; i++)
        {
            var (option, inlineValue) = MasterCommandLine.SplitOption(args[i]);
            if (option is "--help" or "-h" && inlineValue is null) return null;
            if (option == "--state-dir")
            {
                stateDirectory = MasterCommandLine.NonEmpty(option, inlineValue ?? MasterCommandLine.NextValue(verb, args, ref i, option), verb);
            }
            else if (inlineValue is null && flags.Contains(option, StringComparer.Ordinal))
            {
                given.Add(option);
            }
            else if (args[i].StartsWith('-') && args[i].Length > 1)
            {
                throw new HostUsageException($"{verb}: unknown option '{args[i]}'");
            }
            else
            {
                words.Add(args[i]);
            }
        }
        return new VerbArguments(words, given, stateDirectory);
    }

    /// <summary>Whether <paramref name="flag"/> was given.</summary>
    public bool Has(string flag) => Flags.Contains(flag);
}
