# Faults while a replication runs over ssh (real rsync, the loopback sshd): the ssh connection dropped under a running
# loop (it must reconnect by itself and converge), and a master changed during its first sync (the next turn must
# converge). docs/faults.md.
BeforeAll {
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')
    . (Join-Path $PSScriptRoot 'FaultTools.ps1')
}

Describe 'faults while a replication over ssh runs' -Tag 'Ssh', 'Faults' -Skip:(-not [Environment]::IsPrivilegedProcess -and $env:CI -ne 'true') {
    BeforeAll {
        $script:Sshd = Start-FaultSshd
    }

    AfterAll {
        Stop-FaultSshd -Sshd $Sshd
    }

    It 'reconnects by itself and converges when the <Dropped> is killed under a running loop' -TestCases @(
        @{ Dropped = 'ssh client' }
        @{ Dropped = 'sshd child serving it' }
    ) {
        $case = Join-Path $TestDrive ($Dropped -replace ' ', '-')
        $master = Join-Path $case 'master'
        New-SmallFileTree -Root $master -Directories 5 -FilesPerDirectory 20
        $slave = (New-Item -ItemType Directory -Path (Join-Path $case 'slave')).FullName
        $state = Join-Path $case 'state'
        $loop = Start-FaultGeosync -ArgumentList (@(Get-SshSlaveArgument -Sshd $Sshd -Master $master -Slave $slave) +
            '--interval', '0.3', '--timeout', '30', '--state-dir', $state)
        try {
            Wait-Condition -Seconds 90 { $s = Read-FaultState -StateDirectory $state; $s -and $s.State -eq 'Active' -and $s.LastTurn } |
                Should -BeTrue -Because 'the loop connects and completes its first turn'
            Compare-Tree -Master $master -Slave $slave | Should -BeNullOrEmpty

            # The connection's two ends: the master's own ssh child (rsync's ssh is its grandchild), and the sshd process
            # that runs the remote geosync slave.
            $ssh = @(Get-ChildProcess -Id $loop.Process.Id | Where-Object { (Split-Path -Leaf (Get-ProcessArgument -Id $_)[0]) -eq 'ssh' })
            $ssh | Should -HaveCount 1
            $remoteSlave = @(Get-ProcessDescendant -Id ([int]$Sshd.PID) | Where-Object {
                    $argv = @(Get-ProcessArgument -Id $_); $argv.Count -ge 2 -and $argv[0] -eq $Geosync -and $argv[1] -eq 'slave' })
            $remoteSlave | Should -HaveCount 1
            $victim = if ($Dropped -eq 'ssh client') { $ssh[0] } else {
                [int]((Get-Content -LiteralPath "/proc/$($remoteSlave[0])/stat" -Raw) -replace '^.*\) \S+ (\d+) .*$', '$1')
            }
            & kill -KILL $victim

            # Faulty lasts the reconnect pause (1 s): poll the state file often enough to see it.
            $states = [Collections.Generic.List[string]]::new()
            $reconnected = Wait-Condition -Seconds 90 {
                $s = Read-FaultState -StateDirectory $state
                if ($s -and ($states.Count -eq 0 -or $states[-1] -ne $s.State)) { $states.Add($s.State) }
                $s -and $s.State -eq 'Active' -and $s.Reconnects -ge 1
            }
            $reconnected | Should -BeTrue -Because "the loop opens a new session by itself (states seen: $($states -join ' -> '))"
            $states | Should -Contain 'Faulty'
            (Read-FaultState -StateDirectory $state).LastError | Should -Not -BeNullOrEmpty

            Set-Content -LiteralPath (Join-Path $master 'd1/after-drop.txt') -Value 'written after the drop'
            Add-Content -LiteralPath (Join-Path $master 'd2/f1') -Value 'changed after the drop'
            Remove-Item -LiteralPath (Join-Path $master 'd3/f2')
            Wait-Condition -Seconds 60 { -not (Compare-Tree -Master $master -Slave $slave) } | Should -BeTrue -Because 'the new session carries every change'
        }
        finally {
            if (-not $loop.Process.HasExited) { & kill -TERM $loop.Process.Id }
            $result = Wait-FaultGeosync -Started $loop -TimeoutSeconds 60
        }
        $result.ExitCode | Should -Be 0 -Because 'a loop stopped by SIGTERM exits 0'
        $result.StdErr | Should -Match 'Reconnecting in \d+ s'
        Compare-Tree -Master $master -Slave $slave | Should -BeNullOrEmpty
    }

    It 'converges on the next turn when the master changes during the first sync' {
        $case = Join-Path $TestDrive 'changed'
        $master = Join-Path $case 'master'
        New-SmallFileTree -Root $master -Directories 20 -FilesPerDirectory 400
        $slave = (New-Item -ItemType Directory -Path (Join-Path $case 'slave')).FullName
        $arguments = @(Get-SshSlaveArgument -Sshd $Sshd -Master $master -Slave $slave) + '--once', '--timeout', '30', '--state-dir', (Join-Path $case 'state')

        $run = Start-FaultGeosync -ArgumentList $arguments
        Wait-Condition -Seconds 90 { $run.Process.HasExited -or (Get-FileCount -Root $slave) -ge 2000 } | Should -BeTrue
        $run.Process.HasExited | Should -BeFalse -Because 'the changes must come while the first sync runs'
        # Directories crawled already and not yet: files added, appended to, removed and renamed, a directory added and
        # one removed.
        $change = @'
set -eu
cd "$1"
for d in d1 d20; do
    for i in $(seq 1 30); do printf 'added %d\n' $i > $d/added-$i; done
    for i in $(seq 1 30); do printf 'appended\n' >> $d/f$i; done
    rm $d/f400 $d/f399
    mv $d/f398 $d/renamed-398
done
mkdir -p new/deeper && printf 'new\n' > new/deeper/file
rm -r d10
'@
        & bash -c $change bash $master
        $LASTEXITCODE | Should -Be 0
        $first = Wait-FaultGeosync -Started $run -TimeoutSeconds 120
        $first.ExitCode | Should -BeIn 0, 3 -Because "the first turn finishes (stderr: $($first.StdErr))"

        $next = Invoke-FaultGeosync -ArgumentList $arguments -TimeoutSeconds 120
        $next.ExitCode | Should -Be 0 -Because $next.StdErr
        Compare-Tree -Master $master -Slave $slave | Should -BeNullOrEmpty
        Get-RsyncTempFile -Root $slave | Should -BeNullOrEmpty
    }
}
