BeforeAll {
    $script:Geosync = Join-Path $PSScriptRoot '../../out/geosync/geosync'
    $script:HostModule = Join-Path $PSScriptRoot '../../out/geosync/Modules/GeoSync/GeoSync.psd1'
    $script:ModuleVersion = (Import-PowerShellDataFile -LiteralPath $HostModule).ModuleVersion

    # Runs geosync with exactly these argv words and returns its exit code, stdout and stderr separately.
    function Invoke-Geosync {
        param(
            [string[]] $ArgumentList = @(),
            [hashtable] $Environment = @{},
            [string] $WorkingDirectory = $TestDrive,
            [int] $TimeoutSeconds = 60,
            [string] $Executable = $Geosync
        )
        $info = [System.Diagnostics.ProcessStartInfo]::new($Executable)
        foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
        foreach ($k in $Environment.Keys) { $info.Environment[$k] = $Environment[$k] }
        $info.WorkingDirectory = $WorkingDirectory
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($info)
        try {
            $process.StandardInput.Close()
            $stdout = $process.StandardOutput.ReadToEndAsync()
            $stderr = $process.StandardError.ReadToEndAsync()
            if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
                $process.Kill()
                throw "$Executable $ArgumentList did not exit within $TimeoutSeconds s"
            }
            $process.WaitForExit()
            [pscustomobject]@{
                ExitCode = $process.ExitCode
                StdOut   = $stdout.Result
                StdErr   = $stderr.Result
                Lines    = @($stdout.Result -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ })
            }
        }
        finally {
            $process.Dispose()
        }
    }
}

Describe 'geosync host' {
    It 'is published by the build with the module laid out next to it' {
        $Geosync | Should -Exist
        $HostModule | Should -Exist
    }

    Context 'version and help' {
        It '--version prints geosync and the module version' {
            $r = Invoke-Geosync '--version'
            $r.ExitCode | Should -Be 0
            $r.StdOut.TrimEnd() | Should -BeExactly "geosync $ModuleVersion"
            $r.StdErr | Should -BeNullOrEmpty
        }

        It '--help lists every way to run geosync' {
            $r = Invoke-Geosync '--help'
            $r.ExitCode | Should -Be 0
            $r.StdOut | Should -Match '(?m)^\s*geosync -c <script>'
            $r.StdOut | Should -Match '(?m)^\s*geosync \[-File\] <file\.ps1> \[<arg>\.\.\.\]'
            $r.StdOut | Should -Match '(?m)^\s*geosync slave <url> --listen \[--timeout <seconds>\] \[--sync-jobs <n>\]'
            $r.StdOut | Should -Match '(?m)^\s*geosync --version'
            $r.StdOut | Should -Match '(?m)^\s*geosync --help'
            $r.StdOut | Should -Match 'Exit codes'
        }

        It 'rejects <Case> with exit code 2 and a pointer to --help' -ForEach @(
            @{ Case = 'no arguments'; Words = @(); Message = 'no command given' }
            @{ Case = 'an unknown option'; Words = @('--frobnicate'); Message = "unknown option '--frobnicate'" }
            @{ Case = '-c without a script'; Words = @('-c'); Message = '-c needs the script text' }
            @{ Case = 'slave without --listen'; Words = @('slave', 'file:///tmp'); Message = '--listen is required' }
            @{ Case = 'slave without a URL'; Words = @('slave', '--listen'); Message = 'URL of the slave root is missing' }
            @{ Case = 'slave with two URLs'; Words = @('slave', 'file:///a', 'file:///b', '--listen'); Message = 'takes one URL' }
            @{ Case = 'a negative --timeout'; Words = @('slave', 'file:///tmp', '--listen', '--timeout', '-1'); Message = '--timeout takes a whole number of at least 0' }
            @{ Case = 'zero --sync-jobs'; Words = @('slave', 'file:///tmp', '--listen', '--sync-jobs', '0'); Message = '--sync-jobs takes a whole number of at least 1' }
        ) {
            $r = Invoke-Geosync $Words
            $r.ExitCode | Should -Be 2
            $r.StdErr | Should -Match ([regex]::Escape($Message))
            $r.StdErr | Should -Match "geosync --help"
            $r.StdOut | Should -BeNullOrEmpty
        }
    }

    Context '-c' {
        It 'writes the output as text on stdout and exits 0' {
            $r = Invoke-Geosync '-c', '1..3; "done"'
            $r.ExitCode | Should -Be 0
            $r.Lines | Should -Be @('1', '2', '3', 'done')
            $r.StdErr | Should -BeNullOrEmpty
        }

        It 'formats objects as pwsh does, without colour codes when redirected' {
            $r = Invoke-Geosync '-c', '[pscustomobject]@{ Name = "alpha"; Size = 42 }'
            $r.ExitCode | Should -Be 0
            $r.Lines[0] | Should -Match '^Name\s+Size$'
            $r.Lines[2] | Should -Match '^alpha\s+42$'
            $r.StdOut | Should -Not -Match "`e"
        }

        It 'imports the GeoSync module from its own Modules folder' {
            $r = Invoke-Geosync '-c', '$m = Get-Module GeoSync; $m.Version.ToString(); $m.ModuleBase'
            $r.ExitCode | Should -Be 0
            $r.Lines[0] | Should -BeExactly $ModuleVersion
            $r.Lines[1] | Should -BeExactly (Split-Path (Resolve-Path -LiteralPath $HostModule).ProviderPath)
        }

        It 'runs without pwsh on PATH' {
            $r = Invoke-Geosync '-c', '[bool](Get-Command pwsh -ErrorAction Ignore); (Get-Module GeoSync).Name' -Environment @{ PATH = '/usr/bin:/bin' }
            $r.ExitCode | Should -Be 0
            $r.Lines | Should -Be @('False', 'GeoSync')
        }

        It 'passes the words after the script text on, as pwsh -Command does' {
            $r = Invoke-Geosync '-c', 'Write-Output', 'left', 'right'
            $r.ExitCode | Should -Be 0
            $r.Lines | Should -Be @('left', 'right')
        }

        It 'exits with the N of exit N' {
            $r = Invoke-Geosync '-c', '"before"; exit 3; "after"'
            $r.ExitCode | Should -Be 3
            $r.Lines | Should -Be @('before')
        }

        It 'exits 1 with the error on stderr when the last statement fails' {
            $r = Invoke-Geosync '-c', 'Write-Error "disk on fire"'
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match 'disk on fire'
            $r.StdOut | Should -BeNullOrEmpty
        }

        It 'exits 0 but still reports the error when a later statement succeeds' {
            $r = Invoke-Geosync '-c', 'Write-Error "transient"; "recovered"'
            $r.ExitCode | Should -Be 0
            $r.StdErr | Should -Match 'transient'
            $r.Lines | Should -Be @('recovered')
        }

        It 'exits 1 on a terminating error and names it on stderr' {
            $r = Invoke-Geosync '-c', '"partial"; throw "cannot reach the slave"; "never"'
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match 'cannot reach the slave'
            $r.Lines | Should -Be @('partial')
        }

        It 'exits 1 and says where when the script does not parse' {
            $r = Invoke-Geosync '-c', '1 +'
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match "ParserError: line 1, column 4: .*'\+' operator"
        }

        It 'does not wait for a user when a prompt is needed' {
            $r = Invoke-Geosync '-c', 'Read-Host "name"' -TimeoutSeconds 30
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match 'NonInteractive'
        }
    }

    Context 'a broken installation' {
        BeforeEach {
            # A copy of the published host whose module folder can be damaged. The geosync files are copied (the .NET
            # host takes the base directory from the real path of geosync.dll); the libraries are only linked.
            $script:Broken = Join-Path $TestDrive "broken-$([guid]::NewGuid().ToString('N'))"
            $null = New-Item -ItemType Directory -Path $Broken
            $published = Split-Path $Geosync
            foreach ($item in Get-ChildItem -LiteralPath $published | Where-Object { $_.Name -ne 'Modules' -and $_.Name -notlike 'geosync*' }) {
                $null = New-Item -ItemType SymbolicLink -Path (Join-Path $Broken $item.Name) -Target $item.FullName
            }
            Copy-Item -Path (Join-Path $published 'geosync*') -Destination $Broken
            Copy-Item -LiteralPath (Join-Path $published 'Modules') -Destination $Broken -Recurse
            $script:BrokenManifest = Join-Path $Broken 'Modules/GeoSync/GeoSync.psd1'
        }

        It 'the copy works before it is damaged' {
            $r = Invoke-Geosync '-c', '(Get-Module GeoSync).ModuleBase' -Executable (Join-Path $Broken 'geosync')
            $r.ExitCode | Should -Be 0
            $r.Lines | Should -Be @(Split-Path $BrokenManifest)
        }

        It 'exits 1 naming the manifest when the module does not import' {
            Set-Content -LiteralPath $BrokenManifest -Value '@{ ModuleVersion = '
            $r = Invoke-Geosync '-c', '"must not run"' -Executable (Join-Path $Broken 'geosync') -TimeoutSeconds 30
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match ('could not import the GeoSync module from ' + [regex]::Escape($BrokenManifest))
            $r.StdOut | Should -BeNullOrEmpty
        }

        It 'exits 1 naming the path when the module is missing' {
            Remove-Item -LiteralPath (Join-Path $Broken 'Modules') -Recurse
            $r = Invoke-Geosync '-c', '"must not run"' -Executable (Join-Path $Broken 'geosync')
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match ([regex]::Escape($BrokenManifest) + ' does not exist')
            $r.StdOut | Should -BeNullOrEmpty
        }
    }

    Context 'script files' {
        BeforeAll {
            $script:ParamScript = Join-Path $TestDrive 'report.ps1'
            Set-Content -LiteralPath $ParamScript -Value @'
param([string] $Name, [int] $Count, [switch] $Loud, [Parameter(ValueFromRemainingArguments)] [string[]] $Rest)
[pscustomobject]@{ Name = $Name; Count = $Count; Loud = [bool]$Loud; Rest = $Rest -join ','; Root = $PSScriptRoot } | ConvertTo-Json -Compress
'@
        }

        It 'binds named, switch and positional arguments and exits 0' {
            $r = Invoke-Geosync $ParamScript, '-Name', 'vol1', '-Count:4', '-Loud', 'extra1', 'extra2'
            $r.ExitCode | Should -Be 0
            $result = $r.StdOut | ConvertFrom-Json
            $result.Name | Should -BeExactly 'vol1'
            $result.Count | Should -Be 4
            $result.Loud | Should -BeTrue
            $result.Rest | Should -BeExactly 'extra1,extra2'
            $result.Root | Should -BeExactly (Split-Path $ParamScript)
        }

        It 'accepts -File before the path and -Switch:$false' {
            $r = Invoke-Geosync '-File', $ParamScript, 'positional', '-Loud:$false'
            $r.ExitCode | Should -Be 0
            $result = $r.StdOut | ConvertFrom-Json
            $result.Name | Should -BeExactly 'positional'
            $result.Loud | Should -BeFalse
        }

        It 'runs a relative path from the working directory' {
            $r = Invoke-Geosync './report.ps1', 'rel' -WorkingDirectory $TestDrive
            $r.ExitCode | Should -Be 0
            ($r.StdOut | ConvertFrom-Json).Name | Should -BeExactly 'rel'
        }

        It 'exits with the N of exit N' {
            $path = Join-Path $TestDrive 'exit7.ps1'
            Set-Content -LiteralPath $path -Value '"working"', 'exit 7', '"unreachable"'
            $r = Invoke-Geosync $path
            $r.ExitCode | Should -Be 7
            $r.Lines | Should -Be @('working')
        }

        It 'exits 1 with the error and its location on stderr when the script throws' {
            $path = Join-Path $TestDrive 'fails.ps1'
            Set-Content -LiteralPath $path -Value '"step 1"', 'throw "slave volume is not mounted"'
            $r = Invoke-Geosync $path
            $r.ExitCode | Should -Be 1
            $r.Lines | Should -Be @('step 1')
            $r.StdErr | Should -Match 'slave volume is not mounted'
            $r.StdErr | Should -Match 'fails\.ps1:2'
        }

        It 'exits 1 when a parameter does not exist' {
            $path = Join-Path $TestDrive 'strict.ps1'
            Set-Content -LiteralPath $path -Value '[CmdletBinding()] param([string] $Name)', '"ran with $Name"'
            $r = Invoke-Geosync $path, '-NoSuchParameter', 'x'
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match 'NoSuchParameter'
            $r.StdOut | Should -BeNullOrEmpty
        }

        It 'reports a non-terminating error on stderr and exits 0, as pwsh -File does' {
            $path = Join-Path $TestDrive 'soft.ps1'
            Set-Content -LiteralPath $path -Value 'Write-Error "one file skipped"'
            $r = Invoke-Geosync $path
            $r.ExitCode | Should -Be 0
            $r.StdErr | Should -Match 'one file skipped'
        }

        It 'exits 2 and names the file when it does not exist' {
            $r = Invoke-Geosync (Join-Path $TestDrive 'missing.ps1')
            $r.ExitCode | Should -Be 2
            $r.StdErr | Should -Match ([regex]::Escape((Join-Path $TestDrive 'missing.ps1')))
            $r.StdErr | Should -Match 'does not exist'
        }
    }
}
