# Live tests of Mount-GlusterAux / Dismount-GlusterAux on the GlusterFS testbed (tests/testbed/testbed.sh up).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    $script:SkipGluster = Test-SkipGlusterTest
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    $script:Tb = Import-GlusterTestbed
    $script:ManifestPath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')).Path
    Import-Module $ManifestPath -Force
    $script:MountId = 'GeoSync.PowerShell.Commands.MountGlusterAuxCommand'

    # Temporary mount points go to a directory of this run inside the testbed, where `testbed.sh down` would find
    # anything left behind; tests check it is empty again after every mount.
    $script:Tmp = Join-Path $Tb.MOUNT_DIR "aux-tmp-$PID"
    $null = New-Item -ItemType Directory -Path $Tmp -Force
    $script:SavedTmpDir = $env:TMPDIR
    $env:TMPDIR = $Tmp
    $script:Log = Join-Path $Tb.LOG_DIR "aux-mount-tests-$PID.log"
    $script:Direct = @{ Server = $Tb.SERVER; NetworkNamespace = $Tb.NETNS; LogFile = $Log; TimeoutSec = 30 }

    function Get-MountedPoint { @(Get-FuseMount).MountPoint }
    # Mount points left in the temporary directory (child pwsh processes also keep their runtime pipes there).
    function Get-TmpEntry { @(Get-ChildItem -LiteralPath $Tmp -Force -Filter 'geosync-aux-mount-*').Name }
}

AfterAll {
    Get-Module GeoSync | Remove-Module
    $env:TMPDIR = $SavedTmpDir
    if ($Tmp -and (Test-Path -LiteralPath $Tmp)) {
        # The runtime pipes and sockets of the child pwsh processes killed above; never a directory.
        Get-ChildItem -LiteralPath $Tmp -Force -File | Where-Object Name -Match '^(clr-debug-pipe|dotnet-diagnostic|CoreFxPipe)' |
            Remove-Item -Force
        # Never recursive: a mount left in there must fail loudly, not have its volume's files deleted.
        [IO.Directory]::Delete($Tmp)
    }
}

Describe 'Mount-GlusterAux directly on the testbed' -Tag 'Gluster' -Skip:$SkipGluster {
    It 'mounts <Volume> with client-pid -1 on a temporary directory and returns once it answers' -ForEach @(
        @{ Volume = 'mvol'; IdKey = 'MVOL_ID' }
        @{ Volume = 'dvol'; IdKey = 'DVOL_ID' }   # two bricks: readiness waits for both DHT subvolumes
    ) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $aux = Mount-GlusterAux -Volume $Volume @Direct
        $elapsed = $clock.Elapsed
        try {
            $elapsed.TotalSeconds | Should -BeLessThan 10
            $aux | Should -BeOfType GeoSync.PowerShell.GlusterAuxMount
            $aux.Volume | Should -Be $Volume
            $aux.Server | Should -Be $Tb.SERVER
            "$($aux.Mode)" | Should -Be 'Direct'
            $aux.MountPoint | Should -BeLike "$Tmp/geosync-aux-mount-*"

            $entry = Get-FuseMount | Where-Object MountPoint -eq $aux.MountPoint
            $entry.Type | Should -Be 'fuse.glusterfs'
            $entry.Source | Should -Be "$($Tb.SERVER):$Volume"
            $argv = (Get-Content -LiteralPath "/proc/$($aux.ProcessId)/cmdline" -Raw) -split "`0" | Where-Object { $_ }
            $argv | Should -Contain '--client-pid=-1'
            $argv | Should -Contain "--volfile-id=$Volume"
            $argv[-1] | Should -Be $aux.MountPoint

            # Only a client-pid -1 mount answers the native volume mark.
            (Get-GlusterVolumeMark -LiteralPath $aux.MountPoint).VolumeId | Should -Be ([guid]$Tb[$IdKey])
        }
        finally {
            $aux | Dismount-GlusterAux
        }
        Get-MountedPoint | Should -Not -Contain $aux.MountPoint
        $aux.MountPoint | Should -Not -Exist
        Get-TmpEntry | Should -BeNullOrEmpty
    }

    It 'sees the xtime a normal mount stamps, and stamps none through its own writes' {
        $attribute = "trusted.glusterfs.$($Tb.MVOL_ID).xtime"
        function Get-Xtime([string] $Path) {
            $out = & getfattr --absolute-names -n $attribute -e hex $Path 2>$null
            if ($LASTEXITCODE -ne 0) { return $null }
            "$out" -replace "(?s).*$([regex]::Escape($attribute))=0x([0-9a-f]{16}).*", '$1'
        }

        $dir = $null
        $normal = Mount-TestbedVolume -Testbed $Tb -Volume mvol -Name "aux-normal-$PID"
        $aux = $null
        try {
            $aux = Mount-GlusterAux -Volume mvol @Direct
            # A directory of this test only, so writes of other tests on the shared volume do not move its xtime.
            $dir = "aux-xtime-$([guid]::NewGuid().ToString('N'))"
            $null = New-Item -ItemType Directory -Path (Join-Path $normal $dir)
            Set-Content -LiteralPath (Join-Path $normal "$dir/by-normal") -Value 'stamped'

            Get-Xtime (Join-Path $aux.MountPoint "$dir/by-normal") | Should -Match '^[0-9a-f]{16}$'
            $before = Get-Xtime (Join-Path $aux.MountPoint $dir)
            $before | Should -Match '^[0-9a-f]{16}$'

            Set-Content -LiteralPath (Join-Path $aux.MountPoint "$dir/by-aux") -Value 'not stamped'
            Get-Xtime (Join-Path $aux.MountPoint "$dir/by-aux") | Should -BeNullOrEmpty
            Get-Xtime (Join-Path $aux.MountPoint $dir) | Should -Be $before
        }
        finally {
            if ($dir) { Remove-Item -LiteralPath (Join-Path $normal $dir) -Recurse -Force -ErrorAction SilentlyContinue }
            if ($aux) { $aux | Dismount-GlusterAux }
            Dismount-TestbedVolume -MountPoint $normal
        }
    }

    It 'is unmounted and its directory removed when its owner is killed with SIGKILL' {
        $pwsh = @(Get-PwshCommand)
        $script = "Import-Module '$ManifestPath'; " +
            "`$m = Mount-GlusterAux -Volume mvol -Server $($Tb.SERVER) -NetworkNamespace $($Tb.NETNS) -LogFile '$Log' -ErrorAction Stop; " +
            "[Console]::Out.WriteLine(`$m.MountPoint); [Console]::Out.Flush(); Start-Sleep -Seconds 120"
        $start = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($argument in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) {
            $start.ArgumentList.Add($argument)
        }
        $start.RedirectStandardOutput = $true
        $owner = [Diagnostics.Process]::Start($start)
        try {
            $line = $owner.StandardOutput.ReadLineAsync()
            $line.Wait([TimeSpan]::FromSeconds(60)) | Should -BeTrue -Because 'the owner must report its mount'
            $mountPoint = $line.Result
            $mountPoint | Should -BeLike "$Tmp/geosync-aux-mount-*"
            Get-MountedPoint | Should -Contain $mountPoint

            $owner.Kill()   # SIGKILL: no cleanup code of the owner runs
            $owner.WaitForExit()
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Wait-Condition { (Get-MountedPoint) -notcontains $mountPoint -and -not (Test-Path -LiteralPath $mountPoint) } |
                Should -BeTrue -Because "the guard must unmount $mountPoint and remove it"
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
            Get-TmpEntry | Should -BeNullOrEmpty
        }
        finally {
            if (-not $owner.HasExited) { $owner.Kill() }
            $owner.Dispose()
        }
    }

    It 'releases its mounts when the module is removed' {
        $pwsh = @(Get-PwshCommand)
        $script = "Import-Module '$ManifestPath'; " +
            "`$m = Mount-GlusterAux -Volume mvol -Server $($Tb.SERVER) -NetworkNamespace $($Tb.NETNS) -LogFile '$Log' -ErrorAction Stop; " +
            "`$before = (Get-Content /proc/mounts) -match [regex]::Escape(`$m.MountPoint); Remove-Module GeoSync; " +
            "`$after = (Get-Content /proc/mounts) -match [regex]::Escape(`$m.MountPoint); " +
            "'{0}|{1}|{2}' -f @(`$before).Count, @(`$after).Count, (Test-Path -LiteralPath `$m.MountPoint)"
        $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $script
        $LASTEXITCODE | Should -Be 0
        $output | Should -Be '1|0|False'
        Get-TmpEntry | Should -BeNullOrEmpty
    }

    It 'mounts nothing with -WhatIf' {
        $mountsBefore = Get-MountedPoint
        $result = Mount-GlusterAux -Volume mvol @Direct -WhatIf
        $result | Should -BeNullOrEmpty
        Get-MountedPoint | Should -Be $mountsBefore
        Get-TmpEntry | Should -BeNullOrEmpty
    }

    Context 'failures' {
        BeforeAll {
            # Each failure must name its cause, stay within the timeout, and leave no mount and no directory.
            function Assert-MountError {
                param([hashtable] $Parameters, [string] $Id, [string] $Category, [string] $Target, [string] $Message)
                $mountsBefore = Get-MountedPoint
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $result = Mount-GlusterAux @Parameters -ErrorAction SilentlyContinue -ErrorVariable failures
                $clock.Elapsed.TotalSeconds | Should -BeLessThan $Parameters.TimeoutSec
                $result | Should -BeNullOrEmpty
                $failures | Should -HaveCount 1
                $failures[0].FullyQualifiedErrorId | Should -Be "$Id,$MountId"
                "$($failures[0].CategoryInfo.Category)" | Should -Be $Category
                $failures[0].TargetObject | Should -Be $Target
                $failures[0].Exception.Message | Should -BeLike $Message
                Get-MountedPoint | Should -Be $mountsBefore
                Get-TmpEntry | Should -BeNullOrEmpty
            }
        }

        It 'reports a volume glusterd does not know as GlusterVolumeNotFound' {
            Assert-MountError -Parameters (@{ Volume = 'nosuchvol' } + $Direct) -Id GlusterVolumeNotFound -Category ObjectNotFound `
                -Target "$($Tb.SERVER):nosuchvol" -Message "*volume 'nosuchvol' does not exist*failed to fetch volume file*"
        }

        It 'reports an unreachable server as GlusterServerUnreachable' {
            # An address in the namespace's subnet that nobody answers on.
            $nobody = $Tb.SERVER -replace '\.\d+$', '.9'
            $parameters = @{ Volume = 'mvol' } + $Direct
            $parameters.Server = $nobody
            $parameters.TimeoutSec = 20
            Assert-MountError -Parameters $parameters -Id GlusterServerUnreachable -Category ConnectionError `
                -Target "${nobody}:mvol" -Message "*cannot reach glusterd on $nobody*"
        }

        It 'reports a missing glusterfs as GlusterClientNotInstalled' {
            $empty = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'no-gluster') -Force
            Assert-MountError -Parameters (@{ Volume = 'mvol'; GlusterCommandDirectory = $empty.FullName } + $Direct) `
                -Id GlusterClientNotInstalled -Category NotInstalled -Target "$($Tb.SERVER):mvol" -Message "*'glusterfs' was not found in $($empty.FullName)*"
        }

        It 'reports a mount point that is mounted already, or not empty, as MountPointBusy' {
            $point = Join-Path $Tb.MOUNT_DIR "busy-$PID"
            $null = New-Item -ItemType Directory -Path $point
            try {
                $aux = Mount-GlusterAux -Volume mvol -MountPoint $point @Direct
                try {
                    $aux.MountPoint | Should -Be $point
                    Assert-MountError -Parameters (@{ Volume = 'mvol'; MountPoint = $point } + $Direct) -Id MountPointBusy -Category ResourceBusy `
                        -Target "$($Tb.SERVER):mvol" -Message "*$point is busy*mounted there already*"
                }
                finally {
                    $aux | Dismount-GlusterAux
                }
                # The caller's directory stays.
                $point | Should -Exist
                Get-MountedPoint | Should -Not -Contain $point

                Set-Content -LiteralPath (Join-Path $point 'file') -Value 'x'
                Assert-MountError -Parameters (@{ Volume = 'mvol'; MountPoint = $point } + $Direct) -Id MountPointBusy -Category ResourceBusy `
                    -Target "$($Tb.SERVER):mvol" -Message "*$point is busy: it is not empty*"
            }
            finally {
                if ((Get-MountedPoint) -notcontains $point) { Remove-Item -LiteralPath $point -Recurse -Force }
            }
        }

        Context 'a stopped volume' {
            BeforeAll {
                $script:Scratch = "auxstop$PID"
                $script:ScratchBrick = Join-Path $Tb.DIR "bricks/$Scratch"
                $null = New-Item -ItemType Directory -Path $ScratchBrick
                foreach ($arguments in @(
                        @('volume', 'create', $Scratch, "$($Tb.SERVER):$ScratchBrick", 'force'),
                        @('volume', 'start', $Scratch),
                        @('volume', 'stop', $Scratch))) {
                    $null = & $Tb.GLUSTER @arguments
                    if ($LASTEXITCODE -ne 0) { throw "gluster $arguments failed with $LASTEXITCODE" }
                }
            }

            AfterAll {
                $null = & $Tb.GLUSTER volume delete $Scratch
                Remove-Item -LiteralPath $ScratchBrick -Recurse -Force
            }

            It 'is reported as GlusterVolumeNotStarted at once' {
                $parameters = @{ Volume = $Scratch } + $Direct
                $parameters.TimeoutSec = 20
                $clock = [Diagnostics.Stopwatch]::StartNew()
                Assert-MountError -Parameters $parameters -Id GlusterVolumeNotStarted -Category ResourceUnavailable `
                    -Target "$($Tb.SERVER):$Scratch" -Message "*volume '$Scratch' on $($Tb.SERVER) is not started*gluster volume start $Scratch*"
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
            }
        }
    }
}

Describe 'Mount-GlusterAux through the mountbroker as an unprivileged user' -Tag 'Gluster' -Skip:$SkipGluster {
    BeforeAll {
        # The geo-replication user cannot read root's pwsh and module folders: give it hard-linked copies (same file
        # system, so this costs nothing) in a directory it can enter, and a home of its own.
        $script:MbDir = Join-Path $Tb.MOUNT_DIR "mb-$PID"
        $null = New-Item -ItemType Directory -Path $MbDir
        & chmod 0755 $MbDir
        & cp -al $PSHOME (Join-Path $MbDir 'pwsh') 2>$null
        if ($LASTEXITCODE -ne 0) { & cp -a $PSHOME (Join-Path $MbDir 'pwsh') }
        Copy-Item -LiteralPath (Split-Path $ManifestPath) -Destination (Join-Path $MbDir 'GeoSync') -Recurse
        $script:MbHome = Join-Path $MbDir 'home'
        $null = New-Item -ItemType Directory -Path $MbHome
        & chown "$($Tb.MOUNTBROKER_USER):$($Tb.MOUNTBROKER_GROUP)" $MbHome
        $script:MbModule = Join-Path $MbDir 'GeoSync/GeoSync.psd1'
        $script:MbLog = Join-Path $Tb.MOUNTBROKER_LOG_DIR "aux-mount-tests-$PID.log"

        # argv of a pwsh that runs as the geo-replication user inside the testbed's network namespace, as a non-root
        # gsyncd runs: glusterd is reached at localhost there.
        $script:AsGeoUser = @('nsenter', "--net=$($Tb.NETNS_PATH)",
            'setpriv', "--reuid=$($Tb.MOUNTBROKER_USER)", "--regid=$($Tb.MOUNTBROKER_GROUP)", '--init-groups',
            'env', "HOME=$MbHome", 'TMPDIR=/tmp', 'DOTNET_CLI_TELEMETRY_OPTOUT=1', 'dotnet', (Join-Path $MbDir 'pwsh/pwsh.dll'),
            '-NoProfile', '-NonInteractive', '-Command')

        function Invoke-AsGeoUser([string] $Script) {
            Push-Location /
            try { & $AsGeoUser[0] @($AsGeoUser | Select-Object -Skip 1) $Script } finally { Pop-Location }
        }
    }

    AfterAll {
        if ($MbDir -and (Test-Path -LiteralPath $MbDir)) {
            # Hard links: removing them leaves the originals alone. No mount lives here.
            & rm -rf --one-file-system $MbDir
        }
    }

    It 'mounts svol for the user, who may write through it, and has glusterd unmount it' {
        $script = @"
Import-Module '$MbModule'
`$m = Mount-GlusterAux -MountBroker -Volume svol -LogFile '$MbLog' -ErrorAction Stop
`$link = Get-Item -LiteralPath `$m.MountPoint
`$real = [IO.Path]::GetFullPath([IO.Path]::Combine([IO.Path]::GetDirectoryName(`$m.MountPoint), `$link.LinkTarget))
`$probe = Join-Path `$m.MountPoint 'mb-probe-$PID'
[IO.Directory]::CreateDirectory(`$probe) | Out-Null
`$wrote = [IO.Directory]::Exists(`$probe)
[IO.Directory]::Delete(`$probe)
[pscustomobject]@{
    User = [Environment]::UserName; MountPoint = `$m.MountPoint; Real = `$real; Mode = "`$(`$m.Mode)"; Server = `$m.Server
    ProcessId = `$m.ProcessId; Wrote = `$wrote; Mounted = @((Get-Content /proc/mounts) -match [regex]::Escape(" `$real ")).Count
} | ConvertTo-Json -Compress
`$m | Dismount-GlusterAux -ErrorAction Stop
"@
        $output = Invoke-AsGeoUser $script
        $LASTEXITCODE | Should -Be 0 -Because "$output"
        $result = $output | Select-Object -Last 1 | ConvertFrom-Json
        $result.User | Should -Be $Tb.MOUNTBROKER_USER
        $result.Mode | Should -Be 'MountBroker'
        $result.Server | Should -Be 'localhost'
        $result.MountPoint | Should -BeLike "$($Tb.MOUNTBROKER_ROOT)/mb_hive/*"
        $result.Real | Should -BeLike "$($Tb.MOUNTBROKER_ROOT)/user*/mtpt-$($Tb.MOUNTBROKER_USER)-*"
        $result.ProcessId | Should -BeGreaterThan 0
        $result.Wrote | Should -BeTrue
        $result.Mounted | Should -Be 1

        Get-MountedPoint | Should -Not -Contain $result.Real
        $result.MountPoint | Should -Not -Exist
    }

    It "quotes glusterd's refusal of a volume the user may not mount" {
        $script = "Import-Module '$MbModule'; " +
            "Mount-GlusterAux -MountBroker -Volume mvol -ErrorAction SilentlyContinue -ErrorVariable e | Out-Null; " +
            "`$e[0].FullyQualifiedErrorId; `$e[0].TargetObject; `$e[0].Exception.Message"
        $output = @(Invoke-AsGeoUser $script)
        $output[0] | Should -Be "MountBrokerRefused,$MountId"
        $output[1] | Should -Be 'localhost:mvol'
        $output[2] | Should -BeLike "*glusterd answered: 1 : failed with this errno (Operation not permitted)*"
    }

    It 'is unmounted by glusterd when its unprivileged owner is killed with SIGKILL' {
        $script = "Import-Module '$MbModule'; `$m = Mount-GlusterAux -MountBroker -Volume svol -LogFile '$MbLog' -ErrorAction Stop; " +
            "`$real = [IO.Path]::GetFullPath([IO.Path]::Combine([IO.Path]::GetDirectoryName(`$m.MountPoint), (Get-Item -LiteralPath `$m.MountPoint).LinkTarget)); " +
            "[Console]::Out.WriteLine(`$m.MountPoint + '|' + `$real); [Console]::Out.Flush(); Start-Sleep -Seconds 120"
        $start = [Diagnostics.ProcessStartInfo]::new($AsGeoUser[0])
        foreach ($argument in @($AsGeoUser | Select-Object -Skip 1) + $script) { $start.ArgumentList.Add($argument) }
        $start.RedirectStandardOutput = $true
        $start.WorkingDirectory = '/'
        # nsenter, setpriv and env exec one another: the pid is the user's pwsh.
        $owner = [Diagnostics.Process]::Start($start)
        try {
            $line = $owner.StandardOutput.ReadLineAsync()
            $line.Wait([TimeSpan]::FromSeconds(60)) | Should -BeTrue -Because 'the owner must report its mount'
            $cookie, $real = $line.Result -split '\|'
            Get-MountedPoint | Should -Contain $real

            $owner.Kill()
            $owner.WaitForExit()
            Wait-Condition { (Get-MountedPoint) -notcontains $real -and -not (Test-Path -LiteralPath $cookie) } |
                Should -BeTrue -Because "the guard must have glusterd unmount $cookie"
        }
        finally {
            if (-not $owner.HasExited) { $owner.Kill() }
            $owner.Dispose()
        }
    }
}
