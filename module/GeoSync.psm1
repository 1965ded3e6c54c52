Set-StrictMode -Version Latest

# The script module's functions are one per file: Private/ holds helpers, Public/ the exported commands (listed by name
# in GeoSync.psd1's FunctionsToExport). The build (build.ps1) appends them to the GeoSync.psm1 it lays out, each under a
# comment naming its file: one script loads about a tenth of a second faster than dot-sourcing each file
# (docs/performance.md, "Start-up").
