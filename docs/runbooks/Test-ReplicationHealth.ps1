#Requires -Version 7.4
#Requires -Modules GeoSync
<#
.SYNOPSIS
    Checks the lag, failures and state of replications against thresholds, for a monitoring system or cron.

.DESCRIPTION
    Writes one object per replication (Name, Status, Reasons, State, LagSeconds, Failures, Restarts, LastError, Hint)
    and exits with the worst status, in the convention monitoring systems share (Nagios, Icinga, Zabbix' external
    checks): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no replication matched, or the status could not be read).

    CRITICAL: the replication is Faulty, Failed or Defunct; or stopped when it should run; or its lag is beyond
    -CriticalLagSeconds; or more files failed than -MaxFailures. WARNING: lag beyond -WarningLagSeconds, Paused, a first
    sync still running, or restarts since the last check beyond -MaxRestarts. A replication whose first sync has not
    completed has no lag yet: it is judged by its state alone.

    -AsJson writes one JSON document instead of objects, for tools that read stdout.

.PARAMETER Name
    The replications to check (wildcards); all by default.

.PARAMETER WarningLagSeconds
    Lag that makes a WARNING; 300 by default.

.PARAMETER CriticalLagSeconds
    Lag that makes a CRITICAL; 3600 by default.

.PARAMETER MaxFailures
    Files still failing that are tolerated; 0 by default.

.PARAMETER MaxRestarts
    Worker restarts tolerated in total before a WARNING; unlimited by default.

.PARAMETER AllowStopped
    A Stopped replication is OK (it was stopped on purpose) rather than CRITICAL.

.PARAMETER AsJson
    Write one JSON document (the objects and the overall status) instead of objects.

.PARAMETER StateDirectory
    The state directory, when not the default.

.EXAMPLE
    ./Test-ReplicationHealth.ps1 -WarningLagSeconds 120 -CriticalLagSeconds 900; exit $LASTEXITCODE

.EXAMPLE
    pwsh -NoProfile -File Test-ReplicationHealth.ps1 -Name 'mvol-*' -AsJson
#>
[CmdletBinding()]
param(
    [string[]] $Name = @('*'),
    [ValidateRange(0, [int]::MaxValue)] [int] $WarningLagSeconds = 300,
    [ValidateRange(0, [int]::MaxValue)] [int] $CriticalLagSeconds = 3600,
    [ValidateRange(0, [int]::MaxValue)] [int] $MaxFailures = 0,
    [ValidateRange(0, [int]::MaxValue)] [int] $MaxRestarts = [int]::MaxValue,
    [switch] $AllowStopped,
    [switch] $AsJson,
    [string] $StateDirectory
)

$ErrorActionPreference = 'Stop'
$common = @{}
if ($StateDirectory) { $common.StateDirectory = $StateDirectory }
$levels = @{ OK = 0; WARNING = 1; CRITICAL = 2; UNKNOWN = 3 }

try {
    $statuses = @(Get-GeoSyncStatus @common | Where-Object {
            $status = $_
            $status.Name -and @($Name | Where-Object { $status.Name -like $_ }).Count -gt 0
        })
}
catch {
    $statuses = $null
    $readError = $_.Exception.Message
}

$results = foreach ($status in $statuses) {
    $reasons = [System.Collections.Generic.List[string]]::new()
    $verdict = @{ Level = 'OK' }
    $raise = {
        param($level, $reason)
        $reasons.Add($reason)
        if ($levels[$level] -gt $levels[$verdict.Level]) { $verdict.Level = $level }
    }
    switch ($status.State) {
        { $_ -in 'Faulty', 'Failed', 'Defunct' } { & $raise 'CRITICAL' "state $_$(if ($status.LastError) { ": $($status.LastError)" })" }
        'Stopped' { if (-not $AllowStopped) { & $raise 'CRITICAL' 'state Stopped' } }
        'Created' { if (-not $AllowStopped) { & $raise 'CRITICAL' 'never started' } }
        'Paused' { & $raise 'WARNING' 'state Paused' }
    }
    if ($null -ne $status.LagSeconds) {
        if ($status.LagSeconds -gt $CriticalLagSeconds) { & $raise 'CRITICAL' "lag $([int]$status.LagSeconds) s > $CriticalLagSeconds s" }
        elseif ($status.LagSeconds -gt $WarningLagSeconds) { & $raise 'WARNING' "lag $([int]$status.LagSeconds) s > $WarningLagSeconds s" }
    }
    elseif ($status.State -in 'Active', 'Starting') {
        & $raise 'WARNING' 'first sync not completed yet'
    }
    if ($status.Failures -gt $MaxFailures) { & $raise 'CRITICAL' "$($status.Failures) files failing > $MaxFailures" }
    if ($status.Restarts -gt $MaxRestarts) { & $raise 'WARNING' "$($status.Restarts) restarts > $MaxRestarts" }
    [pscustomobject]@{
        PSTypeName = 'GeoSync.Runbook.Health'
        Name       = $status.Name
        Status     = $verdict.Level
        Reasons    = @($reasons)
        State      = "$($status.State)"
        LagSeconds = $status.LagSeconds
        Failures   = $status.Failures
        Restarts   = $status.Restarts
        LastError  = $status.LastError
        Hint       = $status.Hint
    }
}
$results = @($results)

$overall = if ($null -eq $statuses) { 'UNKNOWN' }
elseif ($results.Count -eq 0) { 'UNKNOWN' }
else { ($results.Status | Sort-Object { $levels[$_] } -Descending | Select-Object -First 1) }

if ($AsJson) {
    [ordered]@{
        Status       = $overall
        Checked      = [DateTimeOffset]::UtcNow.ToString('o')
        Message      = if ($null -eq $statuses) { "status unreadable: $readError" } elseif ($results.Count -eq 0) { "no replication matches $($Name -join ', ')" } else { $null }
        Replications = $results
    } | ConvertTo-Json -Depth 4
}
else {
    if ($null -eq $statuses) { Write-Warning "status unreadable: $readError" }
    elseif ($results.Count -eq 0) { Write-Warning "no replication matches $($Name -join ', ')" }
    $results
}
exit $levels[$overall]
