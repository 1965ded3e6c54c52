BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    . (Join-Path $PSScriptRoot 'XattrTestTools.ps1')
    $script:CommandId = 'GeoSync.PowerShell.Commands.SetGlusterXtimeCommand'
}

Describe 'Set-GlusterXtime' {
    BeforeEach {
        $script:VolumeId = [guid]::NewGuid()
        $script:Attribute = "trusted.glusterfs.$VolumeId.xtime"
        $script:Root = Join-Path $TestDrive ([guid]::NewGuid())
        $null = New-Item -ItemType Directory -Path $Root
        $script:File = Join-Path $Root 'a.txt'
        $script:Other = Join-Path $Root 'b[1].txt'
        Set-Content -LiteralPath $File -Value 'a'
        Set-Content -LiteralPath $Other -Value 'b'
    }

    Context 'values' {
        It 'writes -Seconds and -Microseconds as 8 big-endian bytes and emits nothing' {
            $output = Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Seconds 1700000000 -Microseconds 123

            $output | Should -BeNullOrEmpty
            Get-TestXattr $File $Attribute | Should -Be '6553F1000000007B'
        }

        It 'defaults -Microseconds to zero' {
            Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Seconds 7
            Get-TestXattr $File $Attribute | Should -Be (ConvertTo-XtimeHex 7 0)
        }

        It 'writes a decimal -Xtime exactly, though PowerShell parses the literal as a double' {
            Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Xtime 1700000000.000123
            Get-TestXattr $File $Attribute | Should -Be '6553F1000000007B'
        }

        It 'writes -Xtime exactly from a <Kind>' -TestCases @(
            @{ Kind = 'double variable'; Value = 1700000000.000123 }
            @{ Kind = 'decimal'; Value = 1700000000.000123d }
            @{ Kind = 'string'; Value = '1700000000.000123' }
        ) {
            Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Xtime $Value
            Get-TestXattr $File $Attribute | Should -Be '6553F1000000007B'
        }

        It 'writes the largest xtime' {
            Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Xtime 4294967295.999999
            Get-TestXattr $File $Attribute | Should -Be 'FFFFFFFF000F423F'
        }

        It 'refuses -Xtime <Value>' -TestCases @(
            @{ Value = '1.0000001' }, @{ Value = '-1' }, @{ Value = '4294967296' }
        ) {
            { Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Xtime ([decimal]::Parse($Value, [cultureinfo]::InvariantCulture)) } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$CommandId"
            Get-TestXattr $File $Attribute | Should -BeNullOrEmpty
        }

        It 'refuses -Microseconds beyond 999999' {
            { Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Seconds 1 -Microseconds 1000000 } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$CommandId"
        }

        It 'stamps the current time with -Now' {
            $before = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
            $result = Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Now -PassThru
            $after = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()

            $result.Seconds | Should -BeGreaterOrEqual $before
            $result.Seconds | Should -BeLessOrEqual $after
            Get-TestXattr $File $Attribute | Should -Be (ConvertTo-XtimeHex $result.Seconds $result.Microseconds)
        }

        It 'emits the new value with -PassThru' {
            $result = Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Seconds 5 -Microseconds 6 -PassThru

            $result | Should -BeOfType GeoSync.PowerShell.GlusterXtime
            $result.Path | Should -Be $File
            $result.VolumeId | Should -Be $VolumeId
            $result.Xtime | Should -Be 5.000006d
        }

        It 'round-trips through Get-GlusterXtime' {
            Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Seconds 123456789 -Microseconds 987654
            $read = Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId
            $read.Seconds | Should -Be 123456789
            $read.Microseconds | Should -Be 987654
        }

        It "writes a symlink's own xtime and leaves its target alone" {
            $link = Join-Path $Root 'link'
            $null = New-Item -ItemType SymbolicLink -Path $link -Target $File

            Set-GlusterXtime -LiteralPath $link -VolumeId $VolumeId -Seconds 9

            Get-TestXattr $link $Attribute | Should -Be (ConvertTo-XtimeHex 9 0)
            Get-TestXattr $File $Attribute | Should -BeNullOrEmpty
            (Get-GlusterXtime -LiteralPath $link -VolumeId $VolumeId).Seconds | Should -Be 9
        }

        It 'narrates each write with its target on the verbose stream' {
            $verbose = Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Seconds 1 -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            $verbose.Message -join "`n" | Should -BeLike "*Setting*'$File'*$Attribute*"
        }
    }

    Context 'ShouldProcess' {
        It 'declares SupportsShouldProcess with ConfirmImpact Medium' {
            $attribute = (Get-Command Set-GlusterXtime).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
            $attribute.SupportsShouldProcess | Should -BeTrue
            $attribute.ConfirmImpact | Should -Be 'Medium'
        }

        It 'leaves a missing attribute missing with -WhatIf' {
            Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Seconds 1 -WhatIf
            Get-TestXattr $File $Attribute | Should -BeNullOrEmpty
        }

        It 'leaves an existing value untouched with -WhatIf, even with -PassThru' {
            Set-TestXattr $File $Attribute (ConvertTo-XtimeHex 77 7)
            $output = Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Now -PassThru -WhatIf
            $output | Should -BeNullOrEmpty
            Get-TestXattr $File $Attribute | Should -Be (ConvertTo-XtimeHex 77 7)
        }
    }

    Context 'paths' {
        It 'expands wildcards in -Path' {
            Set-GlusterXtime -Path (Join-Path $Root '*') -VolumeId $VolumeId -Seconds 3
            Get-TestXattr $File $Attribute | Should -Be (ConvertTo-XtimeHex 3 0)
            Get-TestXattr $Other $Attribute | Should -Be (ConvertTo-XtimeHex 3 0)
        }

        It 'reports a missing -LiteralPath as PathNotFound and writes the rest' {
            $missing = Join-Path $Root 'missing'
            Set-GlusterXtime -LiteralPath $missing, $File -VolumeId $VolumeId -Seconds 4 -ErrorAction SilentlyContinue -ErrorVariable errors

            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be "PathNotFound,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errors[0].TargetObject | Should -Be $missing
            Get-TestXattr $File $Attribute | Should -Be (ConvertTo-XtimeHex 4 0)
        }

        It 'reports XattrNotSupported for the System namespace on a local file system' {
            Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Seconds 1 -Namespace System -ErrorAction SilentlyContinue -ErrorVariable errors

            $errors[0].FullyQualifiedErrorId | Should -Be "XattrNotSupported,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $errors[0].TargetObject | Should -Be $File
        }

        It 'reports XattrPermissionDenied on an immutable file' {
            & chattr +i $File
            if ($LASTEXITCODE -ne 0) { throw 'chattr +i failed: the test needs an ext4-like file system and root' }
            try {
                Set-GlusterXtime -LiteralPath $File -VolumeId $VolumeId -Seconds 1 -ErrorAction SilentlyContinue -ErrorVariable errors
            }
            finally {
                & chattr -i $File
            }

            $errors[0].FullyQualifiedErrorId | Should -Be "XattrPermissionDenied,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            $errors[0].TargetObject | Should -Be $File
        }
    }

    Context 'pipeline' {
        It 'copies an xtime: Get-GlusterXtime output binds VolumeId, Seconds and Microseconds by property name' {
            Set-TestXattr $File $Attribute (ConvertTo-XtimeHex 1700000000 123)

            $result = Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId | Set-GlusterXtime -LiteralPath $Other -PassThru

            $result.Path | Should -Be $Other
            Get-TestXattr $Other $Attribute | Should -Be '6553F1000000007B'
        }

        It 'takes the path from Get-GlusterXtime output when none is given' {
            Set-TestXattr $File $Attribute (ConvertTo-XtimeHex 10 0)

            Get-GlusterXtime -LiteralPath $File -VolumeId $VolumeId | Set-GlusterXtime -Xtime 20.5

            Get-TestXattr $File $Attribute | Should -Be (ConvertTo-XtimeHex 20 500000)
        }

        It 'binds Path, VolumeId, Seconds and Microseconds of any object by property name' {
            [pscustomobject]@{ Path = $File; VolumeId = $VolumeId; Seconds = 30; Microseconds = 40 } | Set-GlusterXtime
            Get-TestXattr $File $Attribute | Should -Be (ConvertTo-XtimeHex 30 40)
        }

        It 'binds path strings by value' {
            $File | Set-GlusterXtime -VolumeId $VolumeId -Seconds 50
            Get-TestXattr $File $Attribute | Should -Be (ConvertTo-XtimeHex 50 0)
        }

        It 'binds Get-ChildItem output to -LiteralPath through PSPath' {
            Get-ChildItem -LiteralPath $Root | Set-GlusterXtime -VolumeId $VolumeId -Seconds 60
            Get-TestXattr $Other $Attribute | Should -Be (ConvertTo-XtimeHex 60 0)
            Get-TestXattr $File $Attribute | Should -Be (ConvertTo-XtimeHex 60 0)
        }
    }
}
