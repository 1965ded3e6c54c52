# End to end: sessions on the real GlusterFS testbed (mvol -> svol in process and through a `geosync slave` child,
# mvol -> a directory over ssh through a loopback sshd), and directory -> directory, with real rsync. Changes are made
# through a NORMAL mount of mvol, so the marker stamps xtimes as it does for users.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    $script:SkipGluster = Test-SkipGlusterTest
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    . (Join-Path $PSScriptRoot 'SessionTree.ps1')
    . (Join-Path $PSScriptRoot '../Module/XattrTestTools.ps1')
    $script:ManifestPath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')).Path
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
    Import-Module $ManifestPath -Force
    $script:CrawlId = 'GeoSync.PowerShell.Commands.InvokeGeoSyncCrawlCommand'

    # Kills the session's slave connection (the geosync child, or ssh) once the turn has started sending data, from
    # another thread while the pipeline runs Invoke-GeoSyncCrawl.
    function Start-Killer {
        param([Parameter(Mandatory)] $Session)
        Start-ThreadJob -ArgumentList $Session -ScriptBlock {
            param($Session)
            $clock = [Diagnostics.Stopwatch]::StartNew()
            while ($clock.Elapsed.TotalSeconds -lt 60) {
                if ($Session.CurrentTurn -and $Session.CurrentTurn.EntriesCreated -gt 0) {
                    Stop-Process -Id $Session.SlaveConnectionProcessId -Force
                    return 'killed during the turn'
                }
                Start-Sleep -Milliseconds 2
            }
            'the turn never started sending'
        }
    }

    function Test-ProcessAlive([int] $Id) {
        $stat = "/proc/$Id/stat"
        (Test-Path -LiteralPath $stat) -and ((Get-Content -LiteralPath $stat -Raw) -split '\) ')[1] -notlike 'Z*'
    }
}

AfterAll {
    Get-GeoSyncSession | Stop-GeoSyncSession
}

Describe 'Directory master to directory slave' -Tag 'Session' {
    It 'replicates the tree <Mode>, with xattrs, then carries every kind of change and resends only the changed files' -ForEach @(
        @{ Mode = 'InProcess' }
        @{ Mode = 'Child' }
    ) {
        $master = Join-Path $TestDrive "dir-master-$Mode"
        $slave = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "dir-slave-$Mode")).FullName
        New-SampleTree -Root $master
        $session = Start-GeoSyncSession -Master $master -Slave $slave -SlaveMode $Mode -Xattrs
        try {
            $first = $session | Invoke-GeoSyncCrawl -Confirm:$false
            $first.Converged | Should -BeTrue
            $first.FilesSynced | Should -Be 7
            Assert-SameTree -Master $master -Slave $slave -Xattrs

            $changed = Set-SampleTreeChange -Root $master
            $second = $session | Invoke-GeoSyncCrawl -Confirm:$false
            $second.Converged | Should -BeTrue
            $second.FilesSynced | Should -Be $changed.Count
            Assert-SameTree -Master $master -Slave $slave -Xattrs

            ($session | Invoke-GeoSyncCrawl -Confirm:$false).FilesSynced | Should -Be 0
        }
        finally {
            $session | Stop-GeoSyncSession
        }
    }
}

Describe 'GlusterFS master, end to end' -Tag 'Gluster', 'Ssh' -Skip:$SkipGluster {
    BeforeAll {
        $script:Tb = Import-GlusterTestbed

        # A normal mount of the master volume: writes through it are stamped by the marker.
        $script:Normal = Mount-TestbedVolume -Testbed $Tb -Volume $Tb.MVOL -Name "session-normal-$PID"

        # The slave volume as this test reads it back.
        $script:SvolView = Mount-GlusterAux -Volume $Tb.SVOL -Server $Tb.SERVER -NetworkNamespace $Tb.NETNS `
            -LogFile (Join-Path $Tb.LOG_DIR "session-svol-view-$PID.log")

        # The sessions' mount points and ssh control directories go to a directory of this run inside the testbed,
        # where `testbed.sh down` would find leftovers; it must be empty again whenever no session runs.
        $script:Tmp = Join-Path $Tb.MOUNT_DIR "session-tmp-$PID"
        $null = New-Item -ItemType Directory -Path $Tmp -Force
        $script:SavedTmpDir = $env:TMPDIR
        $env:TMPDIR = $Tmp

        # A loopback sshd with its own keys; the slave host's "remote" geosync is the one the build laid out.
        $fixture = Join-Path $PSScriptRoot '../fixtures/sshd/sshd-fixture.sh'
        $script:Sshd = @{}
        foreach ($line in (& bash $fixture start 2>$null)) {
            if ($line -match '^GEOSYNC_SSHD_(\w+)=(.*)$') { $Sshd[$Matches[1]] = $Matches[2].Trim("'") }
        }
        if (-not $Sshd.HOME) { throw "the sshd fixture did not start ($fixture start)" }
        $script:SshSlaveDir = (New-Item -ItemType Directory -Path (Join-Path $Tb.MOUNT_DIR "session-ssh-slave-$PID")).FullName

        $script:MasterUrl = "gluster://$($Tb.SERVER):$($Tb.MVOL)"
        $script:SvolUrl = "gluster://$($Tb.SERVER):$($Tb.SVOL)"
        $script:Gluster = @{ NetworkNamespace = $Tb.NETNS; GlusterLogDirectory = $Tb.LOG_DIR; Timeout = 30 }
        $script:Ssh = @{
            SshCommand = 'ssh -F none'; SshPort = [int]$Sshd.PORT; IdentityFile = $Sshd.CLIENT_KEY
            KnownHostsFile = $Sshd.KNOWN_HOSTS; RemoteCommand = @($Geosync, 'slave')
        }
        # Each context replicates a tree of its own under the volume root.
        $script:Tree = @{
            InProcess = "session-$PID-inprocess"
            Child     = "session-$PID-child"
            Ssh       = "session-$PID-ssh"
        }
    }

    AfterAll {
        Get-GeoSyncSession | Stop-GeoSyncSession
        if ($Normal -and ((Get-FuseMount).MountPoint -contains $Normal)) {
            # Take this run's trees off the master, and let one turn take them off svol too.
            Get-ChildItem -LiteralPath $Normal -Filter "session-$PID-*" | Remove-Item -Recurse -Force
            Start-GeoSyncSession -Master $MasterUrl -Slave $SvolUrl @Gluster | Invoke-GeoSyncCrawl -Confirm:$false | Out-Null
            Get-GeoSyncSession | Stop-GeoSyncSession
        }
        Dismount-TestbedVolume -MountPoint $Normal
        if ($SvolView) { $SvolView | Dismount-GlusterAux }
        if ($Sshd -and $Sshd.HOME) { & bash (Join-Path $PSScriptRoot '../fixtures/sshd/sshd-fixture.sh') stop $Sshd.HOME 2>$null }
        if ($SshSlaveDir -and (Test-Path -LiteralPath $SshSlaveDir)) { Remove-Item -LiteralPath $SshSlaveDir -Recurse -Force }
        $env:TMPDIR = $SavedTmpDir
        if ($Tmp -and (Test-Path -LiteralPath $Tmp)) {
            Get-ChildItem -LiteralPath $Tmp -Force -File | Where-Object Name -Match '^(clr-debug-pipe|dotnet-diagnostic|CoreFxPipe)' |
                Remove-Item -Force
            # Never recursive: a mount left in there must fail loudly, not have its volume's files deleted.
            [IO.Directory]::Delete($Tmp)
        }
    }

    Context 'mvol -> svol, the slave served in process' {
        BeforeAll {
            $script:MasterTree = Join-Path $Normal $Tree.InProcess
            $script:SlaveTree = Join-Path $SvolView.MountPoint $Tree.InProcess
            New-SampleTree -Root $MasterTree
            $script:Session = Start-GeoSyncSession -Master $MasterUrl -Slave $SvolUrl @Gluster
        }

        AfterAll {
            $Session | Stop-GeoSyncSession
        }

        It 'opens with the master volume''s uuid and an in-process slave on an aux mount' {
            "$($Session.State)" | Should -Be 'Active'
            $Session.MasterVolumeId | Should -Be ([guid]$Tb.MVOL_ID)
            "$($Session.SlaveMode)" | Should -Be 'InProcess'
            # mvol has one brick, a directory of this host: the crawl reads master xtimes there, a layout of one set of one
            # brick vouched for each turn (docs/multi-brick.md).
            @($Session.MasterXtimeBricks) | Should -Be @($Tb.MVOL_BRICK)
            $Session.WakesOnMasterBricks | Should -BeTrue -Because 'a change stamped on the brick root ends the loop''s pause'
            $Session.KeepAlivesSent | Should -BeGreaterOrEqual 1
            # The keep-alive left the master's mark on the slave root, expiring one timeout from now (docs/protocol.md, "Extended attributes: names and layouts"; docs/master-loop.md, "The crawl"). Read by
            # name: GlusterFS 10.3 leaves volume-mark.* out of listxattr.
            $name = "trusted.glusterfs.volume-mark.$($Tb.MVOL_ID)"
            $hex = "$(& getfattr --absolute-names -n $name -e hex $SvolView.MountPoint 2>$null)" -replace "(?s).*$([regex]::Escape($name))=0x([0-9a-f]+).*", '$1'
            $hex.Length | Should -Be 62 -Because 'a foreign mark is 31 bytes'
            $hex.Substring(4, 32) | Should -Be ($Tb.MVOL_ID -replace '-')
            $expiry = [DateTimeOffset]::FromUnixTimeSeconds([Convert]::ToInt64($hex.Substring(54, 8), 16))
            $expiry | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddSeconds(20))
            $expiry | Should -BeLessOrEqual ([DateTimeOffset]::UtcNow.AddSeconds(31))
            # Only the mounts' own directories are in the private temp directory.
            @(Get-ChildItem -LiteralPath $Tmp -Directory).Name | Should -BeLike 'geosync-aux-mount-*'
        }

        It 'makes the slave equal the master on the first turn' {
            $turn = $Session | Invoke-GeoSyncCrawl -Confirm:$false
            $turn.Converged | Should -BeTrue
            $turn.FilesSynced | Should -BeGreaterOrEqual 7
            Assert-SameTree -Master $MasterTree -Slave $SlaveTree
        }

        It 'carries modify, create, delete, rename, chmod and a deep mkdir, resending only the changed files' {
            $changed = Set-SampleTreeChange -Root $MasterTree

            # A dry run first: it names these changes and writes nothing, neither data nor xtimes, on mvol or svol.
            $masterBefore = Get-TreeChecksum -LiteralPath $MasterTree
            $slaveBefore = Get-TreeChecksum -LiteralPath $SlaveTree
            $plan = @($Session | Invoke-GeoSyncCrawl -WhatIf)
            Get-TreeChecksum -LiteralPath $MasterTree | Should -Be $masterBefore
            Get-TreeChecksum -LiteralPath $SlaveTree | Should -Be $slaveBefore
            $t = $Tree.InProcess
            $expected = @(
                "Create $t/a/b/two-renamed.bin", "Create $t/deep", "Create $t/deep/1", "Create $t/deep/1/2", "Create $t/deep/1/2/3",
                "Create $t/deep/1/2/3/4", "Create $t/deep/1/2/3/4/leaf.txt", "Create $t/new.txt", "Purge $t/a/b/c/three",
                "Purge $t/a/b/two.bin", "Update $t/a/one.txt", "Update $t/empty.txt")
            @($plan.Where({ $_.Action -ne 'SetAttributes' }).ForEach({ "$($_.Action) $($_.Path)" }) | Sort-Object) |
                Should -Be ($expected | Sort-Object)
            ($plan | Where-Object Path -EQ "$t/empty.txt").Reason | Should -Be 'mode differs'

            $turn = $Session | Invoke-GeoSyncCrawl -Confirm:$false
            $turn.Converged | Should -BeTrue
            $turn.FilesSynced | Should -Be $changed.Count
            $turn.EntriesPurged | Should -Be 2
            Assert-SameTree -Master $MasterTree -Slave $SlaveTree
            ($Session | Invoke-GeoSyncCrawl -Confirm:$false).FilesSynced | Should -Be 0
        }

        It 'leaves no mount, directory or keep-alive behind when stopped' {
            $masterRoot = $Session.MasterRoot
            $Session | Stop-GeoSyncSession
            "$($Session.State)" | Should -Be 'Stopped'
            (Get-FuseMount).MountPoint | Should -Not -Contain $masterRoot
            @(Get-ChildItem -LiteralPath $Tmp -Directory) | Should -BeNullOrEmpty
        }
    }

    Context 'mvol -> svol through a geosync slave child' {
        BeforeAll {
            $script:MasterTree = Join-Path $Normal $Tree.Child
            $script:SlaveTree = Join-Path $SvolView.MountPoint $Tree.Child
            New-SampleTree -Root $MasterTree
        }

        AfterEach {
            Get-GeoSyncSession | Stop-GeoSyncSession
        }

        It 'replicates and carries changes through the child, which mounts svol itself' {
            $session = Start-GeoSyncSession -Master $MasterUrl -Slave $SvolUrl -SlaveMode Child @Gluster
            $child = $session.SlaveConnectionProcessId
            $session.RsyncTarget.SlaveProcessId | Should -Be $child
            (Get-Content -LiteralPath "/proc/$child/cmdline" -Raw) -split "`0" | Should -Contain '--network-namespace'

            ($session | Invoke-GeoSyncCrawl -Confirm:$false).Converged | Should -BeTrue
            Assert-SameTree -Master $MasterTree -Slave $SlaveTree
            $changed = Set-SampleTreeChange -Root $MasterTree
            $turn = $session | Invoke-GeoSyncCrawl -Confirm:$false
            $turn.FilesSynced | Should -Be $changed.Count
            Assert-SameTree -Master $MasterTree -Slave $SlaveTree

            $session | Stop-GeoSyncSession
            Wait-Condition { -not (Test-ProcessAlive $child) } | Should -BeTrue
        }

        It 'reports a child killed mid-sync; a new session converges and nothing is lost' {
            New-BulkData -Root $MasterTree -Directory 'bulk-child'
            $session = Start-GeoSyncSession -Master $MasterUrl -Slave $SvolUrl -SlaveMode Child @Gluster
            $child = $session.SlaveConnectionProcessId
            $killer = Start-Killer -Session $session
            $turn = $session | Invoke-GeoSyncCrawl -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures
            $killer | Wait-Job | Receive-Job | Should -Be 'killed during the turn'
            $turn | Should -BeNullOrEmpty
            $failures | Should -HaveCount 1
            $failures[0].FullyQualifiedErrorId | Should -Be "SessionFaulty,$CrawlId"
            "$($session.State)" | Should -Be 'Faulty'
            $session.LastError.Message | Should -Match 'returned with 137'
            Test-ProcessAlive $child | Should -BeFalse
            $session | Stop-GeoSyncSession

            $again = Start-GeoSyncSession -Master $MasterUrl -Slave $SvolUrl -SlaveMode Child @Gluster
            ($again | Invoke-GeoSyncCrawl -Confirm:$false).Converged | Should -BeTrue
            Assert-SameTree -Master $MasterTree -Slave $SlaveTree
        }
    }

    Context 'mvol -> a directory over ssh, with xattrs' {
        BeforeAll {
            $script:MasterTree = Join-Path $Normal $Tree.Ssh
            $script:SlaveTree = Join-Path $SshSlaveDir $Tree.Ssh
            $script:SshUrl = "ssh://root@127.0.0.1:$SshSlaveDir"
            New-SampleTree -Root $MasterTree
        }

        AfterEach {
            Get-GeoSyncSession | Stop-GeoSyncSession
        }

        It 'replicates through the remote geosync slave and rsync over the session''s ssh connection' {
            $session = Start-GeoSyncSession -Master $MasterUrl -Slave $SshUrl -Xattrs @Gluster @Ssh
            "$($session.SlaveMode)" | Should -Be 'Ssh'
            $session.RsyncTarget.RemoteAddress | Should -Be 'root@127.0.0.1'
            $session.RsyncTarget.RemoteShell | Should -Match '-oControlMaster=auto -S '

            ($session | Invoke-GeoSyncCrawl -Confirm:$false).Converged | Should -BeTrue
            Assert-SameTree -Master $MasterTree -Slave $SlaveTree -Xattrs
            $changed = Set-SampleTreeChange -Root $MasterTree
            $turn = $session | Invoke-GeoSyncCrawl -Confirm:$false
            $turn.FilesSynced | Should -Be $changed.Count
            Assert-SameTree -Master $MasterTree -Slave $SlaveTree -Xattrs
        }

        It 'reports an ssh connection killed mid-sync; a new session converges and nothing is lost' {
            New-BulkData -Root $MasterTree -Directory 'bulk-ssh'
            $session = Start-GeoSyncSession -Master $MasterUrl -Slave $SshUrl -Xattrs @Gluster @Ssh
            $remoteSlave = $session.SlaveProcessId
            $killer = Start-Killer -Session $session
            $session | Invoke-GeoSyncCrawl -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures | Should -BeNullOrEmpty
            $killer | Wait-Job | Receive-Job | Should -Be 'killed during the turn'
            $failures[0].FullyQualifiedErrorId | Should -Be "SessionFaulty,$CrawlId"
            "$($session.State)" | Should -Be 'Faulty'
            $session.LastError | Should -Not -BeNullOrEmpty
            # The remote slave sees its input end and exits.
            Wait-Condition { -not (Test-ProcessAlive $remoteSlave) } -Seconds 10 | Should -BeTrue
            $session | Stop-GeoSyncSession

            $again = Start-GeoSyncSession -Master $MasterUrl -Slave $SshUrl -Xattrs @Gluster @Ssh
            ($again | Invoke-GeoSyncCrawl -Confirm:$false).Converged | Should -BeTrue
            Assert-SameTree -Master $MasterTree -Slave $SlaveTree -Xattrs
        }
    }
}
