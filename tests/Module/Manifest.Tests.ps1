BeforeAll {
    $script:ManifestPath = Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1'
}

Describe 'GeoSync module manifest' {
    It 'passes Test-ModuleManifest' {
        $manifest = Test-ModuleManifest -Path $ManifestPath -ErrorAction Stop
        $manifest.Name | Should -Be 'GeoSync'
    }

    It 'does not ship System.Management.Automation.dll' {
        Join-Path (Split-Path $ManifestPath) 'System.Management.Automation.dll' | Should -Not -Exist
    }
}
