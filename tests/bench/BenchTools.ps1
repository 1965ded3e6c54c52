# What the benchmark scripts share; dot-sourced by each.

# The median of some numbers (the lower middle one of an even count), as every benchmark reports its paired ratios.
function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    $sorted[[int][Math]::Floor(($sorted.Count - 1) / 2)]
}

# --- Change latency on a GlusterFS master (Measure-GlusterChangeLatency.ps1, Measure-MultiBrickLatency.ps1) ---

# One round of 20 changes: 10 files modified and 10 new, spread over the changed directories of the tree. Returns
# relative path -> the content the slave must end up with.
function New-ChangeRound([string] $Tree, [string[]] $ChangedDirs, [int] $Round, [string] $Tag = '') {
    $expected = [ordered]@{}
    foreach ($i in 0..9) {
        $dir = $ChangedDirs[$i % $ChangedDirs.Count]
        $expected["$Tree/$dir/f$i.txt"] = "modified in round $Round$Tag"
        $expected["$Tree/$dir/new$Tag-$Round-$i.txt"] = "new in round $Round"
    }
    $expected
}

# Whether every file of $Expected holds its content on the slave; $PathOf maps a relative path to the slave's file.
function Test-Arrived([System.Collections.IDictionary] $Expected, [scriptblock] $PathOf) {
    foreach ($entry in $Expected.GetEnumerator()) {
        try { if ([IO.File]::ReadAllText((& $PathOf $entry.Key)) -cne $entry.Value) { return $false } } catch { return $false }
    }
    $true
}

# The turn lines `geosync master` printed on stdout that changed something: "... turn N: F files (B bytes) synced, ..., S s".
function Get-TurnLine([string] $Log) {
    foreach ($line in Get-Content -LiteralPath $Log -ErrorAction SilentlyContinue) {
        if ($line -match 'turn (\d+): (\d+) files .*, (\d+(\.\d+)?) s$') {
            [pscustomobject]@{ Turn = [long] $Matches[1]; Files = [long] $Matches[2]; Seconds = [double] $Matches[3] }
        }
    }
}

# Polls every 10 ms until $Expected arrived (seconds since the call; $null after $TimeoutSeconds). With -TurnLog (the
# loop's stdout) it also notes when each new turn line appeared, so the latency splits into the wait for the loop's turn
# and the turns themselves: Turns holds each turn's start and end in seconds from the call (start = end - its duration;
# negative when the turn started before the call, i.e. during the writes) and the files it synced.
function Wait-Arrived([System.Collections.IDictionary] $Expected, [scriptblock] $PathOf, [double] $TimeoutSeconds, [string] $TurnLog) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $seen = if ($TurnLog) { @(Get-TurnLine $TurnLog).Count } else { 0 }
    $turns = [Collections.Generic.List[object]]::new()
    $arrivedAt = $null
    while ($true) {
        if ($null -eq $arrivedAt -and (Test-Arrived $Expected $PathOf)) { $arrivedAt = $clock.Elapsed.TotalSeconds }
        if ($TurnLog) {
            $now = $clock.Elapsed.TotalSeconds
            $lines = @(Get-TurnLine $TurnLog)
            foreach ($line in ($lines | Select-Object -Skip $seen)) {
                $turns.Add([pscustomobject]@{ Start = $now - $line.Seconds; End = $now; Files = $line.Files })
            }
            $seen = $lines.Count
        }
        if ($null -ne $arrivedAt) {
            # The turn that carried the last file prints its line after its marks, so after the files arrived: wait for it
            # (at most 10 s) so that the split counts it.
            if (-not $TurnLog -or @($turns | Where-Object { $_.Files -gt 0 -and $_.End -ge $arrivedAt }).Count -or
                $clock.Elapsed.TotalSeconds -gt $arrivedAt + 10) { break }
        }
        elseif ($clock.Elapsed.TotalSeconds -gt $TimeoutSeconds) { return $null }
        Start-Sleep -Milliseconds 10
    }
    [pscustomobject]@{ Seconds = $arrivedAt; Turns = $turns.ToArray() }
}

# The split of one round's latency (from Wait-Arrived -TurnLog): when the first turn that synced something started
# (seconds after the writes ended), how many turns synced something, and their time.
function Split-Latency($Arrival) {
    $busy = @($Arrival.Turns | Where-Object Files -gt 0)
    [pscustomobject]@{
        FirstTurnStart = if ($busy.Count) { $busy[0].Start } else { [double]::NaN }
        BusyTurns = $busy.Count
        TurnSeconds = [double] (@($busy | ForEach-Object { $_.End - $_.Start }) + 0 | Measure-Object -Sum).Sum
    }
}

# Block b of "after" pairs with the adjacent block of "before" (the order A B B A ...): the block numbers of a pair.
function Get-PairedBlock([int] $Index, [string] $Build) {
    if ($Index % 2 -eq 0) { 2 * $Index + 1 + [int]($Build -eq 'after') } else { 2 * $Index + 1 + [int]($Build -eq 'before') }
}

# The load average now, as each benchmark prints it with its results.
function Get-LoadAverage { (((Get-Content /proc/loadavg) -split ' ')[0..2]) -join ' ' }
