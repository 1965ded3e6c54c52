<#
.SYNOPSIS
    Counts passed and failed tests in the xunit (trx) and Pester (NUnit XML) result files and prints the totals.
.DESCRIPTION
    Counts each test case by its own outcome. Prints "N passed, N failed, N skipped" as its last line; exits 1 when
    anything failed, a result file is missing, or nothing ran.
#>
[CmdletBinding()]
param([Parameter(Mandatory)] [string] $Path)

$ErrorActionPreference = 'Stop'
$passed = 0; $failed = 0; $skipped = 0

$trxFiles = @(Get-ChildItem -Path $Path -Filter '*.trx' -Recurse -ErrorAction SilentlyContinue)
$nunitFiles = @(Get-ChildItem -Path $Path -Filter 'pester*.xml' -Recurse -ErrorAction SilentlyContinue)

foreach ($trx in $trxFiles) {
    [xml] $doc = Get-Content -LiteralPath $trx.FullName -Raw
    foreach ($result in $doc.GetElementsByTagName('UnitTestResult')) {
        switch ($result.outcome) {
            'Passed' { $passed++ }
            'NotExecuted' { $skipped++ }
            default { $failed++ }
        }
    }
}
foreach ($nunit in $nunitFiles) {
    [xml] $doc = Get-Content -LiteralPath $nunit.FullName -Raw
    foreach ($case in $doc.GetElementsByTagName('test-case')) {
        switch ($case.result) {
            'Success' { $passed++ }
            { $_ -in 'Failure', 'Error' } { $failed++ }
            default { $skipped++ }
        }
    }
}

$missing = @()
if ($trxFiles.Count -eq 0) { $missing += 'xunit (*.trx)' }
if ($nunitFiles.Count -eq 0) { $missing += 'Pester (pester*.xml)' }
if ($missing) { Write-Warning "missing result files: $($missing -join ', ') under $Path"; $failed++ }

Write-Output "$passed passed, $failed failed, $skipped skipped"
if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
