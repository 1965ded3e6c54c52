#requires -Version 7.4
<#
.SYNOPSIS
    The change-latency benchmark (a script, not a test): how long a change on a directory master takes to be on the
    slave with `geosync master` running in loop mode, watching the master (the default) against comparing it in full
    every turn (--watch disabled); and what an idle turn costs at two tree sizes.
.DESCRIPTION
    Latency. Builds a master of -Files files of 4 KiB in -Directories directories, copies it to the slave with
    `rsync -a`, then for -Rounds rounds, alternating which mode goes first (A B, B A, ...), starts
    `geosync master file://M file://S --interval 1 [--watch disabled]`, waits for its first turn, and takes -Samples
    samples: a pause of 0.3 to 1.3 s (so the change falls anywhere in the interval), then -Modified existing files
    rewritten and -New files created in a directory picked at random, and the time from the first write until every
    one of them is on the slave with its new content (polled every 5 ms). It prints the median and the worst per mode.
    Idle turns. For each of -IdleFiles (empty files, in 100 directories), copies the tree with `rsync -a`, runs
    `geosync master ... --interval 0.2 --max-turns -IdleTurns --verbose` in both modes, and takes the median of the
    idle turns after the first (the loop narrates each as "up to date (N ms)").
    Every loop is a whole `geosync` process as users run it; the machine's load is printed with the results.
.PARAMETER Files
    Files in the latency tree (20,000).
.PARAMETER Directories
    Directories of the latency tree (200).
.PARAMETER Rounds
    Loop starts per mode (2); samples come from all of them.
.PARAMETER Samples
    Changes timed per loop start (5).
.PARAMETER Modified
    Existing files rewritten per change (10).
.PARAMETER New
    New files per change (10).
.PARAMETER IdleFiles
    Tree sizes for the idle-turn cost (10,000 and 200,000).
.PARAMETER IdleTurns
    Turns per idle run (12).
.PARAMETER SkipIdle
    Measure the latency only.
.PARAMETER WorkDirectory
    Where the trees are built (a directory on a disk, not tmpfs, by default under /var/tmp).
.EXAMPLE
    dotnet pwsh tests/bench/Measure-ChangeLatency.ps1 -Rounds 2 -Samples 5
#>
[CmdletBinding()]
param(
    [ValidateRange(100, 1000000)] [int] $Files = 20000,
    [ValidateRange(1, 10000)] [int] $Directories = 200,
    [ValidateRange(1, 20)] [int] $Rounds = 2,
    [ValidateRange(1, 100)] [int] $Samples = 5,
    [ValidateRange(0, 1000)] [int] $Modified = 10,
    [ValidateRange(0, 1000)] [int] $New = 10,
    [int[]] $IdleFiles = @(10000, 200000),
    [ValidateRange(3, 100)] [int] $IdleTurns = 12,
    [switch] $SkipIdle,
    [string] $WorkDirectory = "/var/tmp/geosync-latency-bench-$PID",
    [string] $Geosync = (Join-Path $PSScriptRoot '../../out/geosync/geosync')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Geosync = (Resolve-Path -LiteralPath $Geosync).Path
$master = Join-Path $WorkDirectory 'master'
$slave = Join-Path $WorkDirectory 'slave'
$state = Join-Path $WorkDirectory 'state'
$modes = [ordered]@{ watch = @(); full = @('--watch', 'disabled') }

. (Join-Path $PSScriptRoot 'BenchTools.ps1')

# A tree of $Count files in $Dirs directories under $Root: 4 KiB of distinct bytes each, or empty.
function New-Tree([string] $Root, [int] $Count, [int] $Dirs, [int] $Size) {
    $null = New-Item -ItemType Directory -Path $Root -Force
    & python3 -c @'
import os, sys
root, count, dirs, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
block = os.urandom(size)
for d in range(dirs):
    os.makedirs(f"{root}/d{d:05}", exist_ok=True)
for i in range(count):
    with open(f"{root}/d{i % dirs:05}/f{i:07}", "wb") as f:
        if size:
            f.write(block[:size - 8] + i.to_bytes(8, "little"))
'@ $Root $Count $Dirs $Size
    if ($LASTEXITCODE) { throw "writing the tree under $Root failed" }
}

function Copy-Tree([string] $From, [string] $To) {
    if (Test-Path -LiteralPath $To) { Remove-Item -LiteralPath $To -Recurse -Force }
    & rsync -a "$From/" "$To/"
    if ($LASTEXITCODE) { throw "rsync -a $From $To exited $LASTEXITCODE" }
}

# Starts a loop; returns the process once its first turn is done (its state file has a LastTurn).
function Start-Loop([string[]] $Extra, [double] $Interval) {
    if (Test-Path -LiteralPath $state) { Remove-Item -LiteralPath $state -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $state
    $arguments = @('master', "file://$master", "file://$slave", '--interval', $Interval, '--state-dir', $state, '--force') + $Extra
    $process = Start-Process -FilePath $Geosync -ArgumentList $arguments -PassThru -RedirectStandardOutput (Join-Path $WorkDirectory 'loop.out') `
        -RedirectStandardError (Join-Path $WorkDirectory 'loop.err')
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while ($clock.Elapsed.TotalSeconds -lt 600) {
        $file = Get-ChildItem -LiteralPath $state -Filter '*.json' -File -ErrorAction Ignore | Select-Object -First 1
        if ($file) {
            $record = try { Get-Content -LiteralPath $file.FullName -Raw | ConvertFrom-Json } catch { $null }
            if ($record -and $record.TurnsCompleted -ge 1) { return $process }
        }
        if ($process.HasExited) { throw "the loop exited $($process.ExitCode): $(Get-Content -Raw (Join-Path $WorkDirectory 'loop.err'))" }
        Start-Sleep -Milliseconds 100
    }
    throw 'the loop did not complete its first turn in 10 minutes'
}

function Stop-Loop($Process) {
    & kill -TERM $Process.Id
    if (-not $Process.WaitForExit(30000)) { $Process.Kill(); throw 'the loop did not stop on SIGTERM' }
}

# One change: -Modified files rewritten and -New made in a random directory; seconds until all are on the slave.
function Measure-Change([int] $Sample) {
    $dir = 'd{0:00000}' -f (Get-Random -Maximum $Directories)
    $existing = @(Get-ChildItem -LiteralPath (Join-Path $master $dir) -File | Where-Object Name -like 'f*' | Select-Object -First $Modified)
    $stamp = "change $Sample at $([DateTime]::UtcNow.Ticks)"
    $targets = @($existing.Name | ForEach-Object { "$dir/$_" }) + @(1..$New | Where-Object { $New } | ForEach-Object { "$dir/new-$Sample-$_" })
    $clock = [Diagnostics.Stopwatch]::StartNew()
    foreach ($target in $targets) { [IO.File]::WriteAllText((Join-Path $master $target), $stamp) }
    $pending = [Collections.Generic.List[string]]::new([string[]]$targets)
    while ($pending.Count -gt 0) {
        if ($clock.Elapsed.TotalSeconds -gt 60) { throw "not on the slave after 60 s: $($pending -join ', ')" }
        for ($i = $pending.Count - 1; $i -ge 0; $i--) {
            $path = Join-Path $slave $pending[$i]
            $content = try { [IO.File]::ReadAllText($path) } catch { $null }
            if ($content -eq $stamp) { $pending.RemoveAt($i) }
        }
        if ($pending.Count -gt 0) { Start-Sleep -Milliseconds 5 }
    }
    $clock.Elapsed.TotalSeconds
}

try {
    $load = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
    Write-Host "Writing $Files files of 4 KiB in $Directories directories (load $load) ..."
    New-Tree -Root $master -Count $Files -Dirs $Directories -Size 4096
    Copy-Tree -From $master -To $slave

    $latency = @{ watch = [Collections.Generic.List[double]]::new(); full = [Collections.Generic.List[double]]::new() }
    for ($round = 0; $round -lt $Rounds; $round++) {
        $order = if ($round % 2) { @('full', 'watch') } else { @('watch', 'full') }
        foreach ($mode in $order) {
            $loop = Start-Loop -Extra $modes[$mode] -Interval 1
            try {
                for ($sample = 0; $sample -lt $Samples; $sample++) {
                    Start-Sleep -Milliseconds (300 + (Get-Random -Maximum 1000))
                    $seconds = Measure-Change -Sample ($round * 1000 + $sample)
                    $latency[$mode].Add($seconds)
                    Write-Host ('  round {0} {1,-5} sample {2}: {3:N3} s' -f ($round + 1), $mode, ($sample + 1), $seconds)
                }
            }
            finally {
                Stop-Loop $loop
            }
        }
    }
    $load = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
    Write-Host ''
    Write-Host "Change latency, $Modified modified + $New new files, $Files-file tree, interval 1 s (load $load):"
    foreach ($mode in 'watch', 'full') {
        $values = $latency[$mode].ToArray()
        Write-Host ('  {0,-5} median {1:N3} s, worst {2:N3} s, best {3:N3} s over {4} changes' -f $mode, (Get-Median $values),
            ($values | Measure-Object -Maximum).Maximum, ($values | Measure-Object -Minimum).Minimum, $values.Count)
    }

    if (-not $SkipIdle) {
        foreach ($count in $IdleFiles) {
            Remove-Item -LiteralPath $master, $slave -Recurse -Force
            Write-Host "Writing $count empty files in 100 directories ..."
            New-Tree -Root $master -Count $count -Dirs 100 -Size 0
            Copy-Tree -From $master -To $slave
            foreach ($mode in 'watch', 'full') {
                $loop = Start-Loop -Extra ($modes[$mode] + @('--max-turns', $IdleTurns, '--verbose')) -Interval 0.2
                if (-not $loop.WaitForExit(600000)) { $loop.Kill(); throw 'the idle loop did not finish' }
                $idle = @(Get-Content -LiteralPath (Join-Path $WorkDirectory 'loop.err') | ForEach-Object {
                        if ($_ -match 'Turn (\d+): .* is up to date \((\d+) ms\)' -and [int]$Matches[1] -gt 2) { [double]$Matches[2] }
                    })
                if ($idle.Count -eq 0) { throw "no idle turns narrated: $(Get-Content -Raw (Join-Path $WorkDirectory 'loop.err'))" }
                $load = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
                Write-Host ('  idle turn, {0,7} files, {1,-5}: median {2} ms, worst {3} ms over {4} turns (load {5})' -f $count, $mode,
                    (Get-Median $idle), ($idle | Measure-Object -Maximum).Maximum, $idle.Count, $load)
            }
        }
    }
}
finally {
    if (Test-Path -LiteralPath $WorkDirectory) { Remove-Item -LiteralPath $WorkDirectory -Recurse -Force }
}
