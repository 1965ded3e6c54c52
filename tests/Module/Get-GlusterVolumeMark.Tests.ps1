BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    . (Join-Path $PSScriptRoot 'XattrTestTools.ps1')
    $script:CommandId = 'GeoSync.PowerShell.Commands.GetGlusterVolumeMarkCommand'
    $script:NativeName = 'trusted.glusterfs.volume-mark'
}

Describe 'Get-GlusterVolumeMark' {
    BeforeEach {
        $script:VolumeId = [guid]::NewGuid()
        $script:Root = Join-Path $TestDrive ([guid]::NewGuid())
        $null = New-Item -ItemType Directory -Path $Root
    }

    Context 'native mark' {
        It 'decodes the 27-byte mark' {
            Set-TestXattr $Root $NativeName (ConvertTo-VolumeMarkHex -VolumeId $VolumeId -Seconds 1700000000 -Microseconds 250)

            $mark = Get-GlusterVolumeMark -LiteralPath $Root

            $mark | Should -BeOfType GeoSync.PowerShell.GlusterVolumeMark
            $mark.Path | Should -Be $Root
            $mark.VolumeId | Should -Be $VolumeId
            $mark.Version | Should -Be ([version]'1.0')
            $mark.Retval | Should -Be 0
            $mark.IsCorrupt | Should -BeFalse
            $mark.Mark | Should -Be 1700000000.000250d
            $mark.MarkTime | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(1700000000).AddTicks(2500))
            $mark.Expiry | Should -BeNullOrEmpty
            $mark.IsForeign | Should -BeFalse
        }

        It 'flags a non-zero retval as corrupt' {
            Set-TestXattr $Root $NativeName (ConvertTo-VolumeMarkHex -VolumeId $VolumeId -Retval 1 -Seconds 1 -Microseconds 0)

            $mark = Get-GlusterVolumeMark -Path $Root
            $mark.Retval | Should -Be 1
            $mark.IsCorrupt | Should -BeTrue
        }

        It 'writes VolumeMarkNotFound for a path without a mark and goes on' {
            $marked = Join-Path $Root 'marked'
            $null = New-Item -ItemType Directory -Path $marked
            Set-TestXattr $marked $NativeName (ConvertTo-VolumeMarkHex -VolumeId $VolumeId -Seconds 1 -Microseconds 0)

            $marks = Get-GlusterVolumeMark -LiteralPath $Root, $marked -ErrorAction SilentlyContinue -ErrorVariable errors

            $marks.Path | Should -Be $marked
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be "VolumeMarkNotFound,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errors[0].TargetObject | Should -Be $Root
        }

        It 'reports InvalidXattrValue for a mark of the wrong length' {
            Set-TestXattr $Root $NativeName '0100'
            Get-GlusterVolumeMark -LiteralPath $Root -ErrorAction SilentlyContinue -ErrorVariable errors

            $errors[0].FullyQualifiedErrorId | Should -Be "InvalidXattrValue,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $errors[0].TargetObject | Should -Be $Root
        }

        It 'reports a missing path as PathNotFound' {
            $missing = Join-Path $Root 'missing'
            Get-GlusterVolumeMark -LiteralPath $missing -ErrorAction SilentlyContinue -ErrorVariable errors

            $errors[0].FullyQualifiedErrorId | Should -Be "PathNotFound,$CommandId"
            $errors[0].TargetObject | Should -Be $missing
        }

        It 'reports XattrNotSupported for the System namespace on a local file system' {
            Get-GlusterVolumeMark -LiteralPath $Root -Namespace System -ErrorAction SilentlyContinue -ErrorVariable errors
            $errors[0].FullyQualifiedErrorId | Should -Be "XattrNotSupported,$CommandId"
        }

        It 'expands wildcards and binds strings and Get-Item output from the pipeline' {
            foreach ($name in 'v1', 'v2') {
                $path = Join-Path $Root $name
                $null = New-Item -ItemType Directory -Path $path
                Set-TestXattr $path $NativeName (ConvertTo-VolumeMarkHex -VolumeId $VolumeId -Seconds 1 -Microseconds 0)
            }

            (Get-GlusterVolumeMark -Path (Join-Path $Root 'v*')).Path | Should -Be @((Join-Path $Root 'v1'), (Join-Path $Root 'v2'))
            ((Join-Path $Root 'v1') | Get-GlusterVolumeMark).Path | Should -Be (Join-Path $Root 'v1')
            (Get-Item -LiteralPath (Join-Path $Root 'v2') | Get-GlusterVolumeMark).Path | Should -Be (Join-Path $Root 'v2')
        }

        It 'pipes into Get-GlusterXtime, which reads the xtime of the volume the mark names' {
            Set-TestXattr $Root $NativeName (ConvertTo-VolumeMarkHex -VolumeId $VolumeId -Seconds 1 -Microseconds 0)
            Set-TestXattr $Root "trusted.glusterfs.$VolumeId.xtime" (ConvertTo-XtimeHex 1700000001 2)
            Set-TestXattr $Root "trusted.glusterfs.$([guid]::NewGuid()).xtime" (ConvertTo-XtimeHex 5 5)

            $xtime = Get-GlusterVolumeMark -LiteralPath $Root | Get-GlusterXtime

            $xtime.Path | Should -Be $Root
            $xtime.VolumeId | Should -Be $VolumeId
            $xtime.Xtime | Should -Be 1700000001.000002d
        }
    }

    Context 'foreign marks' {
        It 'lists every foreign mark with its expiry, and not the native mark' {
            $first = [guid]::NewGuid()
            $second = [guid]::NewGuid()
            Set-TestXattr $Root $NativeName (ConvertTo-VolumeMarkHex -VolumeId $VolumeId -Seconds 1 -Microseconds 0)
            Set-TestXattr $Root "$NativeName.$first" (ConvertTo-VolumeMarkHex -VolumeId $first -Seconds 100 -Microseconds 1 -Expiry 1700000060)
            Set-TestXattr $Root "$NativeName.$second" (ConvertTo-VolumeMarkHex -VolumeId $second -Retval 2 -Seconds 200 -Microseconds 2 -Expiry 1)

            $marks = @(Get-GlusterVolumeMark -LiteralPath $Root -Foreign)

            $marks | Should -HaveCount 2
            $marks.IsForeign | Should -Be @($true, $true)
            $byId = @{}
            $marks | ForEach-Object { $byId[$_.VolumeId] = $_ }
            $byId[$first].Expiry | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(1700000060))
            $byId[$first].Mark | Should -Be 100.000001d
            $byId[$first].IsCorrupt | Should -BeFalse
            $byId[$second].Expiry | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(1))
            $byId[$second].IsCorrupt | Should -BeTrue
        }

        It 'emits nothing and no error when there are no foreign marks' {
            Set-TestXattr $Root $NativeName (ConvertTo-VolumeMarkHex -VolumeId $VolumeId -Seconds 1 -Microseconds 0)
            $marks = Get-GlusterVolumeMark -LiteralPath $Root -Foreign -ErrorVariable errors
            $marks | Should -BeNullOrEmpty
            $errors | Should -BeNullOrEmpty
        }

        It 'leaves expired foreign marks in place' {
            $foreign = [guid]::NewGuid()
            $name = "$NativeName.$foreign"
            $hex = ConvertTo-VolumeMarkHex -VolumeId $foreign -Seconds 1 -Microseconds 0 -Expiry 1
            Set-TestXattr $Root $name $hex

            $null = Get-GlusterVolumeMark -LiteralPath $Root -Foreign
            Get-TestXattr $Root $name | Should -Be $hex
        }
    }
}
