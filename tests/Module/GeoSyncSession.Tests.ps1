# Start-/Get-/Stop-GeoSyncSession and Invoke-GeoSyncCrawl without GlusterFS: directory master and slave in temp
# directories with real rsync, the geosync host as a child slave, and CPython peers for hung and dying slaves. The live
# GlusterFS and ssh sessions are in tests/Integration (tags 'Gluster', 'Ssh').
BeforeAll {
    $script:ManifestPath = Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1'
    Import-Module $ManifestPath -Force
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
    . (Join-Path $PSScriptRoot 'XattrTestTools.ps1')
    $script:StartId = 'GeoSync.PowerShell.Commands.StartGeoSyncSessionCommand'
    $script:GetId = 'GeoSync.PowerShell.Commands.GetGeoSyncSessionCommand'
    $script:StopId = 'GeoSync.PowerShell.Commands.StopGeoSyncSessionCommand'
    $script:CrawlId = 'GeoSync.PowerShell.Commands.InvokeGeoSyncCrawlCommand'

    # A RePCe peer that answers the handshake, pid, keep_alive and the claim's calls (and root_identity with
    # AttributeError, as gsyncd does), and never answers anything else (a hung slave), or
    # exits at once with a message when PEER_FAIL is set.
    $script:HungPeer = Join-Path $TestDrive 'hung-peer.py'
    Set-Content -LiteralPath $HungPeer -Value @'
import os, pickle, sys
if os.environ.get('PEER_FAIL'):
    sys.stderr.write('cannot serve: ' + os.environ['PEER_FAIL'] + '\n'); sys.exit(5)
inp, out = sys.stdin.buffer, sys.stdout.buffer
# xtime (ENODATA), entries and set_xtime let a session's first turn claim the empty slave, so the turn reaches the crawl
# and hangs there.
answers = {'__repce_version__': 1.0, 'version': 1.0, 'pid': os.getpid(), 'keep_alive': 1, 'xtime': 61, 'entries': [], 'set_xtime': None}
while True:
    try:
        request = pickle.load(inp)
    except EOFError:
        sys.exit(0)
    if request[1] in answers:
        out.write(pickle.dumps((request[0], False, answers[request[1]]), 2)); out.flush()
    elif request[1] == 'root_identity':
        # As a gsyncd slave does: GeoSync's extension is unknown here, so the overlap check is skipped.
        out.write(pickle.dumps((request[0], True, AttributeError('root_identity')), 2)); out.flush()
'@

    function New-Pair {
        $name = [guid]::NewGuid().ToString('N')
        $pair = [pscustomobject]@{
            Master = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "m-$name")).FullName
            Slave  = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "s-$name")).FullName
        }
        Set-Content -LiteralPath (Join-Path $pair.Master 'one.txt') -Value 'one'
        $null = New-Item -ItemType Directory -Path (Join-Path $pair.Master 'sub')
        Set-Content -LiteralPath (Join-Path $pair.Master 'sub/two.txt') -Value 'two'
        $pair
    }

    function Wait-Until([scriptblock] $Condition, [double] $Seconds = 10) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while ($clock.Elapsed.TotalSeconds -lt $Seconds) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 20 }
        [bool](& $Condition)
    }

    function Test-ProcessAlive([int] $Id) {
        $stat = "/proc/$Id/stat"
        (Test-Path -LiteralPath $stat) -and ((Get-Content -LiteralPath $stat -Raw) -split '\) ')[1] -notlike 'Z*'
    }
}

AfterAll {
    Get-GeoSyncSession | Stop-GeoSyncSession
}

Describe 'Start-GeoSyncSession' {
    AfterEach {
        Get-GeoSyncSession | Stop-GeoSyncSession
    }

    It 'opens a directory session with the slave in process and registers it' {
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master "file://$($pair.Master)" -Slave "file://$($pair.Slave)" -Name dirs -Timeout 0
        $session | Should -BeOfType GeoSync.Engine.Session.GeoSyncSession
        $session.Name | Should -Be 'dirs'
        "$($session.State)" | Should -Be 'Active'
        "$($session.SlaveMode)" | Should -Be 'InProcess'
        $session.Master.Normalized | Should -Be "file://$($pair.Master)"
        $session.MasterVolumeId | Should -BeNullOrEmpty
        $session.StartTime | Should -BeLessOrEqual ([DateTimeOffset]::Now)
        (Get-GeoSyncSession -Name dirs).Id | Should -Be $session.Id
    }

    It 'accepts the short forms of directory URLs and names sessions Session<Id> by default' {
        $pair = New-Pair
        $session = Start-GeoSyncSession $pair.Master $pair.Slave
        $session.Name | Should -Be "Session$($session.Id)"
        $session.Slave.Normalized | Should -Be "file://$($pair.Slave)"
    }

    It 'starts nothing with -WhatIf' {
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -WhatIf
        $session | Should -BeNullOrEmpty
        Get-GeoSyncSession | Should -BeNullOrEmpty
    }

    It 'throws InvalidGeoSyncUrl with the pair as target for a malformed URL' {
        $pair = New-Pair
        $failure = { Start-GeoSyncSession -Master 'gluster://' -Slave $pair.Slave } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -Be "InvalidGeoSyncUrl,$StartId"
        $failure.TargetObject | Should -Be "gluster:// -> $($pair.Slave)"
    }

    It 'throws SessionOpenFailed naming the child slave''s exit and stderr, and leaves no process behind' {
        $pair = New-Pair
        $failure = {
            Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -SlaveMode Child -SlaveCommand env, 'PEER_FAIL=no such root', python3, $HungPeer
        } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -Be "SessionOpenFailed,$StartId"
        "$($failure.CategoryInfo.Category)" | Should -Be 'ConnectionError'
        $failure.Exception.Message | Should -Match 'returned with 5'
        $failure.Exception.Message | Should -Match 'cannot serve: no such root'
        Get-GeoSyncSession | Should -BeNullOrEmpty
    }

    It 'runs the geosync host next to the module as the child slave by default' {
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -SlaveMode Child -Timeout 30
        $child = $session.SlaveConnectionProcessId
        $argv = (Get-Content -LiteralPath "/proc/$child/cmdline" -Raw) -split "`0" | Where-Object { $_ }
        $argv[0] | Should -Be $Geosync
        $argv[1..($argv.Count - 1)] -join ' ' | Should -BeLike "slave * --timeout 30 file://$($pair.Slave)"
        $session.SlaveProcessId | Should -Be $child
        $session | Stop-GeoSyncSession
        Wait-Until { -not (Test-ProcessAlive $child) } | Should -BeTrue
    }
}

Describe 'Invoke-GeoSyncCrawl' {
    AfterEach {
        Get-GeoSyncSession | Stop-GeoSyncSession
    }

    It 'copies the tree on the first turn and only what changed on the next (in process and as a geosync child)' -ForEach @(
        @{ Mode = 'InProcess' }
        @{ Mode = 'Child' }
    ) {
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -SlaveMode $Mode
        $first = $session | Invoke-GeoSyncCrawl -Confirm:$false
        $first | Should -BeOfType GeoSync.PowerShell.GeoSyncTurnResult
        $first.SessionId | Should -Be $session.Id
        $first.Turn | Should -Be 1
        $first.FilesSynced | Should -Be 2
        $first.Converged | Should -BeTrue
        Get-Content -LiteralPath (Join-Path $pair.Slave 'sub/two.txt') | Should -Be 'two'

        Set-Content -LiteralPath (Join-Path $pair.Master 'sub/two.txt') -Value 'two, changed'
        Remove-Item -LiteralPath (Join-Path $pair.Master 'one.txt')
        $second = Invoke-GeoSyncCrawl -Id $session.Id -Confirm:$false
        $second.Turn | Should -Be 2
        $second.FilesSynced | Should -Be 1
        $second.EntriesPurged | Should -Be 1
        Get-Content -LiteralPath (Join-Path $pair.Slave 'sub/two.txt') | Should -Be 'two, changed'
        Join-Path $pair.Slave 'one.txt' | Should -Not -Exist
        $session.TurnsCompleted | Should -Be 2
    }

    It 'keeps slave entries the master lost with -IgnoreDeletes' {
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -IgnoreDeletes
        ($session | Invoke-GeoSyncCrawl -Confirm:$false).FilesSynced | Should -Be 2
        Remove-Item -LiteralPath (Join-Path $pair.Master 'one.txt')
        ($session | Invoke-GeoSyncCrawl -Confirm:$false).EntriesPurged | Should -Be 0
        Join-Path $pair.Slave 'one.txt' | Should -Exist
    }

    It 'narrates the turn on the verbose stream and ends its progress' {
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave
        $verbose = $session | Invoke-GeoSyncCrawl -Confirm:$false -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -Match 'turn 1: \d+ directories scanned'
    }

    It 'writes each progress update as a new record, with percent and time left once the previous turn gave the total' {
        $pair = New-Pair
        # Enough directories that a turn lists them for more than one progress interval (1 s) even on an idle machine
        # (3,282 directories took a third of a second there).
        foreach ($i in 1..200) { foreach ($j in 1..100) { $null = [IO.Directory]::CreateDirectory((Join-Path $pair.Master "d$i/e$j")) } }
        # Every turn compares the whole tree: a watched session's second turn would list only what changed.
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -Watch Disabled
        $progressOf = {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ManifestPath).AddStatement()
                $null = $ps.AddCommand('Invoke-GeoSyncCrawl').AddParameter('Session', $session).AddParameter('Confirm', $false)
                $null = $ps.Invoke()
                $ps.HadErrors | Should -BeFalse
                , @($ps.Streams.Progress)
            }
            finally {
                $ps.Dispose()
            }
        }

        # The first turn has nothing to measure against: no percentage, no time left.
        $first = & $progressOf
        "$($first[-1].RecordType)" | Should -Be 'Completed'
        @($first | Where-Object { $_.PercentComplete -ne -1 }) | Should -BeNullOrEmpty

        # The second lists the same 20202 directories the first did (200 x 100, their 200 parents, New-Pair's sub and the root):
        # a directory master that is not watched is compared in full.
        $second = & $progressOf
        "$($second[-1].RecordType)" | Should -Be 'Completed'
        $running = @($second | Where-Object { "$($_.RecordType)" -eq 'Processing' })
        $running.Count | Should -BeGreaterOrEqual 2 -Because 'a turn of several seconds shows its progress more than once'
        foreach ($i in 1..($running.Count - 1)) {
            [object]::ReferenceEquals($running[$i], $running[$i - 1]) | Should -BeFalse -Because 'each update is a record of its own'
            $running[$i].PercentComplete | Should -BeGreaterThan $running[$i - 1].PercentComplete
        }
        $running[-1].PercentComplete | Should -BeLessOrEqual 99
        $running[-1].SecondsRemaining | Should -BeGreaterOrEqual 0
        $running[-1].CurrentOperation | Should -Match '^\d+ of about 20202 directories scanned'
    }

    It 'reports a stopped session as SessionStopped and goes on with the next session' {
        $a = New-Pair
        $b = New-Pair
        $stopped = Start-GeoSyncSession -Master $a.Master -Slave $a.Slave
        $live = Start-GeoSyncSession -Master $b.Master -Slave $b.Slave
        $stopped | Stop-GeoSyncSession
        $results = $stopped, $live | Invoke-GeoSyncCrawl -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be "SessionStopped,$CrawlId"
        $failures[0].TargetObject | Should -Be $stopped
        @($results).SessionId | Should -Be $live.Id
    }

    It 'reports a session whose child slave died as SessionFaulty with the child''s exit' {
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -SlaveMode Child -SlaveCommand python3, $HungPeer
        $child = $session.SlaveConnectionProcessId
        Stop-Process -Id $child -Force
        Wait-Until { "$($session.State)" -eq 'Faulty' } | Should -BeTrue
        $session.LastError.Message | Should -Match 'returned with 137'
        $session | Invoke-GeoSyncCrawl -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].FullyQualifiedErrorId | Should -Be "SessionFaulty,$CrawlId"
        $failures[0].ErrorDetails.RecommendedAction | Should -Match 'Stop-GeoSyncSession'
        (Get-GeoSyncSession -Id $session.Id).State | Should -Be 'Faulty'
    }

    It 'stops promptly on Ctrl+C (StopProcessing) while the slave hangs, and the session stays usable' {
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -SlaveMode Child -SlaveCommand python3, $HungPeer
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ManifestPath).AddStatement()
            $null = $ps.AddCommand('Invoke-GeoSyncCrawl').AddParameter('Session', $session).AddParameter('Confirm', $false)
            $async = $ps.BeginInvoke()
            Wait-Until { $null -ne $session.CurrentTurn } | Should -BeTrue -Because 'the turn must be running (blocked on the hung slave)'
            Wait-Until { $ps.Streams.Progress.Count -gt 0 } | Should -BeTrue -Because 'a running turn shows its progress'
            $ps.Streams.Progress[0].Activity | Should -Be "GeoSync crawl of session $($session.Name)"
            $ps.Streams.Progress[0].StatusDescription | Should -Be 'Turn 1: 0 files (0 bytes) synced, 0 files/s, 0.0 MiB/s'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 3
            # Stop() can return before the invocation's handle is signalled.
            $async.AsyncWaitHandle.WaitOne(2000) | Should -BeTrue
            # No Completed record: a stopping pipeline refuses every write (PipelineStoppedException), and the host drops
            # a console host clears its progress display when the command ends. What was written stays as written.
            $ps.Streams.Progress[0].StatusDescription | Should -Be 'Turn 1: 0 files (0 bytes) synced, 0 files/s, 0.0 MiB/s'
        }
        finally {
            $ps.Dispose()
        }
        Wait-Until { $null -eq $session.CurrentTurn } | Should -BeTrue
        "$($session.State)" | Should -Be 'Active'
    }
}

Describe 'Get-GeoSyncSession and Stop-GeoSyncSession' {
    BeforeEach {
        $pair = New-Pair
        $script:S1 = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -Name 'alpha-1'
        $pair = New-Pair
        $script:S2 = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -Name 'beta-1'
    }

    AfterEach {
        Get-GeoSyncSession | Stop-GeoSyncSession
    }

    It 'lists the sessions in start order, by wildcard name and by id' {
        (Get-GeoSyncSession).Id | Should -Be @($S1.Id, $S2.Id)
        (Get-GeoSyncSession -Name 'ALPHA*').Id | Should -Be $S1.Id
        (Get-GeoSyncSession -Id $S2.Id).Name | Should -Be 'beta-1'
    }

    It 'writes SessionNotFound for an unknown <Kind>, and nothing for an unmatched wildcard' -ForEach @(
        @{ Kind = 'id'; Splat = @{ Id = 999999 }; Target = 999999 }
        @{ Kind = 'name'; Splat = @{ Name = 'gamma' }; Target = 'gamma' }
    ) {
        Get-GeoSyncSession @Splat -ErrorAction SilentlyContinue -ErrorVariable failures | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be "SessionNotFound,$GetId"
        "$($failures[0].CategoryInfo.Category)" | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be $Target
        Get-GeoSyncSession -Name 'gamma*' -ErrorVariable none | Should -BeNullOrEmpty
        $none | Should -BeNullOrEmpty
    }

    It 'completes -Name and -Id with the registered sessions' {
        $line = 'Stop-GeoSyncSession -Name al'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'alpha-1'
        $line = 'Get-GeoSyncSession -Id '
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @("$($S1.Id)", "$($S2.Id)")
    }

    It 'leaves the session running with -WhatIf' {
        $S1 | Stop-GeoSyncSession -WhatIf
        "$($S1.State)" | Should -Be 'Active'
        Get-GeoSyncSession -Id $S1.Id | Should -Not -BeNullOrEmpty
    }

    It 'stops sessions from the pipeline, by id property and by name, and forgets them' {
        $S1 | Stop-GeoSyncSession -PassThru | ForEach-Object { "$($_.State)" } | Should -Be 'Stopped'
        [pscustomobject]@{ SessionId = $S2.Id } | Stop-GeoSyncSession
        "$($S2.State)" | Should -Be 'Stopped'
        Get-GeoSyncSession | Should -BeNullOrEmpty
        Stop-GeoSyncSession -Name 'alpha-1' -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].FullyQualifiedErrorId | Should -Be "SessionNotFound,$StopId"
    }

    It 'shows Id, Name, State, Master and Slave in a table that fits 80 columns with the URLs whole' {
        $table = $S1, $S2 | Format-Table | Out-String -Width 80
        $lines = @($table -split '\r?\n')
        $lines | Where-Object Length -GT 80 | Should -BeNullOrEmpty
        $table | Should -Not -Match '…' -Because 'a long URL wraps instead of losing its end'
        $header = $lines.IndexOf(($lines | Where-Object { $_ -match '^\s*Id\s+Name\s+State\s+Master\s+Slave\s*$' }))
        $header | Should -BeGreaterOrEqual 0
        $table | Should -Match 'alpha-1\s+Active\s+file://'
        # The Master column read down (its wrapped pieces joined) holds each session's whole URL; so does Slave's.
        $masterAt = $lines[$header].IndexOf('Master')
        $slaveAt = $lines[$header].IndexOf('Slave')
        $rows = $lines[($header + 2)..($lines.Count - 1)] | Where-Object { $_.Trim() }
        $masters = -join ($rows | ForEach-Object { $_.Substring($masterAt, [Math]::Min($slaveAt, $_.Length) - $masterAt).Trim() })
        $slaves = -join ($rows | Where-Object Length -GT $slaveAt | ForEach-Object { $_.Substring($slaveAt).Trim() })
        $masters | Should -Be ($S1.Master.Normalized + $S2.Master.Normalized)
        $slaves | Should -Be ($S1.Slave.Normalized + $S2.Slave.Normalized)
    }
}

Describe 'Removing the module' {
    It 'stops every session and ends its child slave' {
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -SlaveMode Child -SlaveCommand python3, $HungPeer
        $child = $session.SlaveConnectionProcessId
        Test-ProcessAlive $child | Should -BeTrue
        Remove-Module GeoSync
        try {
            "$($session.State)" | Should -Be 'Stopped'
            Wait-Until { -not (Test-ProcessAlive $child) } | Should -BeTrue
        }
        finally {
            Import-Module $ManifestPath -Force
        }
    }
}

Describe 'Invoke-GeoSyncCrawl -WhatIf (dry run)' {
    BeforeAll {
        # A pair after its first sync, then diverged: a changed file, a new file and directory, a directory whose mode
        # changed on the master, a file and a directory only the slave has, and xattrs on both sides.
        function New-DivergedPair {
            $pair = New-Pair
            $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave
            ($session | Invoke-GeoSyncCrawl -Confirm:$false).Converged | Should -BeTrue
            $session | Stop-GeoSyncSession
            Set-Content -LiteralPath (Join-Path $pair.Master 'sub/two.txt') -Value 'two, changed'
            Set-Content -LiteralPath (Join-Path $pair.Master 'new.txt') -Value 'new'
            $null = New-Item -ItemType Directory -Path (Join-Path $pair.Master 'newdir')
            Set-Content -LiteralPath (Join-Path $pair.Master 'newdir/inner.txt') -Value 'inner'
            & chmod 700 (Join-Path $pair.Master 'sub')
            Set-Content -LiteralPath (Join-Path $pair.Slave 'extra.txt') -Value 'only on the slave'
            $null = New-Item -ItemType Directory -Path (Join-Path $pair.Slave 'extradir/below') -Force
            Set-TestXattr -LiteralPath (Join-Path $pair.Master 'one.txt') -Name 'user.note' -Hex 'CAFE'
            Set-TestXattr -LiteralPath (Join-Path $pair.Slave 'one.txt') -Name 'user.note' -Hex 'BEEF'
            $pair
        }
    }

    AfterEach {
        Get-GeoSyncSession | Stop-GeoSyncSession
    }

    It 'outputs what the turn would create, update and purge, changes neither tree, and the turn then does just that (<Mode>)' -ForEach @(
        @{ Mode = 'InProcess' }
        @{ Mode = 'Child' }
    ) {
        $pair = New-DivergedPair
        $masterBefore = Get-TreeChecksum -LiteralPath $pair.Master
        $slaveBefore = Get-TreeChecksum -LiteralPath $pair.Slave
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -SlaveMode $Mode

        $plan = @($session | Invoke-GeoSyncCrawl -WhatIf -InformationVariable summary)

        Get-TreeChecksum -LiteralPath $pair.Master | Should -Be $masterBefore
        Get-TreeChecksum -LiteralPath $pair.Slave | Should -Be $slaveBefore
        $plan | Should -BeOfType GeoSync.PowerShell.GeoSyncPlannedChange
        $plan.ForEach({ "$($_.Action) $($_.Type) $($_.Path): $($_.Reason)" }) | Should -Be @(
            'Purge Regular extra.txt: gone from the master'
            'Purge Directory extradir: gone from the master'
            'Create Regular new.txt: missing on the slave'
            'Create Directory newdir: missing on the slave'
            'Create Regular newdir/inner.txt: missing on the slave'
            'Update Regular sub/two.txt: size and mtime differ'
            'SetAttributes Directory sub: mode differs'
        )
        $plan[0].SessionId | Should -Be $session.Id
        ($plan | Where-Object Path -EQ 'sub/two.txt').Size | Should -Be 13
        "$($plan[2])" | Should -Be 'create  file      new.txt  missing on the slave'
        $summary.Tags | Should -Contain 'GeoSyncPlanSummary'
        "$($summary.MessageData)" | Should -Match ': 3 to create, 1 to update, 2 to purge, 1 attribute changes; 23 bytes to send\. Nothing was changed\.$'
        $session.TurnsCompleted | Should -Be 0

        $turn = $session | Invoke-GeoSyncCrawl -Confirm:$false
        $turn.FilesSynced | Should -Be 3
        $turn.EntriesPurged | Should -Be 2
        $turn.EntriesCreated | Should -Be 1
        @($session | Invoke-GeoSyncCrawl -WhatIf) | Should -BeNullOrEmpty
    }

    It 'plans through $WhatIfPreference too, and a pipeline that stops early ends the dry run' {
        $pair = New-Pair
        # More changes than the cmdlet buffers, so the walk is held back while the pipeline stops.
        & bash -c 'cd "$1" && seq -f "many-%04g.txt" 1 3000 | xargs touch' bash $pair.Master
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave
        $WhatIfPreference = $true
        try {
            $first = @($session | Invoke-GeoSyncCrawl | Select-Object -First 3)
        }
        finally {
            $WhatIfPreference = $false
        }
        $first | Should -HaveCount 3
        $first.Action | Should -Be @('Create', 'Create', 'Create')
        Get-ChildItem -LiteralPath $pair.Slave | Should -BeNullOrEmpty
        $session.State | Should -Be 'Active'
        ($session | Invoke-GeoSyncCrawl -Confirm:$false).FilesSynced | Should -Be 3002
        @($session | Invoke-GeoSyncCrawl -WhatIf) | Should -BeNullOrEmpty
    }

    It 'asks for confirmation by default: ConfirmImpact is High, since a turn purges on the slave' {
        $attribute = (Get-Command Invoke-GeoSyncCrawl).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)
        $attribute.SupportsShouldProcess | Should -BeTrue
        $attribute.ConfirmImpact | Should -Be 'High'
        $pair = New-Pair
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave
        # A runspace without a host cannot ask, so the confirmation fails instead of running the turn: nothing is written.
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ManifestPath).AddStatement()
            $null = $ps.AddCommand('Invoke-GeoSyncCrawl').AddParameter('Session', $session)
            $ps.Invoke() | Should -BeNullOrEmpty
            $ps.Streams.Error.FullyQualifiedErrorId | Should -Be "HostFunctionNotImplemented,$CrawlId"
        }
        finally {
            $ps.Dispose()
        }
        Get-ChildItem -LiteralPath $pair.Slave | Should -BeNullOrEmpty
        $session.TurnsCompleted | Should -Be 0
    }
}
