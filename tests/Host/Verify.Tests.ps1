# geosync verify: the lines it prints, its exit codes (0 matches, 4 differences, 1 could not compare, 2 usage), --json,
# --repair, and an ssh:// slave over a loopback sshd.
BeforeAll {
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path

    . (Join-Path $PSScriptRoot 'GeosyncProcess.ps1')

    # A master and a slave replicated by geosync master --once, so verify starts from a clean pair.
    function New-Replica {
        param([string] $SlaveUrl, [string[]] $Options = @())
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $pair = [pscustomobject]@{ Master = Join-Path $root 'master'; Slave = Join-Path $root 'slave' }
        $null = New-Item -ItemType Directory -Path (Join-Path $pair.Master 'd/e'), $pair.Slave -Force
        Set-Content -LiteralPath (Join-Path $pair.Master 'd/e/f.txt') -Value 'ffff' -NoNewline
        Set-Content -LiteralPath (Join-Path $pair.Master 'g.txt') -Value 'gg' -NoNewline
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $pair.Master 'l') -Target 'g.txt'
        $url = if ($SlaveUrl) { $SlaveUrl -f $pair.Slave } else { "file://$($pair.Slave)" }
        $pair | Add-Member SlaveUrl $url
        $r = Invoke-Geosync -ArgumentList (@('master', "file://$($pair.Master)", $url, '--once', '--state-dir', (Join-Path $root 'state')) + $Options)
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $pair
    }
}

Describe 'geosync verify' {
    It 'exits 0 and prints one summary line for a replica that matches' {
        $pair = New-Replica
        $r = Invoke-Geosync -ArgumentList 'verify', "file://$($pair.Master)", $pair.SlaveUrl, '--checksum'
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut.Trim() | Should -Match '^5 entries compared, 0 differences, 6 bytes hashed, \d+\.\d s$'
    }

    It 'exits 4 and prints one line per difference and the summary' {
        $pair = New-Replica
        Remove-Item -LiteralPath (Join-Path $pair.Slave 'g.txt')
        Set-Content -LiteralPath (Join-Path $pair.Slave 'extra.txt') -Value 'x'
        chmod 0700 (Join-Path $pair.Slave 'd/e')
        $r = Invoke-Geosync -ArgumentList 'verify', "file://$($pair.Master)", $pair.SlaveUrl
        $r.ExitCode | Should -Be 4
        $lines = @($r.StdOut.TrimEnd() -split "`n")
        $lines[0] | Should -Be 'Extra   extra.txt (file)'
        $lines[1] | Should -Be 'Missing g.txt (file)'
        $lines | Should -Contain 'Mode    d/e: master 0755, slave 0700'
        $lines[-1] | Should -Match '^\d+ entries compared, 3 differences, 0 bytes hashed'
    }

    It '--json prints each difference and the summary as one JSON object per line' {
        $pair = New-Replica
        Remove-Item -LiteralPath (Join-Path $pair.Slave 'd/e/f.txt')
        $r = Invoke-Geosync -ArgumentList 'verify', "file://$($pair.Master)", $pair.SlaveUrl, '--json'
        $r.ExitCode | Should -Be 4
        $objects = @($r.StdOut.TrimEnd() -split "`n" | ForEach-Object { $_ | ConvertFrom-Json })
        $objects[0].type | Should -Be 'difference'
        $objects.path | Should -Contain 'd/e/f.txt'
        ($objects | Where-Object path -EQ 'd/e/f.txt').kind | Should -Be 'Missing'
        $objects[-1].type | Should -Be 'summary'
        $objects[-1].matches | Should -BeFalse
        $objects[-1].differences | Should -Be ($objects.Count - 1)
    }

    It '--repair fixes the slave, prints both passes, and exits 0' {
        $pair = New-Replica
        $file = Join-Path $pair.Slave 'd/e/f.txt'
        $time = (Get-Item -LiteralPath $file).LastWriteTimeUtc
        Set-Content -LiteralPath $file -Value 'FFFF' -NoNewline
        (Get-Item -LiteralPath $file).LastWriteTimeUtc = $time
        Remove-Item -LiteralPath (Join-Path $pair.Slave 'l')
        $r = Invoke-Geosync -ArgumentList 'verify', "file://$($pair.Master)", $pair.SlaveUrl, '--checksum', '--repair'
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut | Should -Match '(?m)^Content d/e/f\.txt: master xxh128:[0-9a-f]{12}, slave xxh128:[0-9a-f]{12}$'
        $r.StdOut | Should -Match '(?m)^Missing l \(symlink\)$'
        $r.StdOut | Should -Match '(?m)^after repair: \d+ entries compared, 0 differences'
        Get-Content -LiteralPath $file -Raw | Should -Be 'ffff'
    }

    It 'exits 1 and says why when it cannot compare' {
        $master = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'lonely')).FullName
        $r = Invoke-Geosync -ArgumentList 'verify', "file://$master", "file://$TestDrive/no-such-slave"
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match 'no-such-slave'
        $r.StdOut | Should -BeNullOrEmpty
    }

    It 'rejects <Why> with exit code 2' -TestCases @(
        @{ Why = 'one URL'; Words = @('verify', 'file:///a'); Message = 'verify: takes a replication''s name, or the master and the slave URL.*got ''file:///a''' }
        @{ Why = 'an unknown option'; Words = @('verify', 'file:///a', 'file:///b', '--fast'); Message = "verify: unknown option '--fast'" }
        @{ Why = 'a bad port'; Words = @('verify', 'file:///a', 'file:///b', '--ssh-port', '0'); Message = "--ssh-port takes a whole number from 1 to 65535, not '0'" }
    ) {
        $r = Invoke-Geosync -ArgumentList $Words
        $r.ExitCode | Should -Be 2
        $r.StdErr | Should -Match $Message
    }

    It 'lists every connection option of the catalog in its own --help, as the catalog describes it' {
        # The catalog's types, from the module as the other host tests load them.
        Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
        $r = Invoke-Geosync -ArgumentList 'verify', '--help'
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $keys = [GeoSync.Engine.Operations.ReplicationSessionOptions]::ConnectionKeys
        $keys.Count | Should -BeGreaterThan 10
        foreach ($key in $keys) {
            $option = [GeoSync.Engine.Operations.ReplicationOptions]::Get($key)
            $r.StdOut | Should -Match ('(?m)^\s+' + [regex]::Escape($option.FlagUsage) + '\s+' + [regex]::Escape($option.Help.Split(' ')[0])) -Because "--$key is a connection option"
        }
    }

    It 'is described in --help with its options and exit codes' {
        $r = Invoke-Geosync -ArgumentList '--help'
        $r.StdOut | Should -Match '(?m)^\s*geosync verify <master-url> <slave-url> \[--checksum\] \[--repair\] \[--json\]'
        $r.StdOut | Should -Match '(?m)^\s*verify\s+0 when the replica matches; 4 when differences were found'
    }
}

Describe 'geosync verify over ssh' -Tag 'Ssh' -Skip:(-not [Environment]::IsPrivilegedProcess -and $env:CI -ne 'true') {
    BeforeAll {
        $script:Fixture = Join-Path $PSScriptRoot '../fixtures/sshd/sshd-fixture.sh'
        $script:Sshd = @{}
        foreach ($line in (& bash $Fixture start 2>$null)) {
            if ($line -match '^GEOSYNC_SSHD_(\w+)=(.*)$') { $Sshd[$Matches[1]] = $Matches[2].Trim("'") }
        }
        if (-not $Sshd.Contains('HOME')) { throw "the sshd fixture did not start ($Fixture start); it needs root and openssh" }
        $script:SshOptions = @('--ssh-command', 'ssh -F none', '--ssh-port', $Sshd.PORT, '--identity-file', $Sshd.CLIENT_KEY,
            '--known-hosts-file', $Sshd.KNOWN_HOSTS, '--remote-command', "$Geosync slave")
    }

    AfterAll {
        if ($Sshd.Contains('HOME')) { & bash $Fixture stop $Sshd.HOME 2>$null }
    }

    It 'hashes on the slave host, finds a content change, repairs it, and exits 0' {
        $pair = New-Replica -SlaveUrl 'ssh://root@127.0.0.1:{0}' -Options $SshOptions
        $clean = Invoke-Geosync -ArgumentList (@('verify', "file://$($pair.Master)", $pair.SlaveUrl, '--checksum') + $SshOptions)
        $clean.ExitCode | Should -Be 0 -Because $clean.StdErr
        $clean.StdOut.Trim() | Should -Match '^5 entries compared, 0 differences, 6 bytes hashed'

        $file = Join-Path $pair.Slave 'g.txt'
        $time = (Get-Item -LiteralPath $file).LastWriteTimeUtc
        Set-Content -LiteralPath $file -Value 'GG' -NoNewline
        (Get-Item -LiteralPath $file).LastWriteTimeUtc = $time
        $found = Invoke-Geosync -ArgumentList (@('verify', "file://$($pair.Master)", $pair.SlaveUrl, '--checksum') + $SshOptions)
        $found.ExitCode | Should -Be 4
        $found.StdOut | Should -Match '(?m)^Content g\.txt: master xxh128:'

        $repaired = Invoke-Geosync -ArgumentList (@('verify', "file://$($pair.Master)", $pair.SlaveUrl, '--checksum', '--repair') + $SshOptions)
        $repaired.ExitCode | Should -Be 0 -Because $repaired.StdErr
        Get-Content -LiteralPath $file -Raw | Should -Be 'gg'
    }

    It 'finds every kind of difference over ssh, each once, through the compact listing' {
        $pair = New-Replica -SlaveUrl 'ssh://root@127.0.0.1:{0}' -Options $SshOptions
        foreach ($name in 'a', 'b', 'c', 'h', 'm', 'o', 'x') { Set-Content -LiteralPath (Join-Path $pair.Master "$name.txt") -Value "$name$name$name" -NoNewline }
        # An exact copy (xattrs too) is the clean start; each change below makes exactly one difference.
        & rsync -aX --delete "$($pair.Master)/" "$($pair.Slave)/"
        $LASTEXITCODE | Should -Be 0
        $verify = @('verify', "file://$($pair.Master)", $pair.SlaveUrl, '--checksum', '--xattrs', '--json') + $SshOptions
        $clean = Invoke-Geosync -ArgumentList $verify
        $clean.ExitCode | Should -Be 0 -Because ($clean.StdErr + $clean.StdOut)

        $s = $pair.Slave
        Remove-Item -LiteralPath (Join-Path $s 'd/e/f.txt')
        $null = New-Item -ItemType Directory -Path (Join-Path $s 'd/extra')
        foreach ($dir in 'd', 'd/e') { & touch -r (Join-Path $pair.Master $dir) (Join-Path $s $dir) }
        Remove-Item -LiteralPath (Join-Path $s 'b.txt')
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $s 'b.txt') -Target 'a.txt'
        & touch -r (Join-Path $pair.Master 'a.txt') (Join-Path $s 'a.txt.time')
        Set-Content -LiteralPath (Join-Path $s 'a.txt') -Value 'a' -NoNewline
        & touch -r (Join-Path $s 'a.txt.time') (Join-Path $s 'a.txt')
        Remove-Item -LiteralPath (Join-Path $s 'a.txt.time')
        & chmod 0600 (Join-Path $s 'c.txt')
        & chown -h 12345:54321 (Join-Path $s 'o.txt')
        & touch -d '2001-02-03 04:05:06Z' (Join-Path $s 'm.txt')
        Remove-Item -LiteralPath (Join-Path $s 'l')
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $s 'l') -Target 'd'
        $h = Join-Path $s 'h.txt'
        $time = (Get-Item -LiteralPath $h).LastWriteTimeUtc
        Set-Content -LiteralPath $h -Value 'HHH' -NoNewline
        (Get-Item -LiteralPath $h).LastWriteTimeUtc = $time
        & setfattr -n user.colour -v blue (Join-Path $s 'x.txt')
        $LASTEXITCODE | Should -Be 0

        $found = Invoke-Geosync -ArgumentList $verify
        $found.ExitCode | Should -Be 4 -Because $found.StdErr
        $objects = @($found.StdOut.TrimEnd() -split "`n" | ForEach-Object { $_ | ConvertFrom-Json })
        @($objects | Where-Object type -EQ 'difference' | ForEach-Object { "$($_.kind) $($_.path)" } | Sort-Object -CaseSensitive) |
            Should -Be @('Content h.txt', 'Extra d/extra', 'Link l', 'Missing d/e/f.txt', 'Mode c.txt', 'Mtime m.txt', 'Owner o.txt',
                'Size a.txt', 'Type b.txt', 'Xattr x.txt')
        $objects[-1].unreadable | Should -Be 0
    }
}
