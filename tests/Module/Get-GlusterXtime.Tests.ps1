BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    . (Join-Path $PSScriptRoot 'XattrTestTools.ps1')
    $script:CommandId = 'GeoSync.PowerShell.Commands.GetGlusterXtimeCommand'
}

Describe 'Get-GlusterXtime' {
    BeforeEach {
        $script:VolumeId = [guid]::NewGuid()
        $script:Attribute = "trusted.glusterfs.$VolumeId.xtime"
        $script:Root = Join-Path $TestDrive ([guid]::NewGuid())
        $null = New-Item -ItemType Directory -Path $Root
        $script:File = Join-Path $Root 'a.txt'
        Set-Content -LiteralPath $File -Value 'a'
    }

    Context 'output' {
        It 'decodes the big-endian seconds and microseconds another tool wrote' {
            Set-TestXattr $File $Attribute (ConvertTo-XtimeHex 1700000000 123)

            $result = Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId

            $result | Should -BeOfType GeoSync.PowerShell.GlusterXtime
            $result.Path | Should -Be $File
            $result.VolumeId | Should -Be $VolumeId
            $result.Seconds | Should -Be 1700000000
            $result.Microseconds | Should -Be 123
            $result.Xtime | Should -BeOfType [decimal]
            $result.Xtime | Should -Be 1700000000.000123d
            $result.Xtime.ToString([cultureinfo]::InvariantCulture) | Should -Be '1700000000.000123'
            $result.Time | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(1700000000).AddTicks(1230))
            $result.Time.Offset | Should -Be ([TimeSpan]::Zero)
        }

        It 'reads a directory' {
            Set-TestXattr $Root $Attribute (ConvertTo-XtimeHex 42 0)
            (Get-GlusterXtime -LiteralPath $Root -VolumeId $VolumeId).Seconds | Should -Be 42
        }

        It 'reads the xtime of the requested volume only' {
            Set-TestXattr $File "trusted.glusterfs.$([guid]::NewGuid()).xtime" (ConvertTo-XtimeHex 5 5)
            Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It "reads a symlink's own xtime, not its target's" {
            $link = Join-Path $Root 'link'
            $null = New-Item -ItemType SymbolicLink -Path $link -Target $File
            Set-TestXattr $File $Attribute (ConvertTo-XtimeHex 100 1)
            Set-TestXattr $link $Attribute (ConvertTo-XtimeHex 200 2)

            (Get-GlusterXtime -LiteralPath $link -VolumeId $VolumeId).Seconds | Should -Be 200
            (Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId).Seconds | Should -Be 100
        }

        It 'sorts by Xtime in (seconds, microseconds) order' {
            $values = @{ 'old.txt' = @(999999999, 999999); 'mid.txt' = @(1000000000, 0); 'new.txt' = @(1000000000, 7) }
            foreach ($name in $values.Keys) {
                $path = Join-Path $Root $name
                Set-Content -LiteralPath $path -Value $name
                Set-TestXattr $path $Attribute (ConvertTo-XtimeHex $values[$name][0] $values[$name][1])
            }

            $sorted = Get-GlusterXtime -Path (Join-Path $Root '*.txt') -VolumeId $VolumeId -ErrorAction SilentlyContinue |
                Sort-Object -Property Xtime
            $sorted | ForEach-Object { Split-Path -Leaf $_.Path } | Should -Be @('old.txt', 'mid.txt', 'new.txt')
        }

        It 'narrates each read with its target on the verbose stream' {
            Set-TestXattr $File $Attribute (ConvertTo-XtimeHex 1 1)
            $verbose = Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            $verbose.Message | Should -BeLike "*'$File'*$Attribute*"
        }
    }

    Context 'paths' {
        BeforeEach {
            foreach ($name in 'b.txt', 'c.log', 'd[1].txt') {
                $path = Join-Path $Root $name
                Set-Content -LiteralPath $path -Value $name
                Set-TestXattr $path $Attribute (ConvertTo-XtimeHex 10 0)
            }
            Set-TestXattr $File $Attribute (ConvertTo-XtimeHex 10 0)
        }

        It 'expands wildcards in -Path' {
            $result = Get-GlusterXtime -Path (Join-Path $Root '?.txt') -VolumeId $VolumeId
            $result.Path | Sort-Object | Should -Be @((Join-Path $Root 'a.txt'), (Join-Path $Root 'b.txt'))
        }

        It 'takes -LiteralPath verbatim, wildcard characters included' {
            $result = Get-GlusterXtime -LiteralPath (Join-Path $Root 'd[1].txt') -VolumeId $VolumeId
            $result.Path | Should -Be (Join-Path $Root 'd[1].txt')
        }

        It 'accepts the LP and PSPath aliases' {
            (Get-GlusterXtime -LP $File -VolumeId $VolumeId).Path | Should -Be $File
            (Get-GlusterXtime -PSPath $File -VolumeId $VolumeId).Path | Should -Be $File
        }

        It 'resolves relative and PSDrive paths through the provider' {
            Push-Location -LiteralPath $Root
            try {
                (Get-GlusterXtime -Path 'a.txt' -VolumeId $VolumeId).Path | Should -Be $File
            }
            finally {
                Pop-Location
            }
            $drivePath = 'TestDrive:/' + (Split-Path -Leaf $Root) + '/a.txt'
            (Get-GlusterXtime -Path $drivePath -VolumeId $VolumeId).Path | Should -Be $File
        }

        It 'reports a missing -Path as PathNotFound and goes on' {
            $missing = Join-Path $Root 'missing.txt'
            $result = Get-GlusterXtime -Path $missing, $File -VolumeId $VolumeId -ErrorAction SilentlyContinue -ErrorVariable errors

            $result.Path | Should -Be $File
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be "PathNotFound,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errors[0].TargetObject | Should -Be $missing
        }

        It 'reports a missing -LiteralPath as PathNotFound' {
            $missing = Join-Path $Root 'missing[1].txt'
            Get-GlusterXtime -LiteralPath $missing -VolumeId $VolumeId -ErrorAction SilentlyContinue -ErrorVariable errors

            $errors[0].FullyQualifiedErrorId | Should -Be "PathNotFound,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errors[0].TargetObject | Should -Be $missing
        }

        It 'refuses paths of other providers with NotFileSystemPath' {
            Get-GlusterXtime -Path 'Env:PATH' -VolumeId $VolumeId -ErrorAction SilentlyContinue -ErrorVariable errors

            $errors[0].FullyQualifiedErrorId | Should -Be "NotFileSystemPath,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $errors[0].TargetObject | Should -Be 'Env:PATH'
        }
    }

    Context 'errors' {
        It 'writes XtimeNotFound for a path without the attribute and still emits the others' {
            $other = Join-Path $Root 'other.txt'
            Set-Content -LiteralPath $other -Value 'o'
            Set-TestXattr $other $Attribute (ConvertTo-XtimeHex 3 4)

            $result = Get-GlusterXtime -LiteralPath $File, $other -VolumeId $VolumeId -ErrorAction SilentlyContinue -ErrorVariable errors

            $result.Path | Should -Be $other
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be "XtimeNotFound,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errors[0].TargetObject | Should -Be $File
            $errors[0].Exception.Message | Should -BeLike "*$VolumeId*"
        }

        It 'stops on XtimeNotFound with -ErrorAction Stop' {
            { Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -ErrorAction Stop } |
                Should -Throw -ErrorId "XtimeNotFound,$CommandId"
        }

        It 'reports XattrNotSupported for the System namespace on a local file system' {
            Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Namespace System -ErrorAction SilentlyContinue -ErrorVariable errors

            $errors[0].FullyQualifiedErrorId | Should -Be "XattrNotSupported,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $errors[0].TargetObject | Should -Be $File
        }

        It 'reports XattrNotSupported on a file system without extended attributes (procfs)' {
            Get-GlusterXtime -LiteralPath '/proc/self/status' -VolumeId $VolumeId -ErrorAction SilentlyContinue -ErrorVariable errors

            $errors[0].FullyQualifiedErrorId | Should -Be "XattrNotSupported,$CommandId"
            $errors[0].TargetObject | Should -Be '/proc/self/status'
        }

        It 'reports InvalidXattrValue for an attribute that is not 8 bytes' {
            Set-TestXattr $File $Attribute '00000001'
            Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -ErrorAction SilentlyContinue -ErrorVariable errors

            $errors[0].FullyQualifiedErrorId | Should -Be "InvalidXattrValue,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $errors[0].TargetObject | Should -Be $File
        }

        It 'reads trusted.glusterfs when -Namespace Trusted is explicit' {
            Set-TestXattr $File $Attribute (ConvertTo-XtimeHex 8 9)
            (Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Namespace Trusted).Microseconds | Should -Be 9
        }

        It 'rejects an unknown -Namespace at binding time' {
            { Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Namespace user } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,GeoSync.PowerShell.Commands.GetGlusterXtimeCommand'
        }
    }

    Context 'pipeline' {
        BeforeEach {
            $script:Second = Join-Path $Root 'b[1].txt'
            Set-Content -LiteralPath $Second -Value 'b'
            Set-TestXattr $File $Attribute (ConvertTo-XtimeHex 11 0)
            Set-TestXattr $Second $Attribute (ConvertTo-XtimeHex 22 0)
        }

        It 'binds path strings by value' {
            ($File | Get-GlusterXtime -VolumeId $VolumeId).Seconds | Should -Be 11
        }

        It 'binds Get-Item output to -LiteralPath through PSPath' {
            $result = Get-Item -LiteralPath $File, $Second | Get-GlusterXtime -VolumeId $VolumeId
            $result.Seconds | Should -Be @(11, 22)
        }

        It 'binds Path and VolumeId by property name' {
            $result = [pscustomobject]@{ Path = $File; VolumeId = $VolumeId } | Get-GlusterXtime
            $result.Seconds | Should -Be 11
        }

        It 'binds its own output back in' {
            $again = Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId | Get-GlusterXtime
            $again.Seconds | Should -Be 11
        }
    }
}
