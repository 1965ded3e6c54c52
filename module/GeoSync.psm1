Set-StrictMode -Version Latest

# The script module's functions, one per file: Private/ holds helpers, Public/ the exported commands (listed by name in
# GeoSync.psd1's FunctionsToExport).
foreach ($folder in 'Private', 'Public') {
    $functions = Join-Path $PSScriptRoot $folder
    if (Test-Path -LiteralPath $functions) {
        foreach ($file in Get-ChildItem -LiteralPath $functions -Filter '*.ps1' -File | Sort-Object -Property Name) {
            . $file.FullName
        }
    }
}
