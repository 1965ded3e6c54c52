BeforeAll {
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
    . (Join-Path $PSScriptRoot 'GeosyncProcess.ps1')
}

Describe 'the garbage collector geosync runs with' {
    It 'collects without a background thread and with a small gen0 budget, as the runtime itself reports' {
        # The host's runtimeconfig sets them (src/GeoSync.Host/GeoSync.Host.csproj; docs/performance.md, "Directory
        # master at scale"): a crawl's heap then stays near what a turn holds. Read back from the runtime, not the file,
        # so a setting the runtime ignores or a build that drops it fails here.
        $result = Invoke-Geosync -ArgumentList '-c', @'
$gc = [System.GC]::GetConfigurationVariables()
"ConcurrentGC=$($gc['ConcurrentGC'])"
"ServerGC=$($gc['ServerGC'])"
"GCGen0MaxBudget=$($gc['GCGen0MaxBudget'])"
'@
        $result.ExitCode | Should -Be 0 -Because $result.StdErr
        $result.Lines | Should -Contain 'ConcurrentGC=False'
        $result.Lines | Should -Contain 'ServerGC=False'
        $result.Lines | Should -Contain 'GCGen0MaxBudget=2097152'
    }
}
