BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')
    . (Join-Path $PSScriptRoot 'XattrTestTools.ps1')

    # A small master tree: nested directories, files of several sizes, a symlink.
    function New-MasterTree {
        param([Parameter(Mandatory)] [string] $Root)
        $null = New-Item -ItemType Directory -Path (Join-Path $Root 'a/b/c') -Force
        Set-Content -LiteralPath (Join-Path $Root 'top.txt') -Value 'top' -NoNewline
        Set-Content -LiteralPath (Join-Path $Root 'a/one.txt') -Value ('1' * 5000) -NoNewline
        Set-Content -LiteralPath (Join-Path $Root 'a/b/c/deep.txt') -Value 'deep' -NoNewline
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $Root 'link') -Target 'a/one.txt'
    }

    # Relative path, type, size and content hash (or link target) of every entry, to compare two trees.
    function Get-TreeManifest {
        param([Parameter(Mandatory)] [string] $Root)
        $rootPath = (Resolve-Path -LiteralPath $Root).Path
        Get-ChildItem -LiteralPath $rootPath -Recurse -Force | Sort-Object -Property FullName | ForEach-Object {
            $relative = [System.IO.Path]::GetRelativePath($rootPath, $_.FullName)
            if ($_.LinkType -eq 'SymbolicLink') { "$relative -> $($_.Target)" }
            elseif ($_.PSIsContainer) { "$relative/" }
            else { "$relative $($_.Length) $((Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash)" }
        }
    }

    function Read-StateFile {
        param([Parameter(Mandatory)] [string] $Directory)
        $file = @(Get-ChildItem -LiteralPath $Directory -Filter '*.json' -File)
        $file | Should -HaveCount 1
        Get-Content -LiteralPath $file[0].FullName -Raw | ConvertFrom-Json
    }
}

Describe 'Invoke-GeoSyncMaster' {
    BeforeEach {
        $script:Master = Join-Path $TestDrive "master-$([guid]::NewGuid().ToString('n'))"
        $script:Slave = Join-Path $TestDrive "slave-$([guid]::NewGuid().ToString('n'))"
        $script:State = Join-Path $TestDrive "state-$([guid]::NewGuid().ToString('n'))"
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        New-MasterTree -Root $Master
    }

    AfterEach {
        Get-GeoSyncSession | Stop-GeoSyncSession -Confirm:$false
    }

    It 'passes -DirectoryPruning through to the session it opens' {
        (Get-Command Invoke-GeoSyncMaster).Parameters['DirectoryPruning'].ParameterType |
            Should -Be ([GeoSync.Engine.Session.DirectoryPruning])
        $turns = @(Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Once -StateDirectory $State -DirectoryPruning Disabled)
        $turns | Should -HaveCount 1
        $turns[0].Converged | Should -BeTrue
        { Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Once -StateDirectory $State -DirectoryPruning Sometimes } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,Invoke-GeoSyncMaster'
    }

    It '-Once replicates a directory, writes the turn and leaves a Stopped state file and no session' {
        $turns = @(Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Once -StateDirectory $State)

        $turns | Should -HaveCount 1
        $turns[0].PSObject.TypeNames[0] | Should -Be 'GeoSync.PowerShell.GeoSyncTurnResult'
        $turns[0].FilesSynced | Should -Be 3
        $turns[0].BytesSynced | Should -Be 5007
        $turns[0].Converged | Should -BeTrue
        Get-TreeManifest -Root $Slave | Should -Be (Get-TreeManifest -Root $Master)
        Get-GeoSyncSession | Should -BeNullOrEmpty

        $saved = Read-StateFile -Directory $State
        $saved.State | Should -Be 'Stopped'
        $saved.Master | Should -Be "file://$Master"
        $saved.Slave | Should -Be "file://$Slave"
        $saved.ProcessId | Should -Be $PID
        $saved.TurnsCompleted | Should -Be 1
        $saved.FilesSynced | Should -Be 3
        $saved.LastTurn.FilesSynced | Should -Be 3
        $saved.LastError | Should -BeNullOrEmpty
    }

    It '-Once on an up-to-date slave still writes its turn, which sent nothing' {
        $null = Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Once -StateDirectory $State
        $second = @(Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Once -StateDirectory $State)

        $second | Should -HaveCount 1
        $second[0].FilesSynced | Should -Be 0
        $second[0].EntriesCreated | Should -Be 0
    }

    It '-MaxTurns keeps crawling, picks up a change made while it runs, and writes the turns that did something and the last' {
        $late = Join-Path $Master 'a/b/late.txt'
        $writer = Start-ThreadJob -ArgumentList (Join-Path $Slave 'top.txt'), $late -ScriptBlock {
            param($firstSynced, $late)
            $clock = [Diagnostics.Stopwatch]::StartNew()
            while (-not (Test-Path -LiteralPath $firstSynced) -and $clock.Elapsed.TotalSeconds -lt 30) { Start-Sleep -Milliseconds 50 }
            Start-Sleep -Milliseconds 300
            Set-Content -LiteralPath $late -Value 'written while the loop runs' -NoNewline
        }
        try {
            $turns = @(Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -MaxTurns 15 -Interval 0.2 -StateDirectory $State)
        }
        finally {
            $writer | Wait-Job -Timeout 30 | Remove-Job -Force
        }

        $turns.Count | Should -Be 3 -Because 'the first sync and the turn that found late.txt did something, and the last turn decides the outcome; other idle ones are not written'
        $turns[0].FilesSynced | Should -Be 3
        $turns[1].FilesSynced | Should -Be 1
        $turns[2].Turn | Should -Be 15
        $turns[2].FilesSynced | Should -Be 0
        $turns[2].Converged | Should -BeTrue
        Get-Content -LiteralPath (Join-Path $Slave 'a/b/late.txt') -Raw | Should -Be 'written while the loop runs'
        (Read-StateFile -Directory $State).TurnsCompleted | Should -Be 15
    }

    It 'reconnects with a new slave process after the slave child is killed, and loses nothing' {
        $stateDir = $State
        $late = Join-Path $Master 'after-reconnect.txt'
        $killer = Start-ThreadJob -ArgumentList $stateDir, $late -ScriptBlock {
            param($stateDir, $late)
            function Read-State {
                $file = Get-ChildItem -LiteralPath $stateDir -Filter '*.json' -File -ErrorAction Ignore | Select-Object -First 1
                if ($file) { try { Get-Content -LiteralPath $file.FullName -Raw | ConvertFrom-Json } catch { $null } }
            }
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $first = $null
            while ($clock.Elapsed.TotalSeconds -lt 30) {
                $s = Read-State
                if ($s -and $s.State -eq 'Active' -and $s.LastTurn -and $s.SlaveProcessId -and $s.SlaveProcessId -ne $PID) { $first = $s.SlaveProcessId; break }
                Start-Sleep -Milliseconds 50
            }
            if (-not $first) { return 'the loop never became Active with a child slave' }
            Stop-Process -Id $first -Force
            $second = $null
            while ($clock.Elapsed.TotalSeconds -lt 45) {
                $s = Read-State
                if ($s -and $s.State -eq 'Active' -and $s.Reconnects -ge 1 -and $s.SlaveProcessId -and $s.SlaveProcessId -ne $first) { $second = $s.SlaveProcessId; break }
                Start-Sleep -Milliseconds 50
            }
            Set-Content -LiteralPath $late -Value 'after' -NoNewline
            "killed $first, reconnected to $second"
        }
        try {
            $turns = @(Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -SlaveMode Child -Timeout 30 `
                    -MaxTurns 40 -Interval 0.25 -StateDirectory $State -WarningVariable warnings -WarningAction SilentlyContinue)
        }
        finally {
            $report = $killer | Wait-Job -Timeout 60 | Receive-Job
            $killer | Remove-Job -Force
        }

        $report | Should -Match '^killed \d+, reconnected to \d+$'
        @($warnings | Where-Object { "$_" -match 'Reconnecting in 1 s' }).Count | Should -Be 1
        Get-Content -LiteralPath (Join-Path $Slave 'after-reconnect.txt') -Raw | Should -Be 'after'
        Get-TreeManifest -Root $Slave | Should -Be (Get-TreeManifest -Root $Master)
        $saved = Read-StateFile -Directory $State
        $saved.Reconnects | Should -Be 1
        $saved.State | Should -Be 'Stopped'
        $saved.LastError | Should -Not -BeNullOrEmpty
        $saved.FilesSynced | Should -Be 4 -Because 'the counts cover both sessions: 3 files first, after-reconnect.txt later'
        $saved.BytesSynced | Should -Be 5012
        $turns.FilesSynced | Should -Contain 1
    }

    It 'stops promptly and cleanly when its pipeline is stopped (Ctrl+C): no session left, state Stopped' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')).AddStatement()
            $null = $ps.AddCommand('Invoke-GeoSyncMaster').AddParameter('Master', "file://$Master").AddParameter('Slave', "file://$Slave").
                AddParameter('Interval', 30).AddParameter('StateDirectory', $State)
            $async = $ps.BeginInvoke()
            Wait-Condition -Seconds 30 {
                $file = Get-ChildItem -LiteralPath $State -Filter '*.json' -ErrorAction Ignore | Select-Object -First 1
                $file -and (Get-Content -LiteralPath $file.FullName -Raw | ConvertFrom-Json).LastTurn
            } | Should -BeTrue -Because 'the loop completes its first turn, then waits out its 30 s interval'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            # Stop() returns once the pipeline is stopped; the invocation's async result is signalled just after, on
            # the pipeline's thread, so it is waited for (within the same 5 s) rather than read at once.
            $completed = $async.AsyncWaitHandle.WaitOne([timespan]::FromSeconds([math]::Max(0, 5 - $clock.Elapsed.TotalSeconds)))
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
            $completed | Should -BeTrue -Because 'the stopped invocation completes within the 5 s bound'
            $async.IsCompleted | Should -BeTrue
        }
        finally {
            $ps.Dispose()
        }
        Get-GeoSyncSession | Should -BeNullOrEmpty -Because 'the loop stopped its session on the way out'
        (Read-StateFile -Directory $State).State | Should -Be 'Stopped'
        Get-TreeManifest -Root $Slave | Should -Be (Get-TreeManifest -Root $Master)
    }

    It 'watches a directory master <Case>: a change made while it waits out a 30 s interval <Outcome>' -ForEach @(
        @{ Case = 'by default'; Watch = $null; Outcome = 'reaches the slave within seconds'; Arrives = $true }
        @{ Case = 'unless -Watch Disabled'; Watch = 'Disabled'; Outcome = 'waits for the interval'; Arrives = $false }
    ) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')).AddStatement()
            $null = $ps.AddCommand('Invoke-GeoSyncMaster').AddParameter('Master', "file://$Master").AddParameter('Slave', "file://$Slave").
                AddParameter('Interval', 30).AddParameter('StateDirectory', $State)
            if ($Watch) { $null = $ps.AddParameter('Watch', $Watch) }
            $async = $ps.BeginInvoke()
            Wait-Condition -Seconds 30 {
                $file = Get-ChildItem -LiteralPath $State -Filter '*.json' -ErrorAction Ignore | Select-Object -First 1
                $file -and (Get-Content -LiteralPath $file.FullName -Raw | ConvertFrom-Json).LastTurn
            } | Should -BeTrue -Because 'the loop completes its first turn, then waits'
            # Past the turn that follows a busy one, so the loop is inside its 30 s wait.
            Start-Sleep -Milliseconds 500
            $null = New-Item -ItemType Directory -Path (Join-Path $Master 'new/inner')
            Set-Content -LiteralPath (Join-Path $Master 'new/inner/made-while-waiting.txt') -Value 'watched' -NoNewline
            Set-Content -LiteralPath (Join-Path $Master 'a/b/c/deep.txt') -Value 'changed while waiting' -NoNewline
            $arrived = Wait-Condition -Seconds 5 {
                (Test-Path -LiteralPath (Join-Path $Slave 'new/inner/made-while-waiting.txt')) -and
                (Get-Content -LiteralPath (Join-Path $Slave 'a/b/c/deep.txt') -Raw) -eq 'changed while waiting'
            }
            $arrived | Should -Be $Arrives
            $ps.Stop()
            # Stop() can return before the invocation's handle is signalled.
            $async.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue
        }
        finally {
            $ps.Dispose()
        }
        if ($Arrives) { Get-TreeManifest -Root $Slave | Should -Be (Get-TreeManifest -Root $Master) }
        (Read-StateFile -Directory $State).State | Should -Be 'Stopped'
    }

    It 'gives up with MasterReconnectsExhausted after -MaxReconnects failures, keeping the last error in the state file' {
        $missing = Join-Path $TestDrive 'no-such-slave'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $caught = $null
        try {
            Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$missing" -MaxReconnects 2 -StateDirectory $State `
                -WarningVariable warnings -WarningAction SilentlyContinue
        }
        catch {
            $caught = $_
        }
        $caught.FullyQualifiedErrorId | Should -Be 'MasterReconnectsExhausted,Invoke-GeoSyncMaster'
        $caught.CategoryInfo.Category | Should -Be 'ConnectionError'
        $caught.Exception.Message | Should -Match 'no-such-slave'
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 3 -Because 'the delays before the two retries are 1 s and 2 s'
        $warnings | Should -HaveCount 2
        $saved = Read-StateFile -Directory $State
        $saved.State | Should -Be 'Failed'
        $saved.Reconnects | Should -Be 2
        $saved.LastError | Should -Match 'no-such-slave'
        (Get-GeoSyncStatus -StateDirectory $State).State | Should -Be 'Failed'
    }

    It 'does not retry with -Once unless -MaxReconnects is given' {
        $missing = Join-Path $TestDrive 'no-such-slave'
        { Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$missing" -Once -StateDirectory $State -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'MasterReconnectsExhausted,Invoke-GeoSyncMaster'
        (Read-StateFile -Directory $State).Reconnects | Should -Be 0
    }

    It 'ends at once on a malformed URL, before writing any state' {
        { Invoke-GeoSyncMaster -Master "file://$Master" -Slave 'gluster://bad host:vol' -StateDirectory $State } |
            Should -Throw -ErrorId 'InvalidGeoSyncUrl,Invoke-GeoSyncMaster'
        $State | Should -Not -Exist
    }

    It 'refuses a second loop for the same pair with MasterAlreadyRunning' {
        $null = Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Once -StateDirectory $State
        $stateFile = (Get-ChildItem -LiteralPath $State -Filter '*.json').FullName
        $held = [System.IO.FileStream]::new("$stateFile.lock", 'Open', 'ReadWrite', 'None')
        try {
            $err = { Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -Once -StateDirectory $State } |
                Should -Throw -ErrorId 'MasterAlreadyRunning,Invoke-GeoSyncMaster' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceBusy'
            $err.TargetObject | Should -Be "file://$Master -> file://$Slave"
            $err.Exception.Message | Should -Match "process $PID"
        }
        finally {
            $held.Dispose()
        }
    }

    It '-WhatIf <Once> plans one turn: the changes come out, nothing is written and no state is kept' -ForEach @(
        @{ Once = '-Once'; Arguments = @{ Once = $true } }
        @{ Once = 'without -Once'; Arguments = @{} }
    ) {
        Set-Content -LiteralPath (Join-Path $Slave 'stale.txt') -Value 'only on the slave'
        $masterBefore = Get-TreeChecksum -LiteralPath $Master
        $slaveBefore = Get-TreeChecksum -LiteralPath $Slave

        $plan = @(Invoke-GeoSyncMaster -Master "file://$Master" -Slave "file://$Slave" -StateDirectory $State -WhatIf @Arguments)

        $plan | Should -BeOfType GeoSync.PowerShell.GeoSyncPlannedChange
        $plan.ForEach({ "$($_.Action) $($_.Path)" }) | Should -Be @(
            'Purge stale.txt', 'Create a', 'Create a/b', 'Create a/b/c', 'Create a/b/c/deep.txt', 'Create a/one.txt', 'Create link', 'Create top.txt')
        Get-TreeChecksum -LiteralPath $Master | Should -Be $masterBefore
        Get-TreeChecksum -LiteralPath $Slave | Should -Be $slaveBefore
        $State | Should -Not -Exist
        # The session it opened for the dry run is gone again.
        Get-GeoSyncSession | Should -BeNullOrEmpty
    }

    It '-WhatIf ends with a terminating error when the session cannot start, and writes no state' {
        { Invoke-GeoSyncMaster -Master "file://$Master/missing" -Slave "file://$Slave" -StateDirectory $State -WhatIf } |
            Should -Throw
        $State | Should -Not -Exist
        Get-ChildItem -LiteralPath $Slave | Should -BeNullOrEmpty
    }
}

Describe 'Get-GeoSyncStatus' {
    BeforeEach {
        $script:State = Join-Path $TestDrive "status-$([guid]::NewGuid().ToString('n'))"
        $null = New-Item -ItemType Directory -Path $State
    }

    It 'shows a loop whose process is gone as Defunct, and a stopped one as it left it' {
        $gone = Start-Process -FilePath /bin/true -PassThru
        $gone.WaitForExit()
        $base = @{ Slave = 'file:///s'; ProcessId = $gone.Id; ProcessStartTime = 0; TurnsCompleted = 3; LastError = $null }
        ([ordered]@{ Master = 'file:///a'; State = 'Active' } + $base) | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $State 'a.json')
        ([ordered]@{ Master = 'file:///b'; State = 'Stopped' } + $base) | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $State 'b.json')
        ([ordered]@{ Master = 'file:///c'; State = 'Active'; Slave = 'file:///s'; ProcessId = $PID }) | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $State 'c.json')

        $status = @(Get-GeoSyncStatus -StateDirectory $State)

        $status | Should -HaveCount 3
        $status[0].PSObject.TypeNames[0] | Should -Be 'GeoSync.Engine.Operations.ReplicationStatus'
        ($status | Where-Object Master -eq 'file:///a').State | Should -Be 'Defunct'
        ($status | Where-Object Master -eq 'file:///b').State | Should -Be 'Stopped'
        ($status | Where-Object Master -eq 'file:///c').State | Should -Be 'Active'
        @(Get-GeoSyncStatus -StateDirectory $State -Master 'file:///[ab]').Count | Should -Be 2
    }

    It 'reports an unreadable state file as StateFileUnreadable and lists the others' {
        Set-Content -LiteralPath (Join-Path $State 'broken.json') -Value '{ not json'
        [ordered]@{ Master = 'file:///ok'; Slave = 'file:///s'; State = 'Stopped'; ProcessId = 1 } | ConvertTo-Json |
            Set-Content -LiteralPath (Join-Path $State 'ok.json')

        $status = @(Get-GeoSyncStatus -StateDirectory $State -ErrorVariable err -ErrorAction SilentlyContinue)

        $status.Master | Should -Be 'file:///ok'
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'StateFileUnreadable,GeoSync.PowerShell.Commands.GetGeoSyncStatusCommand'
        $err[0].TargetObject | Should -Be (Join-Path $State 'broken.json')
    }

    It 'lists nothing for a state directory that does not exist' {
        Get-GeoSyncStatus -StateDirectory (Join-Path $TestDrive 'none') | Should -BeNullOrEmpty
    }
}
