# GlusterFS faults on the testbed's multi-brick volumes (tests/testbed/README.md): a loop replicating the distributed-
# replicated drvol or the dispersed ecvol with one brick down, drvol with a whole replica pair down, and the
# distributed-replicated slave drslave with a whole replica pair down. Nothing may be purged from the slave or written
# outside the slave volume; the session goes Faulty with the cause; after the bricks return every file is on the slave
# again and the volumes' self-heal is clean. docs/faults.md. Run under the testbed lock.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')
    $script:SkipGluster = Test-SkipGlusterTest
}

BeforeAll {
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')
    . (Join-Path $PSScriptRoot 'FaultTools.ps1')
}

Describe 'GlusterFS faults under a running loop' -Tag 'Gluster', 'Faults' -Skip:$SkipGluster {
    BeforeAll {
        $script:Tb = Import-GlusterTestbed
        if (-not $Tb.DRVOL) { throw "the testbed has no drvol/ecvol/drslave; run 'tests/testbed/testbed.sh up' (it rebuilds an older testbed)" }
        # GlusterFS's own entries in a volume root, neither replicated nor purged (docs/gluster-notes.md).
        $script:Internal = '^(\.glusterfs-anonymous-inode-[^/]+|\.trashcan)(/|$)'
        # The loops' aux mounts go here (TMPDIR), where `testbed.sh down` finds leftovers and where a test can see
        # whether anything was written into a mount point whose client went away.
        $script:Tmp = (New-Item -ItemType Directory -Path (Join-Path $Tb.MOUNT_DIR "faults-tmp-$PID") -Force).FullName
        $script:SavedTmpDir = $env:TMPDIR
        $env:TMPDIR = $Tmp
        $script:Mounts = @{}
        foreach ($volume in $Tb.DRVOL, $Tb.ECVOL, $Tb.DRSLAVE) {
            $Mounts[$volume] = Mount-TestbedVolume -Testbed $Tb -Volume $volume -Name "faults-$volume-$PID"
        }

        # Empties a volume through its normal mount (its internal entries stay) and writes a tree: 10 directories of 20
        # files, a nested directory, and top-level files that no later step modifies.
        function Reset-VolumeTree([string] $Volume) {
            $root = $Mounts[$Volume]
            Get-ChildItem -LiteralPath $root -Force | Where-Object { $_.Name -notmatch $Internal } | Remove-Item -Recurse -Force
            New-SmallFileTree -Root $root -Directories 10 -FilesPerDirectory 20
            $null = New-Item -ItemType Directory -Path (Join-Path $root 'nested/deeper')
            Set-Content -LiteralPath (Join-Path $root 'nested/deeper/leaf.txt') -Value 'leaf'
            Set-Content -LiteralPath (Join-Path $root 'top-level.txt') -Value 'never modified after the first sync'
            $null = New-Item -ItemType File -Path (Join-Path $root 'empty.txt')
        }

        function Start-Loop([string] $MasterUrl, [string] $SlaveUrl, [string] $State) {
            Start-FaultGeosync -ArgumentList 'master', $MasterUrl, $SlaveUrl, '--network-namespace', $Tb.NETNS, '--interval', '0.5',
                '--timeout', '30', '--state-dir', $State
        }

        function Stop-Loop($Loop) {
            if (-not $Loop) { return }
            if (-not $Loop.Process.HasExited) { & kill -TERM $Loop.Process.Id }
            Wait-FaultGeosync -Started $Loop -TimeoutSeconds 60
        }

        function Wait-Converged([string] $Master, [string] $Slave, [double] $Seconds = 90) {
            $null = Wait-Condition -Seconds $Seconds { -not (Compare-Tree -Master $Master -Slave $Slave -Exclude $Internal) }
            Compare-Tree -Master $Master -Slave $Slave -Exclude $Internal | Should -BeNullOrEmpty -Because "$Slave must match $Master"
        }

        function Get-BrickPath([string] $List, [int[]] $Index) { @($List -split ' ')[$Index] }

        function Restore-TestbedBrick {
            foreach ($volume in $Tb.DRVOL, $Tb.ECVOL, $Tb.DRSLAVE) {
                if (@(Get-TestbedBrick -Testbed $Tb -Volume $volume | Where-Object { -not $_.Online })) {
                    Start-TestbedBrick -Testbed $Tb -Volume $volume
                }
            }
        }
    }

    # A test that failed half-way may leave bricks down; each test starts from a whole testbed.
    BeforeEach {
        Restore-TestbedBrick
    }

    AfterAll {
        if ($Tb) { Restore-TestbedBrick }
        foreach ($point in $Mounts.Values) { Dismount-TestbedVolume -MountPoint $point }
        $env:TMPDIR = $SavedTmpDir
        if ($Tmp -and (Test-Path -LiteralPath $Tmp)) {
            Get-ChildItem -LiteralPath $Tmp -Force -File | Where-Object Name -Match '^(clr-debug-pipe|dotnet-diagnostic|CoreFxPipe)' | Remove-Item -Force
            # Never recursive: a mount left in there must fail loudly.
            Get-ChildItem -LiteralPath $Tmp -Directory -Force | ForEach-Object { [IO.Directory]::Delete($_.FullName) }
            [IO.Directory]::Delete($Tmp)
        }
    }

    It 'a loop replicating <Volume> with one brick down converges and purges nothing' -TestCases @(
        @{ Volume = 'drvol'; Key = 'DRVOL_BRICKS'; Down = 1 }
        @{ Volume = 'ecvol'; Key = 'ECVOL_BRICKS'; Down = 2 }
    ) {
        Reset-VolumeTree $Volume
        $master = $Mounts[$Volume]
        $slave = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "$Volume-one-down")).FullName
        $loop = Start-Loop "gluster://$($Tb.SERVER):$Volume" "file://$slave" (Join-Path $TestDrive "$Volume-one-down-state")
        try {
            Wait-Converged $master $slave
            Stop-TestbedBrick -Testbed $Tb -Volume $Volume -Brick (Get-BrickPath $Tb[$Key] $Down)

            Set-Content -LiteralPath (Join-Path $master 'd1/while-down.txt') -Value 'written with a brick down'
            Add-Content -LiteralPath (Join-Path $master 'd2/f1') -Value 'changed with a brick down'
            Remove-Item -LiteralPath (Join-Path $master 'd3/f3')
            Wait-Converged $master $slave

            Start-TestbedBrick -Testbed $Tb -Volume $Volume
            Wait-TestbedHeal -Testbed $Tb -Volume $Volume
            Start-Sleep -Seconds 2
            Wait-Converged $master $slave
        }
        finally {
            $result = Stop-Loop $loop
        }
        $result.ExitCode | Should -Be 0 -Because $result.StdErr
    }

    It 'a whole replica pair of drvol down under a running loop: nothing purged, Faulty with the cause, every file back after recovery' {
        Reset-VolumeTree drvol
        $master = $Mounts['drvol']
        $slave = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'drvol-pair-down')).FullName
        $state = Join-Path $TestDrive 'drvol-pair-down-state'
        $loop = Start-Loop "gluster://$($Tb.SERVER):drvol" "file://$slave" $state
        try {
            Wait-Converged $master $slave
            $before = Get-TreeListing -Root $slave
            # Later turns must still send what changes after the outage; the top-level files stay as they are.
            Start-Sleep -Seconds 1

            Stop-TestbedBrick -Testbed $Tb -Volume drvol -Brick (Get-BrickPath $Tb.DRVOL_BRICKS 2, 3)
            $lost = [Collections.Generic.List[string]]::new()
            $states = [Collections.Generic.List[string]]::new()
            $faulty = Wait-Condition -Seconds 60 {
                $s = Read-FaultState -StateDirectory $state
                if ($s -and ($states.Count -eq 0 -or $states[-1] -ne $s.State)) { $states.Add($s.State) }
                $now = Get-TreeListing -Root $slave
                foreach ($path in $before.Keys) { if (-not $now.ContainsKey($path) -and -not $lost.Contains($path)) { $lost.Add($path) } }
                $s -and $s.State -eq 'Faulty' -and $s.LastError
            }
            # Several more seconds down: the loop keeps retrying and must keep purging nothing.
            foreach ($i in 1..10) {
                $now = Get-TreeListing -Root $slave
                foreach ($path in $before.Keys) { if (-not $now.ContainsKey($path) -and -not $lost.Contains($path)) { $lost.Add($path) } }
                Start-Sleep -Milliseconds 500
            }
            $lost | Should -BeNullOrEmpty -Because 'a master with a replica pair down must not empty the slave'
            $faulty | Should -BeTrue -Because "the session is Faulty while a subvolume is down (states seen: $($states -join ' -> '))"
            $status = Invoke-FaultGeosync -ArgumentList 'status', '--state-dir', $state
            $status.StdOut | Should -Match 'Faulty'
            (Read-FaultState -StateDirectory $state).LastError | Should -Match 'drvol|subvolume|brick|ENOTCONN|not connected|mount' -Because 'the cause is named'

            Start-TestbedBrick -Testbed $Tb -Volume drvol
            # The write below is a change after the outage, not a write during the pair's heal: a file whose replicas
            # differ until self-heal settles them is the separate case noted in docs/multi-brick.md.
            Wait-TestbedHeal -Testbed $Tb -Volume drvol
            # The bricks are online before this test's own client has reconnected to them: until it has, a write hashed
            # to the returned pair fails with ENOTCONN.
            $written = Wait-Condition -Seconds 60 {
                try { Set-Content -LiteralPath (Join-Path $master 'd4/after-recovery.txt') -Value 'written after the pair returned' -ErrorAction Stop; $true }
                catch { $false }
            }
            $written | Should -BeTrue -Because "this test's client of drvol reconnects to the returned pair"
            Wait-Converged $master $slave -Seconds 120
            (Get-TreeListing -Root $slave)['top-level.txt'] | Should -Be $before['top-level.txt'] -Because 'a top-level file not modified since is on the slave'
            Wait-TestbedHeal -Testbed $Tb -Volume drvol
        }
        finally {
            $result = Stop-Loop $loop
        }
        $result.ExitCode | Should -Be 0 -Because $result.StdErr
    }

    It 'a whole replica pair of the slave drslave down under a running loop: nothing written outside it, Faulty, convergence and a clean heal' {
        Reset-VolumeTree drvol
        $master = $Mounts['drvol']
        $slave = $Mounts['drslave']
        Get-ChildItem -LiteralPath $slave -Force | Where-Object { $_.Name -notmatch $Internal } | Remove-Item -Recurse -Force
        $firstBrick = Get-BrickPath $Tb.DRSLAVE_BRICKS 0
        $anonymous = @(Get-ChildItem -LiteralPath $firstBrick -Force -Directory -Filter '.glusterfs-anonymous-inode-*').Name
        $anonymous | Should -Not -BeNullOrEmpty -Because "AFR keeps its anonymous-inode directory in each brick root of drslave"
        $state = Join-Path $TestDrive 'drslave-pair-down-state'
        $loop = Start-Loop "gluster://$($Tb.SERVER):drvol" "gluster://$($Tb.SERVER):drslave" $state
        try {
            Wait-Converged $master $slave -Seconds 120

            Stop-TestbedBrick -Testbed $Tb -Volume drslave -Brick (Get-BrickPath $Tb.DRSLAVE_BRICKS 2, 3)
            foreach ($i in 1..20) { Set-Content -LiteralPath (Join-Path $master "d5/while-slave-down-$i.txt") -Value "new $i" }
            # Any directory in TMPDIR that is not a mount any more is the underlay of a mount whose client went away:
            # whatever lands there was written outside the slave volume.
            $strays = [Collections.Generic.List[string]]::new()
            $states = [Collections.Generic.List[string]]::new()
            $faulty = Wait-Condition -Seconds 60 {
                $s = Read-FaultState -StateDirectory $state
                if ($s -and ($states.Count -eq 0 -or $states[-1] -ne $s.State)) { $states.Add($s.State) }
                $mounted = @(Get-FuseMount).MountPoint
                foreach ($dir in Get-ChildItem -LiteralPath $Tmp -Directory -Force) {
                    if ($mounted -notcontains $dir.FullName -and (Get-ChildItem -LiteralPath $dir.FullName -Force -ErrorAction SilentlyContinue)) {
                        if (-not $strays.Contains($dir.FullName)) { $strays.Add($dir.FullName) }
                    }
                }
                $s -and $s.State -eq 'Faulty' -and $s.LastError
            }
            $strays | Should -BeNullOrEmpty -Because 'nothing may be written into the directory under a vanished slave mount'
            $faulty | Should -BeTrue -Because "the session is Faulty while the slave has a subvolume down (states seen: $($states -join ' -> '))"

            Start-TestbedBrick -Testbed $Tb -Volume drslave
            Wait-Converged $master $slave -Seconds 120
            Wait-TestbedHeal -Testbed $Tb -Volume drslave
            @(Get-ChildItem -LiteralPath $firstBrick -Force -Directory -Filter '.glusterfs-anonymous-inode-*').Name |
                Should -Be $anonymous -Because "drslave's own anonymous-inode directory is neither purged nor replaced"
        }
        finally {
            $result = Stop-Loop $loop
        }
        $result.ExitCode | Should -Be 0 -Because $result.StdErr
        $leftovers = @(Get-ChildItem -LiteralPath $Tmp -Force -Recurse -File -ErrorAction SilentlyContinue | Where-Object Name -NotMatch '^(clr-debug-pipe|dotnet-diagnostic|CoreFxPipe)')
        $leftovers.FullName | Should -BeNullOrEmpty -Because 'the loop leaves nothing in its TMPDIR once stopped'
    }
}
