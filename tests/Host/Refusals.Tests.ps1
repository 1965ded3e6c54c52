# What `geosync master` refuses before it writes anything (docs/sessions.md, "What a session refuses"): a master and
# slave that are one tree or contain one another, however the paths are spelled, and a first sync into a slave that
# holds someone else's entries. Each refusal must leave both trees exactly as they were.
BeforeAll {
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path

    . (Join-Path $PSScriptRoot 'GeosyncProcess.ps1')

    # Every entry below $Root (hidden ones too) with its type, mode, size and SHA-256 or link target, plus the
    # extended attributes of $Root itself (a claim mark written there would show): equal listings, unchanged trees.
    function Get-TreeListing {
        param([string] $Root)
        $lines = foreach ($item in Get-ChildItem -LiteralPath $Root -Recurse -Force) {
            $relative = [IO.Path]::GetRelativePath($Root, $item.FullName)
            if ($item.LinkTarget) { "$relative -> $($item.LinkTarget)" }
            elseif ($item.PSIsContainer) { "$relative/ $($item.UnixFileMode)" }
            else { "$relative $($item.UnixFileMode) $($item.Length) $((Get-FileHash -LiteralPath $item.FullName -Algorithm SHA256).Hash)" }
        }
        $xattrs = & getfattr --absolute-names -d -m - -e hex $Root 2>$null | Where-Object { $_ -and $_ -notmatch '^# file:' }
        @($lines | Sort-Object -CaseSensitive) + @($xattrs | ForEach-Object { "xattr $_" })
    }

    function New-Tree {
        param([string] $Root)
        $null = New-Item -ItemType Directory -Path (Join-Path $Root 'd/e') -Force
        Set-Content -LiteralPath (Join-Path $Root 'd/e/f.txt') -Value 'f' -NoNewline
        Set-Content -LiteralPath (Join-Path $Root 'g.txt') -Value 'gg' -NoNewline
    }
}

Describe 'geosync --help' {
    It 'documents --force' {
        $r = Invoke-Geosync -ArgumentList '--help'
        $r.ExitCode | Should -Be 0
        $r.StdOut | Should -Match '(?m)^\s*--force\s+allow the first sync into a slave holding entries this master did not'
    }
}

Describe 'geosync master refuses overlapping master and slave' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:State = Join-Path $Case 'state'
        $script:X = Join-Path $Case 'x'
        $null = New-Item -ItemType Directory -Path (Join-Path $X 'inner'), (Join-Path $X 'other')
        New-Tree -Root (Join-Path $X 'inner')
        Set-Content -LiteralPath (Join-Path $X 'top.txt') -Value 'top' -NoNewline
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $Case 'alias') -Target $X
    }

    It 'refuses <Case_> (exit 1, ReplicaOverlap naming both roots) and changes nothing' -TestCases @(
        @{ Case_ = 'a master inside its slave'; M = 'x/inner'; S = 'x'; Relation = 'the master lies inside the slave' }
        @{ Case_ = 'a slave inside its master'; M = 'x'; S = 'x/inner'; Relation = 'the slave lies inside the master' }
        @{ Case_ = 'the same directory'; M = 'x'; S = 'x'; Relation = 'are the same directory' }
        @{ Case_ = 'the same directory through a symlink'; M = 'alias'; S = 'x'; Relation = 'are the same directory' }
        @{ Case_ = 'a slave inside its master through a symlink'; M = 'x'; S = 'alias/inner'; Relation = 'the slave lies inside the master' }
        @{ Case_ = 'a master inside its slave spelled with ..'; M = 'x/other/../inner'; S = 'x/inner/..'; Relation = 'the master lies inside the slave' }
        @{ Case_ = 'a slave inside its master with a child slave'; M = 'x'; S = 'x/inner/d'; Relation = 'the slave lies inside the master'; Child = $true }
    ) {
        $before = Get-TreeListing -Root $Case
        $words = @('master', "file://$(Join-Path $Case $M)", "file://$(Join-Path $Case $S)", '--once', '--state-dir', $State)
        if ($Child) { $words += '--slave-mode', 'child' }

        $r = Invoke-Geosync -ArgumentList $words

        $r.ExitCode | Should -Be 1 -Because $r.StdOut
        $r.StdErr | Should -Match ([regex]::Escape($Relation))
        $r.StdErr | Should -Match ([regex]::Escape("master file://$(Join-Path $Case $M)"))
        $r.StdErr | Should -Match ([regex]::Escape("slave file://$(Join-Path $Case $S)"))
        $r.StdErr | Should -Match 'ReplicaOverlap'
        $r.StdOut | Should -Not -Match 'turn 1'
        Remove-Item -LiteralPath $State -Recurse -Force -ErrorAction SilentlyContinue
        Get-TreeListing -Root $Case | Should -Be $before
    }

    It 'refuses a slave bind-mounted from inside the master, and a master bind-mounted from inside the slave' -Skip:(-not [Environment]::IsPrivilegedProcess -and $env:CI -ne 'true') {
        $bind = Join-Path $Case 'bind'
        $null = New-Item -ItemType Directory -Path $bind
        & mount --bind (Join-Path $X 'inner/d') $bind
        $LASTEXITCODE | Should -Be 0
        try {
            $before = Get-TreeListing -Root $X
            $slaveInside = Invoke-Geosync -ArgumentList 'master', "file://$X", "file://$bind", '--once', '--state-dir', $State
            $masterInside = Invoke-Geosync -ArgumentList 'master', "file://$bind", "file://$(Join-Path $X 'inner')", '--once', '--state-dir', $State

            $slaveInside.ExitCode | Should -Be 1
            $slaveInside.StdErr | Should -Match "the slave lies inside the master: master file://$([regex]::Escape($X)) \(root $([regex]::Escape($X))\) and slave file://$([regex]::Escape($bind))"
            $masterInside.ExitCode | Should -Be 1
            $masterInside.StdErr | Should -Match 'the master lies inside the slave'
            Get-TreeListing -Root $X | Should -Be $before
        }
        finally {
            & umount $bind
        }
        $LASTEXITCODE | Should -Be 0
    }

    It 'accepts a slave next to the master that only shares a name prefix' {
        $sibling = Join-Path $Case 'x-replica'
        $null = New-Item -ItemType Directory -Path $sibling

        $r = Invoke-Geosync -ArgumentList 'master', "file://$X", "file://$sibling", '--once', '--state-dir', $State

        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        Get-Content -LiteralPath (Join-Path $sibling 'inner/d/e/f.txt') -Raw | Should -Be 'f'
    }
}

Describe 'geosync master refuses an ssh slave that is its own master on this host' -Tag 'Ssh' -Skip:(-not [Environment]::IsPrivilegedProcess -and $env:CI -ne 'true') {
    BeforeAll {
        $script:Fixture = Join-Path $PSScriptRoot '../fixtures/sshd/sshd-fixture.sh'
        $script:Sshd = @{}
        foreach ($line in (& bash $Fixture start 2>$null)) {
            if ($line -match '^GEOSYNC_SSHD_(\w+)=(.*)$') { $Sshd[$Matches[1]] = $Matches[2].Trim("'") }
        }
        if (-not $Sshd.Contains('HOME')) { throw "the sshd fixture did not start ($Fixture start); it needs root and openssh" }
        function Get-SshArguments {
            '--ssh-command', 'ssh -F none', '--ssh-port', $Sshd.PORT, '--identity-file', $Sshd.CLIENT_KEY,
            '--known-hosts-file', $Sshd.KNOWN_HOSTS, '--remote-command', "$Geosync slave"
        }
    }

    AfterAll {
        if ($Sshd.Contains('HOME')) { & bash $Fixture stop $Sshd.HOME 2>$null }
    }

    It 'refuses ssh://root@127.0.0.1:<slave> when the slave directory is inside the master, and changes nothing' {
        $case = Join-Path $TestDrive 'ssh-overlap'
        $master = Join-Path $case 'master'
        $null = New-Item -ItemType Directory -Path (Join-Path $master 'replica') -Force
        New-Tree -Root $master
        $before = Get-TreeListing -Root $master

        $r = Invoke-Geosync -ArgumentList (@('master', "file://$master", "ssh://root@127.0.0.1:$master/replica/../replica", '--once',
                '--state-dir', (Join-Path $TestDrive 'ssh-state')) + (Get-SshArguments))

        $r.ExitCode | Should -Be 1 -Because $r.StdOut
        $r.StdErr | Should -Match "the slave lies inside the master: master file://$([regex]::Escape($master)) \(root $([regex]::Escape($master))\) and slave ssh://root@127\.0\.0\.1:.* \(root $([regex]::Escape("$master/replica"))\)"
        Get-TreeListing -Root $master | Should -Be $before
    }

    It 'still replicates to an ssh slave on this host that does not overlap' {
        $case = Join-Path $TestDrive 'ssh-apart'
        $master = Join-Path $case 'master'
        $slave = Join-Path $case 'slave'
        $null = New-Item -ItemType Directory -Path $master, $slave
        New-Tree -Root $master

        $r = Invoke-Geosync -ArgumentList (@('master', "file://$master", "ssh://root@127.0.0.1:$slave", '--once',
                '--state-dir', (Join-Path $TestDrive 'ssh-state2')) + (Get-SshArguments))

        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        Get-Content -LiteralPath (Join-Path $slave 'd/e/f.txt') -Raw | Should -Be 'f'
    }
}

Describe 'geosync master refuses a first sync into a slave that holds someone else''s entries' {
    BeforeEach {
        $script:Case = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $script:Master = Join-Path $Case 'master'
        $script:Slave = Join-Path $Case 'slave'
        $script:State = Join-Path $Case 'state'
        $null = New-Item -ItemType Directory -Path $Master, $Slave
        New-Tree -Root $Master
    }

    It 'refuses without --force (exit 1, SlaveNotEmpty naming the count and the entries), then replicates with --force' {
        Set-Content -LiteralPath (Join-Path $Slave 'precious.doc') -Value 'theirs' -NoNewline
        $null = New-Item -ItemType Directory -Path (Join-Path $Slave 'photos')
        Set-Content -LiteralPath (Join-Path $Slave 'g.txt') -Value 'their g' -NoNewline
        $beforeMaster = Get-TreeListing -Root $Master
        $beforeSlave = Get-TreeListing -Root $Slave

        $refused = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--once', '--state-dir', $State

        $refused.ExitCode | Should -Be 1 -Because $refused.StdOut
        $refused.StdErr | Should -Match "the slave file://$([regex]::Escape($Slave)) is not empty and this master never synced to it: it holds 3 entries; a first sync would delete 2 of them: 2 root entries the master lacks \('photos', 'precious\.doc'\)\."
        $refused.StdErr | Should -Match '--force'
        $refused.StdErr | Should -Match 'SlaveNotEmpty'
        Get-TreeListing -Root $Master | Should -Be $beforeMaster
        Get-TreeListing -Root $Slave | Should -Be $beforeSlave

        $forced = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--once', '--force', '--state-dir', $State

        $forced.ExitCode | Should -Be 0 -Because $forced.StdErr
        $forced.StdOut | Should -Match 'turn 1: 2 files \(3 bytes\) synced, \d+ entries created, 2 purged'
        Test-Path -LiteralPath (Join-Path $Slave 'precious.doc') | Should -BeFalse
        Get-Content -LiteralPath (Join-Path $Slave 'g.txt') -Raw | Should -Be 'gg'

        # Claimed now: later runs need no --force.
        Set-Content -LiteralPath (Join-Path $Master 'new.txt') -Value 'new' -NoNewline
        $later = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--once', '--state-dir', $State
        $later.ExitCode | Should -Be 0 -Because $later.StdErr
        Get-Content -LiteralPath (Join-Path $Slave 'new.txt') -Raw | Should -Be 'new'
    }

    It 'does not refuse the next run after a first sync killed with SIGKILL half way' {
        foreach ($d in 0..19) {
            $dir = New-Item -ItemType Directory -Path (Join-Path $Master "bulk/$d") -Force
            foreach ($f in 0..99) { [IO.File]::WriteAllBytes((Join-Path $dir "$f.bin"), [byte[]]::new(4096)) }
        }
        $total = @(Get-ChildItem -LiteralPath $Master -Recurse -File).Count

        $info = [System.Diagnostics.ProcessStartInfo]::new($Geosync)
        foreach ($a in 'master', "file://$Master", "file://$Slave", '--once', '--sync-jobs', '1', '--state-dir', $State) { $info.ArgumentList.Add($a) }
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $first = [System.Diagnostics.Process]::Start($info)
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $copied = 0
        while (-not $first.HasExited -and $clock.Elapsed.TotalSeconds -lt 60) {
            $copied = @(Get-ChildItem -LiteralPath $Slave -Recurse -File -ErrorAction SilentlyContinue).Count
            if ($copied -ge 20) { break }
            Start-Sleep -Milliseconds 20
        }
        $first.HasExited | Should -BeFalse -Because 'the first sync must be killed before it ends'
        # The whole tree by its process ids: geosync and the rsync it runs.
        $first.Kill($true)
        $first.WaitForExit()
        $copied | Should -BeGreaterThan 0
        $copied | Should -BeLessThan $total

        $next = Invoke-Geosync -ArgumentList 'master', "file://$Master", "file://$Slave", '--once', '--state-dir', $State

        $next.ExitCode | Should -Be 0 -Because $next.StdErr
        $next.StdErr | Should -Not -Match 'SlaveNotEmpty'
        @(Get-ChildItem -LiteralPath $Slave -Recurse -File).Count | Should -Be $total
    }
}
