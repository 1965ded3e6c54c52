BeforeAll {
    $script:ModuleFolder = Join-Path $PSScriptRoot '../../out/GeoSync'
    $script:ManifestPath = Join-Path $ModuleFolder 'GeoSync.psd1'
    $script:ExpectedFunctions = @('Get-GeoSyncFailure', 'Invoke-GeoSyncMaster')
    $script:Expected = @('Dismount-GlusterAux', 'Get-GeoSyncLog', 'Get-GeoSyncReplication', 'Get-GeoSyncSession', 'Get-GeoSyncStatus', 'Get-GlusterVolumeMark', 'Get-GlusterXtime', 'Invoke-GeoSyncCrawl', 'Invoke-GeoSyncRsync', 'Invoke-GeoSyncSlave', 'Mount-GlusterAux', 'New-GeoSyncReplication', 'Remove-GeoSyncReplication', 'Resolve-GeoSyncUrl', 'Resume-GeoSyncReplication', 'Set-GeoSyncCheckpoint', 'Set-GeoSyncReplication', 'Set-GlusterXtime', 'Start-GeoSyncReplication', 'Start-GeoSyncSession', 'Stop-GeoSyncReplication', 'Stop-GeoSyncSession', 'Suspend-GeoSyncReplication', 'Test-GeoSyncReplica', 'Test-GeoSyncReplication', 'Wait-GeoSyncChange', 'Wait-GeoSyncCheckpoint')
    [xml] $props = Get-Content -LiteralPath (Join-Path $PSScriptRoot '../../Directory.Build.props') -Raw
    $script:Version = $props.Project.PropertyGroup.ModuleVersion | Where-Object { $_ } | Select-Object -First 1
}

Describe 'GeoSync module manifest' {
    It 'passes Test-ModuleManifest' {
        $manifest = Test-ModuleManifest -Path $ManifestPath -ErrorAction Stop
        $manifest.Name | Should -Be 'GeoSync'
    }

    It 'lists the cmdlets and functions explicitly, without wildcards' {
        $data = Import-PowerShellDataFile -LiteralPath $ManifestPath
        $data.CmdletsToExport | Sort-Object | Should -Be $Expected
        $data.FunctionsToExport | Sort-Object | Should -Be $ExpectedFunctions
        @($data.AliasesToExport) | Should -BeNullOrEmpty
        @($data.VariablesToExport) | Should -BeNullOrEmpty
    }

    It 'exports exactly the listed commands' {
        $module = Import-Module $ManifestPath -Force -PassThru
        $module.ExportedCommands.Keys | Sort-Object | Should -Be (@($Expected) + $ExpectedFunctions | Sort-Object)
        $module.ExportedFunctions.Keys | Sort-Object | Should -Be $ExpectedFunctions
    }

    It 'is stamped with the version from Directory.Build.props' {
        $Version | Should -Not -BeNullOrEmpty
        (Test-ModuleManifest -Path $ManifestPath).Version | Should -Be ([version]$Version)
        Get-Content -LiteralPath $ManifestPath -Raw | Should -Not -Match '\{\{'
        [System.Reflection.AssemblyName]::GetAssemblyName((Join-Path $ModuleFolder 'GeoSync.PowerShell.dll')).Version |
            Should -Be ([version]"$Version.0")
    }

    It 'carries the user-facing release notes of its version from docs/release-notes.md' {
        $notes = (Import-PowerShellDataFile -LiteralPath $ManifestPath).PrivateData.PSData.ReleaseNotes
        $notes | Should -Not -BeNullOrEmpty
        $source = Get-Content -LiteralPath (Join-Path $PSScriptRoot '../../docs/release-notes.md') -Raw
        $section = [regex]::Match($source, "(?ms)^## $([regex]::Escape($Version))\s*\n(.*?)(?=^## |\z)").Groups[1].Value.Trim()
        $notes | Should -Be $section
    }

    It 'names the project, its license and where each command''s online help is, under one base' {
        $psData = (Test-ModuleManifest -Path $ManifestPath -ErrorAction Stop).PrivateData.PSData
        $base = [uri] $psData.ProjectUri
        $base.Scheme | Should -Be 'https' -Because 'Get-Help -Online takes only http and https addresses'
        [uri] $psData.LicenseUri | Should -Be ([uri]::new($base, 'LICENSE'))
        Join-Path $PSScriptRoot '../../LICENSE' | Should -Exist
        $module = Import-Module $ManifestPath -Force -PassThru
        $missing = foreach ($command in $module.ExportedCommands.Values) {
            if (-not $command.HelpUri) { $command.Name; continue }
            $command.HelpUri | Should -Be ([uri]::new($base, "help/$($command.Name)")).AbsoluteUri
        }
        @($missing) | Should -BeNullOrEmpty
    }

    It 'opens a command''s online help at its HelpUri (Get-Help -Online, the browser bypassed)' {
        Import-Module $ManifestPath -Force
        $hooks = [System.Management.Automation.Internal.InternalTestHooks]
        $hooks::SetTestHook('BypassOnlineHelpRetrieval', $true)
        try {
            foreach ($name in 'Get-GeoSyncSession', 'Invoke-GeoSyncMaster') {
                Get-Help -Name $name -Online | Should -Match ([regex]::Escape((Get-Command $name).HelpUri))
            }
        }
        finally {
            $hooks::SetTestHook('BypassOnlineHelpRetrieval', $false)
        }
    }

    It 'does not ship System.Management.Automation.dll' {
        Join-Path $ModuleFolder 'System.Management.Automation.dll' | Should -Not -Exist
    }

    It 'lays Mono.Posix and its native helper flat in the module folder' {
        Join-Path $ModuleFolder 'Mono.Posix.NETStandard.dll' | Should -Exist
        Join-Path $ModuleFolder 'libMonoPosixHelper.so' | Should -Exist
    }

    It 'ships the MAML help of the cmdlet assembly' {
        Join-Path $ModuleFolder 'en-US/GeoSync.PowerShell.dll-Help.xml' | Should -Exist
    }

    It 'runs an xattr cmdlet in a fresh pwsh process' {
        $file = Join-Path $TestDrive 'fresh.txt'
        Set-Content -LiteralPath $file -Value 'x'
        # Under `dotnet pwsh` the process is dotnet itself, which needs pwsh.dll as its first argument.
        $exe = [Environment]::ProcessPath
        $prefix = @(if ((Split-Path -Leaf $exe) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
        $script = "Import-Module '$ManifestPath'; `$id = [guid]::NewGuid(); " +
            "Set-GlusterXtime -LiteralPath '$file' -VolumeId `$id -Seconds 12 -Microseconds 34; " +
            "(Get-GlusterXtime -LiteralPath '$file' -VolumeId `$id).Xtime.ToString([cultureinfo]::InvariantCulture)"
        $output = & $exe @prefix -NoProfile -NonInteractive -Command $script
        $LASTEXITCODE | Should -Be 0
        $output | Should -Be '12.000034'
    }
}

Describe 'GeoSync format views' {
    BeforeAll {
        Import-Module $ManifestPath -Force
    }

    It 'has one table view of 4 to 6 columns for <TypeName>' -TestCases @(
        @{ TypeName = 'GeoSync.PowerShell.GlusterXtime' }
        @{ TypeName = 'GeoSync.PowerShell.GlusterVolumeMark' }
        @{ TypeName = 'GeoSync.PowerShell.GeoSyncUrlInfo' }
        @{ TypeName = 'GeoSync.PowerShell.GlusterAuxMount' }
    ) {
        $views = @((Get-FormatData -TypeName $TypeName).FormatViewDefinition)
        $views | Should -HaveCount 1
        $views[0].Control | Should -BeOfType System.Management.Automation.TableControl
        $views[0].Control.Headers.Count | Should -BeIn (4..6)
    }

    It 'shows a turn''s failures and held purges whole at 80 columns, in tables and in a turn result''s list' {
        $reason = 'rsync: [receiver] mkstemp "/mnt/backup/photos/2024/.beach-0001.jpg.XXXX" failed: No space left on device (28)'
        $failure = [GeoSync.Engine.Master.CrawlFailure]::new('photos/2024/beach-0001.jpg', $reason, 3, $true)
        $held = [GeoSync.Engine.Master.HeldPurge]::new('photos/2023', 412, 500)
        foreach ($text in ($failure | Format-Table | Out-String -Width 80), ($held | Format-Table | Out-String -Width 80)) {
            $text -split '\r?\n' | Where-Object Length -GT 80 | Should -BeNullOrEmpty
            $text | Should -Not -Match '…'
        }
        ($failure | Format-Table | Out-String -Width 80) -replace '\s+', '' | Should -Match ([regex]::Escape(($reason -replace '\s+', '')))
        ($held | Format-Table | Out-String -Width 80) | Should -Match 'photos/2023\s+412\s+500\s+82\s?%'
        # In a list (Format-List of a turn result) each element is its ToString: one readable line, not a record dump.
        "$failure" | Should -Be "photos/2024/beach-0001.jpg (3 turns, persistent): $reason"
        "$held" | Should -Be 'photos/2023: purge of 412 of 500 slave entries held back'
    }

    It 'shows the full six-digit xtime in the GlusterXtime table' {
        $file = Join-Path $TestDrive 'view.txt'
        Set-Content -LiteralPath $file -Value 'v'
        $text = Set-GlusterXtime -LiteralPath $file -VolumeId ([guid]::NewGuid()) -Xtime 1700000000.000123 -PassThru |
            Format-Table | Out-String -Width 200
        $text | Should -Match '1700000000\.000123'
        $text | Should -Match '2023-11-14 22:13:20'
        $text | Should -Match ([regex]::Escape($file))
    }
}
