#Requires -Version 7.4
#Requires -Modules GeoSync
<#
.SYNOPSIS
    Fails over to the slave and back: stop, promote the slave's copy, replicate in the reverse direction, and later
    return to the original direction, resending only what changed.

.DESCRIPTION
    -Action Failover (the master site is lost or goes into maintenance):
      1. If the master still answers, set a checkpoint and wait for it (bounded by -TimeoutSeconds), so the slave holds
         everything written so far. With -MasterLost this is skipped: the slave is promoted as it is.
      2. Stop the replication. From now on the slave's copy is the one applications use (promotion: GeoSync never
         writes to it again until told).
      3. Create (not start) the reverse replication -ReverseName from the old slave to the old master. Once the old
         master is back, -Action StartReverse starts it (or pass -StartReverse now).

    -Action StartReverse: runs the reverse replication's first turn with -Force, then starts it. The first turn must be
    forced: its slave (the old master) holds data the reverse master never put there. Force is given for that one turn
    only; it is never stored on a replication.

    -Action Failback (the original master is to become the master again):
      1. Checkpoint and wait on the reverse replication, so the old master holds what was written during the failover.
      2. Stop and remove the reverse replication.
      3. Start the original replication again. It resends only what changed: files are compared by size and mtime and
         rsync moves only differing blocks.

    The reverse replication's first turn is forced: its slave (the old master) is non-empty by design and holds what
    this pair replicated, so a first sync may delete there what the promoted copy lacks, which is what failover means.
    A GlusterFS volume used as a master needs geo-replication indexing on (gluster volume set VOL
    geo-replication.indexing on). An ssh:// slave cannot be a master: run the failover on the slave host and give
    -ReverseMaster as its local path.

    Exit codes (pwsh -File): 0 done; 1 refused or failed; 2 a checkpoint did not complete within -TimeoutSeconds.

.PARAMETER Name
    The original replication.

.PARAMETER Action
    Failover, StartReverse or Failback.

.PARAMETER ReverseName
    The reverse replication's name; '<Name>-reverse' by default.

.PARAMETER ReverseMaster
    The reverse master (the old slave as a master URL); the old slave's URL by default when it is file:// or gluster://.

.PARAMETER ReverseSlave
    The reverse slave (the old master as a slave URL); the old master's URL by default.

.PARAMETER MasterLost
    Failover without waiting for a checkpoint: the master does not answer.

.PARAMETER StartReverse
    Start the reverse replication at once (the old master is reachable).

.PARAMETER TimeoutSeconds
    How long to wait for each checkpoint; 900 by default.

.PARAMETER StateDirectory
    The state directory, when not the default.

.EXAMPLE
    ./Invoke-Failover.ps1 -Name site-a -Action Failover -MasterLost

.EXAMPLE
    ./Invoke-Failover.ps1 -Name site-a -Action StartReverse

.EXAMPLE
    ./Invoke-Failover.ps1 -Name site-a -Action Failback
#>
[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
param(
    [Parameter(Mandatory)] [string] $Name,
    [Parameter(Mandatory)] [ValidateSet('Failover', 'StartReverse', 'Failback')] [string] $Action,
    [string] $ReverseName = "$Name-reverse",
    [string] $ReverseMaster,
    [string] $ReverseSlave,
    [switch] $MasterLost,
    [switch] $StartReverse,
    [ValidateRange(1, 604800)] [int] $TimeoutSeconds = 900,
    [string] $StateDirectory
)

$ErrorActionPreference = 'Stop'
$common = @{}
if ($StateDirectory) { $common.StateDirectory = $StateDirectory }

# The reverse pair's first turn, forced (its slave is the old master, full of data), then its supervisor.
function Start-Reverse {
    Invoke-GeoSyncMaster -Replication $ReverseName -Once -Force -Confirm:$false @common | Out-Null
    Start-GeoSyncReplication -Name $ReverseName @common | Out-Null
}

function Wait-Checkpoint([string] $Replication) {
    Set-GeoSyncCheckpoint -Name $Replication -At ([DateTimeOffset]::UtcNow) @common | Out-Null
    try {
        Wait-GeoSyncCheckpoint -Name $Replication -Timeout $TimeoutSeconds @common | Out-Null
        return $true
    }
    catch {
        Write-Error -ErrorId 'RunbookCheckpointTimeout' -Category OperationTimeout -TargetObject $Replication `
            -Message "the checkpoint of '$Replication' did not complete within $TimeoutSeconds s: $($_.Exception.Message)" -ErrorAction Continue
        return $false
    }
}

$original = Get-GeoSyncReplication -Name $Name @common
if ($Action -eq 'Failover') {
    if (-not $ReverseMaster) {
        if ([GeoSync.Engine.Urls.GeoSyncUrl]::Parse($original.Slave).Scheme -eq [GeoSync.Engine.Urls.UrlScheme]::Ssh) {
            Write-Error -ErrorId 'RunbookReverseMasterNeeded' -Category InvalidArgument -TargetObject $original.Slave `
                -Message "the slave $($original.Slave) is reached over ssh and cannot be a master from here: run the failover on the slave host with -ReverseMaster <its local path or volume>" `
                -ErrorAction Continue
            exit 1
        }
        $ReverseMaster = $original.Slave
    }
    if (-not $ReverseSlave) { $ReverseSlave = $original.Master }
    if (-not $PSCmdlet.ShouldProcess("$Name ($($original.Master) -> $($original.Slave))", "fail over: stop it and create $ReverseName ($ReverseMaster -> $ReverseSlave)")) { return }

    if (-not $MasterLost -and -not (Wait-Checkpoint $Name)) { exit 2 }
    Stop-GeoSyncReplication -Name $Name -Confirm:$false @common | Out-Null
    if (-not (Get-GeoSyncReplication -Name $ReverseName @common -ErrorAction SilentlyContinue)) {
        New-GeoSyncReplication -Name $ReverseName -Master $ReverseMaster -Slave $ReverseSlave @common | Out-Null
    }
    if ($StartReverse) { Start-Reverse }
    [pscustomobject]@{
        PSTypeName = 'GeoSync.Runbook.Failover'
        Action     = 'Failover'
        Promoted   = $original.Slave
        Stopped    = $Name
        Reverse    = $ReverseName
        Started    = [bool] $StartReverse
        WaitedForCheckpoint = -not $MasterLost
    }
    exit 0
}

if (-not (Get-GeoSyncReplication -Name $ReverseName @common -ErrorAction SilentlyContinue)) {
    Write-Error -ErrorId 'RunbookNoReverse' -Category ObjectNotFound -TargetObject $ReverseName `
        -Message "there is no reverse replication '$ReverseName' to fail back from; give -ReverseName, or start '$Name' if nothing was written during the failover" `
        -ErrorAction Continue
    exit 1
}
if ($Action -eq 'StartReverse') {
    if (-not $PSCmdlet.ShouldProcess($ReverseName, 'force its first turn into the old master, then start it')) { return }
    Start-Reverse
    Get-GeoSyncStatus -Name $ReverseName @common
    exit 0
}
if (-not $PSCmdlet.ShouldProcess("$Name ($($original.Master) -> $($original.Slave))", "fail back: drain and remove $ReverseName, start $Name")) { return }
$reverseState = "$((Get-GeoSyncStatus -Name $ReverseName @common).State)"
if ($reverseState -notin 'Active', 'Starting') { Start-Reverse }
if (-not (Wait-Checkpoint $ReverseName)) { exit 2 }
Stop-GeoSyncReplication -Name $ReverseName -Confirm:$false @common | Out-Null
Remove-GeoSyncReplication -Name $ReverseName -Confirm:$false @common
Start-GeoSyncReplication -Name $Name @common | Out-Null
[pscustomobject]@{
    PSTypeName = 'GeoSync.Runbook.Failover'
    Action     = 'Failback'
    Promoted   = $original.Master
    Stopped    = $ReverseName
    Reverse    = $null
    Started    = $true
    WaitedForCheckpoint = $true
}
exit 0
