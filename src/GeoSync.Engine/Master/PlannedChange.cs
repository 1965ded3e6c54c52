using System.Globalization;

namespace GeoSync.Engine.Master;

/// <summary>What a dry run says a turn would do to one slave entry.</summary>
public enum PlannedAction
{
    /// <summary>Make an entry the slave lacks, or one of another type than the slave's (which is purged first).</summary>
    Create,

    /// <summary>Send a file or symlink again: the slave has one, but it differs from the master's.</summary>
    Update,

    /// <summary>Remove a slave entry, with everything below it: gone from the master, or in the way of another type.</summary>
    Purge,

    /// <summary>Give an existing slave directory the master's owner, mode and times, which differ now.</summary>
    SetAttributes,
}

/// <summary>
/// One change a turn would make on the slave (docs/master-loop.md, "Dry run"). <see cref="Path"/> is relative to the roots,
/// in wire text like every name; <see cref="Type"/> is the master's type, or the slave's for a purge (null when a slave
/// without <c>lstat_entries</c> did not say); <see cref="Size"/> is the master size of a file to send.
/// </summary>
public sealed record PlannedChange(PlannedAction Action, string Path, EntryType? Type, string Reason, long? Size = null)
{
    /// <summary>
    /// The lower-case word for a type as the dry run prints it: file, directory, symlink, special, or entry when the
    /// slave did not say.
    /// </summary>
    public static string TypeWord(EntryType? type) => type switch
    {
        EntryType.Regular => "file",
        EntryType.Directory => "directory",
        EntryType.Symlink => "symlink",
        EntryType.Special => "special",
        _ => "entry",
    };

    /// <summary>The lower-case word for an action: create, update, purge, setattr.</summary>
    public static string ActionWord(PlannedAction action) => action switch
    {
        PlannedAction.SetAttributes => "setattr",
        _ => action.ToString().ToLowerInvariant(),
    };

    /// <summary>One aligned line, as <c>geosync master --dry-run</c> prints it: <c>create  file      a/b.txt  missing on the slave</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{ActionWord(Action),-8}{TypeWord(Type),-10}{Path}  {Reason}");
}
