# geosync create|config|delete, geosync master --replication, and the command line as a hurried administrator types it.
BeforeAll {
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
    # The catalog's types are read here (the number of stored options), so the module must be loaded when run alone.
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force

    . (Join-Path $PSScriptRoot 'GeosyncProcess.ps1')
}

Describe 'geosync create, config and delete' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:State = Join-Path $Case 'state'
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $script:Config = Join-Path $State 'replications/mvol-dr/config.json'
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        Set-Content -LiteralPath (Join-Path $Master 'a.txt') -Value 'a' -NoNewline
    }

    It 'creates, shows, sets, resets and deletes a replication' {
        $r = Invoke-Geosync 'create', 'mvol-dr', $Master, "file://$Slave", '--sync-jobs', '4', '--xattrs', '--slave-mode=in-process', '--state-dir', $State
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdErr | Should -BeNullOrEmpty
        (Get-Content -LiteralPath $Config -Raw | ConvertFrom-Json).Options.'slave-mode' | Should -Be 'InProcess'

        $all = Invoke-Geosync 'config', 'mvol-dr', '--state-dir', $State
        $all.ExitCode | Should -Be 0
        $all.Lines | Should -Contain "master: file://$Master"
        $all.Lines | Should -Contain 'sync-jobs: 4'
        $all.Lines | Should -Contain 'slave-mode: in-process'
        $all.Lines | Should -Contain 'timeout: 120 (default)'
        $all.Lines | Should -Contain 'xattrs: true'
        $all.Lines.Count | Should -Be (2 + [GeoSync.Engine.Operations.ReplicationOptions]::Stored.Count)

        (Invoke-Geosync 'config', 'mvol-dr', 'sync-jobs', '--state-dir', $State).Lines | Should -Be @('4')
        (Invoke-Geosync 'config', 'mvol-dr', 'slave', '--state-dir', $State).Lines | Should -Be @("file://$Slave")
        (Invoke-Geosync 'config', 'mvol-dr', 'interval', '0.5', '--state-dir', $State).ExitCode | Should -Be 0
        (Invoke-Geosync 'config', 'mvol-dr', 'remote-command', '/opt/geosync/geosync slave', '--state-dir', $State).ExitCode | Should -Be 0
        (Get-Content -LiteralPath $Config -Raw | ConvertFrom-Json).Options.'remote-command' | Should -Be @('/opt/geosync/geosync', 'slave')
        (Invoke-Geosync 'config', 'mvol-dr', '--reset', 'sync-jobs', '--state-dir', $State).ExitCode | Should -Be 0
        (Invoke-Geosync 'config', 'mvol-dr', 'interval', '--state-dir', $State).Lines | Should -Be @('0.5')
        (Get-Content -LiteralPath $Config -Raw | ConvertFrom-Json).Options.PSObject.Properties.Name | Should -Not -Contain 'sync-jobs'

        $d = Invoke-Geosync 'delete', 'mvol-dr', '--state-dir', $State
        $d.ExitCode | Should -Be 0
        Test-Path (Join-Path $State 'replications/mvol-dr') | Should -BeFalse
    }

    It 'refuses <Why> (exit <Exit>) saying what is wrong, and writes nothing' -ForEach @(
        @{ Why = 'a mistyped option'; Words = @('create', 'mvol-dr', '/srv/m', '/srv/s', '--sync-job', '3'); Exit = 2; Message = "create: unknown option '--sync-job' \(did you mean '--sync-jobs'\?\)" }
        @{ Why = 'a value out of range'; Words = @('create', 'mvol-dr', '/srv/m', '/srv/s', '--sync-jobs', '0'); Exit = 2; Message = "--sync-jobs takes a whole number from 1 to 64, not '0'" }
        @{ Why = 'a word for a number'; Words = @('create', 'mvol-dr', '/srv/m', '/srv/s', '--ssh-port', 'ssh'); Exit = 2; Message = "--ssh-port takes a whole number from 1 to 65535, not 'ssh'" }
        @{ Why = 'a run-mode option'; Words = @('create', 'mvol-dr', '/srv/m', '/srv/s', '--once'); Exit = 2; Message = '--once is given per run' }
        @{ Why = 'the arguments in the wrong order'; Words = @('create', '/srv/m', '/srv/s', 'mvol-dr'); Exit = 2; Message = "'/srv/m' is not a valid replication name.*Usage: geosync create NAME MASTER SLAVE" }
        @{ Why = 'a missing slave'; Words = @('create', 'mvol-dr', '/srv/m'); Exit = 2; Message = 'create: takes a name, the master and the slave URL.*got 2 word' }
        @{ Why = 'a malformed URL'; Words = @('create', 'mvol-dr', '/srv/m', 'host:'); Exit = 2; Message = "create: .*host:" }
        @{ Why = 'config of a missing replication'; Words = @('config', 'nope'); Exit = 1; Message = "There is no replication 'nope'.*geosync create nope" }
        @{ Why = 'config without a name'; Words = @('config'); Exit = 2; Message = "config: the replication's name is missing" }
        @{ Why = 'delete of a missing replication'; Words = @('delete', 'nope'); Exit = 1; Message = "There is no replication 'nope'" }
        @{ Why = 'delete with two names'; Words = @('delete', 'a', 'b'); Exit = 2; Message = 'delete: takes the name of one replication' }
    ) {
        $r = Invoke-Geosync ($Words + @('--state-dir', $State))
        $r.ExitCode | Should -Be $Exit
        $r.StdErr | Should -Match $Message
        $r.StdOut | Should -BeNullOrEmpty
        Test-Path (Join-Path $State 'replications/mvol-dr') | Should -BeFalse
    }

    It 'refuses a bad config change (exit 2) and keeps the file as it was: <Why>' -ForEach @(
        @{ Why = 'a mistyped key'; Words = @('sync-jobz', '3'); Message = "'sync-jobz' is not a GeoSync option \(did you mean 'sync-jobs'\?\)" }
        @{ Why = 'a bad value'; Words = @('max-delete-share', '2'); Message = "'2' is not a valid value of max-delete-share: it takes a number from 0 to 1" }
        @{ Why = 'a negative interval'; Words = @('interval', '-1'); Message = "'-1' is not a valid value of interval" }
        @{ Why = 'a bad choice'; Words = @('slave-mode', 'rsh'); Message = 'it takes one of auto, in-process, child, ssh' }
        @{ Why = 'a reset of an unknown key'; Words = @('--reset', 'bogus'); Message = "'bogus' is not a GeoSync option; the options are: sync-jobs," }
        @{ Why = 'a run-mode option'; Words = @('max-turns', '3'); Message = 'max-turns shapes one run and is not stored' }
        @{ Why = 'a new master'; Words = @('master', '/srv/other'); Message = 'the master of a replication is fixed' }
        @{ Why = 'a value with blanks unquoted'; Words = @('remote-command', '/opt/geosync', 'slave'); Message = 'config: takes a name, a key and one value' }
    ) {
        (Invoke-Geosync 'create', 'mvol-dr', $Master, $Slave, '--sync-jobs', '4', '--state-dir', $State).ExitCode | Should -Be 0
        $before = Get-Content -LiteralPath $Config -Raw
        $r = Invoke-Geosync (@('config', 'mvol-dr') + $Words + @('--state-dir', $State))
        $r.ExitCode | Should -Be 2
        $r.StdErr | Should -Match $Message
        Get-Content -LiteralPath $Config -Raw | Should -Be $before
    }

    It 'refuses the same name twice (exit 1) and keeps the first' {
        (Invoke-Geosync 'create', 'mvol-dr', $Master, $Slave, '--state-dir', $State).ExitCode | Should -Be 0
        $r = Invoke-Geosync 'create', 'mvol-dr', '/srv/other', '/srv/other-copy', '--state-dir', $State
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match "A replication named 'mvol-dr' already exists"
        (Invoke-Geosync 'config', 'mvol-dr', 'master', '--state-dir', $State).Lines | Should -Be @("file://$Master")
    }

    It 'refuses to delete while a master loop holds the lock, unless --force' {
        (Invoke-Geosync 'create', 'mvol-dr', $Master, $Slave, '--state-dir', $State).ExitCode | Should -Be 0
        $lock = [System.IO.FileStream]::new((Join-Path $State 'replications/mvol-dr/state.json.lock'), 'OpenOrCreate', 'ReadWrite', 'None')
        try {
            $r = Invoke-Geosync 'delete', 'mvol-dr', '--state-dir', $State
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match "Replication 'mvol-dr' is running \(a master loop holds .*state.json.lock\)"
            Test-Path $Config | Should -BeTrue
            (Invoke-Geosync 'delete', 'mvol-dr', '--force', '--state-dir', $State).ExitCode | Should -Be 0
            Test-Path $Config | Should -BeFalse
        }
        finally { $lock.Dispose() }
    }

    It 'runs a replication with geosync master --replication, the command line over the stored options' {
        # Stored: a child slave whose command does not exist; the turn fails with it, and works when overridden.
        (Invoke-Geosync 'create', 'mvol-dr', $Master, "file://$Slave", '--slave-mode', 'child', '--slave-command', '/nonexistent/geosync slave', '--state-dir', $State).ExitCode | Should -Be 0
        $failed = Invoke-Geosync 'master', '--replication', 'mvol-dr', '--once', '--state-dir', $State
        $failed.ExitCode | Should -Be 1
        Test-Path (Join-Path $Slave 'a.txt') | Should -BeFalse

        $r = Invoke-Geosync 'master', '--replication', 'mvol-dr', '--once', '--slave-mode', 'in-process', '--state-dir', $State
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut | Should -Match '(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d mvol-dr turn 1: 1 files \(1 bytes\) synced'
        Get-Content -LiteralPath (Join-Path $Slave 'a.txt') -Raw | Should -Be 'a'
        (Get-Content -LiteralPath (Join-Path $State 'replications/mvol-dr/state.json') -Raw | ConvertFrom-Json).State | Should -Be 'Stopped'
        (Invoke-Geosync 'config', 'mvol-dr', 'slave-mode', '--state-dir', $State).Lines | Should -Be @('child')
    }

    It 'refuses geosync master with both URLs and --replication, and an unknown replication' {
        $r = Invoke-Geosync 'master', '--replication', 'mvol-dr', $Master, $Slave, '--state-dir', $State
        $r.ExitCode | Should -Be 2
        $r.StdErr | Should -Match 'give the master and slave URL or --replication NAME, not both'
        $r = Invoke-Geosync 'master', '--replication', 'nope', '--once', '--state-dir', $State
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match "There is no replication 'nope'.*\(ReplicationNotFound\)"
    }
}

Describe 'the geosync command line' {
    It '<Verb> --help prints its own text' -ForEach @(
        @{ Verb = 'slave'; Synopsis = 'geosync slave <url> --listen' }
        @{ Verb = 'master'; Synopsis = 'geosync master --replication <name>' }
        @{ Verb = 'status'; Synopsis = 'geosync status' }
        @{ Verb = 'failures'; Synopsis = 'geosync failures <name> | <master-url>' }
        @{ Verb = 'verify'; Synopsis = 'geosync verify <master-url>' }
        @{ Verb = 'create'; Synopsis = 'geosync create <name> <master-url> <slave-url>' }
        @{ Verb = 'config'; Synopsis = 'geosync config <name> --reset <key>' }
        @{ Verb = 'delete'; Synopsis = 'geosync delete <name> \[--force\]' }
    ) {
        $r = Invoke-Geosync $Verb, '--help'
        $r.ExitCode | Should -Be 0
        $r.StdOut | Should -Match "(?m)^\s*$Synopsis"
        $r.StdOut | Should -Not -Match 'Exit codes'
        (Invoke-Geosync '--help').StdOut | Should -Match "(?m)^\s*$Synopsis"
    }

    It 'says --verbose narrates on stderr' {
        (Invoke-Geosync 'master', '--help').StdOut | Should -Match '--verbose\s+narrate every turn, idle ones included, on stderr'
    }

    It 'takes <Word> as an unknown command (exit 2), not as a script file' -ForEach @(
        @{ Word = 'version' }
        @{ Word = 'frobnicate' }
    ) {
        $r = Invoke-Geosync $Word
        $r.ExitCode | Should -Be 2
        $r.StdErr | Should -Match "geosync: unknown command '$Word'; the commands are slave, master"
        $r.StdErr | Should -Not -Match 'does not exist'
    }

    It 'still runs a script file by path, and names a missing .ps1 as a missing script' {
        $script = Join-Path $TestDrive 'hello'
        Set-Content -LiteralPath $script -Value '"hello from a script"'
        (Invoke-Geosync $script).Lines | Should -Be @('hello from a script')
        $r = Invoke-Geosync (Join-Path $TestDrive 'missing.ps1')
        $r.ExitCode | Should -Be 2
        $r.StdErr | Should -Match 'the script file .*missing.ps1.* does not exist'
    }

    It 'status --state-dir of a directory that does not exist exits 1 with a message' {
        $r = Invoke-Geosync 'status', '--state-dir', (Join-Path $TestDrive 'nonexistent')
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match "status: the state directory '.*nonexistent' does not exist"
    }

    It 'points a mistyped master flag at the nearest one and at master''s own help' {
        $r = Invoke-Geosync 'master', 'file:///a', 'file:///b', '--conection-timeout', '5'
        $r.ExitCode | Should -Be 2
        $r.StdErr | Should -Match "master: unknown option '--conection-timeout' \(did you mean '--connection-timeout'\?\)"
        $r.StdErr | Should -Match "Run 'geosync master --help' for usage"
    }
}
