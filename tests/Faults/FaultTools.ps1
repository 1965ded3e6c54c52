# Helpers for the fault tests (docs/faults.md): start and kill processes by pid, list and compare trees, small tmpfs
# slaves, the loopback sshd. Dot-source in BeforeAll (after tests/Integration/Testbed.ps1 for Wait-Condition).

$script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path

# Starts geosync with these argv words and stdin closed; Wait-FaultProcess collects it.
function Start-FaultGeosync {
    param([string[]] $ArgumentList)
    $info = [System.Diagnostics.ProcessStartInfo]::new($Geosync)
    foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($info)
    $process.StandardInput.Close()
    [pscustomobject]@{ Process = $process; StdOut = $process.StandardOutput.ReadToEndAsync(); StdErr = $process.StandardError.ReadToEndAsync() }
}

# Waits for a Start-FaultGeosync process; kills it (and fails) after $TimeoutSeconds. Returns ExitCode, StdOut, StdErr.
function Wait-FaultGeosync {
    param($Started, [int] $TimeoutSeconds = 120)
    if (-not $Started.Process.WaitForExit($TimeoutSeconds * 1000)) {
        Stop-ProcessTree -Id $Started.Process.Id
        throw "geosync (pid $($Started.Process.Id)) did not exit within $TimeoutSeconds s"
    }
    $Started.Process.WaitForExit()
    [pscustomobject]@{ ExitCode = $Started.Process.ExitCode; StdOut = $Started.StdOut.Result; StdErr = $Started.StdErr.Result }
}

function Invoke-FaultGeosync {
    param([string[]] $ArgumentList, [int] $TimeoutSeconds = 120)
    Wait-FaultGeosync -Started (Start-FaultGeosync -ArgumentList $ArgumentList) -TimeoutSeconds $TimeoutSeconds
}

# The live direct children of $Id (ps --ppid).
function Get-ChildProcess {
    param([Parameter(Mandatory)] [int] $Id)
    foreach ($line in (& ps -o pid=,stat= --ppid $Id)) {
        $child, $state = $line.Trim() -split '\s+'
        if ($state -notlike 'Z*') { [int]$child }
    }
}

# The live descendants of $Id, children first.
function Get-ProcessDescendant {
    param([Parameter(Mandatory)] [int] $Id)
    $queue = [Collections.Generic.Queue[int]]::new()
    $queue.Enqueue($Id)
    while ($queue.Count) {
        foreach ($child in Get-ChildProcess -Id $queue.Dequeue()) { $child; $queue.Enqueue($child) }
    }
}

# The command line of a live process as its argv words (empty when it is gone).
function Get-ProcessArgument {
    param([Parameter(Mandatory)] [int] $Id)
    try { @([IO.File]::ReadAllText("/proc/$Id/cmdline").TrimEnd([char]0) -split "`0") } catch { @() }
}

# SIGKILL for $Id and every descendant it has now (snapshot first, so none is re-parented away), then waits until
# they are gone. Only for processes this test started.
function Stop-ProcessTree {
    param([Parameter(Mandatory)] [int] $Id)
    $all = @($Id) + @(Get-ProcessDescendant -Id $Id)
    foreach ($p in $all) { & kill -KILL $p 2>$null }
    $null = Wait-Condition -Seconds 10 { -not @($all | Where-Object { Test-Path -LiteralPath "/proc/$_" }) }
}

# $Directories x $FilesPerDirectory small files (a few bytes each, distinct content) under $Root (created).
function New-SmallFileTree {
    param([Parameter(Mandatory)] [string] $Root, [int] $Directories = 40, [int] $FilesPerDirectory = 500)
    $script = 'set -eu; mkdir -p "$1"; cd "$1"; for d in $(seq 1 $2); do mkdir -p d$d; for f in $(seq 1 $3); do printf "file %d of %d\n" $f $d > d$d/f$f; done; done'
    & bash -c $script bash $Root $Directories $FilesPerDirectory
    if ($LASTEXITCODE -ne 0) { throw "creating the small-file tree in $Root failed" }
}

# The regular files below $Root (rsync temp files included).
function Get-FileCount {
    param([Parameter(Mandatory)] [string] $Root)
    [int](& bash -c 'find "$1" -type f 2>/dev/null | wc -l' bash $Root)
}

# rsync's temp files (".<name>.<6 characters>") left below $Root, relative paths.
function Get-RsyncTempFile {
    param([Parameter(Mandatory)] [string] $Root)
    @(& bash -c 'cd "$1" && find . -type f -name ".*.??????" -printf "%P\n"' bash $Root)
}

# One entry per path below $Root: "type mode size mtime(s) md5" for files, "type mode" for directories, the target for
# symlinks. A hashtable path -> description, built with two find runs and one md5sum batch (fast on 20,000 files).
function Get-TreeListing {
    param([Parameter(Mandatory)] [string] $Root)
    $listing = @{}
    foreach ($line in (& bash -c 'cd "$1" && find . -mindepth 1 -printf "%P\t%y\t%m\t%s\t%Ts\t%l\n"' bash $Root)) {
        $path, $type, $mode, $size, $mtime, $target = $line -split "`t"
        $listing[$path] = switch ($type) {
            'f' { "file $mode $size $mtime" }
            'd' { "dir $mode" }
            'l' { "link -> $target" }
            default { "$type $mode" }
        }
    }
    foreach ($line in (& bash -c 'cd "$1" && find . -type f -printf "%P\0" | xargs -0 -r md5sum --' bash $Root)) {
        if ($line -match '^([0-9a-f]{32})  (.*)$') { $listing[$Matches[2]] += " $($Matches[1])" }
    }
    $listing
}

# The differences between two trees: "missing: p", "extra: p", "differs: p (master | slave)". Empty when they match.
# -Exclude: a regex of relative paths left out on both sides (GlusterFS's own entries in a volume root).
function Compare-Tree {
    param([Parameter(Mandatory)] [string] $Master, [Parameter(Mandatory)] [string] $Slave, [string] $Exclude = '^$')
    $m = Get-TreeListing -Root $Master
    $s = Get-TreeListing -Root $Slave
    foreach ($path in $m.Keys) {
        if ($path -match $Exclude) { continue }
        if (-not $s.ContainsKey($path)) { "missing: $path" }
        elseif ($s[$path] -ne $m[$path]) { "differs: $path ($($m[$path]) | $($s[$path]))" }
    }
    foreach ($path in $s.Keys) { if ($path -notmatch $Exclude -and -not $m.ContainsKey($path)) { "extra: $path" } }
}

# Slave files under their final name whose content is not the master's: a partial file that looks complete. rsync's
# temp files and files not there yet are fine after a kill; these are not.
function Get-IncompleteLookalike {
    param([Parameter(Mandatory)] [string] $Master, [Parameter(Mandatory)] [string] $Slave)
    $m = Get-TreeListing -Root $Master
    $s = Get-TreeListing -Root $Slave
    foreach ($path in $s.Keys) {
        if (-not $s[$path].StartsWith('file ') -or (Split-Path -Leaf $path) -match '^\..+\.[A-Za-z0-9]{6}$') { continue }
        $slaveSum = ($s[$path] -split ' ')[-1]
        if (-not $m.ContainsKey($path) -or ($m[$path] -split ' ')[-1] -ne $slaveSum) { "$path ($($s[$path]))" }
    }
}

# The state file of the only pair in $StateDirectory, or $null.
function Read-FaultState {
    param([Parameter(Mandatory)] [string] $StateDirectory)
    # The pair's failure ledger (*.failures.json) lives beside its state file.
    $file = Get-ChildItem -LiteralPath $StateDirectory -Filter '*.json' -File -ErrorAction SilentlyContinue |
        Where-Object Name -NotLike '*.failures.json' | Select-Object -First 1
    if (-not $file) { return $null }
    try { Get-Content -LiteralPath $file.FullName -Raw | ConvertFrom-Json } catch { $null }
}

# Mounts a tmpfs with these options (e.g. 'size=512k', 'nr_inodes=60') on $Path (created); returns the path.
function Mount-FaultTmpfs {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Options)
    $null = New-Item -ItemType Directory -Path $Path -Force
    & mount -t tmpfs -o $Options geosync-fault $Path
    if ($LASTEXITCODE -ne 0) { throw "mount -t tmpfs -o $Options on $Path failed" }
    $Path
}

function Update-FaultTmpfs {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Options)
    & mount -o "remount,$Options" $Path
    if ($LASTEXITCODE -ne 0) { throw "mount -o remount,$Options $Path failed" }
}

# Unmounts a Mount-FaultTmpfs mount (only a tmpfs of ours) and removes the empty mount point.
function Dismount-FaultTmpfs {
    param([string] $Path)
    if (-not $Path -or -not (Test-Path -LiteralPath $Path)) { return }
    $mounted = & findmnt -n -o FSTYPE,SOURCE --mountpoint $Path
    if ($mounted -match '^tmpfs\s+geosync-fault$') { & umount $Path }
    [IO.Directory]::Delete($Path)
}

# Starts the loopback sshd fixture (tests/fixtures/sshd); returns its env as a hashtable (PORT, PID, CLIENT_KEY, ...).
function Start-FaultSshd {
    $fixture = Join-Path $PSScriptRoot '../fixtures/sshd/sshd-fixture.sh'
    $sshd = @{}
    foreach ($line in (& bash $fixture start 2>$null)) {
        if ($line -match '^GEOSYNC_SSHD_(\w+)=(.*)$') { $sshd[$Matches[1]] = $Matches[2].Trim("'") }
    }
    if (-not $sshd.Contains('HOME')) { throw "the sshd fixture did not start ($fixture start); it needs root and openssh" }
    $sshd
}

function Stop-FaultSshd {
    param([hashtable] $Sshd)
    if ($Sshd -and $Sshd.Contains('HOME')) { & bash (Join-Path $PSScriptRoot '../fixtures/sshd/sshd-fixture.sh') stop $Sshd.HOME 2>$null }
}

# The geosync master arguments for an ssh:// slave on the fixture, remote side the geosync the build laid out.
function Get-SshSlaveArgument {
    param([Parameter(Mandatory)] [hashtable] $Sshd, [Parameter(Mandatory)] [string] $Master, [Parameter(Mandatory)] [string] $Slave)
    'master', "file://$Master", "ssh://root@127.0.0.1:$Slave", '--ssh-command', 'ssh -F none', '--ssh-port', $Sshd.PORT,
    '--identity-file', $Sshd.CLIENT_KEY, '--known-hosts-file', $Sshd.KNOWN_HOSTS, '--remote-command', "$Geosync slave"
}
