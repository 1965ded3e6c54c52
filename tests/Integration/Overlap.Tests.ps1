# ReplicaOverlap on the real GlusterFS testbed: a second mount of the master volume (another st_dev) and another
# spelling of its server must not hide that the slave is the master. Run under the testbed lock (tests/testbed/README.md).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    $script:SkipGluster = Test-SkipGlusterTest
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    Import-Module (Resolve-Path (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')).Path -Force
    $script:StartId = 'GeoSync.PowerShell.Commands.StartGeoSyncSessionCommand'

    # Every entry below $Root with its type, size and SHA-256: equal listings, unchanged trees.
    function Get-TreeListing {
        param([string] $Root)
        Get-ChildItem -LiteralPath $Root -Recurse -Force | Where-Object { $_.FullName -notmatch '/\.glusterfs|/\.trashcan' } | ForEach-Object {
            $relative = [IO.Path]::GetRelativePath($Root, $_.FullName)
            if ($_.PSIsContainer) { "$relative/" } else { "$relative $($_.Length) $((Get-FileHash -LiteralPath $_.FullName).Hash)" }
        } | Sort-Object -CaseSensitive
    }
}

Describe 'A GlusterFS master and a slave on the same volume' -Tag 'Gluster' -Skip:$SkipGluster {
    BeforeAll {
        $script:Tb = Import-GlusterTestbed
        # A normal mount, as an application has it: its st_dev differs from the session's aux mount of the same volume.
        $script:Normal = Mount-TestbedVolume -Testbed $Tb -Volume $Tb.MVOL -Name "overlap-normal-$PID"
        $script:Replica = (New-Item -ItemType Directory -Path (Join-Path $Normal "overlap-$PID-replica")).FullName
        Set-Content -LiteralPath (Join-Path $Replica 'kept.txt') -Value 'kept' -NoNewline
        $script:Gluster = @{ NetworkNamespace = $Tb.NETNS; GlusterLogDirectory = $Tb.LOG_DIR; Timeout = 30 }
        $script:Tmp = Join-Path $Tb.MOUNT_DIR "overlap-tmp-$PID"
        $null = New-Item -ItemType Directory -Path $Tmp -Force
        $script:SavedTmpDir = $env:TMPDIR
        $env:TMPDIR = $Tmp
    }

    AfterAll {
        Get-GeoSyncSession | Stop-GeoSyncSession
        if ($Replica -and (Test-Path -LiteralPath $Replica)) { Remove-Item -LiteralPath $Replica -Recurse -Force }
        Dismount-TestbedVolume -MountPoint $Normal
        $env:TMPDIR = $SavedTmpDir
        if ($Tmp -and (Test-Path -LiteralPath $Tmp)) { Remove-Item -LiteralPath $Tmp -Recurse -Force }
    }

    It 'refuses a file:// slave inside a second, normal mount of the master volume, and changes nothing' {
        $before = Get-TreeListing -Root $Normal
        $master = "gluster://$($Tb.SERVER):$($Tb.MVOL)"

        { Start-GeoSyncSession -Master $master -Slave "file://$Replica" @Gluster -ErrorAction Stop } |
            Should -Throw -ErrorId "ReplicaOverlap,$StartId"
        try { Start-GeoSyncSession -Master $master -Slave "file://$Replica" @Gluster -ErrorAction Stop } catch { $record = $_ }

        $record.Exception.Message | Should -Match 'the slave lies inside the master'
        $record.Exception.Message | Should -Match ([regex]::Escape("slave file://$Replica (root $Replica)"))
        Get-TreeListing -Root $Normal | Should -Be $before
        @(Get-ChildItem -LiteralPath $Tmp) | Should -BeNullOrEmpty -Because 'the refused session unmounted its aux mount'
    }

    It 'refuses the master volume as its own slave named through another address of its server (<Mode>)' -ForEach @(
        @{ Mode = 'InProcess' }
        @{ Mode = 'Child' }
    ) {
        $before = Get-TreeListing -Root $Normal
        $master = "gluster://$($Tb.SERVER):$($Tb.MVOL)"
        $slave = "gluster://$($Tb.PEER_ADDRESS):$($Tb.MVOL)"
        $extra = if ($Mode -eq 'Child') { @{ SlaveCommand = @((Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path, 'slave') } } else { @{} }

        { Start-GeoSyncSession -Master $master -Slave $slave -SlaveMode $Mode @Gluster @extra -ErrorAction Stop } |
            Should -Throw -ErrorId "ReplicaOverlap,$StartId"
        try { Start-GeoSyncSession -Master $master -Slave $slave -SlaveMode $Mode @Gluster @extra -ErrorAction Stop } catch { $record = $_ }

        $record.Exception.Message | Should -Match "master $([regex]::Escape($master)) \(root .*\) and slave $([regex]::Escape($slave)) \(root .*\) are the same directory"
        Get-TreeListing -Root $Normal | Should -Be $before
        (Get-FuseMount | Where-Object MountPoint -Like "$Tmp*") | Should -BeNullOrEmpty
    }
}
