# kill -9 of each process of a replication over ssh (the master, the remote slave, the ssh client) at about 10, 50 and
# 85 % of a first sync of 20,000 small files, with real rsync and the loopback sshd. After each kill no file on the slave
# may look complete without being so; a normal `--once` afterwards must converge to the master exactly. docs/faults.md.
BeforeAll {
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')
    . (Join-Path $PSScriptRoot 'FaultTools.ps1')
}

Describe 'kill -9 during a first sync of 20,000 files over ssh' -Tag 'Ssh', 'Faults' -Skip:(-not [Environment]::IsPrivilegedProcess -and $env:CI -ne 'true') {
    BeforeAll {
        $script:Sshd = Start-FaultSshd
        $script:FileCount = 20000
        $script:Master = Join-Path $TestDrive 'master'
        New-SmallFileTree -Root $Master -Directories 40 -FilesPerDirectory ($FileCount / 40)

        # The process to kill once the run is under way: the geosync master itself, the geosync slave that sshd runs
        # for it, or the ssh client carrying the slave connection (the master's own ssh child; rsync's ssh is its
        # grandchild).
        function Find-Victim([string] $Victim, [int] $MasterId) {
            switch ($Victim) {
                'master' { $MasterId }
                'slave' {
                    Get-ProcessDescendant -Id ([int]$Sshd.PID) | Where-Object {
                        $argv = @(Get-ProcessArgument -Id $_); $argv.Count -ge 2 -and $argv[0] -eq $Geosync -and $argv[1] -eq 'slave' } |
                        Select-Object -First 1
                }
                'ssh' {
                    Get-ChildProcess -Id $MasterId | Where-Object { @(Get-ProcessArgument -Id $_)[0] -match '(^|/)ssh$' } | Select-Object -First 1
                }
            }
        }
    }

    AfterAll {
        Stop-FaultSshd -Sshd $Sshd
    }

    It 'converges after kill -9 of the <Victim> at 10, 50 and 85 % of the first sync' -TestCases @(
        @{ Victim = 'master' }
        @{ Victim = 'slave' }
        @{ Victim = 'ssh' }
    ) {
        $slave = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "slave-$Victim")).FullName
        $state = Join-Path $TestDrive "state-$Victim"
        $arguments = @(Get-SshSlaveArgument -Sshd $Sshd -Master $Master -Slave $slave) + '--once', '--timeout', '30', '--state-dir', $state

        foreach ($percent in 10, 50, 85) {
            $run = Start-FaultGeosync -ArgumentList $arguments
            $target = $FileCount * $percent / 100
            $reached = Wait-Condition -Seconds 90 { $run.Process.HasExited -or (Get-FileCount -Root $slave) -ge $target }
            # (Not $run.StdErr.Result in a -Because: it waits for the process to end.)
            $run.Process.HasExited | Should -BeFalse -Because "the run must still be syncing at $percent %"
            $reached | Should -BeTrue -Because "the slave reaches $target files"
            $victimId = $null
            foreach ($try in 1..50) {
                $victimId = Find-Victim -Victim $Victim -MasterId $run.Process.Id
                if ($victimId) { break }
                Start-Sleep -Milliseconds 100
            }
            $victimId | Should -Not -BeNullOrEmpty -Because "the $Victim process is found at $percent %"
            if ($Victim -eq 'master') {
                # The master with its rsyncs and ssh clients, as an OOM kill of its cgroup or a crash would.
                Stop-ProcessTree -Id $victimId
                $result = Wait-FaultGeosync -Started $run -TimeoutSeconds 10
            }
            else {
                & kill -KILL $victimId
                $result = Wait-FaultGeosync -Started $run -TimeoutSeconds 60
                $result.ExitCode | Should -Not -Be 0 -Because "a --once run whose $Victim was killed did not replicate everything"
            }
            $synced = Get-FileCount -Root $slave
            # With its rsyncs killed too, the master's kill shows in the count. A slave or ssh kill leaves the rsync batch in
            # flight (its own connection) to finish; there the non-zero exit above shows the kill came before the end.
            if ($Victim -eq 'master') { $synced | Should -BeLessThan $FileCount -Because "the kill at $percent % must come before the sync ends" }
            Get-IncompleteLookalike -Master $Master -Slave $slave | Should -BeNullOrEmpty -Because "after the kill at $percent % ($synced files), every file under its final name is whole"
        }

        $final = Invoke-FaultGeosync -ArgumentList $arguments -TimeoutSeconds 120
        $final.ExitCode | Should -Be 0 -Because $final.StdErr
        Compare-Tree -Master $Master -Slave $slave | Should -BeNullOrEmpty
        Get-RsyncTempFile -Root $slave | Should -BeNullOrEmpty -Because 'no rsync temp file is left once the sync converged'
    }
}
