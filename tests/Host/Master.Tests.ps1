BeforeAll {
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')
    . (Join-Path $PSScriptRoot '../Module/XattrTestTools.ps1')

    # Starts geosync with these argv words and stdin closed; the caller waits for it (Wait-Geosync) or signals it.
    function Start-Geosync {
        param([string[]] $ArgumentList)
        $info = [System.Diagnostics.ProcessStartInfo]::new($Geosync)
        foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($info)
        $process.StandardInput.Close()
        [pscustomobject]@{ Process = $process; StdOut = $process.StandardOutput.ReadToEndAsync(); StdErr = $process.StandardError.ReadToEndAsync() }
    }

    function Wait-Geosync {
        param($Started, [int] $TimeoutSeconds = 60)
        if (-not $Started.Process.WaitForExit($TimeoutSeconds * 1000)) {
            $Started.Process.Kill($true)
            throw "geosync did not exit within $TimeoutSeconds s"
        }
        $Started.Process.WaitForExit()
        [pscustomobject]@{ ExitCode = $Started.Process.ExitCode; StdOut = $Started.StdOut.Result; StdErr = $Started.StdErr.Result }
    }

    function Invoke-Geosync {
        param([string[]] $ArgumentList, [int] $TimeoutSeconds = 60)
        Wait-Geosync -Started (Start-Geosync -ArgumentList $ArgumentList) -TimeoutSeconds $TimeoutSeconds
    }

    function Read-Status {
        param([string] $StateDirectory)
        $r = Invoke-Geosync -ArgumentList 'status', '--state-dir', $StateDirectory, '--json'
        $r.ExitCode | Should -Be 0
        @($r.StdOut | ConvertFrom-Json)
    }

    function New-Tree {
        param([string] $Root)
        $null = New-Item -ItemType Directory -Path (Join-Path $Root 'd/e') -Force
        Set-Content -LiteralPath (Join-Path $Root 'd/e/f.txt') -Value 'f' -NoNewline
        Set-Content -LiteralPath (Join-Path $Root 'g.txt') -Value 'gg' -NoNewline
    }
}

Describe 'geosync master and status' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $script:State = Join-Path $Case 'state'
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        New-Tree -Root $Master
    }

    Context 'usage' {
        It '--help describes master and status with their options and exit codes' {
            $r = Invoke-Geosync -ArgumentList '--help'
            $r.ExitCode | Should -Be 0
            $r.StdOut | Should -Match '(?m)^\s*geosync master <master-url> <slave-url> \[--once\] \[--interval <seconds>\]'
            $r.StdOut | Should -Match '(?m)^\s*geosync status \[<name>\] \[--state-dir <dir>\] \[--json\]'
            $r.StdOut | Should -Match '(?m)^\s*geosync checkpoint <name> \[now\|<time>\] \[--wait \[--timeout <seconds>\]\]'
            foreach ($option in '--sync-jobs', '--timeout', '--ssh-port', '--ssh-command', '--identity-file', '--known-hosts-file', '--remote-command',
                '--network-namespace', '--ignore-deletes', '--max-delete-share', '--xattrs', '--max-reconnects', '--state-dir', '--slave-mode', '--dry-run') {
                $r.StdOut | Should -Match ([regex]::Escape($option))
            }
            $r.StdOut | Should -Match '(?m)^\s*master\s+0 every change the last turn found reached the slave'
            $r.StdOut | Should -Match '(?m)^\s+3 the run finished but some entries did not reach the slave'
            $r.StdOut | Should -Match '(?m)^\s*geosync failures <name> \| <master-url> <slave-url>\s+\[--state-dir <dir>\] \[--json\]'
            # Each command's --help prints its own part of that text.
            foreach ($verb in 'master', 'status', 'failures') {
                $own = Invoke-Geosync -ArgumentList $verb, '--help'
                $own.ExitCode | Should -Be 0
                $own.StdOut | Should -Match "(?m)^\s*geosync $verb "
                $own.StdOut | Should -Not -Match '(?m)^\s*geosync slave'
                $r.StdOut | Should -Match ([regex]::Escape(($own.StdOut -split '\r?\n')[1]))
            }
        }

        It 'rejects <Why> with exit code 2 and says what is wrong' -TestCases @(
            @{ Why = 'one URL'; Words = @('master', 'file:///a'); Message = 'master: takes the master and the slave URL.*got 1' }
            @{ Why = 'an unknown option'; Words = @('master', 'file:///a', 'file:///b', '--bogus'); Message = "master: unknown option '--bogus'" }
            @{ Why = 'a bad slave mode'; Words = @('master', 'file:///a', 'file:///b', '--slave-mode', 'remote'); Message = "--slave-mode takes one of auto, in-process, child, ssh, not 'remote'" }
            @{ Why = 'a bad interval'; Words = @('master', 'file:///a', 'file:///b', '--interval', 'soon'); Message = "--interval takes a number from 0 to 3600, not 'soon'" }
            @{ Why = 'a missing value'; Words = @('master', 'file:///a', 'file:///b', '--sync-jobs'); Message = 'master: --sync-jobs needs a value' }
            @{ Why = 'a port out of range'; Words = @('master', 'file:///a', 'file:///b', '--ssh-port=70000'); Message = "--ssh-port takes a whole number from 1 to 65535, not '70000'" }
            @{ Why = 'a share above 1'; Words = @('master', 'file:///a', 'file:///b', '--max-delete-share', '1.5'); Message = "--max-delete-share takes a number from 0 to 1, not '1.5'" }
            @{ Why = 'a second status name'; Words = @('status', 'one', 'two'); Message = "status: takes at most one replication name, got 'one' and 'two'" }
            @{ Why = 'a status name that cannot be one'; Words = @('status', 'no/such'); Message = "status: 'no/such' is not a replication name" }
            @{ Why = 'a checkpoint without a name'; Words = @('checkpoint'); Message = "checkpoint: the replication's name is missing" }
            @{ Why = 'a checkpoint time that is none'; Words = @('checkpoint', 'dr', 'soonish'); Message = "checkpoint: 'soonish' is not a time" }
            @{ Why = '--timeout without --wait'; Words = @('checkpoint', 'dr', '--timeout', '5'); Message = 'checkpoint: --timeout goes with --wait' }
            @{ Why = 'failures with one URL'; Words = @('failures', 'file:///a'); Message = 'failures: takes a replication''s name, or the master and the slave URL.*got ''file:///a''' }
            @{ Why = 'a failures option'; Words = @('failures', 'file:///a', 'file:///b', '--bogus'); Message = "failures: unknown option '--bogus'" }
        ) {
            $r = Invoke-Geosync -ArgumentList $Words
            $r.ExitCode | Should -Be 2
            $r.StdErr | Should -Match $Message
            $r.StdErr | Should -Match "Run 'geosync (master |status |checkpoint |failures )?--help' for usage"
            $r.StdOut | Should -BeNullOrEmpty
        }
    }

    It '--once replicates a directory, prints the turn, and status shows the loop Stopped' {
        $r = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--once', '--state-dir', $State

        $r.ExitCode | Should -Be 0
        $r.StdOut | Should -Match '(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Session1 turn 1: 2 files \(3 bytes\) synced, \d+ entries created, 0 purged, 0 failures, \d+\.\d{3} s$'
        Get-Content -LiteralPath (Join-Path $Slave 'd/e/f.txt') -Raw | Should -Be 'f'
        Get-Content -LiteralPath (Join-Path $Slave 'g.txt') -Raw | Should -Be 'gg'

        $status = Read-Status -StateDirectory $State
        $status | Should -HaveCount 1
        $status[0].Master | Should -Be "file://$Master"
        $status[0].State | Should -Be 'Stopped'
        $status[0].FilesSynced | Should -Be 2
        $status[0].LastTurn.FilesSynced | Should -Be 2

        $table = Invoke-Geosync -ArgumentList 'status', '--state-dir', $State
        $table.ExitCode | Should -Be 0
        $table.StdOut | Should -Match '(?m)^\(ad hoc pair\)  Stopped  lag \d+s  2 files  0 failures$'
    }

    It 'holds back a mass deletion, names it, and purges it with --max-delete-share 1' {
        $null = New-Item -ItemType Directory -Path (Join-Path $Master 'many')
        foreach ($i in 1..12) { Set-Content -LiteralPath (Join-Path $Master "many/f$i") -Value $i }
        (Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--once', '--state-dir', $State).ExitCode | Should -Be 0
        Get-ChildItem -LiteralPath (Join-Path $Master 'many') | Select-Object -First 11 | Remove-Item

        $held = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--once', '--state-dir', $State

        $held.StdErr | Should -Match "purge of 'many' was held back: the master lacks 11 of the 12 entries"
        $held.StdErr | Should -Match 'max-delete-share 1'
        @(Get-ChildItem -LiteralPath (Join-Path $Slave 'many')).Count | Should -Be 12

        $allowed = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--once', '--state-dir', $State, '--max-delete-share', '1'
        $allowed.ExitCode | Should -Be 0
        $allowed.StdOut | Should -Match ' 11 purged, 0 failures'
        @(Get-ChildItem -LiteralPath (Join-Path $Slave 'many')).Count | Should -Be 1
    }

    It 'reconnects when its child slave is killed, keeps replicating, and stops cleanly on SIGTERM' {
        # Polled before the loop has made it, a missing --state-dir would be an error (exit 1).
        $null = New-Item -ItemType Directory -Path $State
        $started = Start-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--slave-mode', 'child', '--interval', '0.2',
            '--timeout', '30', '--state-dir', $State
        try {
            Wait-Condition -Seconds 45 {
                $s = @(Read-Status -StateDirectory $State)
                $s.Count -eq 1 -and $s[0].State -eq 'Active' -and $s[0].LastTurn
            } | Should -BeTrue -Because 'the loop connects and completes its first turn'
            $first = (Read-Status -StateDirectory $State)[0]
            $first.SlaveProcessId | Should -Not -Be $started.Process.Id -Because 'the slave is a child process'
            Stop-Process -Id $first.SlaveProcessId -Force

            Wait-Condition -Seconds 45 {
                $s = (Read-Status -StateDirectory $State)[0]
                $s.State -eq 'Active' -and $s.Reconnects -eq 1 -and $s.SlaveProcessId -and $s.SlaveProcessId -ne $first.SlaveProcessId
            } | Should -BeTrue -Because 'the loop opens a new session with a new slave after 1 s'
            $second = (Read-Status -StateDirectory $State)[0]
            $second.LastError | Should -Not -BeNullOrEmpty

            Set-Content -LiteralPath (Join-Path $Master 'd/after.txt') -Value 'after the reconnect' -NoNewline
            Wait-Condition -Seconds 30 { Test-Path -LiteralPath (Join-Path $Slave 'd/after.txt') } | Should -BeTrue
            # The file is there before its turn ends; stopping now could abandon that turn, so wait for its record.
            Wait-Condition -Seconds 30 { (Read-Status -StateDirectory $State)[0].FilesSynced -ge 3 } | Should -BeTrue
        }
        finally {
            & kill -TERM $started.Process.Id
            $r = Wait-Geosync -Started $started -TimeoutSeconds 30
        }

        $r.ExitCode | Should -Be 0
        $r.StdErr | Should -Match '(?s)WARNING: Replicating .* failed: .*slave .* ended.* Reconnecting in 1 s'
        $r.StdErr | Should -Match 'geosync: SIGTERM received, stopping the master loop'
        $r.StdOut | Should -Match ' Session2 turn \d+: 1 files \(19 bytes\) synced, 0 entries created, 0 purged, 0 failures' -Because 'the turn that carried after.txt is printed'
        $final = (Read-Status -StateDirectory $State)[0]
        $final.State | Should -Be 'Stopped'
        $final.Reconnects | Should -Be 1
        Test-Path -LiteralPath "/proc/$($second.SlaveProcessId)" | Should -BeFalse -Because 'stopping the loop ends its slave'
        Get-Content -LiteralPath (Join-Path $Slave 'd/after.txt') -Raw | Should -Be 'after the reconnect'
    }

    It '--dry-run prints each change and a summary, exits 0, and changes neither tree nor writes a state file' {
        Set-Content -LiteralPath (Join-Path $Slave 'g.txt') -Value 'different' -NoNewline
        (Get-Item -LiteralPath (Join-Path $Slave 'g.txt')).LastWriteTimeUtc = [datetime]::new(2020, 1, 1, 0, 0, 0, [System.DateTimeKind]::Utc)
        Set-Content -LiteralPath (Join-Path $Slave 'old.txt') -Value 'old' -NoNewline
        Set-TestXattr -LiteralPath (Join-Path $Slave 'old.txt') -Name 'user.keep' -Hex '01'
        Set-TestXattr -LiteralPath (Join-Path $Master 'g.txt') -Name 'user.keep' -Hex '02'
        $masterBefore = Get-TreeChecksum -LiteralPath $Master
        $slaveBefore = Get-TreeChecksum -LiteralPath $Slave

        $r = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--dry-run', '--state-dir', $State

        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut.TrimEnd() -split '\r?\n' | Should -Be @(
            'purge   file      old.txt  gone from the master'
            'create  directory d  missing on the slave'
            'create  directory d/e  missing on the slave'
            'create  file      d/e/f.txt  missing on the slave'
            'update  file      g.txt  size and mtime differ'
            "Dry run of file://$Master -> file://$Slave (session Session1): 3 to create, 1 to update, 1 to purge, 0 attribute changes; 3 bytes to send. Nothing was changed."
        )
        Get-TreeChecksum -LiteralPath $Master | Should -Be $masterBefore
        Get-TreeChecksum -LiteralPath $Slave | Should -Be $slaveBefore
        $State | Should -Not -Exist

        # The turn it planned is the turn that then runs.
        $turn = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--once', '--force', '--state-dir', $State
        $turn.ExitCode | Should -Be 0 -Because $turn.StdErr
        $turn.StdOut | Should -Match ' 2 files \(3 bytes\) synced, 2 entries created, 1 purged, 0 failures'
    }

    It 'exits 1 when it gives up, and status shows Failed with the last error' {
        $missing = Join-Path $Case 'missing'
        $r = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$missing", '--max-reconnects', '1', '--state-dir', $State

        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match '(?s)WARNING: Replicating .* Reconnecting in 1 s'
        $r.StdErr | Should -Match "(?s)geosync: Replicating .* failed 2 time\(s\) in a row.*\(MasterReconnectsExhausted\)"
        $status = (Read-Status -StateDirectory $State)[0]
        $status.State | Should -Be 'Failed'
        $status.LastError | Should -Match ([regex]::Escape($missing))
    }

    It 'exits 1 at once on a malformed URL' {
        $r = Invoke-Geosync -ArgumentList 'master', "file://$Master", 'gluster://bad host:vol', '--state-dir', $State
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match '\(InvalidGeoSyncUrl\)'
        $State | Should -Not -Exist
    }

    It 'status prints nothing and exits 0 when no loop has run' {
        $none = New-Item -ItemType Directory -Path (Join-Path $Case 'none')
        $r = Invoke-Geosync -ArgumentList 'status', '--state-dir', $none.FullName, '--json'
        $r.ExitCode | Should -Be 0
        @($r.StdOut | ConvertFrom-Json) | Should -BeNullOrEmpty
    }
}

Describe 'geosync master over ssh' -Tag 'Ssh' -Skip:(-not [Environment]::IsPrivilegedProcess -and $env:CI -ne 'true') {
    BeforeAll {
        # A loopback sshd with its own keys; the "remote" host runs the geosync the build laid out.
        $script:Fixture = Join-Path $PSScriptRoot '../fixtures/sshd/sshd-fixture.sh'
        $script:Sshd = @{}
        foreach ($line in (& bash $Fixture start 2>$null)) {
            if ($line -match '^GEOSYNC_SSHD_(\w+)=(.*)$') { $Sshd[$Matches[1]] = $Matches[2].Trim("'") }
        }
        if (-not $Sshd.Contains('HOME')) { throw "the sshd fixture did not start ($Fixture start); it needs root and openssh" }
    }

    AfterAll {
        if ($Sshd.Contains('HOME')) { & bash $Fixture stop $Sshd.HOME 2>$null }
    }

    It 'replicates a directory to a directory over ssh with every ssh option from the command line' {
        $case = Join-Path $TestDrive 'ssh-case'
        $master = Join-Path $case "master'quote"
        $slave = Join-Path $case 'slave'
        $null = New-Item -ItemType Directory -Path $master, $slave
        New-Tree -Root $master

        $r = Invoke-Geosync -ArgumentList 'master', "file://$master", "ssh://root@127.0.0.1:$slave", '--once',
            '--ssh-command', 'ssh -F none', '--ssh-port', $Sshd.PORT, '--identity-file', $Sshd.CLIENT_KEY,
            '--known-hosts-file', $Sshd.KNOWN_HOSTS, '--remote-command', "$Geosync slave", '--state-dir', (Join-Path $case 'state')

        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut | Should -Match '(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Session1 turn 1: 2 files \(3 bytes\) synced, \d+ entries created, 0 purged, 0 failures, \d+\.\d{3} s$'
        Get-Content -LiteralPath (Join-Path $slave 'd/e/f.txt') -Raw | Should -Be 'f'
        Get-Content -LiteralPath (Join-Path $slave 'g.txt') -Raw | Should -Be 'gg'
    }
}

Describe 'geosync master exit codes and geosync failures' {
    BeforeAll {
        # Real failures: a slave subdirectory that refuses writes even to root (a read-only bind mount of itself).
        $script:ReadOnly = [System.Collections.Generic.List[string]]::new()
        function Mount-ReadOnly {
            param([string] $Path)
            mount --bind $Path $Path
            if ($LASTEXITCODE) { throw "mount --bind $Path failed" }
            $ReadOnly.Add($Path)
            mount -o remount,bind,ro $Path
            if ($LASTEXITCODE) { throw "mount -o remount,bind,ro $Path failed" }
        }
        function Dismount-ReadOnly {
            param([string] $Path)
            if ($ReadOnly.Remove($Path)) { umount $Path; if ($LASTEXITCODE) { throw "umount $Path failed" } }
        }
    }

    AfterAll {
        foreach ($path in @($ReadOnly)) { umount -l $path }
    }

    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $script:State = Join-Path $Case 'state'
        $null = New-Item -ItemType Directory -Path (Join-Path $Master 'ro'), (Join-Path $Slave 'ro')
        New-Tree -Root $Master
        Set-Content -LiteralPath (Join-Path $Master 'ro/a.txt') -Value 'a' -NoNewline
        Set-Content -LiteralPath (Join-Path $Master 'ro/b.txt') -Value 'b' -NoNewline
        Mount-ReadOnly -Path (Join-Path $Slave 'ro')
    }

    AfterEach {
        Dismount-ReadOnly -Path (Join-Path $Slave 'ro')
    }

    It '--once exits 3 listing each failed path and the count; failures shows them; after the fix it exits 0 and the ledger is empty' {
        $r = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--force', '--once', '--state-dir', $State

        $r.ExitCode | Should -Be 3 -Because $r.StdErr
        $r.StdOut | Should -Match 'turn 1: 2 files \(3 bytes\) synced, \d+ entries created, 0 purged, 2 failures'
        $r.StdErr | Should -Match "(?m)^ERROR: 'ro/a.txt' did not reach the slave: .*Read-only file system \(30\).* \(EntryNotSynced\)$"
        $r.StdErr | Should -Match "(?m)^ERROR: 'ro/b.txt' did not reach the slave: .* \(EntryNotSynced\)$"
        $r.StdErr | Should -Match "(?m)^geosync: 2 entries did not reach the slave"
        Get-Content -LiteralPath (Join-Path $Slave 'g.txt') -Raw | Should -Be 'gg'

        $json = Invoke-Geosync -ArgumentList 'failures', $Master, "file://$Slave", '--state-dir', $State, '--json'
        $json.ExitCode | Should -Be 0 -Because $json.StdErr
        $entries = @($json.StdOut | ConvertFrom-Json)
        $entries.Path | Should -Be 'ro/a.txt', 'ro/b.txt'
        $entries[0].Master | Should -Be "file://$Master"
        $entries[0].Attempts | Should -Be 1
        $entries[0].Persistent | Should -BeFalse
        $entries[0].Error | Should -Match 'Read-only file system'
        $table = Invoke-Geosync -ArgumentList 'failures', "file://$Master", "file://$Slave", '--state-dir', $State
        $table.StdOut | Should -Match '(?m)^Path\s+Attempts\s+Persistent\s+Error'
        $table.StdOut | Should -Match '(?m)^ro/a.txt\s+1 False\s'

        # --max-turns: the last turn decides, and it failed too.
        $again = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--force', '--max-turns', '2', '--interval', '0', '--state-dir', $State
        $again.ExitCode | Should -Be 3
        @((Invoke-Geosync -ArgumentList 'failures', $Master, $Slave, '--state-dir', $State, '--json').StdOut | ConvertFrom-Json).Attempts |
            Should -Be 3, 3 -Because 'the ledger counts on across runs'

        Dismount-ReadOnly -Path (Join-Path $Slave 'ro')
        $fixed = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--force', '--once', '--state-dir', $State
        $fixed.ExitCode | Should -Be 0 -Because $fixed.StdErr
        $fixed.StdErr | Should -Not -Match 'EntryNotSynced'
        Get-Content -LiteralPath (Join-Path $Slave 'ro/a.txt') -Raw | Should -Be 'a'
        $empty = Invoke-Geosync -ArgumentList 'failures', $Master, $Slave, '--state-dir', $State, '--json'
        $empty.ExitCode | Should -Be 0
        @($empty.StdOut | ConvertFrom-Json) | Should -BeNullOrEmpty
    }

    It 'exits 1 when the run cannot start: the master does not exist' {
        $r = Invoke-Geosync -ArgumentList 'master', "file://$Case/no-master", "file://$Slave", '--once', '--state-dir', $State
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match '\(MasterReconnectsExhausted\)'
    }

    It 'a loop stopped by SIGTERM exits 0 even while entries fail; the ledger keeps them' {
        $started = Start-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--force', '--interval', '0.2', '--state-dir', $State
        try {
            Wait-Condition -Seconds 45 { @(Get-ChildItem -LiteralPath $State -Filter '*.failures.json' -ErrorAction Ignore).Count -eq 1 } |
                Should -BeTrue -Because 'the first turn fails on ro/ and writes the ledger'
        }
        finally {
            & kill -TERM $started.Process.Id
            $r = Wait-Geosync -Started $started -TimeoutSeconds 30
        }
        $r.ExitCode | Should -Be 0
        @((Invoke-Geosync -ArgumentList 'failures', $Master, $Slave, '--state-dir', $State, '--json').StdOut | ConvertFrom-Json).Path |
            Should -Be 'ro/a.txt', 'ro/b.txt'
    }
}
