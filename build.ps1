#requires -Version 7.4
<#
.SYNOPSIS
    The one build of GeoSync: restore, build, lay out the module, publish the geosync host, run the tests.
.PARAMETER Task
    Build (default), Test (build, then xunit and Pester), Demo (build, then the README's demo), Clean.
.PARAMETER Configuration
    Debug or Release.
.EXAMPLE
    ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Clean')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Run the tests without bringing up the GlusterFS testbed (its tests then skip, or fail in CI).
    [switch] $NoTestbed
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'GeoSync'
$hostOut = Join-Path $out 'geosync'
$results = Join-Path $out 'test-results'

function Invoke-Dotnet {
    param([Parameter(Mandatory)] [string[]] $Arguments)
    Write-Verbose "dotnet $Arguments"
    & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-ModuleVersion {
    [xml] $props = Get-Content -LiteralPath (Join-Path $root 'Directory.Build.props') -Raw
    $props.Project.PropertyGroup.ModuleVersion | Where-Object { $_ } | Select-Object -First 1
}

function Get-ReleaseNotes {
    param([string] $Version)
    # For users: docs/release-notes.md, one section per version (CHANGELOG.md is the developers' record).
    $notes = Get-Content -LiteralPath (Join-Path $root 'docs/release-notes.md') -Raw
    $match = [regex]::Match($notes, "(?ms)^## \[?$([regex]::Escape($Version))\]?[^\n]*\n(.*?)(?=^## |\z)")
    if ($match.Success) { $match.Groups[1].Value.Trim() } else { '' }
}

function Invoke-Clean {
    foreach ($dir in @($out) + @(Get-ChildItem -Path (Join-Path $root 'src'), (Join-Path $root 'tests') -Recurse -Directory -Include bin, obj | ForEach-Object FullName)) {
        if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
    }
}

function Invoke-Build {
    $version = Get-ModuleVersion
    Invoke-Dotnet @('build', (Join-Path $root 'GeoSync.sln'), '-c', $Configuration, '--nologo', '-v:q')

    # The importable module: cmdlet and engine dlls laid flat (RID-specific publish), never System.Management.Automation.
    if (Test-Path -LiteralPath $moduleOut) { Remove-Item -LiteralPath $moduleOut -Recurse -Force }
    Invoke-Dotnet @('publish', (Join-Path $root 'src/GeoSync.PowerShell'), '-c', $Configuration, '--nologo', '-v:q', '-o', $moduleOut)
    Get-ChildItem -LiteralPath $moduleOut -Filter '*.pdb' | Remove-Item
    if (Test-Path -LiteralPath (Join-Path $moduleOut 'System.Management.Automation.dll')) {
        throw 'System.Management.Automation.dll must not ship in the module folder'
    }
    $moduleSource = Join-Path $root 'module'
    Get-ChildItem -LiteralPath $moduleSource -File | Where-Object Name -notin 'GeoSync.psd1', 'GeoSync.psm1' |
        Copy-Item -Destination $moduleOut
    # The script module: GeoSync.psm1 with the functions, one file each in Private/ and Public/, appended to it.
    $scriptModule = [System.Text.StringBuilder]::new((Get-Content -LiteralPath (Join-Path $moduleSource 'GeoSync.psm1') -Raw))
    foreach ($folder in 'Private', 'Public') {
        foreach ($file in Get-ChildItem -LiteralPath (Join-Path $moduleSource $folder) -Filter '*.ps1' -File | Sort-Object -Property Name) {
            $null = $scriptModule.Append("`n# ---- $folder/$($file.Name)`n`n").Append((Get-Content -LiteralPath $file.FullName -Raw).TrimEnd()).Append("`n")
        }
    }
    Set-Content -LiteralPath (Join-Path $moduleOut 'GeoSync.psm1') -Value $scriptModule.ToString() -NoNewline
    $notes = (Get-ReleaseNotes -Version $version) -replace "'", "''"
    (Get-Content -LiteralPath (Join-Path $moduleSource 'GeoSync.psd1') -Raw).
        Replace('{{ModuleVersion}}', $version).Replace('{{ReleaseNotes}}', $notes) |
        Set-Content -LiteralPath (Join-Path $moduleOut 'GeoSync.psd1') -NoNewline
    $helpBuilder = Join-Path $root 'docs/Build-Help.ps1'
    if (Test-Path -LiteralPath $helpBuilder) {
        & $helpBuilder -SourcePath (Join-Path $root 'docs/help') -OutputPath (Join-Path $moduleOut 'en-US')
    }
    else {
        Copy-Item -LiteralPath (Join-Path $moduleSource 'en-US') -Destination $moduleOut -Recurse -Force
    }

    # The geosync host carries its own copy of the module, so it runs where pwsh is not installed.
    if (Test-Path -LiteralPath $hostOut) { Remove-Item -LiteralPath $hostOut -Recurse -Force }
    Invoke-Dotnet @('publish', (Join-Path $root 'src/GeoSync.Host'), '-c', $Configuration, '--nologo', '-v:q', '-o', $hostOut)
    Copy-Item -LiteralPath $moduleOut -Destination (Join-Path $hostOut 'Modules/GeoSync') -Recurse
    Write-Host "Built GeoSync $version -> $moduleOut, $hostOut"
}

function Invoke-Test {
    & bash (Join-Path $root 'tests/prerequisites.sh')
    if ($LASTEXITCODE -ne 0) { throw 'installing the test prerequisites failed' }
    if (Test-Path -LiteralPath $results) { Remove-Item -LiteralPath $results -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $results
    $failures = @()

    & dotnet test (Join-Path $root 'tests/GeoSync.Engine.Tests') -c $Configuration --nologo --no-build `
        --logger 'trx;LogFileName=engine.trx' --logger 'console;verbosity=minimal' --results-directory $results
    if ($LASTEXITCODE -ne 0) { $failures += "xunit exited $LASTEXITCODE" }

    Invoke-Dotnet @('restore', (Join-Path $root 'tests/tools'), '--nologo', '-v:q')
    $pester = Get-ChildItem -Path (Join-Path (Get-NuGetPackageRoot) 'pester/5.7.1/tools/Pester.psd1') | Select-Object -First 1
    if (-not $pester) { throw 'Pester 5.7.1 was not restored into the NuGet package folder' }
    # Pester runs in a child pwsh so the module under test loads fresh, as a user's session would load it.
    $pesterScript = {
        param($PesterPath, $TestPath, $ResultFile)
        Import-Module $PesterPath -Force
        $config = New-PesterConfiguration
        $config.Run.Path = $TestPath
        $config.Run.Exit = $true
        $config.Output.Verbosity = 'Normal'
        $config.TestResult.Enabled = $true
        $config.TestResult.OutputFormat = 'NUnitXml'
        $config.TestResult.OutputPath = $ResultFile
        Invoke-Pester -Configuration $config
    }
    & dotnet pwsh -NoProfile -NonInteractive -Command $pesterScript -args $pester.FullName, @((Join-Path $root 'tests/Module'), (Join-Path $root 'tests/Host'), (Join-Path $root 'tests/Integration'), (Join-Path $root 'tests/Faults'), (Join-Path $root 'tests/Runbooks')), (Join-Path $results 'pester.xml')
    if ($LASTEXITCODE -ne 0) { $failures += "Pester exited $LASTEXITCODE" }

    if ($failures) { throw "Tests failed: $($failures -join '; ')" }
}

# Brings up the GlusterFS testbed for the live tests; true when this run started it (and so must take it down).
# A developer's healthy testbed is reused and left up.
function Start-Testbed {
    if ($NoTestbed) { return $false }
    if ((& id -u) -ne '0') {
        Write-Warning 'Not root: the GlusterFS testbed needs root, so its tests are skipped (outside CI).'
        return $false
    }
    $testbed = Join-Path $root 'tests/testbed/testbed.sh'
    & bash $testbed status *> $null
    if ($LASTEXITCODE -eq 0) { return $false }
    & bash $testbed up > $null
    if ($LASTEXITCODE -ne 0) { throw "bringing up the GlusterFS testbed failed ($testbed up exited $LASTEXITCODE)" }
    $true
}

function Stop-Testbed {
    & bash (Join-Path $root 'tests/testbed/testbed.sh') down
    if ($LASTEXITCODE -ne 0) { throw 'taking down the GlusterFS testbed failed: see its output above' }
}

function Get-NuGetPackageRoot {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages'
}

function Invoke-Demo {
    & (Join-Path $root 'docs/demo.ps1') -ModulePath (Join-Path $moduleOut 'GeoSync.psd1') -HostPath (Join-Path $hostOut 'geosync')
    if (-not $?) { throw 'demo failed' }
}

Push-Location $root
try {
    foreach ($t in $Task) {
        switch ($t) {
            'Clean' { Invoke-Clean }
            'Build' { Invoke-Build }
            'Test' {
                Invoke-Build
                $startedTestbed = Start-Testbed
                try { Invoke-Test }
                finally { if ($startedTestbed) { Stop-Testbed } }
            }
            'Demo' { Invoke-Build; Invoke-Demo }
        }
    }
}
finally {
    Pop-Location
}
