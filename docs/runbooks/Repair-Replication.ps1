#Requires -Version 7.4
#Requires -Modules GeoSync
<#
.SYNOPSIS
    Brings a replication back after a long outage or a lost slave, and proves the slave whole again.

.DESCRIPTION
    1. Reads the replication's status and log tail (what happened, for the record).
    2. With -SlaveLost (the slave was rebuilt, restored from a backup, or replaced): runs the preflight. An empty new
       slave passes; a restored slave that holds data this master never synced is refused by the preflight unless
       -AcceptRestoredSlave, which runs that first turn once with -Force (it claims the slave for this master; what the
       master lacks is deleted there), before the replication starts as usual.
    3. Starts (or resumes) the replication and waits for a checkpoint set now: everything written before the repair
       began is then on the slave. The first turn after an outage compares what changed since the slave's marks; after
       a lost slave it is a full sync.
    4. Pauses it, verifies the whole replica (Test-GeoSyncReplica, with -Checksum when asked), repairs differences with
       -Repair when any are found, and resumes.

    Exit codes (pwsh -File): 0 the replica is whole; 1 refused or failed; 2 the checkpoint did not complete in time;
    4 differences remain after the repair.

.PARAMETER Name
    The replication.

.PARAMETER SlaveLost
    The slave was replaced or rebuilt: run the preflight first.

.PARAMETER AcceptRestoredSlave
    With -SlaveLost: allow a first sync into a slave holding data (a restored backup); what the master lacks is deleted.

.PARAMETER Checksum
    Verify file contents too (reads every file on both sides).

.PARAMETER TimeoutSeconds
    How long to wait for the checkpoint; 7200 by default.

.PARAMETER StateDirectory
    The state directory, when not the default.

.EXAMPLE
    ./Repair-Replication.ps1 -Name mvol-dr

.EXAMPLE
    ./Repair-Replication.ps1 -Name mvol-dr -SlaveLost -Checksum
#>
[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
param(
    [Parameter(Mandatory)] [string] $Name,
    [switch] $SlaveLost,
    [switch] $AcceptRestoredSlave,
    [switch] $Checksum,
    [ValidateRange(1, 604800)] [int] $TimeoutSeconds = 7200,
    [string] $StateDirectory
)

$ErrorActionPreference = 'Stop'
$common = @{}
if ($StateDirectory) { $common.StateDirectory = $StateDirectory }

$replication = Get-GeoSyncReplication -Name $Name @common
$before = Get-GeoSyncStatus -Name $Name @common
Write-Verbose "before the repair: state $($before.State), last error: $($before.LastError)"
Get-GeoSyncLog -Name $Name -Tail 20 @common -ErrorAction SilentlyContinue | ForEach-Object { Write-Verbose "log: $($_.Message)" }
if (-not $PSCmdlet.ShouldProcess("$Name ($($replication.Master) -> $($replication.Slave))", 'repair and verify')) { return }

if ($SlaveLost) {
    if ("$($before.State)" -in 'Active', 'Starting', 'Faulty') { Stop-GeoSyncReplication -Name $Name -Confirm:$false @common | Out-Null }
    $checks = @(Test-GeoSyncReplication -Name $Name @common)
    $claim = $checks | Where-Object Name -eq 'SlaveEmptyOrReplica'
    $blocking = @($checks | Where-Object { -not $_.Passed -and -not ($_.Name -eq 'SlaveEmptyOrReplica' -and $AcceptRestoredSlave) })
    if ($blocking.Count -gt 0) {
        foreach ($check in $blocking) {
            Write-Error -ErrorId 'RunbookPreflightFailed' -Category InvalidOperation -TargetObject $check.Name `
                -Message "preflight check $($check.Name) failed: $($check.Detail). $($check.Hint)" -ErrorAction Continue
        }
        exit 1
    }
    if ($claim -and -not $claim.Passed) {
        Invoke-GeoSyncMaster -Replication $Name -Once -Force -Confirm:$false @common | Out-Null
    }
}

$state = "$((Get-GeoSyncStatus -Name $Name @common).State)"
if ($state -eq 'Paused') { Resume-GeoSyncReplication -Name $Name -Confirm:$false @common | Out-Null }
elseif ($state -notin 'Active', 'Starting') { Start-GeoSyncReplication -Name $Name @common | Out-Null }

Set-GeoSyncCheckpoint -Name $Name -At ([DateTimeOffset]::UtcNow) @common | Out-Null
try {
    Wait-GeoSyncCheckpoint -Name $Name -Timeout $TimeoutSeconds @common | Out-Null
}
catch {
    Write-Error -ErrorId 'RunbookCheckpointTimeout' -Category OperationTimeout -TargetObject $Name `
        -Message "'$Name' did not catch up within $TimeoutSeconds s; it keeps running: $($_.Exception.Message)" -ErrorAction Continue
    exit 2
}

Suspend-GeoSyncReplication -Name $Name -Confirm:$false @common | Out-Null
try {
    $verify = @{ Master = $replication.Master; Slave = $replication.Slave; Checksum = [bool] $Checksum; Confirm = $false }
    $differences = @(Test-GeoSyncReplica @verify | Where-Object { $_.PSObject.TypeNames -contains 'GeoSync.PowerShell.GeoSyncReplicaDifference' })
    if ($differences.Count -gt 0) {
        Write-Warning "$($differences.Count) differences after catching up; repairing"
        $differences = @(Test-GeoSyncReplica @verify -Repair | Where-Object { $_.PSObject.TypeNames -contains 'GeoSync.PowerShell.GeoSyncReplicaDifference' })
    }
}
finally {
    Resume-GeoSyncReplication -Name $Name -Confirm:$false @common | Out-Null
}
[pscustomobject]@{
    PSTypeName  = 'GeoSync.Runbook.Repair'
    Name        = $Name
    SlaveLost   = [bool] $SlaveLost
    Differences = $differences.Count
    Whole       = $differences.Count -eq 0
}
if ($differences.Count -gt 0) {
    $differences
    exit 4
}
exit 0
