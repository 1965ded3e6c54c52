# Two runbooks run for real: set-up and the health check against directories with the real supervisor, rsync and
# state files, then the maintenance window; and set-up of a GlusterFS master on the testbed.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')
    $script:SkipGluster = Test-SkipGlusterTest
}

BeforeAll {
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $script:Runbooks = (Resolve-Path (Join-Path $PSScriptRoot '../../docs/runbooks')).Path

    function New-Tree([string] $Path, [int] $Count) {
        New-Item -ItemType Directory -Path (Join-Path $Path 'sub') -Force | Out-Null
        foreach ($i in 1..$Count) { Set-Content -LiteralPath (Join-Path $Path "sub/f$i.txt") -Value "file $i" -NoNewline }
    }

    function Get-Listing([string] $Path) {
        Get-ChildItem -LiteralPath $Path -Recurse -Force | Where-Object { $_.Name -notlike '.glusterfs*' -and $_.Name -ne '.trashcan' } |
            ForEach-Object { '{0} {1}' -f $_.FullName.Substring($Path.Length), $(if ($_.PSIsContainer) { 'd' } else { $_.Length }) } |
            Sort-Object
    }
}

Describe 'The runbooks for real, directory master' {
    BeforeAll {
        $script:Root = Join-Path ([IO.Path]::GetTempPath()) "geosync-runbook-$PID"
        $script:State = Join-Path $Root 'state'
        $script:M = Join-Path $Root 'master'
        $script:S = Join-Path $Root 'slave'
        New-Item -ItemType Directory -Path $State, $M, $S -Force | Out-Null
        New-Tree $M 200
    }

    AfterAll {
        Stop-GeoSyncReplication -Name rb-dir -StateDirectory $State -Confirm:$false -ErrorAction SilentlyContinue | Out-Null
        Remove-Item -LiteralPath $Root -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'Initialize-Replication sets the pair up and returns once the first sync arrived' {
        $out = & "$Runbooks/Initialize-Replication.ps1" -Name rb-dir -Master "file://$M" -Slave "file://$S" -StateDirectory $State -TimeoutSeconds 120
        $LASTEXITCODE | Should -Be 0
        ($out | Where-Object { $_.PSObject.Properties['Passed'] }).Passed | Should -Not -Contain $false
        Get-Listing $S | Should -Be (Get-Listing $M)
        (Get-GeoSyncStatus -Name rb-dir -StateDirectory $State).State | Should -Be 'Active'
    }

    It 'Test-ReplicationHealth says OK for a running replication, with its lag' {
        $json = (& "$Runbooks/Test-ReplicationHealth.ps1" -StateDirectory $State -AsJson) -join "`n" | ConvertFrom-Json
        $LASTEXITCODE | Should -Be 0
        $json.Replications[0].Name | Should -Be 'rb-dir'
        $json.Replications[0].LagSeconds | Should -BeLessThan 60
    }

    It 'Invoke-MaintenanceWindow pauses after a checkpoint and catches up after resuming' {
        Set-Content -LiteralPath (Join-Path $M 'before.txt') -Value 'before'
        & "$Runbooks/Invoke-MaintenanceWindow.ps1" -Name rb-dir -Phase Begin -StateDirectory $State -TimeoutSeconds 60 | Out-Null
        $LASTEXITCODE | Should -Be 0
        Test-Path -LiteralPath (Join-Path $S 'before.txt') | Should -BeTrue
        (Get-GeoSyncStatus -Name rb-dir -StateDirectory $State).State | Should -Be 'Paused'

        Set-Content -LiteralPath (Join-Path $M 'during.txt') -Value 'during'
        Start-Sleep -Seconds 3
        Test-Path -LiteralPath (Join-Path $S 'during.txt') | Should -BeFalse

        & "$Runbooks/Invoke-MaintenanceWindow.ps1" -Name rb-dir -Phase End -StateDirectory $State -TimeoutSeconds 60 | Out-Null
        $LASTEXITCODE | Should -Be 0
        Wait-Condition { Test-Path -LiteralPath (Join-Path $S 'during.txt') } -Seconds 30 | Should -BeTrue
        $stopped = & "$Runbooks/Test-ReplicationHealth.ps1" -StateDirectory $State
        $stopped.Status | Should -Be 'OK'
    }
}

Describe 'The set-up runbook on the GlusterFS testbed' -Tag 'Gluster' -Skip:$SkipGluster {
    BeforeAll {
        $script:Tb = Import-GlusterTestbed
        $script:Root = Join-Path ([IO.Path]::GetTempPath()) "geosync-runbook-gl-$PID"
        $script:State = Join-Path $Root 'state'
        $script:S = Join-Path $Root 'slave'
        New-Item -ItemType Directory -Path $State, $S -Force | Out-Null
        $script:Normal = Mount-TestbedVolume -Testbed $Tb -Volume $Tb.MVOL -Name "runbook-normal-$PID"
        New-Item -ItemType Directory -Path (Join-Path $Normal "runbook-$PID") -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $Normal "runbook-$PID/hello.txt") -Value 'hello'
    }

    AfterAll {
        Stop-GeoSyncReplication -Name rb-gl -StateDirectory $State -Confirm:$false -ErrorAction SilentlyContinue | Out-Null
        Remove-Item -LiteralPath (Join-Path $Normal "runbook-$PID") -Recurse -Force -ErrorAction SilentlyContinue
        Dismount-TestbedVolume -MountPoint $Normal
        Remove-Item -LiteralPath $Root -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'replicates mvol to a directory and returns once the first sync arrived' {
        $out = & "$Runbooks/Initialize-Replication.ps1" -Name rb-gl -Master "gluster://$($Tb.SERVER):$($Tb.MVOL)" -Slave "file://$S" `
            -Option @{ NetworkNamespace = $Tb.NETNS } -StateDirectory $State -TimeoutSeconds 300
        $LASTEXITCODE | Should -Be 0
        ($out | Where-Object { $_.PSObject.Properties['Passed'] } | Where-Object Name -eq 'MasterReadable').Detail | Should -Match 'volume'
        Get-Content -LiteralPath (Join-Path $S "runbook-$PID/hello.txt") | Should -Be 'hello'
        Get-Listing $S | Should -Be (Get-Listing $Normal)
    }
}
