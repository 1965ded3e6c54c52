using System.Collections.Specialized;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell;

/// <summary>A named replication as Get-/New-/Set-GeoSyncReplication return it: its pair and the options set for it.</summary>
public sealed class GeoSyncReplication
{
    internal GeoSyncReplication(ReplicationDefinition definition)
    {
        Name = definition.Name;
        Master = definition.Master;
        Slave = definition.Slave;
        Created = definition.Created;
        Modified = definition.Modified;
        StateDirectory = definition.StateDirectory;
        ConfigFile = definition.Paths.ConfigFile;
        var options = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var option in ReplicationOptions.Stored)
        {
            if (definition.Options.TryGetValue(option.Key, out var value)) options.Add(option.ParameterName, value);
        }
        Options = options.AsReadOnly();
        OptionsText = string.Join(' ', ReplicationOptions.Stored
            .Where(option => definition.Options.ContainsKey(option.Key))
            .Select(option => $"{option.Key}={option.Format(definition.Options[option.Key])}"));
    }

    public string Name { get; }

    /// <summary>The master URL, normalized (file:///srv/m for /srv/m).</summary>
    public string Master { get; }

    /// <summary>The slave URL, normalized.</summary>
    public string Slave { get; }

    /// <summary>The options set for this replication, by parameter name; the others take their defaults.</summary>
    public OrderedDictionary Options { get; }

    /// <summary>The options set, as key=value words (what the table shows).</summary>
    public string OptionsText { get; }

    public DateTimeOffset Created { get; }
    public DateTimeOffset Modified { get; }
    public string StateDirectory { get; }

    /// <summary>The replication's config.json.</summary>
    public string ConfigFile { get; }

    public override string ToString() => Name;
}
