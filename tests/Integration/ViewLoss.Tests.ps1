# What a running `geosync master` loop does when a view it works on goes away, on the real GlusterFS testbed:
# the master's aux mount unmounted under it (`umount -l`), and the glusterfs client of a Gluster slave's aux mount
# exiting. Nothing may be purged or written where the volume is not; the session goes Faulty with the cause, the loop
# reconnects (mounting again), and the replica converges. docs/sessions.md, "What GeoSync will not do with a view it
# cannot vouch for".
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    $script:SkipGluster = Test-SkipGlusterTest
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    . (Join-Path $PSScriptRoot 'SessionTree.ps1')
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path

    # Starts `geosync master MASTER SLAVE ...` with its output collected; returns the process and the two reads.
    function Start-Loop {
        param([string[]] $Arguments)
        $info = [System.Diagnostics.ProcessStartInfo]::new($Geosync)
        foreach ($a in @('master') + $Arguments) { $info.ArgumentList.Add($a) }
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($info)
        $process.StandardInput.Close()
        [pscustomobject]@{ Process = $process; Stdout = $process.StandardOutput.ReadToEndAsync(); Stderr = $process.StandardError.ReadToEndAsync() }
    }

    function Stop-Loop {
        param($Loop)
        & kill -TERM $Loop.Process.Id
        $Loop.Process.WaitForExit(60000) | Should -BeTrue
        $Loop.Process.ExitCode | Should -Be 0
    }

    function Read-LoopState {
        param([string] $Directory)
        $file = Get-ChildItem -LiteralPath $Directory -Filter '*.json' -File | Select-Object -First 1
        if ($file) { Get-Content -LiteralPath $file.FullName -Raw | ConvertFrom-Json }
    }

    # The aux mounts of a volume: every FUSE mount of it except the test's own normal mounts.
    function Get-AuxMount {
        param([string] $Volume, [string[]] $Except)
        @(Get-FuseMount | Where-Object { $_.Source -like "*:$Volume" -and $Except -notcontains $_.MountPoint })
    }

    # Everything mounted on a path, top last (the volume over GeoSync's read-only tmpfs underlay).
    function Get-MountStack {
        param([string] $Path)
        foreach ($line in Get-Content -LiteralPath /proc/self/mountinfo) {
            $fields = $line -split ' '
            $separator = [array]::IndexOf($fields, '-', 6)
            if ($fields[4] -eq $Path) { "$($fields[$separator + 1]) $($fields[$separator + 2])" }
        }
    }

    # The glusterfs client serving a mount point (its argv ends with the mount point).
    function Get-ClientProcessId {
        param([string] $MountPoint)
        foreach ($dir in Get-ChildItem -LiteralPath /proc -Directory | Where-Object Name -match '^\d+$') {
            $argv = try { ([IO.File]::ReadAllText("$($dir.FullName)/cmdline")) -split "`0" | Where-Object { $_ } } catch { $null }
            if ($argv -and (Split-Path -Leaf $argv[0]) -eq 'glusterfs' -and $argv[-1] -eq $MountPoint) { [int]$dir.Name }
        }
    }
}

Describe 'a master loop whose views go away' -Tag 'Gluster' -Skip:$SkipGluster {
    BeforeAll {
        $script:Tb = Import-GlusterTestbed
        $script:Normal = Mount-TestbedVolume -Testbed $Tb -Volume $Tb.MVOL -Name "vouch-normal-$PID"
        $script:SvolNormal = Mount-TestbedVolume -Testbed $Tb -Volume $Tb.SVOL -Name "vouch-svol-normal-$PID"
        $script:TreeName = "vouch-$PID"
        $script:TopFile = "vouch-top-$PID.txt"
        $script:MasterTree = Join-Path $Normal $TreeName
        New-SampleTree -Root $MasterTree
        Set-Content -LiteralPath (Join-Path $Normal $TopFile) -Value 'written once, never modified again'
        $script:MasterUrl = "gluster://$($Tb.SERVER):$($Tb.MVOL)"
        $script:Loops = [System.Collections.Generic.List[object]]::new()
    }

    AfterAll {
        foreach ($loop in $Loops) { if (-not $loop.Process.HasExited) { $loop.Process.Kill($true); $loop.Process.WaitForExit() } }
        foreach ($path in $MasterTree, (Join-Path $Normal $TopFile)) {
            if ($path -and (Test-Path -LiteralPath $path)) { Remove-Item -LiteralPath $path -Recurse -Force }
        }
        Dismount-TestbedVolume -MountPoint $Normal
        Dismount-TestbedVolume -MountPoint $SvolNormal
    }

    It 'purges nothing when the master aux mount is unmounted under it, goes Faulty, and converges after remounting' {
        $replica = (New-Item -ItemType Directory -Path (Join-Path $Tb.MOUNT_DIR "vouch-replica-$PID")).FullName
        $state = (New-Item -ItemType Directory -Path (Join-Path $Tb.MOUNT_DIR "vouch-state-$PID")).FullName
        try {
            # Mounts left by earlier tests are not this loop's.
            $others = @(@(Get-FuseMount).MountPoint) + $Normal + $SvolNormal
            # --max-delete-share 1: the mass-deletion guard stays out of it; the root's identity check must hold alone.
            $loop = Start-Loop @($MasterUrl, "file://$replica", '--network-namespace', $Tb.NETNS, '--interval', '1',
                '--timeout', '30', '--state-dir', $state, '--max-delete-share', '1')
            $Loops.Add($loop)
            Wait-Condition -Seconds 60 { $s = Read-LoopState $state; $s -and $s.State -eq 'Active' -and $s.LastTurn } | Should -BeTrue
            Assert-SameTree -Master $MasterTree -Slave (Join-Path $replica $TreeName)
            $aux = Get-AuxMount -Volume $Tb.MVOL -Except $others
            $aux.Count | Should -Be 1
            $auxPoint = $aux[0].MountPoint
            @(Get-MountStack $auxPoint) | Should -Be @('tmpfs geosync-underlay', "fuse.glusterfs $($Tb.SERVER):$($Tb.MVOL)")
            $before = @(Get-TreeManifest -Root $replica | Sort-Object)

            & umount -l $auxPoint
            $LASTEXITCODE | Should -Be 0

            Wait-Condition -Seconds 60 { (Read-LoopState $state).Reconnects -ge 1 } | Should -BeTrue
            (Read-LoopState $state).LastError | Should -Match 'master .* cannot be vouched for: .* no longer the directory or volume that was opened'
            $after = @(Get-TreeManifest -Root $replica | Sort-Object)
            Compare-Object $before $after | Should -BeNullOrEmpty -Because 'nothing may be purged or changed from a view that is not the volume'

            # The loop mounts the master again and goes on; a change made now arrives, and every file is still there.
            Wait-Condition -Seconds 60 { (Get-AuxMount -Volume $Tb.MVOL -Except $others).Count -eq 1 -and
                (Read-LoopState $state).State -eq 'Active' } | Should -BeTrue
            $null = Set-SampleTreeChange -Root $MasterTree
            Wait-Condition -Seconds 60 {
                $a = @(Get-TreeManifest -Root $MasterTree | Sort-Object); $b = @(Get-TreeManifest -Root (Join-Path $replica $TreeName) | Sort-Object)
                -not (Compare-Object $a $b)
            } | Should -BeTrue -Because 'the remounted loop carries every change'
            Get-Content -LiteralPath (Join-Path $replica $TopFile) | Should -Be 'written once, never modified again'
            Get-MountStack $auxPoint | Should -BeNullOrEmpty -Because 'the faulty session released the underlay of its unmounted aux mount'
            Test-Path -LiteralPath $auxPoint | Should -BeFalse

            Stop-Loop $loop
            $loop.Stderr.Result | Should -Not -Match 'left something behind'
        }
        finally {
            foreach ($dir in $replica, $state) { if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force } }
        }
    }

    It 'writes nothing outside the slave volume when the slave aux client exits, goes Faulty, and converges afterwards' {
        $state = (New-Item -ItemType Directory -Path (Join-Path $Tb.MOUNT_DIR "vouch-state-s-$PID")).FullName
        $slaveTree = Join-Path $SvolNormal $TreeName
        try {
            $others = @(@(Get-FuseMount).MountPoint) + $Normal + $SvolNormal
            $loop = Start-Loop @($MasterUrl, "gluster://$($Tb.SERVER):$($Tb.SVOL)", '--network-namespace', $Tb.NETNS, '--interval', '1',
                '--timeout', '30', '--state-dir', $state, '--max-delete-share', '1')
            $Loops.Add($loop)
            Wait-Condition -Seconds 90 { $s = Read-LoopState $state; $s -and $s.State -eq 'Active' -and $s.LastTurn } | Should -BeTrue
            Wait-Condition -Seconds 30 { Test-Path -LiteralPath (Join-Path $slaveTree 'a') } | Should -BeTrue
            $aux = Get-AuxMount -Volume $Tb.SVOL -Except $others
            $aux.Count | Should -Be 1
            $auxPoint = $aux[0].MountPoint
            $client = @(Get-ClientProcessId $auxPoint)
            $client.Count | Should -Be 1

            # The client exits as on CHILD_DOWN (cleanly, unmounting itself), while the master has news to send.
            & kill -TERM $client[0]
            $LASTEXITCODE | Should -Be 0
            New-BulkData -Root $MasterTree -Directory 'after-exit' -Count 20 -Size 4096
            Wait-Condition -Seconds 10 { -not (Get-Process -Id $client[0] -ErrorAction SilentlyContinue) } | Should -BeTrue
            $stack = @(Get-MountStack $auxPoint)
            # Whatever is left on the mount point answers from the read-only underlay: nothing lands on the host.
            if ($stack.Count -gt 0) { $stack[0] | Should -Be 'tmpfs geosync-underlay' }

            Wait-Condition -Seconds 60 { (Read-LoopState $state).Reconnects -ge 1 } | Should -BeTrue
            (Read-LoopState $state).LastError | Should -Match 'cannot be vouched for'
            # The guard could remove the old mount point only because it was empty: nothing was written under it.
            Wait-Condition -Seconds 30 { -not (Test-Path -LiteralPath $auxPoint) } | Should -BeTrue

            Wait-Condition -Seconds 90 {
                $a = @(Get-TreeManifest -Root $MasterTree | Sort-Object); $b = @(Get-TreeManifest -Root $slaveTree | Sort-Object)
                -not (Compare-Object $a $b)
            } | Should -BeTrue -Because 'the remounted loop converges'
            Assert-SameTree -Master $MasterTree -Slave $slaveTree

            Stop-Loop $loop
            $loop.Stderr.Result | Should -Not -Match 'Directory not empty|left something behind'
        }
        finally {
            if (Test-Path -LiteralPath $state) { Remove-Item -LiteralPath $state -Recurse -Force }
        }
    }
}
