# Mount-GlusterAux / Dismount-GlusterAux behaviour that needs no GlusterFS: validation, binding, -WhatIf and the errors
# raised before anything is started. The live tests are in tests/Integration (tag 'Gluster').
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $script:MountId = 'GeoSync.PowerShell.Commands.MountGlusterAuxCommand'
    $script:DismountId = 'GeoSync.PowerShell.Commands.DismountGlusterAuxCommand'
}

Describe 'Mount-GlusterAux without a GlusterFS' {
    BeforeEach {
        # A private TMPDIR shows whether a temporary mount point was ever created.
        $script:SavedTmpDir = $env:TMPDIR
        $script:Tmp = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $env:TMPDIR = $Tmp.FullName
        $script:NoGluster = New-Item -ItemType Directory -Path (Join-Path $TestDrive "bin-$([guid]::NewGuid())")
    }

    AfterEach {
        $env:TMPDIR = $SavedTmpDir
    }

    It 'does nothing with -WhatIf' {
        $result = Mount-GlusterAux -Volume gv1 -Server gluster1 -WhatIf
        $result | Should -BeNullOrEmpty
        Get-ChildItem -LiteralPath $Tmp | Should -BeNullOrEmpty
    }

    It 'reports a missing glusterfs as GlusterClientNotInstalled before creating anything' {
        Mount-GlusterAux -Volume gv1 -Server gluster1 -GlusterCommandDirectory $NoGluster -ErrorAction SilentlyContinue -ErrorVariable failures

        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be "GlusterClientNotInstalled,$MountId"
        "$($failures[0].CategoryInfo.Category)" | Should -Be 'NotInstalled'
        $failures[0].TargetObject | Should -Be 'gluster1:gv1'
        $failures[0].Exception.Message | Should -BeLike "*'glusterfs' was not found in $NoGluster*"
        Get-ChildItem -LiteralPath $Tmp | Should -BeNullOrEmpty
    }

    It 'looks for gluster, not glusterfs, in MountBroker mode, and asks localhost by default' {
        Mount-GlusterAux -MountBroker -Volume svol -GlusterCommandDirectory $NoGluster -ErrorAction SilentlyContinue -ErrorVariable failures

        $failures[0].FullyQualifiedErrorId | Should -Be "GlusterClientNotInstalled,$MountId"
        $failures[0].TargetObject | Should -Be 'localhost:svol'
        $failures[0].Exception.Message | Should -BeLike "*'gluster' was not found*"
    }

    It 'reports a missing network namespace as NetworkNamespaceNotFound' {
        Mount-GlusterAux -Volume gv1 -Server gluster1 -NetworkNamespace "geosync-missing-$PID" -ErrorAction SilentlyContinue -ErrorVariable failures

        $failures[0].FullyQualifiedErrorId | Should -Be "NetworkNamespaceNotFound,$MountId"
        "$($failures[0].CategoryInfo.Category)" | Should -Be 'ObjectNotFound'
        $failures[0].Exception.Message | Should -BeLike "*/var/run/netns/geosync-missing-$PID is missing*"
    }

    It 'refuses a volume name that could be read as an option' {
        Mount-GlusterAux -Volume '-x' -Server gluster1 -ErrorAction SilentlyContinue -ErrorVariable failures

        $failures[0].FullyQualifiedErrorId | Should -Be "InvalidGlusterMountArgument,$MountId"
        "$($failures[0].CategoryInfo.Category)" | Should -Be 'InvalidArgument'
        $failures[0].TargetObject | Should -Be 'gluster1:-x'
    }

    It 'binds Volume and Server by property name and reports each failure' {
        $requests = [pscustomobject]@{ Volume = 'gv1'; Server = 'gluster1' }, [pscustomobject]@{ Volume = 'gv2'; Server = 'gluster2' }

        $requests | Mount-GlusterAux -GlusterCommandDirectory $NoGluster -ErrorAction SilentlyContinue -ErrorVariable failures

        $failures.TargetObject | Should -Be @('gluster1:gv1', 'gluster2:gv2')
    }
}

Describe 'Dismount-GlusterAux' {
    It 'reports a mount point this session did not mount as GlusterAuxMountNotFound and goes on' {
        Dismount-GlusterAux -MountPoint '/tmp/not-a-geosync-mount', '/tmp/another/' -ErrorAction SilentlyContinue -ErrorVariable failures

        $failures | Should -HaveCount 2
        $failures[0].FullyQualifiedErrorId | Should -Be "GlusterAuxMountNotFound,$DismountId"
        "$($failures[0].CategoryInfo.Category)" | Should -Be 'ObjectNotFound'
        $failures.TargetObject | Should -Be @('/tmp/not-a-geosync-mount', '/tmp/another')
    }

    It 'binds MountPoint by property name' {
        [pscustomobject]@{ MountPoint = '/tmp/by-property' } | Dismount-GlusterAux -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].TargetObject | Should -Be '/tmp/by-property'
    }
}
