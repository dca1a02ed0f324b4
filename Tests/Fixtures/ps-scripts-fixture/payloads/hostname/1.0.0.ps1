<#PSScriptInfo .VERSION 1.0.0 #>
<# .SYNOPSIS Fixture: renames the computer. #>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [ValidateLength(1, 15)] [string] $NewName
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
exit 0
