# The lock of a master loop's state record: held for the loop's life, so two loops never replicate the same pair. The
# record itself is GeoSync.Engine.Operations.MasterStateFile (docs/master-loop.md, "The state file").

# Takes the pair's lock (an exclusive lock on <state file>.lock, released when the stream is closed or the process
# ends); returns the open stream, or $null when another process holds it.
function Lock-GeoSyncStateFile {
    [CmdletBinding()]
    [OutputType([System.IO.FileStream])]
    param(
        [Parameter(Mandatory)] [string] $Path
    )

    try {
        [System.IO.FileStream]::new("$Path.lock", [System.IO.FileMode]::OpenOrCreate, [System.IO.FileAccess]::ReadWrite, [System.IO.FileShare]::None)
    }
    catch [System.IO.IOException] {
        $null
    }
}
