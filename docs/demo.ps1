#requires -Version 7.4
<#
.SYNOPSIS
    GeoSync's main job, end to end on this machine: a GlusterFS volume replicated to another volume and, over ssh, to a
    directory; run by `bash build.sh -Task Demo` (the README's first command).
.DESCRIPTION
    1. Brings up the GlusterFS testbed (tests/testbed/testbed.sh; a healthy one is reused and left up).
    2. Fills a sample tree into the master volume mvol through a normal GlusterFS mount, so the marker stamps it.
    3. Replicates mvol to the volume svol (a gluster slave served in this process) and to a directory over ssh on
       loopback (a throw-away sshd with its own keys; the slave side is `geosync slave`), one Invoke-GeoSyncMaster -Once
       turn each, and prints what each turn synced.
    4. Changes the master (edits, a new file, a deletion, a rename, a deep mkdir) and runs one more turn per slave,
       which sends only what changed.
    5. Checks that both replicas equal the master (types, modes, owners, sizes, mtimes, content, link targets) and prints
       the replicated tree and the loops' status.
    6. Removes what it started: the sample tree from both volumes, the mounts, the sshd, its files, and the testbed
       when it brought it up.
    Needs root (FUSE mounts, a network namespace, sshd).
.PARAMETER ModulePath
    The built module manifest (out/GeoSync/GeoSync.psd1).
.PARAMETER HostPath
    The built geosync executable (out/geosync/geosync): the slave the ssh session starts on the "remote" host.
.EXAMPLE
    bash build.sh -Task Demo
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $HostPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if (-not [Environment]::IsPrivilegedProcess) {
    throw 'The demo needs root: it mounts GlusterFS volumes (FUSE), enters a network namespace and starts an sshd. Run it as root.'
}
$repo = Split-Path -Parent $PSScriptRoot
$HostPath = (Resolve-Path -LiteralPath $HostPath).Path
Import-Module (Resolve-Path -LiteralPath $ModulePath).Path -Force

function Write-Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

# One line per entry: path, type, mode, owner, and for files size, mtime and MD5, for links the target.
function Get-Manifest([string] $Root) {
    $lines = & find $Root -mindepth 1 -printf '%P\t%y\t%m\t%U:%G\t%s\t%T@\t%l\n'
    if ($LASTEXITCODE -ne 0) { throw "listing $Root failed (exit $LASTEXITCODE)" }
    foreach ($line in $lines) {
        $name, $type, $mode, $owner, $size, $mtime, $target = $line -split "`t"
        switch ($type) {
            'f' { "$name file $mode $owner $size $([math]::Floor([double]$mtime)) $((Get-FileHash -LiteralPath (Join-Path $Root $name) -Algorithm MD5).Hash)" }
            'd' { "$name dir $mode $owner" }
            'l' { "$name link $owner -> $target" }
            default { "$name $type" }
        }
    }
}

function Assert-SameTree([string] $Master, [string] $Replica, [string] $Label) {
    $expected = @(Get-Manifest $Master | Sort-Object)
    $actual = @(Get-Manifest $Replica | Sort-Object)
    $differences = @(Compare-Object -ReferenceObject $expected -DifferenceObject $actual)
    if ($differences) {
        $text = ($differences | ForEach-Object { "  $(if ($_.SideIndicator -eq '<=') { 'master only' } else { 'replica only' }): $($_.InputObject)" }) -join "`n"
        throw "$Label differs from the master:`n$text"
    }
    Write-Host ("{0,-16} identical to the master: {1} entries (type, mode, owner, size, mtime, MD5, link target)" -f $Label, $expected.Count) -ForegroundColor Green
}

function Show-Turn([object[]] $Turns, [string] $Label) {
    foreach ($turn in $Turns) {
        Write-Host ("{0,-16} turn {1}: {2} files ({3:N0} bytes) synced, {4} entries created, {5} purged, {6} failures, {7:N2} s" -f
            $Label, $turn.Turn, $turn.FilesSynced, $turn.BytesSynced, $turn.EntriesCreated, $turn.EntriesPurged, $turn.Failures.Count, $turn.Duration.TotalSeconds)
    }
}

$testbedScript = Join-Path $repo 'tests/testbed/testbed.sh'
$sshdFixture = Join-Path $repo 'tests/fixtures/sshd/sshd-fixture.sh'
$startedTestbed = $false
$normal = $null
$svolView = $null
$sshd = @{}
$work = $null
$savedTmpDir = $env:TMPDIR
$tree = "geosync-demo-$PID"

try {
    Write-Step 'GlusterFS testbed (tests/testbed/testbed.sh)'
    & bash $testbedScript status *> $null
    if ($LASTEXITCODE -eq 0) {
        Write-Host 'A healthy testbed is up; using it (it stays up).'
    }
    else {
        Write-Host 'Bringing it up: glusterd in the network namespace geosync-tb, volumes mvol (indexing on), svol and dvol.'
        & bash $testbedScript up > $null
        if ($LASTEXITCODE -ne 0) { throw "bringing up the testbed failed ($testbedScript up exited $LASTEXITCODE)" }
        $startedTestbed = $true
    }
    $tbDir = if ($env:GEOSYNC_TESTBED_DIR) { $env:GEOSYNC_TESTBED_DIR } else { '/var/tmp/geosync-testbed' }
    $tb = @{}
    foreach ($line in Get-Content -LiteralPath (Join-Path $tbDir 'env')) {
        if ($line -match '^GEOSYNC_TB_(\w+)=(.*)$') { $tb[$Matches[1]] = $Matches[2].Trim("'") }
    }
    Write-Host "glusterd $($tb.SERVER) (GlusterFS $($tb.GLUSTER_VERSION)), master volume $($tb.MVOL) $($tb.MVOL_ID), slave volume $($tb.SVOL)"

    # Everything of this run lives under the testbed's mount dir, where `testbed.sh down` would find leftovers.
    $work = (New-Item -ItemType Directory -Path (Join-Path $tb.MOUNT_DIR "demo-$PID")).FullName
    $env:TMPDIR = (New-Item -ItemType Directory -Path (Join-Path $work 'tmp')).FullName

    Write-Step "Sample tree in $($tb.MVOL), written through a normal GlusterFS mount"
    $normal = (New-Item -ItemType Directory -Path (Join-Path $work 'mvol')).FullName
    & nsenter "--net=$($tb.NETNS_PATH)" glusterfs "--volfile-server=$($tb.SERVER)" "--volfile-id=$($tb.MVOL)" "--log-file=$(Join-Path $tb.LOG_DIR "demo-$PID-mvol.log")" $normal
    if ($LASTEXITCODE -ne 0) { throw "mounting $($tb.MVOL) on $normal failed (exit $LASTEXITCODE)" }
    $sample = Join-Path $normal $tree
    & bash -c @'
set -eu
r=$1
mkdir -p "$r/docs/drafts" "$r/photos/2024/summer" "$r/empty" "$r/logs"
printf 'GeoSync replicates this tree.\n' > "$r/README.txt"
for i in $(seq 1 40); do printf 'note %d\n' "$i" > "$r/docs/note-$i.txt"; done
printf 'draft\n' > "$r/docs/drafts/plan.md"
for i in 1 2 3 4 5; do head -c $((i * 65536)) /dev/urandom > "$r/photos/2024/summer/img-$i.jpg"; done
head -c 2097152 /dev/urandom > "$r/logs/big.log"
ln -s docs/drafts/plan.md "$r/plan-link"
chmod 0600 "$r/docs/drafts/plan.md"
chown 1000:1000 "$r/photos"
touch -d '2021-06-01 12:00:00' "$r/README.txt"
'@ bash $sample
    if ($LASTEXITCODE -ne 0) { throw "writing the sample tree failed (exit $LASTEXITCODE)" }
    $files = @(Get-ChildItem -LiteralPath $sample -Recurse -File | Where-Object { -not $_.LinkType })
    Write-Host ("mvol:/$tree has {0} files ({1:N0} bytes), {2} directories and a symlink" -f $files.Count, ($files | Measure-Object -Property Length -Sum).Sum, @(Get-ChildItem -LiteralPath $sample -Recurse -Directory).Count)

    Write-Step 'A loopback sshd with its own keys (tests/fixtures/sshd/sshd-fixture.sh) for the ssh slave'
    foreach ($line in (& bash $sshdFixture start 2>$null)) {
        if ($line -match '^GEOSYNC_SSHD_(\w+)=(.*)$') { $sshd[$Matches[1]] = $Matches[2].Trim("'") }
    }
    if (-not $sshd.Contains('HOME')) { throw "the sshd fixture did not start ($sshdFixture start)" }
    $sshReplica = (New-Item -ItemType Directory -Path (Join-Path $work 'ssh-replica')).FullName
    Write-Host "sshd on 127.0.0.1:$($sshd.PORT); the replica directory is $sshReplica"

    $masterUrl = "gluster://$($tb.SERVER):$($tb.MVOL)"
    $svolUrl = "gluster://$($tb.SERVER):$($tb.SVOL)"
    $sshUrl = "ssh://root@127.0.0.1:$sshReplica"
    $loop = @{ Once = $true; StateDirectory = (Join-Path $work 'state'); Timeout = 30; NetworkNamespace = $tb.NETNS; GlusterLogDirectory = $tb.LOG_DIR }
    $overSsh = @{
        SshCommand = 'ssh -F none'; SshPort = [int]$sshd.PORT; IdentityFile = $sshd.CLIENT_KEY; KnownHostsFile = $sshd.KNOWN_HOSTS
        RemoteCommand = @($HostPath, 'slave')
    }

    Write-Step "First sync: Invoke-GeoSyncMaster -Once from $masterUrl to $svolUrl and to $sshUrl"
    Show-Turn (Invoke-GeoSyncMaster -Master $masterUrl -Slave $svolUrl @loop) "mvol -> svol"
    Show-Turn (Invoke-GeoSyncMaster -Master $masterUrl -Slave $sshUrl @loop @overSsh) "mvol -> ssh dir"

    Write-Step 'A change on the master: an edit, a new file, a deletion, a rename, a chmod and a deep mkdir'
    & bash -c @'
set -eu
r=$1
printf 'edited\n' >> "$r/docs/note-7.txt"
printf 'fresh\n' > "$r/docs/new.txt"
rm "$r/docs/note-40.txt"
mv "$r/photos/2024/summer/img-5.jpg" "$r/photos/2024/summer/img-5-renamed.jpg"
chmod 0644 "$r/docs/drafts/plan.md"
mkdir -p "$r/deep/a/b/c"
printf 'leaf\n' > "$r/deep/a/b/c/leaf.txt"
'@ bash $sample
    if ($LASTEXITCODE -ne 0) { throw "changing the sample tree failed (exit $LASTEXITCODE)" }
    Write-Host 'The next turn sends only the changed files: note-7, new, img-5-renamed, plan.md (its mode) and leaf.'
    Show-Turn (Invoke-GeoSyncMaster -Master $masterUrl -Slave $svolUrl @loop) "mvol -> svol"
    Show-Turn (Invoke-GeoSyncMaster -Master $masterUrl -Slave $sshUrl @loop @overSsh) "mvol -> ssh dir"

    Write-Step 'The replicas compared with the master'
    $svolView = Mount-GlusterAux -Volume $tb.SVOL -Server $tb.SERVER -NetworkNamespace $tb.NETNS -LogFile (Join-Path $tb.LOG_DIR "demo-$PID-svol.log")
    Assert-SameTree -Master $sample -Replica (Join-Path $svolView.MountPoint $tree) -Label 'svol' 
    Assert-SameTree -Master $sample -Replica (Join-Path $sshReplica $tree) -Label 'ssh dir' 

    Write-Step "What was synced: the replicated tree, svol:/$tree"
    $replicated = Join-Path $svolView.MountPoint $tree
    @(Get-Item -LiteralPath $replicated) + @(Get-ChildItem -LiteralPath $replicated -Recurse -Directory) | ForEach-Object {
        $entries = @(Get-ChildItem -LiteralPath $_.FullName -Force)
        $regular = @($entries | Where-Object { -not $_.PSIsContainer -and -not $_.LinkType })
        [pscustomobject]@{
            Directory = [IO.Path]::GetRelativePath($svolView.MountPoint, $_.FullName)
            Mode      = $_.UnixMode
            Files     = $regular.Count
            Bytes     = [long]([Linq.Enumerable]::Sum([long[]]@($regular | ForEach-Object Length)))
            Symlinks  = (@($entries | Where-Object LinkType | ForEach-Object { "$($_.Name) -> $($_.Target)" }) -join ', ')
        }
    } | Sort-Object -Property Directory | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

    Write-Step 'The loops as `geosync status` shows them (Get-GeoSyncStatus)'
    Get-GeoSyncStatus -StateDirectory $loop.StateDirectory |
        Format-Table -AutoSize -Property Slave, State, TurnsCompleted, FilesSynced, BytesSynced, LastError |
        Out-String -Width 200 | Write-Host
    Write-Host 'Done: mvol is replicated to svol and, over ssh, to a directory.' -ForegroundColor Green
}
finally {
    Write-Step 'Cleaning up what the demo started'
    Get-GeoSyncSession | Stop-GeoSyncSession -Confirm:$false
    if ($normal -and (Test-Path -LiteralPath (Join-Path $normal $tree))) { Remove-Item -LiteralPath (Join-Path $normal $tree) -Recurse -Force }
    if ($svolView) {
        if (Test-Path -LiteralPath (Join-Path $svolView.MountPoint $tree)) { Remove-Item -LiteralPath (Join-Path $svolView.MountPoint $tree) -Recurse -Force }
        $svolView | Dismount-GlusterAux
    }
    if ($normal) { & umount -l $normal 2>$null }
    if ($sshd.Contains('HOME')) { & bash $sshdFixture stop $sshd.HOME 2>$null }
    $env:TMPDIR = $savedTmpDir
    if ($work -and (Test-Path -LiteralPath $work)) { Remove-Item -LiteralPath $work -Recurse -Force }
    if ($startedTestbed) {
        & bash $testbedScript down > $null
        if ($LASTEXITCODE -ne 0) { Write-Warning "taking the testbed down failed ($testbedScript down exited $LASTEXITCODE)" }
    }
    Write-Host 'Removed the sample tree from mvol and svol, the mounts, the sshd and the demo files.'
}
