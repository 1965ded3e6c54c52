# The master loop on the real GlusterFS testbed: `geosync master` replicates mvol to a directory, keeps crawling, picks up
# changes made through a NORMAL mount (so the marker stamps them), and stops cleanly on SIGTERM, leaving no aux mount.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    $script:SkipGluster = Test-SkipGlusterTest
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    . (Join-Path $PSScriptRoot 'SessionTree.ps1')
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
}

Describe 'geosync master with a GlusterFS master' -Tag 'Gluster' -Skip:$SkipGluster {
    BeforeAll {
        $script:Tb = Import-GlusterTestbed
        $script:Normal = Mount-TestbedVolume -Testbed $Tb -Volume $Tb.MVOL -Name "loop-normal-$PID"
        $script:TreeName = "loop-$PID"
        $script:MasterTree = Join-Path $Normal $TreeName
        New-SampleTree -Root $MasterTree
        $script:Replica = (New-Item -ItemType Directory -Path (Join-Path $Tb.MOUNT_DIR "loop-replica-$PID")).FullName
        $script:State = (New-Item -ItemType Directory -Path (Join-Path $Tb.MOUNT_DIR "loop-state-$PID")).FullName
        $script:MasterUrl = "gluster://$($Tb.SERVER):$($Tb.MVOL)"

        function Read-LoopState {
            $file = Get-ChildItem -LiteralPath $State -Filter '*.json' -File | Select-Object -First 1
            if ($file) { Get-Content -LiteralPath $file.FullName -Raw | ConvertFrom-Json }
        }
    }

    AfterAll {
        if ($Loop -and -not $Loop.HasExited) { $Loop.Kill($true); $Loop.WaitForExit() }
        if ($MasterTree -and (Test-Path -LiteralPath $MasterTree)) { Remove-Item -LiteralPath $MasterTree -Recurse -Force }
        Dismount-TestbedVolume -MountPoint $Normal
        foreach ($dir in $Replica, $State) { if ($dir -and (Test-Path -LiteralPath $dir)) { Remove-Item -LiteralPath $dir -Recurse -Force } }
    }

    It 'replicates mvol, picks up changes while it runs, and stops cleanly on SIGTERM' {
        $info = [System.Diagnostics.ProcessStartInfo]::new($Geosync)
        foreach ($a in 'master', $MasterUrl, "file://$Replica", '--network-namespace', $Tb.NETNS, '--interval', '0.5',
            '--timeout', '30', '--state-dir', $State) { $info.ArgumentList.Add($a) }
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $script:Loop = [System.Diagnostics.Process]::Start($info)
        $Loop.StandardInput.Close()
        $stdout = $Loop.StandardOutput.ReadToEndAsync()
        $stderr = $Loop.StandardError.ReadToEndAsync()

        Wait-Condition -Seconds 60 { $s = Read-LoopState; $s -and $s.State -eq 'Active' -and $s.LastTurn } | Should -BeTrue
        Assert-SameTree -Master $MasterTree -Slave (Join-Path $Replica $TreeName)
        $aux = @((Get-FuseMount) | Where-Object { $_.Source -like "*:$($Tb.MVOL)" -and $_.MountPoint -ne $Normal })

        $changed = Set-SampleTreeChange -Root $MasterTree
        Wait-Condition -Seconds 30 { Test-Path -LiteralPath (Join-Path $Replica "$TreeName/deep/1/2/3/4/leaf.txt") } | Should -BeTrue
        Wait-Condition -Seconds 30 {
            $a = @(Get-TreeManifest -Root $MasterTree | Sort-Object); $b = @(Get-TreeManifest -Root (Join-Path $Replica $TreeName) | Sort-Object)
            -not (Compare-Object $a $b)
        } | Should -BeTrue -Because 'the loop carries every change of the master within a few turns'
        # The data is there before its turn ends; stopping now could abandon that turn, so wait for its record.
        Wait-Condition -Seconds 30 { (Read-LoopState).FilesSynced -ge ($changed.Count + 7) } |
            Should -BeTrue -Because "the sample tree has 7 files, and the changes resend $($changed.Count)"

        & kill -TERM $Loop.Id
        $Loop.WaitForExit(30000) | Should -BeTrue
        $Loop.ExitCode | Should -Be 0
        $stderr.Result | Should -Match 'SIGTERM received, stopping the master loop'
        $stdout.Result | Should -Match '(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Session\d+ turn 1: \d+ files \(\d+ bytes\) synced'
        $final = Read-LoopState
        $final.State | Should -Be 'Stopped'
        $final.Reconnects | Should -Be 0
        foreach ($mount in $aux) {
            (Get-FuseMount).MountPoint | Should -Not -Contain $mount.MountPoint -Because 'the loop unmounts its aux mount when it stops'
        }
    }
}
