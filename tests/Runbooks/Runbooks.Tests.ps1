# The runbooks' decisions, with every cluster-facing command mocked: which commands run, in which order, with what,
# and the exit code and objects each outcome gives. Runbooks.Real.Tests.ps1 runs two of them for real.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $script:Runbooks = (Resolve-Path (Join-Path $PSScriptRoot '../../docs/runbooks')).Path

    function New-Status {
        param([string] $Name = 'r1', [string] $State = 'Active', $LagSeconds = 5, [int] $Failures = 0, [int] $Restarts = 0, [string] $LastError)
        [pscustomobject]@{ Name = $Name; State = $State; LagSeconds = $LagSeconds; Failures = $Failures; Restarts = $Restarts; LastError = $LastError; Hint = $null }
    }

    function New-Check {
        param([string] $Name, [bool] $Passed = $true, [string] $Detail = 'ok', [string] $Hint)
        [pscustomobject]@{ Name = $Name; Passed = $Passed; Result = $(if ($Passed) { 'Passed' } else { 'Failed' }); Detail = $Detail; Hint = $Hint }
    }
}

Describe 'Initialize-Replication' {
    BeforeEach {
        Mock Get-GeoSyncReplication { }
        Mock New-GeoSyncReplication { [pscustomobject]@{ Name = $Name } }
        Mock Remove-GeoSyncReplication { }
        Mock Test-GeoSyncReplication { New-Check MasterReadable; New-Check SlaveEmptyOrReplica }
        Mock Start-GeoSyncReplication { }
        Mock Stop-GeoSyncReplication { }
        Mock Set-GeoSyncCheckpoint { }
        Mock Wait-GeoSyncCheckpoint { }
        Mock Get-GeoSyncStatus { New-Status }
    }

    It 'creates, checks, starts and waits for a checkpoint set before it started, then exits 0' {
        $before = [DateTimeOffset]::UtcNow
        $out = & "$Runbooks/Initialize-Replication.ps1" -Name r1 -Master file:///m -Slave file:///s -Option @{ SyncJobs = 2 }
        $LASTEXITCODE | Should -Be 0
        Should -Invoke New-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'r1' -and $Master -eq 'file:///m' -and $SyncJobs -eq 2 }
        Should -Invoke Start-GeoSyncReplication -Times 1 -Exactly
        Should -Invoke Set-GeoSyncCheckpoint -Times 1 -Exactly -ParameterFilter { $At -ge $before -and $At -le [DateTimeOffset]::UtcNow }
        Should -Invoke Wait-GeoSyncCheckpoint -Times 1 -Exactly -ParameterFilter { $Timeout -eq 3600 }
        $out[-1].State | Should -Be 'Active'
    }

    It 'stops at a failed preflight check, removes what it created and exits 1 without starting' {
        Mock Test-GeoSyncReplication { New-Check MasterReadable; New-Check NoOverlap -Passed $false -Detail 'the slave is inside the master' -Hint 'move it' }
        & "$Runbooks/Initialize-Replication.ps1" -Name r1 -Master file:///m -Slave file:///m/s -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 1
        ($errors.FullyQualifiedErrorId -replace ',.*$') | Should -Contain 'RunbookPreflightFailed'
        "$errors" | Should -Match 'inside the master'
        Should -Invoke Remove-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'r1' -and $Force }
        Should -Invoke Start-GeoSyncReplication -Times 0 -Exactly
    }

    It 'reuses a replication of the same pair and never removes it on a failed check' {
        Mock Get-GeoSyncReplication { [pscustomobject]@{ Name = 'r1'; Master = 'file:///m'; Slave = 'file:///s' } }
        Mock Test-GeoSyncReplication { New-Check SlaveWritable -Passed $false }
        & "$Runbooks/Initialize-Replication.ps1" -Name r1 -Master file:///m -Slave file:///s -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 1
        Should -Invoke New-GeoSyncReplication -Times 0 -Exactly
        Should -Invoke Remove-GeoSyncReplication -Times 0 -Exactly
    }

    It 'refuses a name taken by another pair and touches nothing' {
        Mock Get-GeoSyncReplication { [pscustomobject]@{ Name = 'r1'; Master = 'file:///other'; Slave = 'file:///s' } }
        & "$Runbooks/Initialize-Replication.ps1" -Name r1 -Master file:///m -Slave file:///s -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 1
        ($errors.FullyQualifiedErrorId -replace ',.*$') | Should -Contain 'RunbookReplicationMismatch'
        Should -Invoke Test-GeoSyncReplication -Times 0 -Exactly
        Should -Invoke Start-GeoSyncReplication -Times 0 -Exactly
    }

    It 'exits 2 when the first sync does not complete in time, leaving the replication running' {
        Mock Wait-GeoSyncCheckpoint { throw 'timed out' }
        & "$Runbooks/Initialize-Replication.ps1" -Name r1 -Master file:///m -Slave file:///s -TimeoutSeconds 5 -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 2
        ($errors.FullyQualifiedErrorId -replace ',.*$') | Should -Contain 'RunbookFirstSyncTimeout'
        Should -Invoke Stop-GeoSyncReplication -Times 0 -Exactly
    }

    It 'with -WhatIf creates nothing' {
        & "$Runbooks/Initialize-Replication.ps1" -Name r1 -Master file:///m -Slave file:///s -WhatIf | Out-Null
        Should -Invoke New-GeoSyncReplication -Times 0 -Exactly
        Should -Invoke Start-GeoSyncReplication -Times 0 -Exactly
    }
}

Describe 'Test-ReplicationHealth' {
    It 'is OK (exit 0) when every replication is Active within the lag bounds' {
        Mock Get-GeoSyncStatus { New-Status -Name a; New-Status -Name b -LagSeconds 100 }
        $out = & "$Runbooks/Test-ReplicationHealth.ps1"
        $LASTEXITCODE | Should -Be 0
        $out.Status | Should -Be @('OK', 'OK')
    }

    It 'warns (exit 1) beyond the warning lag and names the reason' {
        Mock Get-GeoSyncStatus { New-Status -Name a -LagSeconds 400 }
        $out = & "$Runbooks/Test-ReplicationHealth.ps1" -WarningLagSeconds 300
        $LASTEXITCODE | Should -Be 1
        $out.Reasons | Should -Match 'lag 400 s > 300 s'
    }

    It 'is CRITICAL (exit 2) for a Faulty replication, beyond the critical lag, or with failures, and the worst wins' {
        Mock Get-GeoSyncStatus {
            New-Status -Name ok
            New-Status -Name faulty -State Faulty -LastError 'slave gone'
            New-Status -Name behind -LagSeconds 7200
            New-Status -Name failing -Failures 3
        }
        $out = & "$Runbooks/Test-ReplicationHealth.ps1"
        $LASTEXITCODE | Should -Be 2
        ($out | Where-Object Name -eq faulty).Reasons | Should -Match 'Faulty: slave gone'
        ($out | Where-Object Name -eq behind).Status | Should -Be 'CRITICAL'
        ($out | Where-Object Name -eq failing).Reasons | Should -Match '3 files failing'
        ($out | Where-Object Name -eq ok).Status | Should -Be 'OK'
    }

    It 'treats Stopped as CRITICAL unless -AllowStopped' {
        Mock Get-GeoSyncStatus { New-Status -Name a -State Stopped -LagSeconds $null }
        & "$Runbooks/Test-ReplicationHealth.ps1" | Out-Null
        $LASTEXITCODE | Should -Be 2
        & "$Runbooks/Test-ReplicationHealth.ps1" -AllowStopped | Out-Null
        $LASTEXITCODE | Should -Be 0
    }

    It 'warns while a first sync has no lag yet' {
        Mock Get-GeoSyncStatus { New-Status -Name a -LagSeconds $null }
        (& "$Runbooks/Test-ReplicationHealth.ps1").Reasons | Should -Match 'first sync'
        $LASTEXITCODE | Should -Be 1
    }

    It 'is UNKNOWN (exit 3) when no replication matches or the status cannot be read' {
        Mock Get-GeoSyncStatus { New-Status -Name a }
        & "$Runbooks/Test-ReplicationHealth.ps1" -Name 'zz*' -WarningAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 3
        Mock Get-GeoSyncStatus { throw 'state directory unreadable' }
        $json = & "$Runbooks/Test-ReplicationHealth.ps1" -AsJson | ConvertFrom-Json
        $LASTEXITCODE | Should -Be 3
        $json.Message | Should -Match 'unreadable'
    }

    It 'writes one JSON document for monitoring systems' {
        Mock Get-GeoSyncStatus { New-Status -Name a -LagSeconds 10; New-Status -Name b -State Paused }
        $json = (& "$Runbooks/Test-ReplicationHealth.ps1" -AsJson) -join "`n" | ConvertFrom-Json
        $json.Status | Should -Be 'WARNING'
        $json.Replications.Name | Should -Be @('a', 'b')
        $json.Checked | Should -Not -BeNullOrEmpty
    }
}

Describe 'Invoke-MaintenanceWindow' {
    BeforeEach {
        Mock Set-GeoSyncCheckpoint { }
        Mock Wait-GeoSyncCheckpoint { }
        Mock Suspend-GeoSyncReplication { }
        Mock Resume-GeoSyncReplication { }
        Mock Get-GeoSyncStatus { New-Status -State Paused }
    }

    It 'Begin: checkpoint, wait, then pause' {
        & "$Runbooks/Invoke-MaintenanceWindow.ps1" -Name r1 -Phase Begin | Out-Null
        $LASTEXITCODE | Should -Be 0
        Should -Invoke Set-GeoSyncCheckpoint -Times 1 -Exactly
        Should -Invoke Wait-GeoSyncCheckpoint -Times 1 -Exactly -ParameterFilter { $Timeout -eq 900 }
        Should -Invoke Suspend-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'r1' }
    }

    It 'Begin: does not pause when the checkpoint does not arrive, exit 2' {
        Mock Wait-GeoSyncCheckpoint { throw 'timeout' }
        & "$Runbooks/Invoke-MaintenanceWindow.ps1" -Name r1 -Phase Begin -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 2
        ($errors.FullyQualifiedErrorId -replace ',.*$') | Should -Contain 'RunbookCheckpointTimeout'
        Should -Invoke Suspend-GeoSyncReplication -Times 0 -Exactly
    }

    It 'End: resumes and waits for Active' {
        $script:calls = 0
        Mock Get-GeoSyncStatus { $script:calls++; New-Status -State $(if ($script:calls -lt 3) { 'Paused' } else { 'Active' }) }
        $out = & "$Runbooks/Invoke-MaintenanceWindow.ps1" -Name r1 -Phase End
        $LASTEXITCODE | Should -Be 0
        $out.State | Should -Be 'Active'
        Should -Invoke Resume-GeoSyncReplication -Times 1 -Exactly
    }

    It 'End: exit 1 with the last error when it does not become Active' {
        Mock Get-GeoSyncStatus { New-Status -State Faulty -LastError 'slave unreachable' }
        & "$Runbooks/Invoke-MaintenanceWindow.ps1" -Name r1 -Phase End -TimeoutSeconds 1 -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 1
        "$errors" | Should -Match 'slave unreachable'
    }
}

Describe 'Invoke-Failover' {
    BeforeEach {
        Mock Get-GeoSyncReplication { [pscustomobject]@{ Name = 'site'; Master = 'file:///a'; Slave = 'file:///b' } } -ParameterFilter { $Name -eq 'site' }
        Mock Get-GeoSyncReplication { } -ParameterFilter { $Name -eq 'site-reverse' }
        Mock Set-GeoSyncCheckpoint { }
        Mock Wait-GeoSyncCheckpoint { }
        Mock Stop-GeoSyncReplication { }
        Mock Start-GeoSyncReplication { }
        Mock New-GeoSyncReplication { }
        Mock Remove-GeoSyncReplication { }
        Mock Invoke-GeoSyncMaster { }
        Mock Get-GeoSyncStatus { New-Status -Name site-reverse -State Stopped }
    }

    It 'Failover: drains with a checkpoint, stops, and creates the reverse pair without starting it' {
        $out = & "$Runbooks/Invoke-Failover.ps1" -Name site -Action Failover -Confirm:$false
        $LASTEXITCODE | Should -Be 0
        Should -Invoke Wait-GeoSyncCheckpoint -Times 1 -Exactly
        Should -Invoke Stop-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'site' }
        Should -Invoke New-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'site-reverse' -and $Master -eq 'file:///b' -and $Slave -eq 'file:///a' }
        Should -Invoke Start-GeoSyncReplication -Times 0 -Exactly
        $out.Promoted | Should -Be 'file:///b'
    }

    It 'Failover with -MasterLost promotes without waiting, and -StartReverse starts the reverse pair' {
        & "$Runbooks/Invoke-Failover.ps1" -Name site -Action Failover -MasterLost -StartReverse -Confirm:$false | Out-Null
        Should -Invoke Wait-GeoSyncCheckpoint -Times 0 -Exactly
        Should -Invoke Invoke-GeoSyncMaster -Times 1 -Exactly -ParameterFilter { $Replication -eq 'site-reverse' -and $Once -and $Force }
        Should -Invoke Start-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'site-reverse' }
    }

    It 'StartReverse forces only the first turn of the reverse pair, then starts it' {
        Mock Get-GeoSyncReplication { [pscustomobject]@{ Name = 'site-reverse'; Master = 'file:///b'; Slave = 'file:///a' } } -ParameterFilter { $Name -eq 'site-reverse' }
        & "$Runbooks/Invoke-Failover.ps1" -Name site -Action StartReverse -Confirm:$false | Out-Null
        $LASTEXITCODE | Should -Be 0
        Should -Invoke Invoke-GeoSyncMaster -Times 1 -Exactly -ParameterFilter { $Replication -eq 'site-reverse' -and $Once -and $Force }
        Should -Invoke Start-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'site-reverse' }
        Should -Invoke Stop-GeoSyncReplication -Times 0 -Exactly
    }

    It 'Failover refuses an ssh slave as the reverse master unless -ReverseMaster is given' {
        Mock Get-GeoSyncReplication { [pscustomobject]@{ Name = 'site'; Master = 'file:///a'; Slave = 'ssh://dr1:/srv/b' } } -ParameterFilter { $Name -eq 'site' }
        & "$Runbooks/Invoke-Failover.ps1" -Name site -Action Failover -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 1
        ($errors.FullyQualifiedErrorId -replace ',.*$') | Should -Contain 'RunbookReverseMasterNeeded'
        Should -Invoke Stop-GeoSyncReplication -Times 0 -Exactly
    }

    It 'Failover does not stop the pair when the drain times out' {
        Mock Wait-GeoSyncCheckpoint { throw 'timeout' }
        & "$Runbooks/Invoke-Failover.ps1" -Name site -Action Failover -Confirm:$false -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 2
        Should -Invoke Stop-GeoSyncReplication -Times 0 -Exactly
    }

    It 'Failback: drains the reverse pair, removes it, and starts the original' {
        Mock Get-GeoSyncReplication { [pscustomobject]@{ Name = 'site-reverse'; Master = 'file:///b'; Slave = 'file:///a' } } -ParameterFilter { $Name -eq 'site-reverse' }
        & "$Runbooks/Invoke-Failover.ps1" -Name site -Action Failback -Confirm:$false | Out-Null
        $LASTEXITCODE | Should -Be 0
        Should -Invoke Start-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'site-reverse' }
        Should -Invoke Wait-GeoSyncCheckpoint -Times 1 -Exactly -ParameterFilter { $Name -eq 'site-reverse' }
        Should -Invoke Remove-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'site-reverse' }
        Should -Invoke Start-GeoSyncReplication -Times 1 -Exactly -ParameterFilter { $Name -eq 'site' }
    }

    It 'Failback without a reverse pair is refused' {
        & "$Runbooks/Invoke-Failover.ps1" -Name site -Action Failback -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 1
        ($errors.FullyQualifiedErrorId -replace ',.*$') | Should -Contain 'RunbookNoReverse'
        Should -Invoke Start-GeoSyncReplication -Times 0 -Exactly
    }
}

Describe 'Repair-Replication' {
    BeforeEach {
        Mock Get-GeoSyncReplication { [pscustomobject]@{ Name = 'r1'; Master = 'file:///m'; Slave = 'file:///s' } }
        Mock Get-GeoSyncStatus { New-Status -State Stopped }
        Mock Get-GeoSyncLog { }
        Mock Test-GeoSyncReplication { New-Check SlaveEmptyOrReplica }
        Mock Invoke-GeoSyncMaster { }
        Mock Start-GeoSyncReplication { }
        Mock Stop-GeoSyncReplication { }
        Mock Resume-GeoSyncReplication { }
        Mock Suspend-GeoSyncReplication { }
        Mock Set-GeoSyncCheckpoint { }
        Mock Wait-GeoSyncCheckpoint { }
        Mock Test-GeoSyncReplica { }
    }

    It 'after an outage: starts, waits, pauses to verify, resumes; exit 0 when whole' {
        $out = & "$Runbooks/Repair-Replication.ps1" -Name r1 -Confirm:$false
        $LASTEXITCODE | Should -Be 0
        $out.Whole | Should -BeTrue
        Should -Invoke Start-GeoSyncReplication -Times 1 -Exactly
        Should -Invoke Suspend-GeoSyncReplication -Times 1 -Exactly
        Should -Invoke Test-GeoSyncReplica -Times 1 -Exactly -ParameterFilter { -not $Repair }
        Should -Invoke Resume-GeoSyncReplication -Times 1 -Exactly
        Should -Invoke Test-GeoSyncReplication -Times 0 -Exactly
    }

    It 'a lost slave holding foreign data is refused by the preflight unless -AcceptRestoredSlave, which forces only one first turn' {
        Mock Test-GeoSyncReplication { New-Check SlaveEmptyOrReplica -Passed $false -Detail 'holds 3 entries' -Hint 'use --force' }
        & "$Runbooks/Repair-Replication.ps1" -Name r1 -SlaveLost -Confirm:$false -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 1
        Should -Invoke Start-GeoSyncReplication -Times 0 -Exactly

        & "$Runbooks/Repair-Replication.ps1" -Name r1 -SlaveLost -AcceptRestoredSlave -Confirm:$false | Out-Null
        $LASTEXITCODE | Should -Be 0
        Should -Invoke Invoke-GeoSyncMaster -Times 1 -Exactly -ParameterFilter { $Replication -eq 'r1' -and $Once -and $Force }
        Should -Invoke Start-GeoSyncReplication -Times 1 -Exactly
    }

    It 'repairs differences and exits 4 when some remain' {
        Mock Test-GeoSyncReplica { [pscustomobject]@{ PSTypeName = 'GeoSync.PowerShell.GeoSyncReplicaDifference'; Path = 'a.txt'; Kind = 'Size' } }
        & "$Runbooks/Repair-Replication.ps1" -Name r1 -Confirm:$false -WarningAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 4
        Should -Invoke Test-GeoSyncReplica -Times 1 -Exactly -ParameterFilter { $Repair }
        Should -Invoke Resume-GeoSyncReplication -Times 1 -Exactly
    }
}
