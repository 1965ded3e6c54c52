BeforeAll {
    $script:Geosync = Join-Path $PSScriptRoot '../../out/geosync/geosync'
}

Describe 'geosync host' {
    It 'is published by the build' {
        $Geosync | Should -Exist
    }
}
