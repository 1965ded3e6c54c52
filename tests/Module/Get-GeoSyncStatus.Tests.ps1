BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')

    # A named replication as the replication store leaves it: its folder and a config.json with the master and slave.
    function New-TestReplication {
        param([string] $StateDirectory, [string] $Name, [string] $Master, [string] $Slave)
        $paths = [GeoSync.Engine.Operations.ReplicationPaths]::new($StateDirectory, $Name)
        $null = New-Item -ItemType Directory -Path $paths.Directory -Force
        [ordered]@{ Master = $Master; Slave = $Slave } | ConvertTo-Json | Set-Content -LiteralPath $paths.ConfigFile
        $paths
    }

    # Starts Invoke-GeoSyncMaster in a runspace of its own (as a worker runs), for a test to watch and stop.
    function Start-TestLoop {
        param([hashtable] $Parameters)
        # One command in a runspace that imported the module (a batch of statements would go on after Stop).
        $sessionState = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
        $sessionState.ImportPSModule((Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1'))
        $runspace = [runspacefactory]::CreateRunspace($sessionState)
        $runspace.Open()
        $ps = [powershell]::Create($runspace)
        $null = $ps.AddCommand('Invoke-GeoSyncMaster').AddParameters($Parameters)
        [pscustomobject]@{ Shell = $ps; Runspace = $runspace; Async = $ps.BeginInvoke() }
    }

    function Stop-TestLoop {
        param($Loop)
        $Loop.Shell.Stop()
        $Loop.Shell.Dispose()
        $Loop.Runspace.Dispose()
    }

    function Read-Record {
        param([string] $Path)
        try { [GeoSync.Engine.Operations.AtomicJsonFile]::Read[GeoSync.Engine.Operations.MasterStateRecord]($Path) } catch { $null }
    }
}

Describe 'Get-GeoSyncStatus over real loops' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $script:State = Join-Path $Case 'state'
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        foreach ($i in 1..3) { Set-Content -LiteralPath (Join-Path $Master "f$i.txt") -Value ('x' * $i) -NoNewline }
    }

    It 'keeps FilesSynced, BytesSynced and EntriesCreated across restarts of the loop, and LastSynced is its last turn start' {
        $before = [DateTimeOffset]::UtcNow
        $null = Invoke-GeoSyncMaster -Master $Master -Slave "file://$Slave" -Once -StateDirectory $State
        $first = Get-GeoSyncStatus -StateDirectory $State
        $first.FilesSynced | Should -Be 3
        $first.Crawl | Should -Be 'Incremental'

        $null = New-Item -ItemType Directory -Path (Join-Path $Master 'more')
        foreach ($i in 1..2) { Set-Content -LiteralPath (Join-Path $Master "more/g$i.txt") -Value ('y' * 10) -NoNewline }
        $secondStart = [DateTimeOffset]::UtcNow
        $null = Invoke-GeoSyncMaster -Master $Master -Slave "file://$Slave" -Once -StateDirectory $State

        $status = Get-GeoSyncStatus -StateDirectory $State
        $status | Should -HaveCount 1
        $status.Name | Should -BeNullOrEmpty -Because 'an ad hoc pair has no name'
        $status.State | Should -Be 'Stopped'
        $status.FilesSynced | Should -Be 5 -Because 'the counts carry over from the first run: 3 files, then 2'
        $status.BytesSynced | Should -Be (1 + 2 + 3 + 10 + 10)
        $status.EntriesCreated | Should -Be 1 -Because 'the directory "more"'
        $status.TurnsCompleted | Should -Be 1 -Because 'turns count per run of the loop'
        $status.LastSynced | Should -BeGreaterOrEqual $secondStart
        $status.LastSynced | Should -BeLessOrEqual ([DateTimeOffset]::UtcNow)
        $status.LagSeconds | Should -BeLessThan 60
        $status.Failures | Should -Be 0
        $status.LastError | Should -BeNullOrEmpty
        $status.WorkerPid | Should -BeNullOrEmpty -Because 'the loop has ended'
        $before | Should -BeLessThan $status.LastSynced
    }

    It 'moves FilesSynced and BytesSynced during a first sync of a few thousand files' {
        # rsync sends files in batches of about a thousand, and the counters move as each batch arrives.
        $content = 'z' * 4000
        # 20,000 files: 6,000 took under a second to send on an idle machine, too fast for a record written once a second.
        foreach ($d in 1..200) {
            $dir = New-Item -ItemType Directory -Path (Join-Path $Master "d$d")
            foreach ($f in 1..100) { [System.IO.File]::WriteAllText((Join-Path $dir.FullName "f$f"), $content) }
        }
        $total = 20003
        $stateFile = Join-Path $State 'pair.json'
        $loop = Start-TestLoop @{ Master = $Master; Slave = "file://$Slave"; StatePath = $stateFile; Interval = 5 }
        try {
            $seen = [System.Collections.Generic.List[long]]::new()
            $clock = [Diagnostics.Stopwatch]::StartNew()
            while ($clock.Elapsed.TotalSeconds -lt 120) {
                $record = Read-Record $stateFile
                if ($record -and $record.Crawl -eq 'Incremental') { break }
                if ($record -and $record.FilesSynced -gt 0 -and -not $seen.Contains($record.FilesSynced)) { $seen.Add($record.FilesSynced) }
                Start-Sleep -Milliseconds 100
            }
            $final = Read-Record $stateFile
            $final.FilesSynced | Should -Be $total
            $final.BytesSynced | Should -Be (20000 * 4000 + 1 + 2 + 3)
            @($seen | Where-Object { $_ -lt $total }).Count | Should -BeGreaterOrEqual 1 -Because "the record shows the files so far while the first sync runs (saw $($seen -join ', '))"
        }
        finally {
            Stop-TestLoop $loop
        }
        (Read-Record $stateFile).State | Should -Be 'Stopped'
    }
}

Describe 'Checkpoints over a real loop' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $script:State = Join-Path $Case 'state'
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        Set-Content -LiteralPath (Join-Path $Master 'first.txt') -Value 'first'
        $script:Paths = New-TestReplication -StateDirectory $State -Name 'dr' -Master "file://$Master" -Slave "file://$Slave"
    }

    It 'completes a checkpoint once the loop has caught up with what was written before it, and Wait returns it' {
        $loop = Start-TestLoop @{ Master = $Master; Slave = "file://$Slave"; StatePath = $Paths.StateFile; CheckpointPath = $Paths.CheckpointFile; Interval = 0.2 }
        try {
            Wait-Condition -Seconds 60 { (Get-GeoSyncStatus -Name dr -StateDirectory $State).Crawl -eq 'Incremental' } | Should -BeTrue
            foreach ($i in 1..20) { Set-Content -LiteralPath (Join-Path $Master "before-$i.txt") -Value $i }

            Set-GeoSyncCheckpoint -Name dr -StateDirectory $State -Confirm:$false
            $checkpoint = (Get-GeoSyncStatus -Name dr -StateDirectory $State).Checkpoint
            $done = Wait-GeoSyncCheckpoint -Name dr -StateDirectory $State -Timeout 60

            $done.CheckpointCompleted | Should -BeTrue
            $done.Checkpoint | Should -Be $checkpoint
            foreach ($i in 1..20) { Join-Path $Slave "before-$i.txt" | Should -Exist }
            $status = Wait-Condition -Seconds 10 { (Get-GeoSyncStatus -Name dr -StateDirectory $State).CheckpointCompletedAt }
            $status | Should -BeTrue -Because 'the loop records when it saw the checkpoint reached'
            $status = Get-GeoSyncStatus -Name dr -StateDirectory $State
            $status.CheckpointCompletedAt | Should -BeGreaterOrEqual $checkpoint
            $status.LastSynced | Should -BeGreaterOrEqual $checkpoint
            $status.State | Should -Be 'Active'
            $status.WorkerPid | Should -Be $PID -Because 'the loop runs in this process'
        }
        finally {
            Stop-TestLoop $loop
        }
        (Get-GeoSyncStatus -Name dr -StateDirectory $State).State | Should -Be 'Stopped'
    }

    It 'times out with CheckpointTimeout when the replication does not catch up' {
        Set-GeoSyncCheckpoint -Name dr -StateDirectory $State -Confirm:$false
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $err = { Wait-GeoSyncCheckpoint -Name dr -StateDirectory $State -Timeout 2 -ProgressAction SilentlyContinue } |
            Should -Throw -ErrorId 'CheckpointTimeout,GeoSync.PowerShell.Commands.WaitGeoSyncCheckpointCommand' -PassThru
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 2
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
        $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
        $err.TargetObject | Should -Be 'dr'
        $err.Exception.Message | Should -Match 'did not complete within 2 s'
    }

    It 'refuses to wait without a checkpoint (CheckpointNotSet)' {
        { Wait-GeoSyncCheckpoint -Name dr -StateDirectory $State -Timeout 5 } |
            Should -Throw -ErrorId 'CheckpointNotSet,GeoSync.PowerShell.Commands.WaitGeoSyncCheckpointCommand'
    }

    It 'refuses an unknown replication with ReplicationNotFound and writes nothing' {
        $err = { Set-GeoSyncCheckpoint -Name nosuch -StateDirectory $State -Confirm:$false } |
            Should -Throw -ErrorId 'ReplicationNotFound,GeoSync.PowerShell.Commands.SetGeoSyncCheckpointCommand' -PassThru
        $err.TargetObject | Should -Be 'nosuch'
        $err.Exception.Message | Should -Match 'geosync create nosuch'
        Join-Path $State 'replications/nosuch' | Should -Not -Exist
    }

    It '-WhatIf writes no checkpoint; -At sets a given time, -PassThru shows it' {
        Set-GeoSyncCheckpoint -Name dr -StateDirectory $State -WhatIf
        $Paths.CheckpointFile | Should -Not -Exist
        $at = [DateTimeOffset]::new(2026, 12, 7, 14, 0, 0, [TimeSpan]::FromHours(1))
        $status = Set-GeoSyncCheckpoint -Name dr -At $at -StateDirectory $State -PassThru -Confirm:$false
        $status.Checkpoint | Should -Be $at
        $status.Checkpoint.Offset | Should -Be ([TimeSpan]::Zero)
        $status.CheckpointCompleted | Should -BeFalse
    }
}

Describe 'Get-GeoSyncStatus selection, completion and view' {
    BeforeAll {
        $script:State = Join-Path $TestDrive 'selection'
        $null = New-TestReplication -StateDirectory $State -Name 'mvol-dr' -Master 'gluster://gluster1:mvol' -Slave 'ssh://root@backup1:/srv/mvol-copy'
        $null = New-TestReplication -StateDirectory $State -Name 'data' -Master 'file:///srv/data' -Slave 'file:///mnt/backup'
        $record = [GeoSync.Engine.Operations.MasterStateRecord]@{
            Master = 'file:///srv/m'; Slave = 'file:///srv/s'; State = 'Stopped'; ProcessId = 1; FilesSynced = 7
            LastSynced = [DateTimeOffset]::UtcNow.AddMinutes(-3); LastError = 'the slave went away'; LastErrorId = 'SessionFaulty'
        }
        [GeoSync.Engine.Operations.AtomicJsonFile]::Write((Join-Path $State ([GeoSync.Engine.Operations.MasterStateFile]::PairFileName('file:///srv/m', 'file:///srv/s'))), $record)
    }

    It 'lists the replications by name, then the ad hoc pairs' {
        $all = @(Get-GeoSyncStatus -StateDirectory $State)
        $all.Name | Should -Be @('data', 'mvol-dr', $null)
        $all[0] | Should -BeOfType ([GeoSync.Engine.Operations.ReplicationStatus])
        $all[0].State | Should -Be 'Created'
        $all[2].LagSeconds | Should -BeGreaterOrEqual 180
        $all[2].LastError | Should -BeOfType ([string])
    }

    It 'selects by -Name (wildcards too) and reports a missing name as ReplicationNotFound' {
        (Get-GeoSyncStatus -StateDirectory $State -Name 'mvol*').Name | Should -Be 'mvol-dr'
        $found = @(Get-GeoSyncStatus -StateDirectory $State -Name 'data', 'nosuch' -ErrorVariable err -ErrorAction SilentlyContinue)
        $found.Name | Should -Be 'data'
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'ReplicationNotFound,GeoSync.PowerShell.Commands.GetGeoSyncStatusCommand'
        $err[0].TargetObject | Should -Be 'nosuch'
    }

    It '-Master /srv/m finds the pair recorded as file:///srv/m, and patterns still match' {
        (Get-GeoSyncStatus -StateDirectory $State -Master /srv/m).Master | Should -Be 'file:///srv/m'
        (Get-GeoSyncStatus -StateDirectory $State -Master 'file:///srv/m').Master | Should -Be 'file:///srv/m'
        (Get-GeoSyncStatus -StateDirectory $State -Slave 'ssh://*').Name | Should -Be 'mvol-dr'
        Get-GeoSyncStatus -StateDirectory $State -Master /srv/other | Should -BeNullOrEmpty
    }

    It 'completes -Name with the replications and -Master with the known masters' {
        $line = "Get-GeoSyncStatus -StateDirectory '$State' -Name m"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'mvol-dr'
        $line = "Get-GeoSyncStatus -StateDirectory '$State' -Master "
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.ListItemText |
            Should -Be @('file:///srv/data', 'file:///srv/m', 'gluster://gluster1:mvol')
        $line = "Set-GeoSyncCheckpoint -StateDirectory '$State' -Name d"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'data'
    }

    It 'shows each replication in 80 columns with whole URLs, the error and its hint' {
        $lines = @(Get-GeoSyncStatus -StateDirectory $State | Out-String -Width 80 -Stream)
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        $lines | Should -Contain '  master  gluster://gluster1:mvol'
        $lines | Should -Contain '  slave   ssh://root@backup1:/srv/mvol-copy'
        $lines | Should -Contain '  error   the slave went away'
        ($lines -match '^\(ad hoc pair\)  Stopped  lag 3m  7 files  0 failures') | Should -HaveCount 1
    }
}
