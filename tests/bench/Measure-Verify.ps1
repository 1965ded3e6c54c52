#requires -Version 7.4
<#
.SYNOPSIS
    The verify benchmark (a script, not a test): `geosync verify` against rsync's own dry-run comparison of the same two
    directory trees, without and with checksums.
.DESCRIPTION
    Builds a master tree of -Files files of -FileSize bytes (and the file's number, so no two are alike) spread over -Directories directories, copies it with
    `rsync -a` to a slave tree, and makes a few differences in the slave (a file removed, one added, a mode changed, and
    -ContentChanges files rewritten with other bytes of the same size and mtime, which only a checksum finds). Then for
    -Rounds rounds it runs, interleaved and alternating which goes first:
      - `geosync verify file://M file://S` and `rsync -an --delete -i M/ S/`;
      - `geosync verify file://M file://S --checksum` and `rsync -anc --delete -i M/ S/`;
      - with -Ssh, the same two over ssh to a loopback sshd (tests/fixtures/sshd): `geosync verify file://M
        ssh://root@127.0.0.1:S` with `geosync slave` as the remote command, and rsync with `-e ssh` to 127.0.0.1:S/.
    Each geosync run is a whole process (start, session, comparison), as a user or cron runs it. Both tools read warm
    caches (the tree was just written and copied). It prints the median times and the median of the paired ratios
    GeoSync / rsync (each round's GeoSync run over the rsync run next to it, so a machine whose speed drifts moves both;
    target: at most 1), checks that every run found the planted differences, and removes the trees.
.PARAMETER Files
    Files in the master tree (20,000).
.PARAMETER Directories
    Directories the files are spread over (200).
.PARAMETER FileSize
    Bytes per file (4,096).
.PARAMETER ContentChanges
    Slave files rewritten with the same size and mtime (3).
.PARAMETER Rounds
    Paired runs of each comparison (5).
.PARAMETER Ssh
    Also compare over ssh to a throw-away loopback sshd (needs root and openssh, as the ssh tests do).
.PARAMETER SshOnly
    With -Ssh: only the two comparisons over ssh (the directory ones are skipped).
.PARAMETER WorkDirectory
    Where the trees are built (a directory on a disk, not tmpfs, by default under /var/tmp).
.EXAMPLE
    dotnet pwsh tests/bench/Measure-Verify.ps1 -Rounds 7
#>
[CmdletBinding()]
param(
    [ValidateRange(100, 1000000)] [int] $Files = 20000,
    [ValidateRange(1, 10000)] [int] $Directories = 200,
    [ValidateRange(1, 1073741824)] [int] $FileSize = 4096,
    [ValidateRange(1, 100)] [int] $ContentChanges = 3,
    [ValidateRange(1, 50)] [int] $Rounds = 5,
    [switch] $Ssh,
    [switch] $SshOnly,
    [string] $WorkDirectory = "/var/tmp/geosync-verify-bench-$PID",
    [string] $Geosync = (Join-Path $PSScriptRoot '../../out/geosync/geosync')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Geosync = (Resolve-Path -LiteralPath $Geosync).Path
$fixture = Join-Path $PSScriptRoot '../fixtures/sshd/sshd-fixture.sh'
$sshd = @{}
$master = Join-Path $WorkDirectory 'master'
$slave = Join-Path $WorkDirectory 'slave'
$perDirectory = [Math]::Ceiling($Files / $Directories)

. (Join-Path $PSScriptRoot 'BenchTools.ps1')

# Runs a command, returns its wall time and output lines; $Allowed are the exit codes that mean it compared.
function Measure-Run([string] $Program, [string[]] $Arguments, [int[]] $Allowed) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $lines = @(& $Program @Arguments)
    $seconds = $clock.Elapsed.TotalSeconds
    if ($LASTEXITCODE -notin $Allowed) { throw "$Program $Arguments exited $LASTEXITCODE" }
    [pscustomobject]@{ Seconds = $seconds; Lines = $lines }
}

try {
    Write-Host "Writing $Files files of $FileSize bytes in $Directories directories under $master ..."
    $null = New-Item -ItemType Directory -Path $master -Force
    & bash -c @'
set -eu
root=$1 files=$2 per=$3 size=$4
block=$(head -c $(( (size * 3 + 3) / 4 )) /dev/urandom | base64 -w0 | head -c "$size")
for (( i = 0; i < files; i++ )); do
    printf -v d '%s/d%03d' "$root" $(( i / per ))
    (( i % per == 0 )) && mkdir -p "$d"
    printf '%s%d' "$block" "$i" > "$d/f$i"
done
'@ bash $master $Files $perDirectory $FileSize
    if ($LASTEXITCODE -ne 0) { throw "writing the tree failed (exit $LASTEXITCODE)" }
    & rsync -a "$master/" "$slave/"
    if ($LASTEXITCODE -ne 0) { throw "copying the tree failed (exit $LASTEXITCODE)" }

    # The planted differences: one missing, one extra, one mode, and same-size same-mtime content changes.
    Remove-Item -LiteralPath (Join-Path $slave 'd000/f0')
    Set-Content -LiteralPath (Join-Path $slave 'd001/extra') -Value 'extra'
    & chmod 0600 (Join-Path $slave ('d002/f{0}' -f (2 * $perDirectory)))
    # Removing and adding names moved those directories' mtimes; put them back so each planted change is one difference.
    foreach ($dir in 'd000', 'd001') { & touch -r (Join-Path $master $dir) (Join-Path $slave $dir) }
    $changed = foreach ($n in 1..$ContentChanges) {
        $index = [int][Math]::Floor($n * $Files / ($ContentChanges + 1))
        $file = Join-Path $slave ('d{0:D3}/f{1}' -f [int][Math]::Floor($index / $perDirectory), $index)
        $time = (Get-Item -LiteralPath $file).LastWriteTimeUtc
        $bytes = [IO.File]::ReadAllBytes($file)
        $bytes[0] = $bytes[0] -bxor 1
        [IO.File]::WriteAllBytes($file, $bytes)
        (Get-Item -LiteralPath $file).LastWriteTimeUtc = $time
        $file
    }
    $plainDifferences = 3
    $checksumDifferences = 3 + $changed.Count

    $comparisons = @(if (-not ($Ssh -and $SshOnly)) {
        @{ Name = 'attributes'; Geosync = @('verify', "file://$master", "file://$slave"); Rsync = @('-an', '--delete', '-i', "$master/", "$slave/"); Expected = $plainDifferences }
        @{ Name = 'checksum'; Geosync = @('verify', "file://$master", "file://$slave", '--checksum'); Rsync = @('-anc', '--delete', '-i', "$master/", "$slave/"); Expected = $checksumDifferences }
    })
    if ($Ssh) {
        foreach ($line in (& bash $fixture start)) {
            if ($line -match '^GEOSYNC_SSHD_(\w+)=(.*)$') { $sshd[$Matches[1]] = $Matches[2].Trim("'") }
        }
        if (-not $sshd.Contains('HOME')) { throw "the sshd fixture did not start ($fixture start); it needs root and openssh" }
        $sshOptions = @('--ssh-command', 'ssh -F none', '--ssh-port', $sshd.PORT, '--identity-file', $sshd.CLIENT_KEY,
            '--known-hosts-file', $sshd.KNOWN_HOSTS, '--remote-command', "$Geosync slave")
        $rsyncShell = "ssh -F none -p $($sshd.PORT) -i $($sshd.CLIENT_KEY) -o UserKnownHostsFile=$($sshd.KNOWN_HOSTS) -o BatchMode=yes"
        $sshSlave = "ssh://root@127.0.0.1:$slave"
        $comparisons += @(
            @{ Name = 'attributes, ssh'; Geosync = @('verify', "file://$master", $sshSlave) + $sshOptions; Rsync = @('-an', '--delete', '-i', '-e', $rsyncShell, "$master/", "root@127.0.0.1:$slave/"); Expected = $plainDifferences }
            @{ Name = 'checksum, ssh'; Geosync = @('verify', "file://$master", $sshSlave, '--checksum') + $sshOptions; Rsync = @('-anc', '--delete', '-i', '-e', $rsyncShell, "$master/", "root@127.0.0.1:$slave/"); Expected = $checksumDifferences }
        )
    }
    $loadAtStart = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
    $report = foreach ($comparison in $comparisons) {
        $pairs = foreach ($round in 1..$Rounds) {
            $runGeosync = { Measure-Run $Geosync $comparison.Geosync @(4) }
            $runRsync = { Measure-Run 'rsync' $comparison.Rsync @(0) }
            if ($round % 2 -eq 1) { $g = & $runGeosync; $r = & $runRsync } else { $r = & $runRsync; $g = & $runGeosync }
            $found = @($g.Lines | Where-Object { $_ -notmatch '^\d+ entries compared' }).Count
            if ($found -ne $comparison.Expected) { throw "geosync verify ($($comparison.Name)) reported $found differences, not $($comparison.Expected): $($g.Lines -join '; ')" }
            [pscustomobject]@{ Geosync = $g.Seconds; Rsync = $r.Seconds; Ratio = $g.Seconds / $r.Seconds }
        }
        [pscustomobject]@{
            Comparison   = $comparison.Name
            GeosyncMedian = '{0:F2} s' -f (Get-Median $pairs.Geosync)
            RsyncMedian  = '{0:F2} s' -f (Get-Median $pairs.Rsync)
            RatioMedian  = '{0:F2}' -f (Get-Median $pairs.Ratio)
            Ratios       = ($pairs | ForEach-Object { '{0:F2}' -f $_.Ratio }) -join ' '
        }
    }
    $loadAtEnd = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
    Write-Host "`n$Files files of $FileSize bytes in $Directories directories, $Rounds paired rounds, $([Environment]::ProcessorCount) processors; load average $loadAtStart at the start, $loadAtEnd at the end"
    $report | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
}
finally {
    if ($sshd.Contains('HOME')) { & bash $fixture stop $sshd.HOME 2>$null }
    if (Test-Path -LiteralPath $WorkDirectory) { Remove-Item -LiteralPath $WorkDirectory -Recurse -Force }
}
