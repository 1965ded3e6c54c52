using GeoSync.Engine.Master;
using GeoSync.Engine.Session;

namespace GeoSync.PowerShell;

/// <summary>One change a turn of a session would make on the slave, as Invoke-GeoSyncCrawl -WhatIf reports it.</summary>
public sealed class GeoSyncPlannedChange
{
    private readonly PlannedChange _change;

    internal GeoSyncPlannedChange(GeoSyncSession session, PlannedChange change)
    {
        _change = change;
        SessionId = session.Id;
        SessionName = session.Name;
    }

    /// <summary>The session's id; pipes into Get-/Stop-GeoSyncSession -Id.</summary>
    public int SessionId { get; }

    public string SessionName { get; }

    /// <summary>Create, Update, Purge or SetAttributes.</summary>
    public PlannedAction Action => _change.Action;

    /// <summary>The entry, relative to the master and slave roots.</summary>
    public string Path => _change.Path;

    /// <summary>Regular, Directory, Symlink or Special: the master's type, or the slave's for a purge; null when the slave did not say.</summary>
    public EntryType? Type => _change.Type;

    /// <summary>Why: missing on the slave, gone from the master, size differs, type differs (master: directory), ...</summary>
    public string Reason => _change.Reason;

    /// <summary>The master size of a file that would be sent; null for other changes.</summary>
    public long? Size => _change.Size;

    /// <summary>The line <c>geosync master --dry-run</c> prints: <c>create  file      a/b.txt  missing on the slave</c>.</summary>
    public override string ToString() => _change.ToString();
}
