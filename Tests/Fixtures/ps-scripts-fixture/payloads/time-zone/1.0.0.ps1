<#PSScriptInfo .VERSION 1.0.0 #>
<# .SYNOPSIS Fixture: sets the time zone. #>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $TimeZoneId
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
exit 0
