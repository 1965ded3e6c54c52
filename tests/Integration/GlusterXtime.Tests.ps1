# Live tests of the xtime and volume-mark cmdlets on the GlusterFS testbed (tests/testbed/testbed.sh up): what the
# marker stamps through a normal mount, read back through GeoSync's client-pid -1 aux mounts.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    $script:SkipGluster = Test-SkipGlusterTest
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Testbed.ps1')
    $script:Tb = Import-GlusterTestbed
    Import-Module (Resolve-Path (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')).Path -Force
    $script:Log = Join-Path $Tb.LOG_DIR "xtime-tests-$PID.log"
    $script:Direct = @{ Server = $Tb.SERVER; NetworkNamespace = $Tb.NETNS; LogFile = $Log; TimeoutSec = 30 }
    $script:NormalMounts = @()

    function Mount-Normal([string] $Volume) {
        $point = Mount-TestbedVolume -Testbed $Tb -Volume $Volume -Name "xtime-normal-$Volume-$PID"
        $script:NormalMounts += $point
        $point
    }

    # Waits past the marker's microsecond clock so that a later write gets a strictly newer xtime.
    function Step-Clock { Start-Sleep -Milliseconds 20 }
}

AfterAll {
    foreach ($point in $NormalMounts) { Dismount-TestbedVolume -MountPoint $point }
    Get-Module GeoSync | Remove-Module
}

Describe 'xtime on a live GlusterFS volume' -Tag 'Gluster' -Skip:$SkipGluster {
    BeforeAll {
        $script:MvolId = [guid] $Tb.MVOL_ID
        $script:Normal = Mount-Normal mvol
        $script:Aux = Mount-GlusterAux -Volume mvol @Direct
        # A tree of this test only: other tests write to the shared volume too.
        $script:Top = "xtime-$([guid]::NewGuid().ToString('N'))"
        foreach ($dir in "$Top/a/b", "$Top/quiet") { $null = New-Item -ItemType Directory -Path (Join-Path $Normal $dir) -Force }
        Set-Content -LiteralPath (Join-Path $Normal "$Top/quiet/untouched") -Value 'old'
        Step-Clock
        Set-Content -LiteralPath (Join-Path $Normal "$Top/a/b/file") -Value 'first'
    }

    AfterAll {
        Remove-Item -LiteralPath (Join-Path $Normal $Top) -Recurse -Force -ErrorAction SilentlyContinue
        $Aux | Dismount-GlusterAux
    }

    It 'is stamped by a normal write on the file and on every ancestor up to the root' {
        $paths = "$Top/a/b/file", "$Top/a/b", "$Top/a", $Top, '.' | ForEach-Object { Join-Path $Aux.MountPoint $_ }
        $xtimes = Get-GlusterXtime -LiteralPath $paths -VolumeId $MvolId
        $xtimes | Should -HaveCount 5
        $file = $xtimes[0]
        $file.VolumeId | Should -Be $MvolId
        ([DateTimeOffset]::UtcNow - $file.Time).TotalMinutes | Should -BeLessThan 5
        # A directory's xtime is never older than anything below it.
        foreach ($ancestor in $xtimes[1..4]) { $ancestor.Xtime | Should -BeGreaterOrEqual $file.Xtime }
    }

    It 'grows with a later write, while an untouched subtree keeps its older xtime' {
        $fileBefore = Get-GlusterXtime -LiteralPath (Join-Path $Aux.MountPoint "$Top/a/b/file") -VolumeId $MvolId
        $quietBefore = Get-GlusterXtime -LiteralPath (Join-Path $Aux.MountPoint "$Top/quiet"), (Join-Path $Aux.MountPoint "$Top/quiet/untouched") -VolumeId $MvolId
        Step-Clock
        Add-Content -LiteralPath (Join-Path $Normal "$Top/a/b/file") -Value 'second'

        $after = Get-GlusterXtime -LiteralPath (Join-Path $Aux.MountPoint "$Top/a/b/file"), (Join-Path $Aux.MountPoint $Top) -VolumeId $MvolId
        $after[0].Xtime | Should -BeGreaterThan $fileBefore.Xtime
        $after[1].Xtime | Should -BeGreaterOrEqual $after[0].Xtime
        $quietAfter = Get-GlusterXtime -LiteralPath (Join-Path $Aux.MountPoint "$Top/quiet"), (Join-Path $Aux.MountPoint "$Top/quiet/untouched") -VolumeId $MvolId
        $quietAfter[0].Xtime | Should -Be $quietBefore[0].Xtime
        $quietAfter[1].Xtime | Should -Be $quietBefore[1].Xtime
        $quietAfter[0].Xtime | Should -BeLessThan $after[1].Xtime
    }

    It 'is read by Get-GlusterXtime the same way as from the brick itself' {
        $onBrick = Get-GlusterXtime -LiteralPath (Join-Path $Tb.MVOL_BRICK "$Top/a/b/file") -VolumeId $MvolId
        $throughAux = Get-GlusterXtime -LiteralPath (Join-Path $Aux.MountPoint "$Top/a/b/file") -VolumeId $MvolId
        $throughAux.Xtime | Should -Be $onBrick.Xtime
    }
}

Describe 'volume marks on a live GlusterFS volume' -Tag 'Gluster' -Skip:$SkipGluster {
    It "answers mvol's native mark on its aux mount, with the uuid 'gluster volume info' shows" {
        $info = & $Tb.GLUSTER volume info mvol
        $LASTEXITCODE | Should -Be 0
        $idLine = @($info) | Where-Object { $_ -match '^\s*Volume ID:' } | Select-Object -First 1
        $volumeId = [guid] ($idLine -replace '^\s*Volume ID:\s*', '').Trim()
        $aux = Mount-GlusterAux -Volume mvol @Direct
        try {
            $mark = Get-GlusterVolumeMark -LiteralPath $aux.MountPoint
            $mark.VolumeId | Should -Be $volumeId
            $mark.IsForeign | Should -BeFalse
            $mark.IsCorrupt | Should -BeFalse
            $mark.Version | Should -Be '1.0'
            $mark.MarkTime | Should -BeLessOrEqual ([DateTimeOffset]::UtcNow)
        }
        finally {
            $aux | Dismount-GlusterAux
        }
    }
}

Describe 'Set-GlusterXtime on a live slave volume' -Tag 'Gluster' -Skip:$SkipGluster {
    It 'writes an xtime on svol through its aux mount and reads it back' {
        $aux = Mount-GlusterAux -Volume svol @Direct
        $name = "set-xtime-$([guid]::NewGuid().ToString('N'))"
        $path = Join-Path $aux.MountPoint $name
        $masterId = [guid]::NewGuid()
        try {
            Set-Content -LiteralPath $path -Value 'slave copy'
            $written = Set-GlusterXtime -LiteralPath $path -VolumeId $masterId -Seconds 1700000000 -Microseconds 123456 -PassThru
            $written.Seconds | Should -Be 1700000000
            $read = Get-GlusterXtime -LiteralPath $path -VolumeId $masterId
            $read.Seconds | Should -Be 1700000000
            $read.Microseconds | Should -Be 123456
            # It is stored on the brick, not only cached by the client.
            (Get-GlusterXtime -LiteralPath (Join-Path $Tb.SVOL_BRICK $name) -VolumeId $masterId).Xtime | Should -Be $read.Xtime
        }
        finally {
            Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
            $aux | Dismount-GlusterAux
        }
    }
}

Describe 'xtime on a distributed volume' -Tag 'Gluster' -Skip:$SkipGluster {
    # GlusterFS 3.3 answered a directory's xtime on a distributed volume as the newest over its subvolumes (docs/protocol.md, "Extended attributes: names and layouts").
    # GlusterFS 10.3 does not: through a client-pid -1 mount each read is answered by one brick, not always the newest
    # (docs/gluster-notes.md). This test pins what 10.3 does, so a change in either direction is noticed.
    It "answers a directory's xtime with one of its bricks' xtimes, not always the newest" {
        $dvolId = [guid] $Tb.DVOL_ID
        $bricks = $Tb.DVOL_BRICKS -split ' '
        $normal = Mount-Normal dvol
        $aux = Mount-GlusterAux -Volume dvol @Direct
        $dir = "dist-$([guid]::NewGuid().ToString('N'))"
        try {
            $null = New-Item -ItemType Directory -Path (Join-Path $normal $dir)
            # Enough names that DHT hashes files onto both bricks, with a pause so the bricks' stamps differ.
            foreach ($i in 1..12) { Set-Content -LiteralPath (Join-Path $normal "$dir/f$i") -Value $i; Step-Clock }
            foreach ($brick in $bricks) { @(Get-ChildItem -LiteralPath (Join-Path $brick $dir)).Count | Should -BeGreaterThan 0 }

            $perBrick = @(Get-GlusterXtime -LiteralPath ($bricks | ForEach-Object { Join-Path $_ $dir }) -VolumeId $dvolId).Xtime
            $perBrick | Should -HaveCount 2
            $perBrick[0] | Should -Not -Be $perBrick[1]
            $answers = foreach ($read in 1..16) { (Get-GlusterXtime -LiteralPath (Join-Path $aux.MountPoint $dir) -VolumeId $dvolId).Xtime }
            foreach ($answer in $answers) { $answer | Should -BeIn $perBrick }
            Write-Host "dvol directory xtime per brick: $($perBrick -join ', '); through the aux mount: $(($answers | Sort-Object -Unique) -join ', ')"
        }
        finally {
            Remove-Item -LiteralPath (Join-Path $normal $dir) -Recurse -Force -ErrorAction SilentlyContinue
            $aux | Dismount-GlusterAux
        }
    }
}
