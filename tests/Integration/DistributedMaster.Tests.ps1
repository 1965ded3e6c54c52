# End to end on the testbed's distributed volume dvol (two bricks): GlusterFS 10.3 answers a directory's xtime from one
# brick per read (GlusterXtime.Tests.ps1 pins that), so the session must not prune by directory xtime there. Changes are
# written through a NORMAL mount of dvol, some onto both bricks, some onto one only, and every turn must carry them.
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

Describe 'A distributed GlusterFS master' -Tag 'Gluster' -Skip:$SkipGluster {
    BeforeAll {
        $script:Tb = Import-GlusterTestbed
        $script:Bricks = $Tb.DVOL_BRICKS -split ' '
        $script:Gluster = @{ NetworkNamespace = $Tb.NETNS; GlusterLogDirectory = $Tb.LOG_DIR; Timeout = 30 }

        $script:Normal = Mount-TestbedVolume -Testbed $Tb -Volume $Tb.DVOL -Name "dist-normal-$PID"

        # The sessions' aux mounts go where `testbed.sh down` would find leftovers.
        $script:Tmp = Join-Path $Tb.MOUNT_DIR "dist-tmp-$PID"
        $null = New-Item -ItemType Directory -Path $Tmp -Force
        $script:SavedTmpDir = $env:TMPDIR
        $env:TMPDIR = $Tmp

        # This run's tree only: other tests write to dvol too, and the whole volume is replicated.
        $script:Top = "dist-session-$PID"
        $script:SlaveRoot = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'slave')).FullName

        # Waits past the marker's microsecond clock, so each write's stamp is newer than the last.
        function Step-Clock { Start-Sleep -Milliseconds 20 }

        # The files of $Directory (relative to the volume) that live on the brick: DHT places each file on one.
        function Get-BrickFile([string] $Brick, [string] $Directory) {
            @(Get-ChildItem -LiteralPath (Join-Path $Brick $Directory) -File |
                # A DHT link file (mode ---------T, empty) only points to the brick that holds the data.
                Where-Object { -not ($_.Length -eq 0 -and ($_.UnixFileMode -band [IO.UnixFileMode]::StickyBit)) } |
                Sort-Object Name | Select-Object -ExpandProperty Name)
        }

        function Invoke-Turn($Session) {
            $turn = $Session | Invoke-GeoSyncCrawl -Confirm:$false
            # Failures elsewhere in the shared volume (another test's files vanishing mid-crawl) are not this test's.
            @($turn.Failures | Where-Object Path -Like "$Top*") | Should -BeNullOrEmpty
            $turn
        }
    }

    AfterAll {
        Get-GeoSyncSession | Stop-GeoSyncSession
        if ($Normal -and ((@(Get-FuseMount).MountPoint) -contains $Normal)) {
            Remove-Item -LiteralPath (Join-Path $Normal $Top) -Recurse -Force -ErrorAction SilentlyContinue
        }
        Dismount-TestbedVolume -MountPoint $Normal
        $env:TMPDIR = $SavedTmpDir
        if ($Tmp -and (Test-Path -LiteralPath $Tmp)) {
            Get-ChildItem -LiteralPath $Tmp -Force -File | Where-Object Name -Match '^(clr-debug-pipe|dotnet-diagnostic|CoreFxPipe)' |
                Remove-Item -Force
            # Never recursive: a mount left in there must fail loudly.
            [IO.Directory]::Delete($Tmp)
        }
    }

    It 'is seen as distributed over two subvolumes, so the session does not prune by directory xtime' {
        $session = Start-GeoSyncSession -Master "gluster://$($Tb.SERVER):$($Tb.DVOL)" -Slave $SlaveRoot @Gluster -Verbose 4>&1 |
            Tee-Object -Variable opening | Where-Object { $_ -is [GeoSync.Engine.Session.GeoSyncSession] }
        try {
            $session.MasterSubvolumeCount | Should -Be 2
            $session.PrunesByDirectoryXtime | Should -BeFalse
            # Both bricks are directories of this host: turns whose view is whole read and merge them (docs/multi-brick.md).
            @($session.MasterXtimeBricks).Count | Should -Be 2
            @($opening | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message |
                Should -Contain "the crawl lists every directory each turn and sends files by their own xtimes (no pruning by directory xtime): master volume $($Tb.DVOL) is distributed over 2 subvolumes, and GlusterFS answers a directory's xtime from one of them per read"
        }
        finally {
            $session | Stop-GeoSyncSession
        }
    }

    It 'prunes on the single-brick mvol, and only when told to on dvol' {
        $mvol = Start-GeoSyncSession -Master "gluster://$($Tb.SERVER):$($Tb.MVOL)" -Slave (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'mvol-slave')).FullName @Gluster
        try {
            $mvol.MasterSubvolumeCount | Should -Be 1
            $mvol.PrunesByDirectoryXtime | Should -BeTrue
        }
        finally {
            $mvol | Stop-GeoSyncSession
        }
        $forced = Start-GeoSyncSession -Master "gluster://$($Tb.SERVER):$($Tb.DVOL)" -Slave $SlaveRoot -DirectoryPruning Enabled @Gluster -WarningVariable warned -WarningAction SilentlyContinue
        try {
            $forced.PrunesByDirectoryXtime | Should -BeTrue
            "$warned" | Should -BeLike '*distributed over 2 subvolumes: a change on one brick can be missed*'
        }
        finally {
            $forced | Stop-GeoSyncSession
        }
    }

    It 'carries changes on both bricks and on either one alone, converging on every turn' {
        New-SampleTree -Root (Join-Path $Normal $Top)
        $null = New-Item -ItemType Directory -Path (Join-Path $Normal "$Top/spread/inner")
        # Enough names that DHT hashes files onto both bricks.
        foreach ($i in 1..12) { Set-Content -LiteralPath (Join-Path $Normal "$Top/spread/f$i") -Value "v0 $i"; Step-Clock }
        foreach ($i in 1..6) { Set-Content -LiteralPath (Join-Path $Normal "$Top/spread/inner/g$i") -Value "v0 $i"; Step-Clock }
        $onBrick = @{}
        foreach ($index in 0, 1) {
            $onBrick[$index] = Get-BrickFile $Bricks[$index] "$Top/spread"
            $onBrick[$index] | Should -Not -BeNullOrEmpty -Because "brick $($Bricks[$index]) must hold some of the files"
        }

        $session = Start-GeoSyncSession -Master "gluster://$($Tb.SERVER):$($Tb.DVOL)" -Slave $SlaveRoot @Gluster
        try {
            $first = Invoke-Turn $session
            $first.FilesSynced | Should -BeGreaterThan 18
            Assert-SameTree -Master (Join-Path $Normal $Top) -Slave (Join-Path $SlaveRoot $Top)

            # Each cycle changes files on brick 0 only, then on brick 1 only, then on both, with a new file and a deletion:
            # a turn that trusted the xtime one brick answers for spread/ or the root would skip the other's changes.
            foreach ($cycle in 1..3) {
                foreach ($bricks in @(0), @(1), @(0, 1)) {
                    foreach ($index in $bricks) {
                        $name = $onBrick[$index][$cycle % $onBrick[$index].Count]
                        Add-Content -LiteralPath (Join-Path $Normal "$Top/spread/$name") -Value "cycle $cycle on brick $index"
                        Step-Clock
                    }
                    $tag = "$cycle-$($bricks -join '')"
                    if ($bricks.Count -eq 2) {
                        Set-Content -LiteralPath (Join-Path $Normal "$Top/spread/inner/new-$tag") -Value $tag
                        Remove-Item -LiteralPath (Join-Path $Normal "$Top/spread/inner/g$cycle")
                    }
                    $turn = Invoke-Turn $session
                    $turn.FilesSynced | Should -BeGreaterOrEqual $bricks.Count -Because "cycle $tag changed files on brick(s) $($bricks -join ', ')"
                    Assert-SameTree -Master (Join-Path $Normal $Top) -Slave (Join-Path $SlaveRoot $Top)
                }
            }

            # Nothing changed here: further turns keep the trees equal (whatever either brick answers).
            foreach ($quiet in 1..2) {
                $null = Invoke-Turn $session
                Assert-SameTree -Master (Join-Path $Normal $Top) -Slave (Join-Path $SlaveRoot $Top)
            }
        }
        finally {
            $session | Stop-GeoSyncSession
        }
    }
}
