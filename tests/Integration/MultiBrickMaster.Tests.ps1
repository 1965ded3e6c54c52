# End to end on the testbed's multi-brick masters, drvol (2×2 distributed-replicated) and ecvol (dispersed 2+1), whose
# bricks are all directories of this host: turns read the master xtimes on the bricks, merged per subvolume, and prune
# by them (docs/multi-brick.md), and a change stamped on the brick roots ends the loop's pause; a turn with a brick
# down reads through the mount and lists every directory. Changes are written through a NORMAL mount; every turn must
# carry them, whichever way it read.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    $script:SkipGluster = Test-SkipGlusterTest
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    . (Join-Path $PSScriptRoot 'SessionTree.ps1')
    Import-Module (Resolve-Path (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')).Path -Force
}

AfterAll {
    Get-GeoSyncSession | Stop-GeoSyncSession
    Get-Module GeoSync | Remove-Module
}

Describe 'A multi-brick GlusterFS master read on its bricks' -Tag 'Gluster' -Skip:$SkipGluster {
    BeforeAll {
        $script:Tb = Import-GlusterTestbed
        if (-not $Tb.DRVOL) { throw "the testbed has no drvol/ecvol; run 'tests/testbed/testbed.sh up' (it rebuilds an older testbed)" }
        $script:Gluster = @{ NetworkNamespace = $Tb.NETNS; GlusterLogDirectory = $Tb.LOG_DIR; Timeout = 30 }
        $script:Mounts = @{}

        # The sessions' aux mounts go where `testbed.sh down` would find leftovers.
        $script:Tmp = Join-Path $Tb.MOUNT_DIR "multibrick-tmp-$PID"
        $null = New-Item -ItemType Directory -Path $Tmp -Force
        $script:SavedTmpDir = $env:TMPDIR
        $env:TMPDIR = $Tmp
        $script:Top = "multibrick-$PID"

        # Waits past the marker's microsecond clock, so each write's stamp is newer than the last.
        function Step-Clock { Start-Sleep -Milliseconds 20 }

        function Invoke-Turn($Session) {
            $turn = $Session | Invoke-GeoSyncCrawl -Confirm:$false -WarningVariable +script:TurnWarnings -WarningAction SilentlyContinue
            @($turn.Failures | Where-Object Path -Like "$Top*") | Should -BeNullOrEmpty
            $turn
        }
    }

    AfterAll {
        Get-GeoSyncSession | Stop-GeoSyncSession
        foreach ($point in $Mounts.Values) {
            if ((@(Get-FuseMount).MountPoint) -contains $point) {
                Remove-Item -LiteralPath (Join-Path $point $Top) -Recurse -Force -ErrorAction SilentlyContinue
            }
            Dismount-TestbedVolume -MountPoint $point
        }
        $env:TMPDIR = $SavedTmpDir
        if ($Tmp -and (Test-Path -LiteralPath $Tmp)) {
            Get-ChildItem -LiteralPath $Tmp -Force -File | Where-Object Name -Match '^(clr-debug-pipe|dotnet-diagnostic|CoreFxPipe)' |
                Remove-Item -Force
            # Never recursive: a mount left in there must fail loudly.
            [IO.Directory]::Delete($Tmp)
        }
    }

    It '<Volume>: changes are found by pruning on the brick xtimes, and with brick <Down> down by listing everything' -TestCases @(
        @{ Volume = 'drvol'; Key = 'DRVOL_BRICKS'; Count = 4; Down = 1 }
        @{ Volume = 'ecvol'; Key = 'ECVOL_BRICKS'; Count = 3; Down = 2 }
    ) {
        $bricks = $Tb[$Key] -split ' '
        $master = Mount-TestbedVolume -Testbed $Tb -Volume $Volume -Name "multibrick-$Volume-$PID"
        $Mounts[$Volume] = $master
        $root = Join-Path $master $Top
        foreach ($dir in 'a/deep/er', 'b/inner', 'c', 'd/e/f') { $null = New-Item -ItemType Directory -Path (Join-Path $root $dir) -Force }
        # Enough names that DHT hashes files onto both subvolumes of drvol.
        foreach ($i in 1..12) { Set-Content -LiteralPath (Join-Path $root "b/f$i") -Value "v0 $i" }
        foreach ($i in 1..4) { Set-Content -LiteralPath (Join-Path $root "a/deep/er/g$i") -Value "v0 $i" }
        Step-Clock
        $slaveRoot = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "$Volume-slave")).FullName

        $session = Start-GeoSyncSession -Master "gluster://$($Tb.SERVER):$Volume" -Slave $slaveRoot @Gluster -Verbose 4>&1 |
            Tee-Object -Variable opening | Where-Object { $_ -is [GeoSync.Engine.Session.GeoSyncSession] }
        try {
            @($session.MasterXtimeBricks) | Should -Be $bricks -Because (@($opening | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n")
            $first = Invoke-Turn $session
            Assert-SameTree -Master $root -Slave (Join-Path $slaveRoot $Top)
            $quiet = Invoke-Turn $session
            $quiet.DirectoriesScanned | Should -BeLessThan $first.DirectoriesScanned -Because 'an idle turn prunes at the root'

            # A change after a turn started ends the loop's pause: the marker stamps the brick roots, which the session
            # watches (docs/master-loop.md, "Waking on a GlusterFS master"); without the wake this waits the whole minute.
            $session.WakesOnMasterBricks | Should -BeTrue
            Set-Content -LiteralPath (Join-Path $root 'c/wake') -Value 'wakes the loop'
            Wait-GeoSyncChange -Session $session -Timeout 60 | Should -BeTrue -Because 'the change was stamped on the brick roots'
            (Invoke-Turn $session).FilesSynced | Should -Be 1
            Assert-SameTree -Master $root -Slave (Join-Path $slaveRoot $Top)

            # Changes on every subvolume: each turn must find them all, and list only the stamped paths.
            foreach ($round in 1..3) {
                foreach ($i in 1..12) { if ($i % 3 -eq $round % 3) { Add-Content -LiteralPath (Join-Path $root "b/f$i") -Value "round $round" } }
                Set-Content -LiteralPath (Join-Path $root "d/e/f/new-$round") -Value "new in round $round"
                Remove-Item -LiteralPath (Join-Path $root "a/deep/er/g$round")
                Step-Clock
                $turn = Invoke-Turn $session
                $turn.FilesSynced | Should -BeGreaterOrEqual 5 -Because "round $round changed four files and made one"
                $turn.DirectoriesScanned | Should -BeLessThan $first.DirectoriesScanned -Because 'c/ and b/inner/ are unchanged and pruned'
                Assert-SameTree -Master $root -Slave (Join-Path $slaveRoot $Top)
            }

            # One brick down: the turn reads through the mount, lists everything, says why, and misses nothing.
            $script:TurnWarnings = @()
            Stop-TestbedBrick -Testbed $Tb -Volume $Volume -Brick $bricks[$Down]
            try {
                Add-Content -LiteralPath (Join-Path $root 'b/f1') -Value 'changed with a brick down'
                Set-Content -LiteralPath (Join-Path $root 'c/while-down') -Value 'made with a brick down'
                Step-Clock
                $fallback = Invoke-Turn $session
                $fallback.DirectoriesScanned | Should -BeGreaterOrEqual $first.DirectoriesScanned -Because 'no pruning with a brick down'
                "$TurnWarnings" | Should -BeLike "*brick *$($bricks[$Down]) is down*"
                Assert-SameTree -Master $root -Slave (Join-Path $slaveRoot $Top)
            }
            finally {
                Start-TestbedBrick -Testbed $Tb -Volume $Volume
            }
            Wait-TestbedHeal -Testbed $Tb -Volume $Volume

            # Back up under a new pid: glusterd is asked again, and a later turn prunes on the bricks again.
            $pruned = $false
            foreach ($attempt in 1..10) {
                Add-Content -LiteralPath (Join-Path $root 'd/e/f/new-1') -Value "after recovery $attempt"
                Step-Clock
                $turn = Invoke-Turn $session
                Assert-SameTree -Master $root -Slave (Join-Path $slaveRoot $Top)
                if ($turn.DirectoriesScanned -lt $first.DirectoriesScanned) { $pruned = $true; break }
                Start-Sleep -Seconds 1
            }
            $pruned | Should -BeTrue -Because 'once every brick is up again, turns read the bricks'
        }
        finally {
            $session | Stop-GeoSyncSession
        }
    }
}
