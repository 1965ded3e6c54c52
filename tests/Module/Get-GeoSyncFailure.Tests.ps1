BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force

    # Real failures need a slave directory that refuses writes even to root: a read-only bind mount of it.
    $script:Mounts = [System.Collections.Generic.List[string]]::new()
    function Mount-ReadOnly {
        param([Parameter(Mandatory)] [string] $Path)
        mount --bind $Path $Path
        if ($LASTEXITCODE) { throw "mount --bind $Path failed" }
        $Mounts.Add($Path)
        mount -o remount,bind,ro $Path
        if ($LASTEXITCODE) { throw "mount -o remount,bind,ro $Path failed" }
    }
    function Dismount-Test {
        param([Parameter(Mandatory)] [string] $Path)
        if ($Mounts.Remove($Path)) {
            umount $Path
            if ($LASTEXITCODE) { throw "umount $Path failed" }
        }
    }
}

AfterAll {
    foreach ($path in @($Mounts)) { umount -l $path }
}

Describe 'Entries that do not reach the slave' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $script:State = Join-Path $Case 'state'
        $null = New-Item -ItemType Directory -Path (Join-Path $Master 'ro'), (Join-Path $Slave 'ro'), $State
        Set-Content -LiteralPath (Join-Path $Master 'ok.txt') -Value 'ok' -NoNewline
        Set-Content -LiteralPath (Join-Path $Master 'ro/a.txt') -Value 'a' -NoNewline
        Set-Content -LiteralPath (Join-Path $Master 'ro/b.txt') -Value 'b' -NoNewline
        Mount-ReadOnly -Path (Join-Path $Slave 'ro')
    }

    AfterEach {
        Get-GeoSyncSession | Stop-GeoSyncSession -Confirm:$false
        Dismount-Test -Path (Join-Path $Slave 'ro')
    }

    It 'Invoke-GeoSyncCrawl writes the turn, then one EntryNotSynced error per failed path with the path as target' {
        $session = Start-GeoSyncSession -Master "file://$Master" -Slave "file://$Slave" -Force

        $stream = @(Invoke-GeoSyncCrawl -Confirm:$false -Session $session -ErrorAction Continue -ErrorVariable failed 2>&1)

        $stream[0] | Should -BeOfType ([GeoSync.PowerShell.GeoSyncTurnResult])
        $stream[0].Failures.Path | Should -Be 'ro/a.txt', 'ro/b.txt'
        $stream[0].Converged | Should -BeFalse
        $stream[1..2] | ForEach-Object { $_ | Should -BeOfType ([System.Management.Automation.ErrorRecord]) }
        $failed | Should -HaveCount 2
        $failed.FullyQualifiedErrorId | Should -Be 'EntryNotSynced,GeoSync.PowerShell.Commands.InvokeGeoSyncCrawlCommand', 'EntryNotSynced,GeoSync.PowerShell.Commands.InvokeGeoSyncCrawlCommand'
        $failed.TargetObject | Should -Be 'ro/a.txt', 'ro/b.txt'
        # EROFS, from rsync's own message.
        $failed.CategoryInfo.Category | Should -Be 'WriteError', 'WriteError'
        $failed[0].Exception.Message | Should -Match "^'ro/a.txt' did not reach the slave: .*Read-only file system \(30\)"
        $failed[0].ErrorDetails | Should -BeNullOrEmpty -Because 'a first failure may clear by itself; only persistent ones carry a hint'
        Get-Content -LiteralPath (Join-Path $Slave 'ok.txt') -Raw | Should -Be 'ok'
    }

    It '-ErrorAction SilentlyContinue silences them and a persistent failure carries a recommended action' {
        $session = Start-GeoSyncSession -Master "file://$Master" -Slave "file://$Slave" -Force

        $quiet = @(Invoke-GeoSyncCrawl -Confirm:$false -Session $session -ErrorAction SilentlyContinue 2>&1)
        $quiet | Should -HaveCount 1
        $quiet[0].Failures | Should -HaveCount 2
        $null = Invoke-GeoSyncCrawl -Confirm:$false -Session $session -ErrorAction SilentlyContinue
        $third = Invoke-GeoSyncCrawl -Confirm:$false -Session $session -ErrorAction SilentlyContinue -ErrorVariable failed

        $third.Failures.Attempts | Should -Be 3, 3
        $third.Failures.IsPersistent | Should -Be $true, $true
        $failed | Should -HaveCount 2
        $failed[0].Exception.Message | Should -Match 'failed 3 turns in a row, persistent'
        $failed[0].ErrorDetails.RecommendedAction | Should -Match 'read-only: remount it read-write'
    }

    It 'a slave out of space fails with ResourceUnavailable' {
        $full = Join-Path $Case 'full'
        $null = New-Item -ItemType Directory -Path $full
        mount -t tmpfs -o size=64k tmpfs $full
        $Mounts.Add($full)
        try {
            # Random bytes: rsync --sparse would store zeros in no space at all.
            [System.IO.File]::WriteAllBytes((Join-Path $Master 'big.bin'), [System.Security.Cryptography.RandomNumberGenerator]::GetBytes(256KB))
            Remove-Item -LiteralPath (Join-Path $Master 'ro') -Recurse
            $session = Start-GeoSyncSession -Master "file://$Master" -Slave "file://$full" -Force

            $turn = Invoke-GeoSyncCrawl -Confirm:$false -Session $session -ErrorAction SilentlyContinue -ErrorVariable failed

            # rsync stops at the full write (exit 11): which files of its batch arrived cannot be told, so all are retried.
            $turn.Failures.Path | Should -Contain 'big.bin'
            $turn.Failures.Errno | Sort-Object -Unique | Should -Be 28
            $failed.TargetObject | Should -Be $turn.Failures.Path
            $failed.CategoryInfo.Category | Sort-Object -Unique | Should -Be 'ResourceUnavailable'
            $session.State | Should -Be 'Active' -Because 'a full slave is fixed by freeing space, not by a new session'

            Remove-Item -LiteralPath (Join-Path $Master 'big.bin')
            (Invoke-GeoSyncCrawl -Confirm:$false -Session $session).Converged | Should -BeTrue
            Get-Content -LiteralPath (Join-Path $full 'ok.txt') -Raw | Should -Be 'ok'
        }
        finally {
            Get-GeoSyncSession | Stop-GeoSyncSession -Confirm:$false
            Dismount-Test -Path $full
        }
    }

    It 'Invoke-GeoSyncMaster -Once writes the turn and the errors, keeps them in the ledger, and clears it once they arrive' {
        $stream = @(Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Force -Once -StateDirectory $State -ErrorVariable failed 2>&1)

        $stream[0] | Should -BeOfType ([GeoSync.PowerShell.GeoSyncTurnResult])
        $stream | Should -HaveCount 3
        ($failed.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] }) | Should -Be 'EntryNotSynced', 'EntryNotSynced'
        $failed.TargetObject | Should -Be 'ro/a.txt', 'ro/b.txt'

        $ledger = @(Get-GeoSyncFailure -Master $Master -Slave "file://$Slave" -StateDirectory $State)
        $ledger | Should -HaveCount 2
        $ledger[0].PSObject.TypeNames[0] | Should -Be 'GeoSync.Failure'
        $ledger.Path | Should -Be 'ro/a.txt', 'ro/b.txt'
        $ledger[0].Master | Should -Be "file://$Master"
        $ledger[0].Slave | Should -Be "file://$Slave"
        $failed[0].FullyQualifiedErrorId | Should -Be 'EntryNotSynced,Invoke-GeoSyncMaster'
        $ledger[0].Attempts | Should -Be 1
        $ledger[0].Persistent | Should -BeFalse
        $ledger[0].Errno | Should -Be 30
        $ledger[0].Error | Should -Match 'Read-only file system'
        $ledger[0].FirstFailed | Should -BeOfType ([DateTimeOffset])
        $ledger[0].LastFailed | Should -Be $ledger[0].FirstFailed
        Get-GeoSyncStatus -StateDirectory $State | Should -HaveCount 1 -Because 'the ledger next to the state file is not a state file'

        # A restart counts on, from the file; the third attempt makes them persistent, with a hint.
        $null = Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Force -Once -StateDirectory $State -ErrorAction SilentlyContinue
        $null = Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Force -Once -StateDirectory $State -ErrorAction SilentlyContinue
        $again = @(Get-GeoSyncFailure -StateDirectory $State)
        $again.Attempts | Should -Be 3, 3
        $again.Persistent | Should -Be $true, $true
        $again[0].FirstFailed | Should -Be $ledger[0].FirstFailed
        $again[0].LastFailed | Should -BeGreaterThan $ledger[0].LastFailed
        $again[0].Hint | Should -Match 'read-only'
        # The view's fixed columns fit an 80-column console: none is dropped at that width, and the error wraps whole.
        $table = Get-GeoSyncFailure -StateDirectory $State | Format-Table | Out-String -Width 80
        $table | Should -Match '(?m)^Path\s+Attempts\s+Persistent\s+Error'
        $table | Should -Not -Match '…'
        ($table -split "`n" | Where-Object Length -GT 80) | Should -BeNullOrEmpty
        $table | Should -Match 'Pair: .*file:///'

        Dismount-Test -Path (Join-Path $Slave 'ro')
        $fixed = Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Force -Once -StateDirectory $State -ErrorVariable none
        $fixed.Converged | Should -BeTrue
        $none | Should -BeNullOrEmpty
        Get-GeoSyncFailure -StateDirectory $State | Should -BeNullOrEmpty
        Get-Content -LiteralPath (Join-Path $Slave 'ro/b.txt') -Raw | Should -Be 'b'
    }

    It 'Get-GeoSyncFailure filters by pair and reports an unreadable ledger as FailureLedgerUnreadable' {
        $null = Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Force -Once -StateDirectory $State -ErrorAction SilentlyContinue
        Set-Content -LiteralPath (Join-Path $State 'other.failures.json') -Value '{ broken'

        $found = @(Get-GeoSyncFailure -StateDirectory $State -ErrorVariable unreadable -ErrorAction SilentlyContinue)

        $found | Should -HaveCount 2
        $unreadable | Should -HaveCount 1
        $unreadable[0].FullyQualifiedErrorId | Should -BeLike 'FailureLedgerUnreadable,*'
        $unreadable[0].TargetObject | Should -Be (Join-Path $State 'other.failures.json')
        $unreadable[0].Exception.Message | Should -Match 'move it away'
        Get-GeoSyncFailure -Master 'file:///elsewhere' -StateDirectory $State -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-GeoSyncFailure -Master 'file://*master' -StateDirectory $State -ErrorAction SilentlyContinue) | Should -HaveCount 2
        Get-GeoSyncFailure -StateDirectory (Join-Path $Case 'none') | Should -BeNullOrEmpty
        { Get-GeoSyncFailure -Master 'bogus://x' -StateDirectory $State } | Should -Throw -ErrorId 'InvalidGeoSyncUrl*'
    }

    It 'Get-GeoSyncFailure -Name lists a named replication''s ledger, and geosync failures NAME prints it' {
        $null = New-GeoSyncReplication -Name r1 -Master $Master -Slave $Slave -StateDirectory $State
        $null = Invoke-GeoSyncMaster -Replication r1 -Force -Once -StateDirectory $State -ErrorAction SilentlyContinue

        $named = @(Get-GeoSyncFailure -Name r1 -StateDirectory $State)
        $named | Should -HaveCount 2
        $named.Path | Should -Be 'ro/a.txt', 'ro/b.txt'
        $named[0].Replication | Should -Be 'r1'
        $named[0].Master | Should -Be "file://$Master"
        $named[0].LedgerPath | Should -Be (Join-Path $State 'replications/r1/failures.json')
        @(Get-GeoSyncFailure -StateDirectory $State) | Should -HaveCount 2 -Because 'the pair view lists named replications too'
        @(Get-GeoSyncFailure -Name 'r*' -StateDirectory $State) | Should -HaveCount 2
        @(Get-GeoSyncReplication -Name r1 -StateDirectory $State | Get-GeoSyncFailure) | Should -HaveCount 2

        Get-GeoSyncFailure -Name nosuch -StateDirectory $State -ErrorVariable missing -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'ReplicationNotFound,*'
        $missing[0].TargetObject | Should -Be 'nosuch'

        $geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
        $lines = & $geosync failures r1 --state-dir $State 2>&1
        $LASTEXITCODE | Should -Be 0
        ($lines -join "`n") | Should -Match '(?s)Pair: r1: file://.*ro/a\.txt'
        $json = (& $geosync failures r1 --state-dir $State --json) -join "`n" | ConvertFrom-Json
        $json.Path | Should -Be 'ro/a.txt', 'ro/b.txt'
        $json[0].Replication | Should -Be 'r1'
        & $geosync failures nosuch --state-dir $State 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 1
    }
}

Describe 'Special files' {
    It 'one the slave cannot make is a failure named like any other, never dropped' {
        $master = Join-Path $TestDrive 'special-ro-master'
        $slave = Join-Path $TestDrive 'special-ro-slave'
        $null = New-Item -ItemType Directory -Path (Join-Path $master 'ro'), (Join-Path $slave 'ro')
        mkfifo (Join-Path $master 'ro/pipe')
        Mount-ReadOnly -Path (Join-Path $slave 'ro')
        try {
            $session = Start-GeoSyncSession -Master "file://$master" -Slave "file://$slave" -Force
            $turn = Invoke-GeoSyncCrawl -Confirm:$false -Session $session -ErrorAction SilentlyContinue -ErrorVariable failed
        }
        finally {
            Get-GeoSyncSession | Stop-GeoSyncSession -Confirm:$false
            Dismount-Test -Path (Join-Path $slave 'ro')
        }

        $turn.SpecialFiles | Should -Be 0
        $turn.Failures.Path | Should -Be 'ro/pipe'
        $failed.TargetObject | Should -Be 'ro/pipe'
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'EntryNotSynced,*'
    }

    It 'a fifo, a socket and a device node reach a directory slave through rsync and are counted' {
        $master = Join-Path $TestDrive 'special-master'
        $slave = Join-Path $TestDrive 'special-slave'
        $null = New-Item -ItemType Directory -Path (Join-Path $master 'dev'), $slave
        mkfifo (Join-Path $master 'pipe')
        python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' (Join-Path $master 'sock')
        mknod (Join-Path $master 'dev/null') c 1 3
        $LASTEXITCODE | Should -Be 0

        $session = Start-GeoSyncSession -Master "file://$master" -Slave "file://$slave" -Force
        try {
            $first = Invoke-GeoSyncCrawl -Confirm:$false -Session $session
            $second = Invoke-GeoSyncCrawl -Confirm:$false -Session $session
        }
        finally {
            $session | Stop-GeoSyncSession -Confirm:$false
        }

        $first.SpecialFiles | Should -Be 3
        $first.Converged | Should -BeTrue
        $second.SpecialFiles | Should -Be 0 -Because 'an unchanged special file is not sent again'
        stat -c '%n %F %t:%T %a' (Join-Path $slave 'pipe') (Join-Path $slave 'sock') (Join-Path $slave 'dev/null') | Should -Be @(
            "$slave/pipe fifo 0:0 $(stat -c %a (Join-Path $master 'pipe'))"
            "$slave/sock socket 0:0 $(stat -c %a (Join-Path $master 'sock'))"
            "$slave/dev/null character special file 1:3 $(stat -c %a (Join-Path $master 'dev/null'))"
        )
    }
}
