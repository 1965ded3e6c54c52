Set-StrictMode -Version Latest
