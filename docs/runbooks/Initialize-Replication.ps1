#Requires -Version 7.4
#Requires -Modules GeoSync
<#
.SYNOPSIS
    Sets up a replication: create it, run the preflight, start it and wait until the first full sync has arrived.

.DESCRIPTION
    The runbook for a new master/slave pair. It creates the named replication (or reuses one of the same name with the
    same master and slave), runs Test-GeoSyncReplication and stops on the first failed check, starts the supervisor,
    sets a checkpoint at the start time and waits until it completes: then everything written on the master before the
    runbook started is on the slave.

    When the preflight fails on a replication this runbook just created, the replication is removed again, so a second
    attempt after the fix starts clean. Nothing is written on the master or the slave before the preflight passed.

    Exit codes (when run with pwsh -File): 0 the first sync completed; 1 the preflight failed or a step was refused;
    2 the first sync did not complete within -TimeoutSeconds (the replication keeps running).

.PARAMETER Name
    The replication's name (a letter or digit, then letters, digits, '.', '_' or '-').

.PARAMETER Master
    The master URL: gluster://HOST:VOL or a directory (file:///DIR).

.PARAMETER Slave
    The slave URL: file:///DIR, gluster://HOST:VOL or ssh://[USER@]HOST:/DIR.

.PARAMETER Option
    Further options of New-GeoSyncReplication, as a hashtable (for example @{ SyncJobs = 4; IgnoreDeletes = $true }).

.PARAMETER TimeoutSeconds
    How long to wait for the first sync; 3600 by default.

.PARAMETER StateDirectory
    The state directory, when not the default.

.EXAMPLE
    ./Initialize-Replication.ps1 -Name mvol-dr -Master gluster://gl1:mvol -Slave ssh://backup@dr1:/srv/mvol

.OUTPUTS
    The preflight's checks, then the replication's status (Get-GeoSyncStatus) once the first sync has completed.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Name,
    [Parameter(Mandatory)] [string] $Master,
    [Parameter(Mandatory)] [string] $Slave,
    [hashtable] $Option = @{},
    [ValidateRange(1, 604800)] [int] $TimeoutSeconds = 3600,
    [string] $StateDirectory
)

$ErrorActionPreference = 'Stop'
$common = @{}
if ($StateDirectory) { $common.StateDirectory = $StateDirectory }
$startedAt = [DateTimeOffset]::UtcNow

$existing = Get-GeoSyncReplication -Name $Name @common -ErrorAction SilentlyContinue
if ($existing) {
    $sameMaster = (Resolve-GeoSyncUrl $existing.Master).Normalized -eq (Resolve-GeoSyncUrl $Master).Normalized
    $sameSlave = (Resolve-GeoSyncUrl $existing.Slave).Normalized -eq (Resolve-GeoSyncUrl $Slave).Normalized
    if (-not ($sameMaster -and $sameSlave)) {
        Write-Error -ErrorId 'RunbookReplicationMismatch' -Category ResourceExists -TargetObject $Name `
            -Message "a replication named '$Name' already exists for $($existing.Master) -> $($existing.Slave); choose another name or remove it (Remove-GeoSyncReplication -Name $Name)" `
            -ErrorAction Continue
        exit 1
    }
    Write-Verbose "replication '$Name' exists already for the same pair; going on with it"
    $created = $false
}
else {
    if (-not $PSCmdlet.ShouldProcess("$Master -> $Slave", "create replication '$Name'")) { return }
    New-GeoSyncReplication -Name $Name -Master $Master -Slave $Slave @Option @common | Out-Null
    $created = $true
}

$checks = @(Test-GeoSyncReplication -Name $Name @common)
$checks
$failed = @($checks | Where-Object { -not $_.Passed })
if ($failed.Count -gt 0) {
    foreach ($check in $failed) {
        Write-Error -ErrorId 'RunbookPreflightFailed' -Category InvalidOperation -TargetObject $check.Name `
            -Message "preflight check $($check.Name) failed: $($check.Detail). $($check.Hint)" -ErrorAction Continue
    }
    if ($created) { Remove-GeoSyncReplication -Name $Name -Force -Confirm:$false @common }
    exit 1
}

Start-GeoSyncReplication -Name $Name @common | Out-Null
Set-GeoSyncCheckpoint -Name $Name -At $startedAt @common | Out-Null
try {
    Wait-GeoSyncCheckpoint -Name $Name -Timeout $TimeoutSeconds @common | Out-Null
}
catch {
    Write-Error -ErrorId 'RunbookFirstSyncTimeout' -Category OperationTimeout -TargetObject $Name `
        -Message "the first sync of '$Name' did not complete within $TimeoutSeconds s; it keeps running (Get-GeoSyncStatus -Name $Name): $($_.Exception.Message)" `
        -ErrorAction Continue
    exit 2
}
Get-GeoSyncStatus -Name $Name @common
exit 0
