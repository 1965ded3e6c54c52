using System.Management.Automation;
using GeoSync.Engine.Operations;

namespace GeoSync.PowerShell.Commands;

/// <summary>
/// Test-GeoSyncReplication: the preflight of a named replication — one object per check (URLs, tools, master, slave
/// and its host, overlap, writable, free space, xtime attributes, clock skew, empty or already a replica), each with
/// what was found and what to do. It connects as the replication's worker would and writes nothing but one probe
/// directory it removes at once. See docs/operations.md, "Preflight".
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "GeoSyncReplication", HelpUri = HelpLinks.Commands + "Test-GeoSyncReplication")]
[OutputType(typeof(PreflightCheck))]
public sealed class TestGeoSyncReplicationCommand : ReplicationCommandBase, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();

    /// <summary>The replications to check.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ReplicationNameCompleter))]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        var store = OpenStore();
        foreach (var name in Name)
        {
            ReplicationDefinition? definition = null;
            if (!TryStore(name, () => definition = store.Get(name))) continue;
            var options = ReplicationSessionOptions.From(definition!,
                SlaveCommandLocator.DefaultSlaveCommand(MyInvocation.MyCommand.Module?.ModuleBase));
            WriteProgress(new ProgressRecord(7403, $"Preflight of {name}", $"{definition!.Master} -> {definition.Slave}"));
            IReadOnlyList<PreflightCheck> checks;
            try
            {
                checks = ReplicationPreflight.RunAsync(options, _cancellation.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                WriteProgress(new ProgressRecord(7403, $"Preflight of {name}", "done") { RecordType = ProgressRecordType.Completed });
            }
            foreach (var check in checks)
            {
                var output = PSObject.AsPSObject(check);
                output.Properties.Add(new PSNoteProperty("Replication", name));
                WriteObject(output);
            }
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();
}
