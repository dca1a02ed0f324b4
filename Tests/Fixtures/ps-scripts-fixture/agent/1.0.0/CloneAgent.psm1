# Fixture agent module: just enough for the loader to import.
Set-StrictMode -Version Latest
function Write-CloneResult {
    param([hashtable]$Result)
    $json = $Result | ConvertTo-Json -Compress -Depth 8
    [Console]::Out.Write("-----BEGIN CLONECTL RESULT v1-----`r`n$json`r`n")
}
Export-ModuleMember -Function Write-CloneResult
