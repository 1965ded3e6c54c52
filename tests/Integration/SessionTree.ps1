# Helpers for the end-to-end session tests: a sample tree with every kind of entry and attribute the crawl carries, the
# changes a second turn must carry, and a manifest of a tree to compare master and slave by. Dot-source in BeforeAll.

# Builds the sample tree under $Root (created): nested and empty directories, names with blanks and non-ASCII, empty,
# small and 1 MiB files, modes, numeric owners (on files, directories and a symlink), an old mtime, relative, absolute,
# dangling and upward symlinks, and user.* xattrs on a file (and on a directory, which replication does not carry).
function New-SampleTree {
    param([Parameter(Mandatory)] [string] $Root)
    $script = @'
set -eu
r=$1
mkdir -p "$r/a/b/c" "$r/empty-dir" "$r/sp ace" "$r/ünï"
printf 'one\n' > "$r/a/one.txt"
head -c 100000 /dev/urandom > "$r/a/b/two.bin"
printf 'three' > "$r/a/b/c/three"
printf 'spaced' > "$r/sp ace/file with space"
printf 'unicode' > "$r/ünï/naïve.txt"
: > "$r/empty.txt"
head -c 1048576 /dev/urandom > "$r/big.bin"
ln -s a/one.txt "$r/link-rel"
ln -s /etc/hostname "$r/link-abs"
ln -s nowhere/at/all "$r/link-dangling"
ln -s ../../a "$r/a/b/link-up"
chmod 0600 "$r/a/one.txt"
chmod 0755 "$r/a/b/c/three"
chmod 0640 "$r/empty.txt"
chmod 0750 "$r/a/b"
chown 1234:5678 "$r/a/b/two.bin"
chown 2000:2001 "$r/a/b"
chown -h 4321:8765 "$r/link-rel"
setfattr -n user.color -v blue "$r/a/one.txt"
setfattr -n user.note -v directory "$r/a"
touch -d '2020-01-02 03:04:05' "$r/a/one.txt"
'@
    & bash -c $script bash $Root
    if ($LASTEXITCODE -ne 0) { throw "building the sample tree in $Root failed (exit $LASTEXITCODE)" }
}

# The changes the next turn must carry; returns the files whose data it must send again.
function Set-SampleTreeChange {
    param([Parameter(Mandatory)] [string] $Root)
    $script = @'
set -eu
r=$1
printf 'more\n' >> "$r/a/one.txt"
printf 'new\n' > "$r/new.txt"
rm "$r/a/b/c/three"
mv "$r/a/b/two.bin" "$r/a/b/two-renamed.bin"
chmod 0604 "$r/empty.txt"
mkdir -p "$r/deep/1/2/3/4"
printf 'leaf' > "$r/deep/1/2/3/4/leaf.txt"
'@
    & bash -c $script bash $Root
    if ($LASTEXITCODE -ne 0) { throw "changing the sample tree in $Root failed (exit $LASTEXITCODE)" }
    # The chmod'ed file too: a mode change stamps it, and rsync -a carries the mode.
    'a/one.txt', 'new.txt', 'a/b/two-renamed.bin', 'empty.txt', 'deep/1/2/3/4/leaf.txt'
}

# Adds $Count files of $Size bytes under $Root/$Directory: data that takes rsync a while.
function New-BulkData {
    param([Parameter(Mandatory)] [string] $Root, [string] $Directory = 'bulk', [int] $Count = 120, [int] $Size = 262144)
    & bash -c 'set -eu; mkdir -p "$1/$2"; for i in $(seq 1 $3); do head -c $4 /dev/urandom > "$1/$2/f$i"; done' bash $Root $Directory $Count $Size
    if ($LASTEXITCODE -ne 0) { throw "writing bulk data into $Root/$Directory failed (exit $LASTEXITCODE)" }
}

# One line per entry below $Root (and $Root itself as '.'): type, mode and numeric owner; for files size, whole-second
# mtime and MD5 of the content; for symlinks the target; with -Xattrs the user.* attributes of files.
function Get-TreeManifest {
    param([Parameter(Mandatory)] [string] $Root, [switch] $Xattrs)
    $lines = & find $Root -printf '%P\t%y\t%m\t%U:%G\t%s\t%T@\t%l\n'
    if ($LASTEXITCODE -ne 0) { throw "listing $Root failed (exit $LASTEXITCODE)" }
    foreach ($line in $lines) {
        $name, $type, $mode, $owner, $size, $mtime, $target = $line -split "`t"
        if (-not $name) { $name = '.' }
        $path = if ($name -eq '.') { $Root } else { Join-Path $Root $name }
        $entry = switch ($type) {
            'f' { "$name file $mode $owner $size $([math]::Floor([double]$mtime)) $((Get-FileHash -LiteralPath $path -Algorithm MD5).Hash)" }
            'd' { "$name dir $mode $owner" }
            'l' { "$name link $owner -> $target" }
            default { "$name $type" }
        }
        # Directories are made by the slave's mkdir, which carries no xattrs (as in gsyncd); rsync carries files'.
        if ($Xattrs -and $type -eq 'f') {
            $attributes = & getfattr --absolute-names -d -m '^user\.' -e hex $path 2>$null | Where-Object { $_ -match '^user\.' }
            if ($attributes) { $entry += " xattrs[$(($attributes | Sort-Object) -join ',')]" }
        }
        $entry
    }
}

# Asserts that two trees have the same manifest, listing what differs.
function Assert-SameTree {
    param([Parameter(Mandatory)] [string] $Master, [Parameter(Mandatory)] [string] $Slave, [switch] $Xattrs)
    $expected = @(Get-TreeManifest -Root $Master -Xattrs:$Xattrs | Sort-Object)
    $actual = @(Get-TreeManifest -Root $Slave -Xattrs:$Xattrs | Sort-Object)
    $expected.Count | Should -BeGreaterThan 1 -Because "the master tree $Master must not be empty"
    $differences = Compare-Object -ReferenceObject $expected -DifferenceObject $actual |
        ForEach-Object { "$(if ($_.SideIndicator -eq '<=') { 'master only' } else { 'slave only ' }): $($_.InputObject)" }
    $differences | Should -BeNullOrEmpty -Because "$Slave must equal $Master"
}

# Polls until the condition holds or the time is up; returns whether it held.
function Wait-Until {
    param([Parameter(Mandatory)] [scriptblock] $Condition, [double] $Seconds = 10)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while ($clock.Elapsed.TotalSeconds -lt $Seconds) {
        if (& $Condition) { return $true }
        Start-Sleep -Milliseconds 20
    }
    [bool](& $Condition)
}
