using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using GeoSync.Engine;
using GeoSync.Engine.Master;
using GeoSync.Engine.Session;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Invoke-GeoSyncCrawl: runs one crawl turn of a session (§5.4) — every change of the master since the last turn goes
/// to the slave — and returns what it did. Ctrl+C abandons the turn; the session stays usable.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "GeoSyncCrawl", DefaultParameterSetName = SessionSet)]
[OutputType(typeof(GeoSyncTurnResult))]
public sealed class InvokeGeoSyncCrawlCommand : PSCmdlet, IDisposable
{
    private const string SessionSet = "Session";
    private const string IdSet = "Id";
    private const string NameSet = "Name";
    private const int ProgressActivityId = 7401;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _cancellation = new();
    private readonly PipelineQueue _queue = new();

    /// <summary>The sessions to run a turn of, from Start-GeoSyncSession or Get-GeoSyncSession.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SessionSet, ValueFromPipeline = true)]
    [Alias("InputObject")]
    [ValidateNotNull]
    public GeoSyncSession[] Session { get; set; } = [];

    /// <summary>Session ids.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("SessionId")]
    [ArgumentCompleter(typeof(SessionIdCompleter))]
    public int[] Id { get; set; } = [];

    /// <summary>Session names (exact).</summary>
    [Parameter(Mandatory = true, ParameterSetName = NameSet)]
    [ArgumentCompleter(typeof(SessionNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case IdSet:
                foreach (var id in Id)
                {
                    if (GeoSyncSessionRegistry.Find(id) is { } session) Crawl(session);
                    else WriteError(ErrorRecords.SessionNotFound($"id {id}", id));
                }
                break;
            case NameSet:
                foreach (var name in Name)
                {
                    var found = GeoSyncSessionRegistry.All.Where(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
                    if (found.Count == 0) WriteError(ErrorRecords.SessionNotFound($"the name '{name}'", name));
                    found.ForEach(Crawl);
                }
                break;
            default:
                foreach (var session in Session) Crawl(session);
                break;
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();

    private void Crawl(GeoSyncSession session)
    {
        WriteVerbose($"Crawling {session.Master} -> {session.Slave} (session {session.Name}).");
        var progress = new ProgressRecord(ProgressActivityId, $"GeoSync crawl of session {session.Name}", "Starting the turn");
        var lastShown = (TurnProgress?)null;
        var throttle = Stopwatch.StartNew();
        var elapsed = Stopwatch.StartNew();
        TurnResult result;
        using (session.AddLogListener(_queue.Post))
        {
            try
            {
                result = _queue.Await(this, session.RunTurnAsync(_cancellation.Token), ShowProgress);
            }
            catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
            {
                return;
            }
            catch (GeoSyncException e)
            {
                WriteError(ErrorRecords.FromException(e, session, "CrawlFailed"));
                return;
            }
            finally
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
        }

        // The result first, so a script sees the turn before the paths that did not make it.
        WriteObject(new GeoSyncTurnResult(session, result));
        foreach (var failure in result.Failures) WriteError(ReplicationErrors.EntryNotSynced(failure));

        void ShowProgress()
        {
            // The first state at once, then on change at most once per interval.
            if (session.CurrentTurn is not { } now || now == lastShown || (lastShown is not null && throttle.Elapsed < ProgressInterval)) return;
            lastShown = now;
            throttle.Restart();
            var seconds = Math.Max(elapsed.Elapsed.TotalSeconds, 0.001);
            progress.StatusDescription = string.Create(CultureInfo.InvariantCulture,
                $"Turn {now.Turn}: {now.FilesSynced} files ({now.BytesSynced} bytes) synced, {now.FilesSynced / seconds:F0} files/s, {now.BytesSynced / seconds / (1024 * 1024):F1} MiB/s");
            progress.CurrentOperation = $"{now.DirectoriesScanned} directories scanned, {now.EntriesCreated} entries created, {now.EntriesPurged} purged";
            WriteProgress(progress);
        }
    }
}
