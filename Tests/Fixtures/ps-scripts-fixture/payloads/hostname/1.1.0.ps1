<#PSScriptInfo .VERSION 1.1.0 #>
<# .SYNOPSIS Fixture: renames the computer, optionally without a reboot. #>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [ValidateLength(1, 15)] [string] $NewName,  # NetBIOS, 1-15 characters
    [bool] $Restart = $true
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
exit 0
