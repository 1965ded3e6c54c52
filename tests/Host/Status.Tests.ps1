BeforeAll {
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')

    . (Join-Path $PSScriptRoot 'GeosyncProcess.ps1')

    function New-TestReplication {
        param([string] $StateDirectory, [string] $Name, [string] $Master, [string] $Slave)
        $paths = [GeoSync.Engine.Operations.ReplicationPaths]::new($StateDirectory, $Name)
        $null = New-Item -ItemType Directory -Path $paths.Directory -Force
        [ordered]@{ Master = $Master; Slave = $Slave } | ConvertTo-Json | Set-Content -LiteralPath $paths.ConfigFile
        $paths
    }

    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
}

Describe 'geosync status' {
    BeforeAll {
        $script:Case = Join-Path $TestDrive 'status'
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $script:State = Join-Path $Case 'state'
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        Set-Content -LiteralPath (Join-Path $Master 'a.txt') -Value 'a' -NoNewline
        $null = New-TestReplication -StateDirectory $State -Name 'mvol-dr' -Master 'gluster://gluster1:mvol' -Slave 'ssh://root@backup1:/srv/mvol-copy'
        $run = Invoke-Geosync -ArgumentList 'master', $Master, "file://$Slave", '--once', '--state-dir', $State
        $run.ExitCode | Should -Be 0 -Because $run.StdErr
    }

    It '--json writes the status names as keys and times in UTC ISO 8601' {
        $r = Invoke-Geosync -ArgumentList 'status', '--state-dir', $State, '--json'
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $status = @($r.StdOut | ConvertFrom-Json -DateKind String)
        $status | Should -HaveCount 2
        $keys = $status[0].PSObject.Properties.Name
        foreach ($name in 'Name', 'Master', 'Slave', 'State', 'Crawl', 'LastSynced', 'LagSeconds', 'FilesSynced', 'BytesSynced',
            'EntriesCreated', 'EntriesPurged', 'Failures', 'Restarts', 'Checkpoint', 'CheckpointCompleted', 'CheckpointCompletedAt',
            'LastError', 'Hint', 'SupervisorPid', 'WorkerPid') {
            $keys | Should -Contain $name
        }
        $status[0].Name | Should -Be 'mvol-dr'
        $status[0].State | Should -Be 'Created'
        $pair = $status[1]
        $pair.Name | Should -BeNullOrEmpty
        $pair.Master | Should -Be "file://$Master"
        $pair.State | Should -Be 'Stopped'
        $pair.Crawl | Should -Be 'Incremental'
        $pair.FilesSynced | Should -Be 1
        $pair.LastSynced | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$'
        $pair.LagSeconds | Should -BeOfType ([long])
    }

    It 'NAME shows one replication; an unknown one exits 1 with ReplicationNotFound' {
        $r = Invoke-Geosync -ArgumentList 'status', 'mvol-dr', '--state-dir', $State, '--json'
        $r.ExitCode | Should -Be 0
        @($r.StdOut | ConvertFrom-Json).Name | Should -Be 'mvol-dr'
        $missing = Invoke-Geosync -ArgumentList 'status', 'nosuch', '--state-dir', $State
        $missing.ExitCode | Should -Be 1
        $missing.StdErr | Should -Match "There is no replication named 'nosuch'.*\(ReplicationNotFound\)"
    }

    It 'prints a view that fits 80 columns and keeps the URLs whole' -TestCases @(
        @{ Columns = '80' }
        @{ Columns = '' }
    ) {
        $r = Invoke-Geosync -ArgumentList 'status', '--state-dir', $State -Columns $Columns
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $lines = $r.StdOut -split "`n" | ForEach-Object TrimEnd
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 -Because "'$_' is wider than 80 columns" }
        $lines | Should -Contain 'mvol-dr  Created  never synced  0 files  0 failures'
        $lines | Should -Contain '  master  gluster://gluster1:mvol'
        $lines | Should -Contain '  slave   ssh://root@backup1:/srv/mvol-copy'
        $lines[0] | Should -Not -BeNullOrEmpty -Because 'no blank line comes before the first replication'
    }
}

Describe 'geosync checkpoint' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $script:State = Join-Path $Case 'state'
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        Set-Content -LiteralPath (Join-Path $Master 'first.txt') -Value 'first'
        $script:Paths = New-TestReplication -StateDirectory $State -Name 'dr' -Master "file://$Master" -Slave "file://$Slave"
    }

    It 'now --wait exits 0 once the running loop has brought everything written before it to the slave' {
        $sessionState = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
        $sessionState.ImportPSModule((Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1'))
        $runspace = [runspacefactory]::CreateRunspace($sessionState)
        $runspace.Open()
        $loop = [powershell]::Create($runspace)
        $null = $loop.AddCommand('Invoke-GeoSyncMaster').AddParameters(@{
                Master = $Master; Slave = "file://$Slave"; StatePath = $Paths.StateFile; CheckpointPath = $Paths.CheckpointFile; Interval = 0.2 })
        $null = $loop.BeginInvoke()
        try {
            Wait-Condition -Seconds 60 { (Get-GeoSyncStatus -Name dr -StateDirectory $State).Crawl -eq 'Incremental' } | Should -BeTrue
            foreach ($i in 1..10) { Set-Content -LiteralPath (Join-Path $Master "before-$i.txt") -Value $i }

            $r = Invoke-Geosync -ArgumentList 'checkpoint', 'dr', 'now', '--wait', '--timeout', '60', '--state-dir', $State

            $r.ExitCode | Should -Be 0 -Because $r.StdErr
            $r.StdOut | Should -Match '(?m)^checkpoint of dr: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
            $r.StdOut | Should -Match '(?m)^checkpoint \S+Z of dr completed at \S+Z$'
            foreach ($i in 1..10) { Join-Path $Slave "before-$i.txt" | Should -Exist }
        }
        finally {
            $loop.Stop()
            $loop.Dispose()
            $runspace.Dispose()
        }
    }

    It '--wait --timeout exits 1 with CheckpointTimeout when no loop runs' {
        $r = Invoke-Geosync -ArgumentList 'checkpoint', 'dr', '--state-dir', $State
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r = Invoke-Geosync -ArgumentList 'checkpoint', 'dr', '--wait', '--timeout', '2', '--state-dir', $State
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match 'did not complete within 2 s.*\(CheckpointTimeout\)'
        $r.StdErr | Should -Match 'geosync: Checkpoint .*no turn has completed'
    }

    It 'sets a given time, and refuses an unknown replication with exit 1' {
        $r = Invoke-Geosync -ArgumentList 'checkpoint', 'dr', '2026-12-07T14:00:00+01:00', '--state-dir', $State
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut.Trim() | Should -Be 'checkpoint of dr: 2026-12-07T13:00:00Z'
        $missing = Invoke-Geosync -ArgumentList 'checkpoint', 'nosuch', '--state-dir', $State
        $missing.ExitCode | Should -Be 1
        $missing.StdErr | Should -Match '\(ReplicationNotFound\)'
    }
}
