# What the benchmark scripts share; dot-sourced by each.

# The median of some numbers (the lower middle one of an even count), as every benchmark reports its paired ratios.
function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    $sorted[[int][Math]::Floor(($sorted.Count - 1) / 2)]
}
