BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force

    function New-Tree {
        param([string] $Root)
        $null = New-Item -ItemType Directory -Path (Join-Path $Root 'd') -Force
        Set-Content -LiteralPath (Join-Path $Root 'd/f.txt') -Value 'f' -NoNewline
    }
}

Describe 'New-/Get-/Set-/Remove-GeoSyncReplication' {
    BeforeEach {
        $script:State = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:Master = Join-Path $TestDrive 'master'
        $script:Slave = Join-Path $TestDrive 'slave'
        $script:Config = Join-Path $State 'replications/mvol-dr/config.json'
    }

    It 'creates a replication with normalized URLs and only the options given, and runs nothing' {
        $r = New-GeoSyncReplication -Name mvol-dr -Master $Master -Slave "file://$Slave" -SyncJobs 4 -SlaveMode Child -IgnoreDeletes -StateDirectory $State

        $r | Should -BeOfType GeoSync.PowerShell.GeoSyncReplication
        $r.Master | Should -Be "file://$Master"
        $r.Options.Keys | Should -Be @('SyncJobs', 'SlaveMode', 'IgnoreDeletes')
        $r.Options['SlaveMode'] | Should -Be ([GeoSync.Engine.Session.SlaveMode]::Child)
        $json = Get-Content -LiteralPath $Config -Raw | ConvertFrom-Json
        $json.Options.'sync-jobs' | Should -Be 4
        $json.Options.'slave-mode' | Should -Be 'Child'
        $json.Options.'ignore-deletes' | Should -BeTrue
        Test-Path (Join-Path $State 'replications/mvol-dr/state.json') | Should -BeFalse
    }

    It 'stores a relative identity file as a full path' {
        Push-Location $TestDrive
        try {
            $r = New-GeoSyncReplication -Name mvol-dr -Master $Master -Slave "file://$Slave" -IdentityFile ./keys/id -StateDirectory $State
        }
        finally { Pop-Location }
        $r.Options['IdentityFile'] | Should -Be (Join-Path $TestDrive 'keys/id')
    }

    It 'refuses the same name twice with ReplicationExists and keeps the first' {
        $null = New-GeoSyncReplication mvol-dr $Master "file://$Slave" -StateDirectory $State
        $r = New-GeoSyncReplication mvol-dr '/srv/other' 'file:///srv/other-copy' -StateDirectory $State -ErrorAction SilentlyContinue -ErrorVariable errors

        $r | Should -BeNullOrEmpty
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'ReplicationExists,GeoSync.PowerShell.Commands.NewGeoSyncReplicationCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $errors[0].TargetObject | Should -Be 'mvol-dr'
        (Get-GeoSyncReplication mvol-dr -StateDirectory $State).Master | Should -Be "file://$Master"
    }

    It 'refuses <Case> before writing anything' -ForEach @(
        @{ Case = 'a bad name (arguments in the wrong order)'; Arguments = @{ Name = '/srv/m'; Master = '/srv/s'; Slave = 'mvol' }; Id = 'InvalidReplicationName' }
        @{ Case = 'an ssh master'; Arguments = @{ Name = 'a'; Master = 'ssh://h:/srv/m'; Slave = '/srv/s' }; Id = 'InvalidGeoSyncUrl' }
        @{ Case = 'a malformed slave'; Arguments = @{ Name = 'a'; Master = '/srv/m'; Slave = 'host:' }; Id = 'InvalidGeoSyncUrl' }
    ) {
        New-GeoSyncReplication @Arguments -StateDirectory $State -ErrorAction SilentlyContinue -ErrorVariable errors
        $errors[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        Test-Path (Join-Path $State 'replications') | Should -BeFalse
    }

    It 'refuses a value out of range at binding' {
        { New-GeoSyncReplication a /srv/m /srv/s -SyncJobs 0 -StateDirectory $State -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,GeoSync.PowerShell.Commands.NewGeoSyncReplicationCommand'
        { New-GeoSyncReplication a /srv/m /srv/s -SlaveMode Rsh -StateDirectory $State -ErrorAction Stop } |
            Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,GeoSync.PowerShell.Commands.NewGeoSyncReplicationCommand'
        Test-Path (Join-Path $State 'replications') | Should -BeFalse
    }

    It '-WhatIf writes nothing' {
        New-GeoSyncReplication a /srv/m /srv/s -StateDirectory $State -WhatIf | Should -BeNullOrEmpty
        Test-Path (Join-Path $State 'replications') | Should -BeFalse
    }

    It 'creates from objects piped by property name' {
        $rows = @(
            [pscustomobject]@{ Name = 'one'; Master = '/srv/one'; Slave = 'file:///backup/one'; SyncJobs = 2 }
            [pscustomobject]@{ Name = 'two'; Master = '/srv/two'; Slave = 'backup1:/srv/two'; SyncJobs = 3 }
        )
        $rows | New-GeoSyncReplication -StateDirectory $State | Should -HaveCount 2
        $two = Get-GeoSyncReplication two -StateDirectory $State
        $two.Slave | Should -Be 'ssh://backup1:/srv/two'
        $two.Options['SyncJobs'] | Should -Be 3
    }

    It 'gets by name with wildcards, and a missing name is ReplicationNotFound' {
        foreach ($name in 'alpha', 'beta', 'alps') { $null = New-GeoSyncReplication $name /srv/$name file:///b/$name -StateDirectory $State }

        (Get-GeoSyncReplication -StateDirectory $State).Name | Should -Be @('alpha', 'alps', 'beta')
        (Get-GeoSyncReplication 'al*' -StateDirectory $State).Name | Should -Be @('alpha', 'alps')
        Get-GeoSyncReplication 'zz*' -StateDirectory $State | Should -BeNullOrEmpty
        Get-GeoSyncReplication gamma -StateDirectory $State -ErrorAction SilentlyContinue -ErrorVariable errors | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -Be 'ReplicationNotFound,GeoSync.PowerShell.Commands.GetGeoSyncReplicationCommand'
        $errors[0].Exception.Message | Should -Match "geosync create gamma"
    }

    It 'sets and resets options; a bad -Reset or a set-and-reset writes nothing' {
        $null = New-GeoSyncReplication mvol-dr $Master "file://$Slave" -SyncJobs 4 -StateDirectory $State
        $before = Get-Content -LiteralPath $Config -Raw

        Set-GeoSyncReplication mvol-dr -Timeout 30 -Reset sync-jobz -StateDirectory $State -ErrorAction SilentlyContinue -ErrorVariable errors
        $errors[0].FullyQualifiedErrorId | Should -Be 'InvalidReplicationOption,GeoSync.PowerShell.Commands.SetGeoSyncReplicationCommand'
        $errors[0].Exception.Message | Should -Match "'sync-jobz' is not a GeoSync option \(did you mean 'sync-jobs'\?\)"
        Set-GeoSyncReplication mvol-dr -SyncJobs 2 -Reset SyncJobs -StateDirectory $State -ErrorAction SilentlyContinue -ErrorVariable errors
        $errors[0].Exception.Message | Should -Match 'both set and reset'
        Set-GeoSyncReplication mvol-dr -Reset Once -StateDirectory $State -ErrorAction SilentlyContinue -ErrorVariable errors
        $errors[0].Exception.Message | Should -Match 'not stored with a replication'
        Get-Content -LiteralPath $Config -Raw | Should -Be $before

        $r = Set-GeoSyncReplication mvol-dr -Timeout 30 -Reset sync-jobs -StateDirectory $State -PassThru
        $r.Options.Keys | Should -Be @('Timeout')
        Set-GeoSyncReplication mvol-dr -Timeout 60 -StateDirectory $State | Should -BeNullOrEmpty
        (Get-GeoSyncReplication mvol-dr -StateDirectory $State).Options['Timeout'] | Should -Be 60
    }

    It 'sets every replication piped from Get-GeoSyncReplication, and a missing one is ReplicationNotFound' {
        foreach ($name in 'a', 'b') { $null = New-GeoSyncReplication $name /srv/$name file:///b/$name -StateDirectory $State }
        Get-GeoSyncReplication -StateDirectory $State | Set-GeoSyncReplication -MaxDeleteShare 0.25
        (Get-GeoSyncReplication -StateDirectory $State).Options.MaxDeleteShare | Should -Be @(0.25, 0.25)

        Set-GeoSyncReplication nope -SyncJobs 2 -StateDirectory $State -ErrorAction SilentlyContinue -ErrorVariable errors
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ReplicationNotFound,*'
        $errors[0].TargetObject | Should -Be 'nope'
    }

    It 'removes a replication''s folder, refuses while a master loop holds its lock unless -Force' {
        $null = New-GeoSyncReplication mvol-dr $Master "file://$Slave" -StateDirectory $State
        $lockPath = Join-Path $State 'replications/mvol-dr/state.json.lock'
        $lock = [System.IO.FileStream]::new($lockPath, 'OpenOrCreate', 'ReadWrite', 'None')
        try {
            Remove-GeoSyncReplication mvol-dr -StateDirectory $State -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable errors
            $errors[0].FullyQualifiedErrorId | Should -Be 'ReplicationRunning,GeoSync.PowerShell.Commands.RemoveGeoSyncReplicationCommand'
            $errors[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
            $errors[0].Exception.Message | Should -Match 'geosync stop mvol-dr'
            Test-Path $Config | Should -BeTrue
        }
        finally { $lock.Dispose() }

        Remove-GeoSyncReplication mvol-dr -StateDirectory $State -WhatIf
        Test-Path $Config | Should -BeTrue
        Get-GeoSyncReplication -StateDirectory $State | Remove-GeoSyncReplication -Confirm:$false
        Test-Path (Join-Path $State 'replications/mvol-dr') | Should -BeFalse

        Remove-GeoSyncReplication mvol-dr -StateDirectory $State -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable errors
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ReplicationNotFound,*'
    }

    It 'removes with -Force while the lock is held' {
        $null = New-GeoSyncReplication mvol-dr $Master "file://$Slave" -StateDirectory $State
        $lock = [System.IO.FileStream]::new((Join-Path $State 'replications/mvol-dr/state.json.lock'), 'OpenOrCreate', 'ReadWrite', 'None')
        try { Remove-GeoSyncReplication mvol-dr -StateDirectory $State -Force -Confirm:$false }
        finally { $lock.Dispose() }
        Test-Path $Config | Should -BeFalse
    }

    It 'asks before removing (ConfirmImpact High)' {
        (Get-Command Remove-GeoSyncReplication).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact |
            Should -Be 'High'
    }

    It 'shows a table that fits 80 columns' {
        $null = New-GeoSyncReplication a-long-replication-name gluster://gluster1.example.com:mvol ssh://root@backup1.example.com:/srv/mvol -SyncJobs 4 -StateDirectory $State
        $lines = Get-GeoSyncReplication -StateDirectory $State | Out-String -Width 80 -Stream
        $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
        # URLs wrap in their column instead of being cut short with an ellipsis.
        $lines -join "`n" | Should -Not -Match '…'
        $lines -join "`n" | Should -Match ([regex]::Escape('le.com:/srv/mvol'))
    }

    It 'completes -Name with the defined replications' {
        foreach ($name in 'alpha', 'beta') { $null = New-GeoSyncReplication $name /srv/$name file:///b/$name -StateDirectory $State }
        $line = "Get-GeoSyncReplication -StateDirectory '$State' -Name al"
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completion.CompletionMatches.CompletionText | Should -Be @('alpha')
        $line = 'Set-GeoSyncReplication x -Reset SyncJ'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('SyncJobs')
    }
}

Describe 'Invoke-GeoSyncMaster -Replication' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:State = Join-Path $Case 'state'
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        New-Tree -Root $Master
    }

    It 'runs the stored pair and keeps its state and ledger in the replication''s folder' {
        $null = New-GeoSyncReplication mvol-dr $Master "file://$Slave" -StateDirectory $State
        $turn = Invoke-GeoSyncMaster -Replication mvol-dr -Once -StateDirectory $State

        $turn.FilesSynced | Should -Be 1
        $turn.SessionName | Should -Be 'mvol-dr'
        Get-Content -LiteralPath (Join-Path $Slave 'd/f.txt') -Raw | Should -Be 'f'
        $stateFile = Join-Path $State 'replications/mvol-dr/state.json'
        (Get-Content -LiteralPath $stateFile -Raw | ConvertFrom-Json).State | Should -Be 'Stopped'
        @(Get-ChildItem -LiteralPath $State -Filter '*.json' -File) | Should -BeNullOrEmpty -Because 'a named loop keeps no ad hoc pair file'
    }

    It 'takes stored options over defaults and the command line over stored options' {
        # Stored: a child slave whose command does not exist, so the stored options make the turn fail.
        $null = New-GeoSyncReplication mvol-dr $Master "file://$Slave" -SlaveMode Child -SlaveCommand '/nonexistent/geosync', 'slave' -StateDirectory $State
        { Invoke-GeoSyncMaster -Replication mvol-dr -Once -StateDirectory $State -ErrorAction Stop } | Should -Throw
        Test-Path (Join-Path $Slave 'd/f.txt') | Should -BeFalse

        # The command line wins for this run only.
        $turn = Invoke-GeoSyncMaster -Replication mvol-dr -Once -SlaveMode InProcess -StateDirectory $State
        $turn.FilesSynced | Should -Be 1
        (Get-GeoSyncReplication mvol-dr -StateDirectory $State).Options['SlaveMode'] | Should -Be 'Child'
    }

    It 'refuses a replication that does not exist with ReplicationNotFound' {
        { Invoke-GeoSyncMaster -Replication nope -Once -StateDirectory $State -ErrorAction Stop } | Should -Throw -ErrorId 'ReplicationNotFound*'
    }
}
