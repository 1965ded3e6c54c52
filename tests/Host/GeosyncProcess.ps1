# Runs the built geosync ($Geosync, set by the test file that dot-sources this) as a user's shell would, with these
# argv words and stdin closed, and returns its exit code, stdout, stderr and stdout's non-empty lines. COLUMNS is
# removed (or set to -Columns), so tables come out at the width the host picks for a pipe, whatever terminal runs the
# tests. A geosync that does not exit within -TimeoutSeconds is killed with its children, and the test fails.
function Invoke-Geosync {
    param([string[]] $ArgumentList, [int] $TimeoutSeconds = 120, [string] $Columns)
    $info = [System.Diagnostics.ProcessStartInfo]::new($Geosync)
    foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $null = $info.Environment.Remove('COLUMNS')
    if ($Columns) { $info.Environment['COLUMNS'] = $Columns }
    $process = [System.Diagnostics.Process]::Start($info)
    $process.StandardInput.Close()
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
        $process.Kill($true)
        throw "geosync $($ArgumentList -join ' ') did not exit within $TimeoutSeconds s"
    }
    $process.WaitForExit()
    [pscustomobject]@{
        ExitCode = $process.ExitCode
        StdOut   = $stdout.Result
        StdErr   = $stderr.Result
        Lines    = @($stdout.Result -split '\r?\n' | Where-Object { $_ })
    }
}
