# Reads and writes extended attributes through python3's os.*xattr, an implementation independent of the module under
# test, so the tests check the bytes GeoSync writes and decode bytes GeoSync did not write. Symlinks are never followed.

function Set-TestXattr {
    param(
        [Parameter(Mandatory)] [string] $LiteralPath,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [AllowEmptyString()] [string] $Hex
    )
    & python3 -c 'import os, sys; os.setxattr(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), follow_symlinks=False)' $LiteralPath $Name $Hex
    if ($LASTEXITCODE -ne 0) { throw "python3 could not set $Name on '$LiteralPath'" }
}

# The attribute's value as upper-case hex, or $null when the path does not have it.
function Get-TestXattr {
    param(
        [Parameter(Mandatory)] [string] $LiteralPath,
        [Parameter(Mandatory)] [string] $Name
    )
    $script = @'
import errno, os, sys
try:
    print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex().upper())
except OSError as e:
    if e.errno != errno.ENODATA:
        raise
    print('-')
'@
    $hex = & python3 -c $script $LiteralPath $Name
    if ($LASTEXITCODE -ne 0) { throw "python3 could not read $Name of '$LiteralPath'" }
    if ($hex -eq '-') { $null } else { "$hex" }
}

# The 8-byte xtime encoding (big-endian u32 seconds, u32 microseconds) as hex.
function ConvertTo-XtimeHex {
    param([uint32] $Seconds, [uint32] $Microseconds)
    '{0:X8}{1:X8}' -f $Seconds, $Microseconds
}

# A volume mark as hex: 27 bytes, or 31 with an expiry (docs/protocol.md, "Extended attributes: names and layouts").
function ConvertTo-VolumeMarkHex {
    param(
        [guid] $VolumeId,
        [byte] $Retval = 0,
        [uint32] $Seconds,
        [uint32] $Microseconds,
        [Nullable[uint32]] $Expiry,
        [byte] $Major = 1,
        [byte] $Minor = 0
    )
    $hex = '{0:X2}{1:X2}{2}{3:X2}{4}' -f $Major, $Minor, $VolumeId.ToString('N').ToUpperInvariant(), $Retval, (ConvertTo-XtimeHex $Seconds $Microseconds)
    if ($null -ne $Expiry) { $hex += '{0:X8}' -f $Expiry }
    $hex
}

# One line per entry of a tree, the root included, in name order: path, mode, owner, size, mtime in nanoseconds, the
# content's SHA-256 or the link's target, and every extended attribute with its value. Two listings are equal only when
# the trees are byte-for-byte and xattr-for-xattr the same (access times aside). Symlinks are never followed.
function Get-TreeChecksum {
    param([Parameter(Mandatory)] [string] $LiteralPath)
    $script = @'
import hashlib, os, stat, sys
def describe(path, rel):
    st = os.lstat(path)
    content = ''
    if stat.S_ISREG(st.st_mode):
        with open(path, 'rb') as f:
            content = hashlib.sha256(f.read()).hexdigest()
    elif stat.S_ISLNK(st.st_mode):
        content = '-> ' + os.readlink(path).decode('utf-8', 'backslashreplace')
    xattrs = sorted((n, os.getxattr(path, n, follow_symlinks=False).hex()) for n in os.listxattr(path, follow_symlinks=False))
    print(rel.decode('utf-8', 'backslashreplace'), oct(st.st_mode), '%d:%d' % (st.st_uid, st.st_gid), st.st_size, st.st_mtime_ns, content, xattrs)
    if stat.S_ISDIR(st.st_mode):
        for name in sorted(os.listdir(path)):
            describe(os.path.join(path, name), os.path.join(rel, name))
describe(os.fsencode(sys.argv[1]), b'.')
'@
    $lines = & python3 -c $script $LiteralPath
    if ($LASTEXITCODE -ne 0) { throw "python3 could not list '$LiteralPath'" }
    $lines
}
