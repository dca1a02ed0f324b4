<#PSScriptInfo
.VERSION 1.1.0
.GUID 3b1d7c52-8e0a-4c1f-b6f4-5d2a9e7c1b02
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl clone timezone
.RELEASENOTES 1.1.0: runs with CloneAgent 1.1.0 (data folder checked, D1).
#>

<#
.SYNOPSIS
Sets a clone's time zone by its Windows id (Sysprep with AWS's answer files leaves UTC).

.DESCRIPTION
Test-before-Set: reads the current id (Get-TimeZone, or tzutil /g before Windows PowerShell 5.1) and changes it only
when it differs. Uses Set-TimeZone -Id (never -Name, which depends on the display language); falls back to
tzutil /s on Windows Server 2012 R2. An id this Windows does not know is a failure naming the id.

.PARAMETER TimeZoneId
A Windows time zone id as listed by tzutil /l or Get-TimeZone -ListAvailable, for example 'Tokyo Standard Time'.

.EXAMPLE
.\1.1.0.ps1 -TimeZoneId 'Tokyo Standard Time'

.NOTES
Exit codes: 0 ok/changed, 1 failed. No reboot is needed. See agent-docs/time-zone.md.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidateLength(1, 64)]
    [ValidatePattern('^[A-Za-z0-9][A-Za-z0-9 ().+-]*$')]
    [string] $TimeZoneId
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

function Get-CurrentTimeZoneId {
    if (Get-Command -Name Get-TimeZone -ErrorAction SilentlyContinue) { return (Get-TimeZone).Id }
    $r = Invoke-CloneNative -FilePath 'tzutil.exe' -ArgumentList @('/g')
    if ($r.ExitCode -ne 0) { throw ("tzutil /g failed (exit {0}): {1}" -f $r.ExitCode, $r.Error) }
    return ($r.Output -join '').Trim()
}

$run = New-CloneRun -Payload 'time-zone' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    try {
        $null = [TimeZoneInfo]::FindSystemTimeZoneById($TimeZoneId)
    } catch {
        throw ("'{0}' is not a time zone id on this Windows: list them with tzutil /l (ids, not display names)" -f $TimeZoneId)
    }
    $before = Get-CurrentTimeZoneId
    Set-CloneFact -Run $run -Name 'timeZoneIdBefore' -Value $before
    if ($before -eq $TimeZoneId) {
        Write-CloneLog -Run $run -Message "time zone is already $TimeZoneId"
    } else {
        if (Get-Command -Name Set-TimeZone -ErrorAction SilentlyContinue) {
            Set-TimeZone -Id $TimeZoneId
        } else {
            $r = Invoke-CloneNative -FilePath 'tzutil.exe' -ArgumentList @('/s', $TimeZoneId)
            if ($r.ExitCode -ne 0) { throw ("tzutil /s failed (exit {0}): {1}" -f $r.ExitCode, $r.Error) }
        }
        $after = Get-CurrentTimeZoneId
        if ($after -ne $TimeZoneId) { throw ("the time zone is still {0} after setting {1}" -f $after, $TimeZoneId) }
        Add-CloneChange -Run $run -Item 'timeZone' -From $before -To $TimeZoneId
    }
    Set-CloneFact -Run $run -Name 'timeZoneId' -Value (Get-CurrentTimeZoneId)
}
exit (Complete-CloneRun -Run $run)
