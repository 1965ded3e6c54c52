# The supervisor with real processes: geosync start from a shell that exits, a real geosync master as the worker,
# kill -9 and SIGSTOP of the worker, stop/pause/resume from geosync and from the cmdlets, the log and its rotation, and
# the systemd unit. Every process signalled here is one these tests started (found through the supervisor's record).
BeforeAll {
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force

    . (Join-Path $PSScriptRoot 'GeosyncProcess.ps1')

    function Wait-Until {
        param([scriptblock] $Condition, [string] $What, [int] $TimeoutSeconds = 60)
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        while ($clock.Elapsed.TotalSeconds -lt $TimeoutSeconds) {
            $value = & $Condition
            if ($value) { return $value }
            Start-Sleep -Milliseconds 100
        }
        throw "not within $TimeoutSeconds s: $What"
    }

    function Test-Running {
        param([int] $ProcessId)
        $stat = Get-Content -LiteralPath "/proc/$ProcessId/stat" -Raw -ErrorAction Ignore
        $stat -and $stat.Substring($stat.LastIndexOf(')') + 2, 1) -notin 'Z', 'X'
    }

    function Read-Record {
        $file = Join-Path $Replication 'supervisor.json'
        if (Test-Path -LiteralPath $file) { Get-Content -LiteralPath $file -Raw | ConvertFrom-Json }
    }
}

Describe 'geosync start, monitor and the supervisor' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:State = Join-Path $Case 'state'
        $script:Name = 'sup-test'
        $script:Replication = Join-Path $State "replications/$Name"
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $null = New-Item -ItemType Directory -Path $Replication, $Master, $Slave, (Join-Path $Case 'worker-state')
        Set-Content -LiteralPath (Join-Path $Master 'a.txt') -Value 'a'
        # Defined as an administrator defines it; the supervisor reads its stored supervisor options from it.
        $null = New-GeoSyncReplication -Name $Name -Master $Master -Slave $Slave -StateDirectory $State
        $script:Heartbeat = Join-Path $Replication 'heartbeat'
        # A real master loop as the worker (the stored definition's worker, geosync master --replication, is the
        # replication store's part), touching the heartbeat the supervisor watches.
        $script:Worker = "$Geosync master file://$Master file://$Slave --state-dir $(Join-Path $Case 'worker-state') --heartbeat-file $Heartbeat --interval 0.2"
    }

    AfterEach {
        $record = Read-Record
        $null = Invoke-Geosync -ArgumentList 'stop', $Name, '--state-dir', $State, '--timeout', '30'
        # Only if stop failed: the processes this test's supervisor started, by the pids it recorded.
        foreach ($id in @($record.SupervisorPid, $record.WorkerPid) | Where-Object { $_ }) {
            if (Test-Running $id) { Stop-Process -Id $id -Force -ErrorAction Ignore }
        }
    }

    It 'survives the shell that started it and replicates until stopped, then everything is gone' {
        $shell = [System.Diagnostics.Process]::Start('setsid', [string[]]@('-w', 'bash', '-c', '"$0" start "$1" --state-dir "$2" --worker-command "$3"; exit', $Geosync, $Name, $State, $Worker))
        $shell.WaitForExit(60000) | Should -BeTrue
        $shell.ExitCode | Should -Be 0

        $record = Read-Record
        $record.State | Should -Be 'Active'
        Test-Running $record.SupervisorPid | Should -BeTrue
        Test-Running $record.WorkerPid | Should -BeTrue
        # A session of its own, without a terminal, with its input and output on /dev/null.
        $stat = (Get-Content -LiteralPath "/proc/$($record.SupervisorPid)/stat" -Raw)
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        [int] $fields[3] | Should -Be $record.SupervisorPid -Because 'the supervisor leads its own session'
        [int] $fields[4] | Should -Be 0 -Because 'it has no controlling terminal'
        foreach ($fd in 0, 1, 2) { (Get-Item "/proc/$($record.SupervisorPid)/fd/$fd").LinkTarget | Should -Be '/dev/null' }

        Wait-Until { Test-Path -LiteralPath (Join-Path $Slave 'a.txt') } 'the worker replicated a.txt' | Should -BeTrue
        Wait-Until { Test-Path -LiteralPath $Heartbeat } 'the worker touched the heartbeat' | Should -BeTrue

        $again = Invoke-Geosync -ArgumentList 'start', $Name, '--state-dir', $State, '--worker-command', $Worker
        $again.ExitCode | Should -Be 1
        $again.StdErr | Should -Match "already running \(supervisor process $($record.SupervisorPid)\)"

        $stop = Invoke-Geosync -ArgumentList 'stop', $Name, '--state-dir', $State
        $stop.ExitCode | Should -Be 0
        $stop.StdOut | Should -Match "replication '$Name' stopped"
        Test-Running $record.SupervisorPid | Should -BeFalse
        Test-Running $record.WorkerPid | Should -BeFalse
        (Read-Record).State | Should -Be 'Stopped'
        # The worker stopped cleanly: its own state says so, as after Ctrl+C.
        $status = Invoke-Geosync -ArgumentList 'status', '--state-dir', (Join-Path $Case 'worker-state'), '--json'
        @($status.StdOut | ConvertFrom-Json)[0].State | Should -Be 'Stopped'
        $log = Get-GeoSyncLog -Name $Name -StateDirectory $State
        $log | Where-Object { $_.Component -eq 'supervisor' -and $_.Message -like 'stopping the worker*' } | Should -Not -BeNullOrEmpty
        $log | Where-Object { $_.Component -eq 'worker' } | Should -Not -BeNullOrEmpty
    }

    It 'restarts a worker killed with SIGKILL and records the cause' {
        $start = Invoke-Geosync -ArgumentList 'start', $Name, '--state-dir', $State, '--worker-command', $Worker
        $start.ExitCode | Should -Be 0 -Because $start.StdErr
        $first = Read-Record

        & kill -9 $first.WorkerPid
        $second = Wait-Until { $r = Read-Record; if ($r.WorkerPid -and $r.WorkerPid -ne $first.WorkerPid) { $r } } 'a new worker'

        $second.Restarts | Should -Be 1
        $second.RecentRestarts[0].Cause | Should -Be 'was killed by signal SIGKILL (9)'
        $second.RecentRestarts[0].ExitCode | Should -Be 137
        Test-Running $second.WorkerPid | Should -BeTrue
        $warning = Get-GeoSyncLog -Name $Name -StateDirectory $State -Level Warning | Where-Object Message -like '*SIGKILL*'
        $warning.Component | Should -Be 'supervisor'
    }

    It 'ends a hung worker (SIGSTOP) when its heartbeat gets older than the hang bound, and restarts it' {
        # The bound counts from the worker's start too, and a geosync master takes about 11 s to its first turn on a
        # loaded 2-core machine: 30 s leaves room for that.
        $start = Invoke-Geosync -ArgumentList 'start', $Name, '--state-dir', $State, '--worker-command', $Worker, '--hang-timeout', '30', '--stop-timeout', '2'
        $start.ExitCode | Should -Be 0 -Because $start.StdErr
        $first = Read-Record
        Wait-Until { Test-Path -LiteralPath (Join-Path $Slave 'a.txt') } 'the first worker replicated' | Should -BeTrue
        Start-Sleep -Seconds 3
        (Read-Record).Restarts | Should -Be 0 -Because 'a worker that beats is not hung'

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        & kill -STOP $first.WorkerPid
        $second = Wait-Until { $r = Read-Record; if ($r.WorkerPid -and $r.WorkerPid -ne $first.WorkerPid) { $r } } 'a new worker' -TimeoutSeconds 90
        $clock.Stop()

        $second.RecentRestarts[0].Cause | Should -BeLike 'hung: no heartbeat for * s'
        $second.RecentRestarts[0].ExitCode | Should -Be 137 -Because 'a stopped process only goes with SIGKILL, after the stop bound'
        Test-Running $first.WorkerPid | Should -BeFalse
        # At most the hang bound after its last beat, plus the stop bound and the first backoff wait.
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 45
        Set-Content -LiteralPath (Join-Path $Master 'b.txt') -Value 'b'
        Wait-Until { Test-Path -LiteralPath (Join-Path $Slave 'b.txt') } 'the new worker replicates' | Should -BeTrue
    }

    It 'pauses and resumes without losing the position, from geosync and from the cmdlets' {
        (Invoke-Geosync -ArgumentList 'start', $Name, '--state-dir', $State, '--worker-command', $Worker).ExitCode | Should -Be 0
        Wait-Until { Test-Path -LiteralPath (Join-Path $Slave 'a.txt') } 'replicated' | Should -BeTrue
        $first = Read-Record

        $pause = Invoke-Geosync -ArgumentList 'pause', $Name, '--state-dir', $State
        $pause.ExitCode | Should -Be 0
        $paused = Read-Record
        $paused.State | Should -Be 'Paused'
        $paused.WorkerPid | Should -BeNullOrEmpty
        Test-Running $first.WorkerPid | Should -BeFalse
        Test-Running $first.SupervisorPid | Should -BeTrue
        Set-Content -LiteralPath (Join-Path $Master 'while-paused.txt') -Value 'p'
        Start-Sleep -Seconds 1
        Test-Path -LiteralPath (Join-Path $Slave 'while-paused.txt') | Should -BeFalse

        $resumed = [pscustomobject]@{ Name = $Name; StateDirectory = $State } | Resume-GeoSyncReplication -PassThru -Confirm:$false
        $resumed.State | Should -Be 'Active'
        $resumed.WorkerPid | Should -Not -Be $first.WorkerPid
        Wait-Until { Test-Path -LiteralPath (Join-Path $Slave 'while-paused.txt') } 'the change made while paused arrives' | Should -BeTrue
        $resumed.Restarts | Should -Be 0 -Because 'a pause is not a restart'

        $suspended = Suspend-GeoSyncReplication -Name $Name -StateDirectory $State -PassThru -Confirm:$false
        $suspended.State | Should -Be 'Paused'
        $stopped = Stop-GeoSyncReplication -Name $Name -StateDirectory $State -PassThru -Confirm:$false
        $stopped.State | Should -Be 'Stopped'
        Test-Running $first.SupervisorPid | Should -BeFalse
    }

    It 'stops cleanly on SIGTERM to the supervisor, and geosync stop ends the worker a killed supervisor left' {
        (Invoke-Geosync -ArgumentList 'start', $Name, '--state-dir', $State, '--worker-command', 'sleep 600').ExitCode | Should -Be 0
        $first = Read-Record
        & kill -TERM $first.SupervisorPid
        Wait-Until { -not (Test-Running $first.SupervisorPid) } 'the supervisor ends on SIGTERM' | Should -BeTrue
        Test-Running $first.WorkerPid | Should -BeFalse
        (Read-Record).State | Should -Be 'Stopped'

        (Invoke-Geosync -ArgumentList 'start', $Name, '--state-dir', $State, '--worker-command', 'sleep 600').ExitCode | Should -Be 0
        $second = Read-Record
        & kill -KILL $second.SupervisorPid
        Wait-Until { -not (Test-Running $second.SupervisorPid) } 'the supervisor is gone' | Should -BeTrue
        Test-Running $second.WorkerPid | Should -BeTrue -Because 'a killed supervisor cannot end its worker'

        $stop = Invoke-Geosync -ArgumentList 'stop', $Name, '--state-dir', $State
        $stop.ExitCode | Should -Be 0
        Test-Running $second.WorkerPid | Should -BeFalse
        (Read-Record).State | Should -Be 'Stopped'
        (Get-GeoSyncLog -Name $Name -StateDirectory $State -Level Warning).Message | Should -Contain "ending the worker (process $($second.WorkerPid)) that a killed supervisor left running"
    }

    It '-WhatIf changes nothing, and a second start is refused with ReplicationRunning' {
        (Invoke-Geosync -ArgumentList 'start', $Name, '--state-dir', $State, '--worker-command', $Worker).ExitCode | Should -Be 0
        $before = Read-Record

        Stop-GeoSyncReplication -Name $Name -StateDirectory $State -WhatIf
        Suspend-GeoSyncReplication -Name $Name -StateDirectory $State -WhatIf
        Start-Sleep -Seconds 1
        $after = Read-Record
        $after.State | Should -Be 'Active'
        $after.WorkerPid | Should -Be $before.WorkerPid

        Start-GeoSyncReplication -Name $Name -StateDirectory $State -ErrorVariable refused -ErrorAction SilentlyContinue -Confirm:$false
        $refused[0].FullyQualifiedErrorId | Should -Be 'ReplicationRunning,GeoSync.PowerShell.Commands.StartGeoSyncReplicationCommand'
        $refused[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
        $refused[0].TargetObject | Should -Be $Name
    }

    It 'geosync monitor in the foreground writes its log lines on stderr too (the journal under systemd)' {
        $info = [System.Diagnostics.ProcessStartInfo]::new($Geosync)
        foreach ($a in 'monitor', $Name, '--state-dir', $State, '--worker-command', 'sleep 600') { $info.ArgumentList.Add($a) }
        $info.RedirectStandardError = $true
        $info.RedirectStandardOutput = $true
        $monitor = [System.Diagnostics.Process]::Start($info)
        try {
            $stderr = $monitor.StandardError.ReadToEndAsync()
            Wait-Until { (Read-Record).WorkerPid } 'the worker runs' | Should -BeTrue
            (Invoke-Geosync -ArgumentList 'stop', $Name, '--state-dir', $State, '--timeout', '30').ExitCode | Should -Be 0
            $monitor.WaitForExit(30000) | Should -BeTrue
            $stderr.Result | Should -Match '(?m)^\d{4}-\d\d-\d\dT\S+Z INFO supervisor worker started \(process \d+\)'
            $stderr.Result | Should -Match '(?m) INFO supervisor the worker ended'
            (Get-Content -LiteralPath (Join-Path $Replication 'log/geosync.log') -Raw) | Should -Match 'worker started'
        }
        finally {
            if (-not $monitor.HasExited) { $monitor.Kill($true) }
        }
    }

    It 'rotates its log by size and keeps the configured number of old files (options stored with the replication)' {
        $chatty = Join-Path $Case 'chatty.sh'
        Set-Content -LiteralPath $chatty -Value "while :; do echo 'a worker line that is long enough to fill a small log quickly ..........'; sleep 0.002; done"
        # Stored, not given to start: the supervisor reads them from the replication's configuration.
        Set-GeoSyncReplication -Name $Name -StateDirectory $State -LogMaxSize 2048 -LogKeep 2 -HangTimeoutSec 600
        (& $Geosync config $Name log-keep --state-dir $State) | Should -Be '2'
        (Invoke-Geosync -ArgumentList 'start', $Name, '--state-dir', $State, '--worker-command', "bash $chatty").ExitCode | Should -Be 0
        $logDirectory = Join-Path $Replication 'log'
        Wait-Until { Test-Path -LiteralPath (Join-Path $logDirectory 'geosync.log.2') } 'two rotations' | Should -BeTrue
        Start-Sleep -Seconds 1

        $files = @(Get-ChildItem -LiteralPath $logDirectory | Sort-Object Name)
        $files.Name | Should -Be @('geosync.log', 'geosync.log.1', 'geosync.log.2')
        $files | ForEach-Object { $_.Length | Should -BeLessOrEqual 2048 }

        $tail = Invoke-Geosync -ArgumentList 'log', $Name, '--state-dir', $State, '--tail', '5'
        $tail.ExitCode | Should -Be 0
        $lines = @($tail.StdOut.TrimEnd("`n").Split("`n"))
        $lines.Count | Should -Be 5
        $lines | ForEach-Object { $_ | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (VERBOSE|INFO|WARNING|ERROR) (supervisor|worker) ' }
        $entries = Get-GeoSyncLog -Name $Name -StateDirectory $State -Tail 3
        $entries.Count | Should -Be 3
        $entries[0] | Should -BeOfType ([GeoSync.Engine.Operations.ReplicationLogEntry])
        $entries[0].Time.Offset | Should -Be ([TimeSpan]::Zero)
    }
}

Describe 'commands on replications that do not exist' {
    It 'geosync <Verb> names the replication and geosync create' -ForEach @(@{ Verb = 'start' }, @{ Verb = 'stop' }, @{ Verb = 'pause' }, @{ Verb = 'resume' }, @{ Verb = 'log' }, @{ Verb = 'monitor' }) {
        $r = Invoke-Geosync -ArgumentList $Verb, 'nosuch', '--state-dir', (Join-Path $TestDrive 'empty')
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match "There is no replication 'nosuch' in .*geosync create nosuch MASTER SLAVE"
    }

    It 'the cmdlets write ReplicationNotFound with the name as target and go on' {
        $state = Join-Path $TestDrive 'empty'
        Stop-GeoSyncReplication -Name 'nosuch', 'other' -StateDirectory $state -ErrorVariable missing -ErrorAction SilentlyContinue -Confirm:$false
        $missing.Count | Should -Be 2
        $missing[0].FullyQualifiedErrorId | Should -Be 'ReplicationNotFound,GeoSync.PowerShell.Commands.StopGeoSyncReplicationCommand'
        $missing[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $missing.TargetObject | Should -Be @('nosuch', 'other')
        Get-GeoSyncLog -Name 'nosuch' -StateDirectory $state -ErrorVariable noLog -ErrorAction SilentlyContinue
        $noLog[0].FullyQualifiedErrorId | Should -Be 'ReplicationNotFound,GeoSync.PowerShell.Commands.GetGeoSyncLogCommand'
    }

    It 'a name that cannot be one is a usage error' {
        $r = Invoke-Geosync -ArgumentList 'start', '../etc'
        $r.ExitCode | Should -Be 2
        $r.StdErr | Should -Match "'../etc' is not a valid replication name"
    }
}

Describe 'geosync unit' {
    It 'prints a unit that runs the monitor in the foreground, restarts it on failure and passes systemd-analyze verify' {
        # A blank in the state directory must survive systemd's own quoting.
        $state = Join-Path $TestDrive 'unit state'
        $r = Invoke-Geosync -ArgumentList 'unit', 'mvol-dr', '--state-dir', $state
        $r.ExitCode | Should -Be 0
        $r.StdOut | Should -Match "(?m)^ExecStart=$([regex]::Escape($Geosync)) monitor mvol-dr --state-dir `"$([regex]::Escape($state))`"$"
        $r.StdOut | Should -Match "(?m)^Environment=`"GEOSYNC_STATE_DIR=$([regex]::Escape($state))`"$"
        $r.StdOut | Should -Match '(?m)^Restart=on-failure$'
        $r.StdOut | Should -Match '(?m)^KillMode=mixed$'

        # The tool is installed by tests/prerequisites.sh (Debian's systemd package); without it this must fail, not skip.
        $analyze = Get-Command systemd-analyze -CommandType Application -ErrorAction Stop | Select-Object -First 1
        $unit = Join-Path $TestDrive 'geosync-mvol-dr.service'
        Set-Content -LiteralPath $unit -Value $r.StdOut -NoNewline
        $output = & $analyze.Source verify $unit 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        ($output -join "`n") | Should -Not -Match 'geosync-mvol-dr.service'
    }
}
