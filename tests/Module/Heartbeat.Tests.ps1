# The worker's heartbeat: the session touches it when the slave answers a keep-alive, the loop at every turn end.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
}

Describe 'the heartbeat file' {
    BeforeEach {
        $script:Master = Join-Path $TestDrive "m$([guid]::NewGuid().ToString('n'))"
        $script:Slave = Join-Path $TestDrive "s$([guid]::NewGuid().ToString('n'))"
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        Set-Content -LiteralPath (Join-Path $Master 'a.txt') -Value 'a'
        $script:Heartbeat = Join-Path $TestDrive "beat$([guid]::NewGuid().ToString('n'))/heartbeat"
    }

    It 'Start-GeoSyncSession -HeartbeatPath touches it on each keep-alive answer' {
        $session = Start-GeoSyncSession -Master $Master -Slave "file://$Slave" -HeartbeatPath $Heartbeat -Timeout 2 -Confirm:$false
        try {
            # The first keep-alive goes out while the session opens; then one every second (half of -Timeout).
            Test-Path -LiteralPath $Heartbeat | Should -BeTrue
            $first = (Get-Item -LiteralPath $Heartbeat).LastWriteTimeUtc
            Start-Sleep -Seconds 3
            (Get-Item -LiteralPath $Heartbeat).LastWriteTimeUtc | Should -BeGreaterThan $first
            $session.KeepAlivesSent | Should -BeGreaterThan 1
        }
        finally {
            Stop-GeoSyncSession -InputObject $session -Confirm:$false
        }
    }

    It 'Invoke-GeoSyncMaster -HeartbeatPath touches it at every turn end' {
        $state = Join-Path $TestDrive "state$([guid]::NewGuid().ToString('n'))"
        $before = [DateTime]::UtcNow
        # -Timeout 0: no keep-alives, so the loop alone touches it: when it starts and after each of the four turns. The
        # first turn copies a.txt and is followed at once by the next; turns 2 and 3 find nothing and are each followed
        # by a second's pause, so the last turn ends two seconds or more after the start.
        $null = Invoke-GeoSyncMaster -Master $Master -Slave "file://$Slave" -StateDirectory $state -HeartbeatPath $Heartbeat -Timeout 0 -MaxTurns 4 -Interval 1 -Confirm:$false
        $lastBeat = (Get-Item -LiteralPath $Heartbeat).LastWriteTimeUtc
        ($lastBeat - $before).TotalSeconds | Should -BeGreaterThan 1.9 -Because 'the last turn end touched it, not only the start'
        Test-Path -LiteralPath (Join-Path $Slave 'a.txt') | Should -BeTrue
    }
}
