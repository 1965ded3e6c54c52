#Requires -Version 7.4
#Requires -Modules GeoSync
<#
.SYNOPSIS
    Begins or ends a maintenance window: checkpoint, wait until it has arrived, pause; and resume afterwards.

.DESCRIPTION
    -Phase Begin sets a checkpoint now, waits until everything written on the master before it is on the slave, and
    pauses the replication (its position is kept: the slave's marks say what arrived). Then the slave is a consistent
    copy of the master as of the checkpoint, and nothing writes to it until the window ends.

    -Phase End resumes the replication and waits until it runs again (state Active).

    Exit codes (pwsh -File): 0 done; 1 a step was refused or failed; 2 the checkpoint did not complete within
    -TimeoutSeconds (the replication is then NOT paused, so it goes on catching up).

.PARAMETER Name
    The replication.

.PARAMETER Phase
    Begin or End.

.PARAMETER TimeoutSeconds
    How long Begin waits for the checkpoint and End for the state Active; 900 by default.

.PARAMETER StateDirectory
    The state directory, when not the default.

.EXAMPLE
    ./Invoke-MaintenanceWindow.ps1 -Name mvol-dr -Phase Begin
    # ... work on the slave site ...
    ./Invoke-MaintenanceWindow.ps1 -Name mvol-dr -Phase End
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Name,
    [Parameter(Mandatory)] [ValidateSet('Begin', 'End')] [string] $Phase,
    [ValidateRange(1, 604800)] [int] $TimeoutSeconds = 900,
    [string] $StateDirectory
)

$ErrorActionPreference = 'Stop'
$common = @{}
if ($StateDirectory) { $common.StateDirectory = $StateDirectory }

if ($Phase -eq 'Begin') {
    if (-not $PSCmdlet.ShouldProcess($Name, 'checkpoint, wait and pause')) { return }
    $checkpoint = [DateTimeOffset]::UtcNow
    Set-GeoSyncCheckpoint -Name $Name -At $checkpoint @common | Out-Null
    try {
        Wait-GeoSyncCheckpoint -Name $Name -Timeout $TimeoutSeconds @common | Out-Null
    }
    catch {
        Write-Error -ErrorId 'RunbookCheckpointTimeout' -Category OperationTimeout -TargetObject $Name `
            -Message "the checkpoint of $($checkpoint.ToString('u')) did not arrive on the slave of '$Name' within $TimeoutSeconds s; the replication was not paused: $($_.Exception.Message)" `
            -ErrorAction Continue
        exit 2
    }
    Suspend-GeoSyncReplication -Name $Name -Confirm:$false @common | Out-Null
    Get-GeoSyncStatus -Name $Name @common
    exit 0
}

if (-not $PSCmdlet.ShouldProcess($Name, 'resume')) { return }
Resume-GeoSyncReplication -Name $Name -Confirm:$false @common | Out-Null
$deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
do {
    $status = Get-GeoSyncStatus -Name $Name @common
    if ("$($status.State)" -eq 'Active') {
        $status
        exit 0
    }
    Start-Sleep -Milliseconds 500
} while ([DateTime]::UtcNow -lt $deadline)
Write-Error -ErrorId 'RunbookResumeTimeout' -Category OperationTimeout -TargetObject $Name `
    -Message "'$Name' did not become Active within $TimeoutSeconds s after resuming (state $($status.State)$(if ($status.LastError) { ": $($status.LastError)" }))" `
    -ErrorAction Continue
exit 1
