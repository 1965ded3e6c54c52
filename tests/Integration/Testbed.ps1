# Helpers for the live GlusterFS tests (tag 'Gluster'): the testbed's env file (tests/testbed/README.md) and the mount
# table. Dot-source it in BeforeDiscovery and in BeforeAll.

# The testbed dir: $env:GEOSYNC_TESTBED_DIR, or the testbed script's default.
function Get-GlusterTestbedDirectory {
    if ($env:GEOSYNC_TESTBED_DIR) { $env:GEOSYNC_TESTBED_DIR } else { '/var/tmp/geosync-testbed' }
}

# True when the Gluster tests must be skipped: no testbed here and not in CI. In CI a missing testbed is a failure
# (Import-GlusterTestbed throws), never a skip.
function Test-SkipGlusterTest {
    $envFile = Join-Path (Get-GlusterTestbedDirectory) 'env'
    if ((Test-Path -LiteralPath $envFile) -or $env:CI -eq 'true') { return $false }
    Write-Warning ("Skipping the GlusterFS tests: no testbed env file at $envFile. Bring one up with " +
        "'tests/testbed/testbed.sh up' (as root), or set GEOSYNC_TESTBED_DIR.")
    $true
}

# The env file as a hashtable without the GEOSYNC_TB_ prefix (SERVER, NETNS, MVOL_ID, ...).
function Import-GlusterTestbed {
    $envFile = Join-Path (Get-GlusterTestbedDirectory) 'env'
    if (-not (Test-Path -LiteralPath $envFile)) {
        throw "The GlusterFS testbed env file $envFile is missing. Run 'tests/testbed/testbed.sh up' as root before the " +
            "integration tests (CI requires it), or set GEOSYNC_TESTBED_DIR to the testbed dir."
    }
    if ((& id -u) -ne '0') { throw 'The GlusterFS tests need root: they mount FUSE file systems and enter a network namespace.' }
    $testbed = @{}
    foreach ($line in Get-Content -LiteralPath $envFile) {
        if ($line -match '^\s*(#|$)') { continue }
        $key, $value = $line -split '=', 2
        if ($value.Length -ge 2 -and $value.StartsWith("'") -and $value.EndsWith("'")) { $value = $value.Substring(1, $value.Length - 2) }
        $testbed[$key -replace '^GEOSYNC_TB_', ''] = $value
    }
    $testbed
}

# The FUSE mounts of this mount namespace: Source, MountPoint (unescaped), Type.
function Get-FuseMount {
    foreach ($line in Get-Content -LiteralPath /proc/self/mountinfo) {
        $fields = $line -split ' '
        $separator = [array]::IndexOf($fields, '-', 6)
        if ($separator -lt 0 -or $fields[$separator + 1] -notlike 'fuse*') { continue }
        $point = [regex]::Replace($fields[4], '\\([0-7]{3})', { param($m) [string][char][Convert]::ToInt32($m.Groups[1].Value, 8) })
        [pscustomobject]@{ Source = $fields[$separator + 2]; MountPoint = $point; Type = $fields[$separator + 1] }
    }
}

# Polls $Condition every 100 ms for at most $Seconds; returns whether it became true.
function Wait-Condition {
    param([Parameter(Mandatory)] [scriptblock] $Condition, [double] $Seconds = 5)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while ($clock.Elapsed.TotalSeconds -lt $Seconds) {
        if (& $Condition) { return $true }
        Start-Sleep -Milliseconds 100
    }
    [bool](& $Condition)
}

# argv prefix that starts a fresh pwsh like this one (under `dotnet pwsh` the process is dotnet and needs pwsh.dll).
function Get-PwshCommand {
    $exe = [Environment]::ProcessPath
    if ((Split-Path -Leaf $exe) -like 'dotnet*') { @($exe, (Join-Path $PSHOME 'pwsh.dll')) } else { @($exe) }
}

# A normal (xtime-stamping) FUSE mount of a testbed volume, as an application writes through it, on
# <MOUNT_DIR>/<Name> with its log in <LOG_DIR>/<Name>.log; returns the mount point.
function Mount-TestbedVolume {
    param(
        [Parameter(Mandatory)] [hashtable] $Testbed,
        [Parameter(Mandatory)] [string] $Volume,
        [Parameter(Mandatory)] [string] $Name
    )
    $point = Join-Path $Testbed.MOUNT_DIR $Name
    $null = New-Item -ItemType Directory -Path $point -Force
    & nsenter "--net=$($Testbed.NETNS_PATH)" glusterfs "--volfile-server=$($Testbed.SERVER)" "--volfile-id=$Volume" `
        "--log-file=$(Join-Path $Testbed.LOG_DIR "$Name.log")" $point
    if ($LASTEXITCODE -ne 0) { throw "mounting $Volume on $point failed (exit $LASTEXITCODE)" }
    if (-not (Wait-Condition { @(Get-FuseMount).MountPoint -contains $point } -Seconds 10)) { throw "$point never mounted" }
    $point
}

# Undoes Mount-TestbedVolume: a lazy unmount when still mounted, then removes the (empty) mount point. Never
# recursive: a mount left behind must fail loudly, not have its volume's files deleted.
function Dismount-TestbedVolume {
    param([string] $MountPoint)
    if (-not $MountPoint) { return }
    if (@(Get-FuseMount).MountPoint -contains $MountPoint) {
        & umount -l $MountPoint
        if (-not (Wait-Condition { @(Get-FuseMount).MountPoint -notcontains $MountPoint })) { throw "$MountPoint is still mounted" }
    }
    if (Test-Path -LiteralPath $MountPoint) { [IO.Directory]::Delete($MountPoint) }
}

# The bricks of a testbed volume from `gluster volume status <vol> --xml`: Path, ProcessId (0 when down), Online.
# Self-heal daemons (path "localhost") are left out.
function Get-TestbedBrick {
    param([Parameter(Mandatory)] [hashtable] $Testbed, [Parameter(Mandatory)] [string] $Volume)
    $xml = [xml]((& $Testbed.GLUSTER volume status $Volume --xml) -join "`n")
    if ($LASTEXITCODE -ne 0 -or $xml.cliOutput.opRet -ne '0') { throw "gluster volume status $Volume --xml failed: $($xml.cliOutput.opErrstr)" }
    foreach ($node in $xml.cliOutput.volStatus.volumes.volume.node) {
        if (-not $node.path.StartsWith('/')) { continue }
        [pscustomobject]@{ Path = $node.path; ProcessId = [int]$node.pid; Online = $node.status -eq '1' }
    }
}

# Kills (SIGKILL, as a crash) the brick processes of $Volume serving $Brick (brick directories), by the pids glusterd
# reports. Only processes of this testbed are signalled: the glusterfsd binary, in the testbed's network namespace, with
# that brick on its command line. Waits until they are gone and glusterd shows the bricks offline.
function Stop-TestbedBrick {
    param([Parameter(Mandatory)] [hashtable] $Testbed, [Parameter(Mandatory)] [string] $Volume, [Parameter(Mandatory)] [string[]] $Brick)
    $bricks = @(Get-TestbedBrick -Testbed $Testbed -Volume $Volume)
    $netns = (Get-Item -LiteralPath $Testbed.NETNS_PATH)
    foreach ($path in $Brick) {
        $entry = $bricks | Where-Object Path -EQ $path
        if (-not $entry) { throw "$path is not a brick of $Volume (its bricks: $($bricks.Path -join ', '))" }
        if (-not $entry.Online -or $entry.ProcessId -le 0) { throw "brick $path of $Volume is not running" }
        $id = $entry.ProcessId
        $commandLine = (Get-Content -LiteralPath "/proc/$id/cmdline" -Raw) -split "`0"
        $sameNetns = (& stat -L -c '%d:%i' "/proc/$id/ns/net") -eq (& stat -L -c '%d:%i' $netns.FullName)
        if ((Split-Path -Leaf $commandLine[0]) -ne 'glusterfsd' -or $commandLine -notcontains $path -or -not $sameNetns) {
            throw "pid $id is not the testbed's brick process for $path ($($commandLine -join ' ')); not killing it"
        }
        & kill -KILL $id
        if (-not (Wait-Condition { -not (Test-Path -LiteralPath "/proc/$id") } -Seconds 10)) { throw "brick process $id ($path) did not die" }
    }
    $down = Wait-Condition -Seconds 30 {
        $now = @(Get-TestbedBrick -Testbed $Testbed -Volume $Volume)
        -not @($now | Where-Object { $Brick -contains $_.Path -and $_.Online })
    }
    if (-not $down) { throw "glusterd still shows bricks $($Brick -join ', ') of $Volume online" }
}

# Brings back the bricks of $Volume that are down (`gluster volume start <vol> force`) and waits until all are online.
function Start-TestbedBrick {
    param([Parameter(Mandatory)] [hashtable] $Testbed, [Parameter(Mandatory)] [string] $Volume)
    $out = & $Testbed.GLUSTER volume start $Volume force 2>&1
    if ($LASTEXITCODE -ne 0) { throw "gluster volume start $Volume force failed: $out" }
    $up = Wait-Condition -Seconds 60 { -not @(Get-TestbedBrick -Testbed $Testbed -Volume $Volume | Where-Object { -not $_.Online }) }
    if (-not $up) { throw "bricks of $Volume still offline after gluster volume start $Volume force" }
}

# The number of entries `gluster volume heal <vol> info` lists as needing heal (replicated and dispersed volumes), or
# -1 when a brick is not connected (the count would be incomplete). The CLI runs glfsheal for this, which asks the
# default glusterd socket for the volfile ("Not able to fetch volfile from glusterd" on the testbed); glfsheal is run
# here directly with the testbed's private socket, in its namespace.
function Get-TestbedHealCount {
    param([Parameter(Mandatory)] [hashtable] $Testbed, [Parameter(Mandatory)] [string] $Volume)
    $glfsheal = '/usr/lib/x86_64-linux-gnu/glusterfs/glfsheal'
    $lines = & nsenter "--net=$($Testbed.NETNS_PATH)" $glfsheal $Volume glusterd-sock $Testbed.GLUSTERD_SOCK 2>&1
    if ($LASTEXITCODE -ne 0) { return -1 }
    $status = @($lines | Where-Object { $_ -match '^Status: ' })
    if (-not $status -or @($status | Where-Object { $_ -ne 'Status: Connected' })) { return -1 }
    $sum = 0
    foreach ($line in $lines) { if ($line -match '^Number of entries: (\d+)$') { $sum += [int]$Matches[1] } }
    $sum
}

# Starts an index heal and waits until `gluster volume heal <vol> info` lists zero entries on every connected brick;
# throws with the remaining count after $Seconds.
function Wait-TestbedHeal {
    param([Parameter(Mandatory)] [hashtable] $Testbed, [Parameter(Mandatory)] [string] $Volume, [double] $Seconds = 120)
    $null = & $Testbed.GLUSTER volume heal $Volume 2>&1
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $last = -1
    while ($clock.Elapsed.TotalSeconds -lt $Seconds) {
        $last = Get-TestbedHealCount -Testbed $Testbed -Volume $Volume
        if ($last -eq 0) { return }
        # The self-heal daemon crawls its index every heal-timeout (600 s by default); ask it again now and then.
        if ([int]$clock.Elapsed.TotalSeconds % 10 -eq 9) { $null = & $Testbed.GLUSTER volume heal $Volume 2>&1 }
        Start-Sleep -Milliseconds 500
    }
    throw "self-heal of $Volume is not clean after $Seconds s: heal info lists $last entries (-1: a brick not connected)"
}
