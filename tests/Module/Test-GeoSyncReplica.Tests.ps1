# Test-GeoSyncReplica on real directories with real rsync: a clean replica, each kind of difference, -Checksum,
# -Repair, and a slave that is not GeoSync's. The geosync verify command line, the ssh slave and the GlusterFS testbed
# are in tests/Host/Verify.Tests.ps1 and tests/Integration/Verify.Tests.ps1.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
    $script:VerifyId = 'GeoSync.PowerShell.Commands.TestGeoSyncReplicaCommand'

    # A master with files, a subdirectory, a symlink; replicated once so the pair starts equal.
    function New-Replica {
        $name = [guid]::NewGuid().ToString('N')
        $pair = [pscustomobject]@{
            Master = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "m-$name")).FullName
            Slave  = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "s-$name")).FullName
        }
        Set-Content -LiteralPath (Join-Path $pair.Master 'a.txt') -Value 'alpha' -NoNewline
        Set-Content -LiteralPath (Join-Path $pair.Master 'b.txt') -Value 'bravo' -NoNewline
        $null = New-Item -ItemType Directory -Path (Join-Path $pair.Master 'sub/deep') -Force
        Set-Content -LiteralPath (Join-Path $pair.Master 'sub/c.txt') -Value 'charlie' -NoNewline
        Set-Content -LiteralPath (Join-Path $pair.Master 'sub/deep/d.txt') -Value 'delta' -NoNewline
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $pair.Master 'link') -Target 'a.txt'
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -Timeout 0
        try { $null = $session | Invoke-GeoSyncCrawl -Confirm:$false } finally { $session | Stop-GeoSyncSession }
        $pair
    }

    function Split-Result($Output) {
        [pscustomobject]@{
            Differences = @($Output | Where-Object { $_ -is [GeoSync.PowerShell.GeoSyncReplicaDifference] })
            Summaries   = @($Output | Where-Object { $_ -is [GeoSync.PowerShell.GeoSyncReplicaSummary] })
        }
    }
}

Describe 'Test-GeoSyncReplica' {
    AfterEach {
        Get-GeoSyncSession | Stop-GeoSyncSession
    }

    It 'finds nothing on a clean replica and says so in one summary' {
        $pair = New-Replica
        $r = Split-Result (Test-GeoSyncReplica -Master $pair.Master -Slave $pair.Slave -Checksum)
        $r.Differences | Should -BeNullOrEmpty
        $r.Summaries | Should -HaveCount 1
        $s = $r.Summaries[0]
        $s.Matches | Should -BeTrue
        $s.Differences | Should -Be 0
        $s.EntriesCompared | Should -Be 7   # a.txt b.txt link sub, sub/c.txt sub/deep, sub/deep/d.txt
        $s.DirectoriesCompared | Should -Be 3
        $s.BytesHashed | Should -Be 22
        $s.Checksum | Should -BeTrue
        $s.Master | Should -Be "file://$($pair.Master)"
        Get-GeoSyncSession | Should -BeNullOrEmpty -Because 'the session opened for the verify is stopped again'
    }

    It 'verifies and repairs a named replication, from the pipeline and as geosync verify NAME' {
        $pair = New-Replica
        $state = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $replication = New-GeoSyncReplication -Name verify-me -Master $pair.Master -Slave $pair.Slave -StateDirectory $state
        Remove-Item -LiteralPath (Join-Path $pair.Slave 'sub/c.txt')

        $r = Split-Result ($replication | Test-GeoSyncReplica)
        $r.Differences.Path | Should -Contain 'sub/c.txt'
        $r.Summaries[0].Master | Should -Be "file://$($pair.Master)"

        $cli = & $Geosync verify verify-me --state-dir $state --repair 2>&1
        $LASTEXITCODE | Should -Be 0 -Because 'the repair made the slave match'
        ($cli -join "`n") | Should -Match '(?m)^after repair: 7 entries compared, 0 differences'
        $again = Split-Result (Test-GeoSyncReplica -Replication verify-me -StateDirectory $state -Checksum)
        $again.Summaries[0].Matches | Should -BeTrue

        Test-GeoSyncReplica -Replication nosuch -StateDirectory $state -ErrorVariable missing -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $missing[0].FullyQualifiedErrorId | Should -Be "ReplicationNotFound,$VerifyId"
        & $Geosync verify nosuch --state-dir $state 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 1
    }

    It 'reports a <Kind> difference with both values' -TestCases @(
        @{ Kind = 'Missing'; Path = 'sub/c.txt'; MasterValue = 'file'; SlaveValue = $null; Change = { param($s) Remove-Item -LiteralPath (Join-Path $s 'sub/c.txt') } }
        @{ Kind = 'Extra'; Path = 'sub/deep/new'; MasterValue = $null; SlaveValue = 'directory'; Change = { param($s) $null = New-Item -ItemType Directory -Path (Join-Path $s 'sub/deep/new') } }
        @{ Kind = 'Type'; Path = 'b.txt'; MasterValue = 'file'; SlaveValue = 'symlink'; Change = { param($s) Remove-Item -LiteralPath (Join-Path $s 'b.txt'); $null = New-Item -ItemType SymbolicLink -Path (Join-Path $s 'b.txt') -Target 'a.txt' } }
        @{ Kind = 'Size'; Path = 'a.txt'; MasterValue = '5'; SlaveValue = '3'; Change = { param($s) $f = Join-Path $s 'a.txt'; $t = (Get-Item $f).LastWriteTimeUtc; Set-Content -LiteralPath $f -Value 'alp' -NoNewline; (Get-Item $f).LastWriteTimeUtc = $t } }
        @{ Kind = 'Mode'; Path = 'sub/c.txt'; MasterValue = '0644'; SlaveValue = '0600'; Change = { param($s) chmod 0600 (Join-Path $s 'sub/c.txt') } }
        @{ Kind = 'Owner'; Path = 'a.txt'; MasterValue = '0:0'; SlaveValue = '12345:54321'; Change = { param($s) chown -h 12345:54321 (Join-Path $s 'a.txt') } }
        @{ Kind = 'Mtime'; Path = 'sub/deep/d.txt'; MasterValue = $null; SlaveValue = '2001-02-03 04:05:06.000000'; Change = { param($s) touch -d '2001-02-03 04:05:06Z' (Join-Path $s 'sub/deep/d.txt') } }
        @{ Kind = 'Link'; Path = 'link'; MasterValue = 'a.txt'; SlaveValue = 'b.txt'; Change = { param($s) Remove-Item -LiteralPath (Join-Path $s 'link'); $null = New-Item -ItemType SymbolicLink -Path (Join-Path $s 'link') -Target 'b.txt' } }
    ) {
        $pair = New-Replica
        & $Change $pair.Slave
        $r = Split-Result (Test-GeoSyncReplica -Master $pair.Master -Slave $pair.Slave)
        $d = $r.Differences | Where-Object Kind -EQ $Kind
        $d | Should -HaveCount 1
        $d.Path | Should -Be $Path
        if ($null -ne $MasterValue) { $d.MasterValue | Should -Be $MasterValue }
        $d.SlaveValue | Should -Be $SlaveValue
        $d.AfterRepair | Should -BeFalse
        # Only the changed entry differs (its directory's mtime too, for a change that added or removed a name).
        @($r.Differences | Where-Object Path -NE $Path | Where-Object Kind -NE 'Mtime') | Should -BeNullOrEmpty
        $r.Summaries[0].Matches | Should -BeFalse
        $r.Summaries[0].Differences | Should -Be $r.Differences.Count
    }

    It 'finds a content change of equal size and mtime only with -Checksum' {
        $pair = New-Replica
        $file = Join-Path $pair.Slave 'sub/deep/d.txt'
        $time = (Get-Item -LiteralPath $file).LastWriteTimeUtc
        Set-Content -LiteralPath $file -Value 'DELTA' -NoNewline
        (Get-Item -LiteralPath $file).LastWriteTimeUtc = $time

        (Split-Result (Test-GeoSyncReplica $pair.Master $pair.Slave)).Differences | Should -BeNullOrEmpty
        $r = Split-Result (Test-GeoSyncReplica $pair.Master $pair.Slave -Checksum)
        $r.Differences | Should -HaveCount 1
        $r.Differences[0].Kind | Should -Be 'Content'
        $r.Differences[0].Path | Should -Be 'sub/deep/d.txt'
        $r.Differences[0].MasterValue | Should -Match '^xxh128:[0-9a-f]{12}$'
        $r.Differences[0].MasterValue | Should -Not -Be $r.Differences[0].SlaveValue
    }

    It 'compares user xattrs when the pair copies them (-Xattrs)' {
        $pair = New-Replica
        setfattr -n user.colour -v blue (Join-Path $pair.Master 'a.txt')
        (Split-Result (Test-GeoSyncReplica $pair.Master $pair.Slave)).Differences | Should -BeNullOrEmpty -Because 'without -Xattrs they are not replicated, so not compared'
        $r = Split-Result (Test-GeoSyncReplica $pair.Master $pair.Slave -Xattrs)
        $r.Differences | Should -HaveCount 1
        $r.Differences[0].Kind | Should -Be 'Xattr'
        $r.Differences[0].MasterValue | Should -Be 'user.colour'
        $r.Differences[0].SlaveValue | Should -Be '(none)'
    }

    It '-Repair makes the slave match (every kind, content included) and the second verify is clean' {
        $pair = New-Replica
        $s = $pair.Slave
        Remove-Item -LiteralPath (Join-Path $s 'sub/c.txt')
        $null = New-Item -ItemType Directory -Path (Join-Path $s 'extra/inner') -Force
        Remove-Item -LiteralPath (Join-Path $s 'b.txt'); $null = New-Item -ItemType Directory -Path (Join-Path $s 'b.txt')
        chmod 0600 (Join-Path $s 'a.txt')
        chown -h 12345:54321 (Join-Path $s 'sub')
        Remove-Item -LiteralPath (Join-Path $s 'link'); $null = New-Item -ItemType SymbolicLink -Path (Join-Path $s 'link') -Target 'nowhere'
        $d = Join-Path $s 'sub/deep/d.txt'; $t = (Get-Item $d).LastWriteTimeUtc; Set-Content -LiteralPath $d -Value 'DELTA' -NoNewline; (Get-Item $d).LastWriteTimeUtc = $t

        $r = Split-Result (Test-GeoSyncReplica $pair.Master $pair.Slave -Checksum -Repair -Confirm:$false)
        $first = @($r.Differences | Where-Object { -not $_.AfterRepair })
        ($first.Kind | ForEach-Object ToString | Sort-Object -Unique) | Should -Be @('Content', 'Extra', 'Link', 'Missing', 'Mode', 'Mtime', 'Owner', 'Type')
        @($r.Differences | Where-Object AfterRepair) | Should -BeNullOrEmpty
        $r.Summaries | Should -HaveCount 2
        $r.Summaries[0].AfterRepair | Should -BeFalse
        $r.Summaries[1].AfterRepair | Should -BeTrue
        $r.Summaries[1].Matches | Should -BeTrue
        Get-Content -LiteralPath $d -Raw | Should -Be 'delta'
        Test-Path -LiteralPath (Join-Path $s 'extra') | Should -BeFalse
        (Split-Result (Test-GeoSyncReplica $pair.Master $pair.Slave -Checksum)).Differences | Should -BeNullOrEmpty
    }

    It '-Repair -WhatIf reports the differences and changes nothing' {
        $pair = New-Replica
        Remove-Item -LiteralPath (Join-Path $pair.Slave 'a.txt')
        $r = Split-Result (Test-GeoSyncReplica $pair.Master $pair.Slave -Repair -WhatIf)
        $r.Differences.Kind | Should -Contain 'Missing'
        $r.Summaries | Should -HaveCount 1
        Test-Path -LiteralPath (Join-Path $pair.Slave 'a.txt') | Should -BeFalse
    }

    It 'verifies through an open session from the pipeline and leaves it open' {
        $pair = New-Replica
        Remove-Item -LiteralPath (Join-Path $pair.Slave 'sub/deep/d.txt')
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -SlaveMode Child -SlaveCommand $Geosync, 'slave' -Timeout 0
        $r = Split-Result ($session | Test-GeoSyncReplica -Checksum)
        # The walk reports a directory's entries (deep's mtime, in sub) before what lies below them.
        $r.Differences.Path | Should -Be 'sub/deep', 'sub/deep/d.txt'
        "$($session.State)" | Should -Be 'Active'
    }

    # A session has Master and Slave properties: they must not bind by name and open a second session without the piped
    # one's options (its network namespace, its xattrs), which is how the GlusterFS verify test failed to mount.
    It 'verifies a piped session with the options it was opened with (-Xattrs), and a stopped one is an error, not a new session' {
        $pair = New-Replica
        setfattr -n user.colour -v blue (Join-Path $pair.Master 'a.txt')
        $session = Start-GeoSyncSession -Master $pair.Master -Slave $pair.Slave -Xattrs -Timeout 0
        $r = Split-Result ($session | Test-GeoSyncReplica)
        $r.Differences.Kind | Should -Be 'Xattr' -Because 'the piped session copies xattrs, so its verify compares them'

        $session | Stop-GeoSyncSession
        $out = $session | Test-GeoSyncReplica -ErrorVariable failures -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'SessionStopped,*'
    }

    It 'refuses a slave without the verify methods (GlusterFS gsyncd) with a clear error' {
        $pair = New-Replica
        $peer = Join-Path $TestDrive 'gsyncd-like.py'
        # Answers the handshake, pid and keep_alive, and AttributeError for anything else, as gsyncd does for a method it lacks.
        Set-Content -LiteralPath $peer -Value @'
import os, pickle, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
answers = {'__repce_version__': 1.0, 'version': 1.0, 'pid': os.getpid(), 'keep_alive': 1}
while True:
    try:
        request = pickle.load(inp)
    except EOFError:
        sys.exit(0)
    if request[1] in answers:
        out.write(pickle.dumps((request[0], False, answers[request[1]]), 2))
    else:
        out.write(pickle.dumps((request[0], True, AttributeError("'Server' object has no attribute '%s'" % request[1])), 2))
    out.flush()
'@
        { Test-GeoSyncReplica $pair.Master $pair.Slave -SlaveMode Child -SlaveCommand python3, $peer -ErrorAction Stop } |
            Should -Throw -ExpectedMessage '*verify needs a GeoSync slave*' -ErrorId "ReplicaVerifyFailed,$VerifyId"
    }

    It 'refuses a bad URL before connecting' {
        { Test-GeoSyncReplica -Master 'nfs://x/y' -Slave $TestDrive -ErrorAction Stop } | Should -Throw -ErrorId "InvalidGeoSyncUrl,$VerifyId"
    }
}
