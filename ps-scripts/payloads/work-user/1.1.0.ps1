<#PSScriptInfo
.VERSION 1.1.0
.GUID 0e8b5d63-1a7c-4f92-a3d6-2c9f7e1b8d05
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl prep user
.RELEASENOTES 1.1.0: the password never binds to a cmdlet parameter (D2); UTF-8 from the AWS CLI (D16); data folder checked (D1).
#>

<#
.SYNOPSIS
Creates or enables a local work user in Administrators; its password is read on the instance from Parameter Store (source prep).

.DESCRIPTION
Domain accounts may not be usable on the isolated work copy, so prep adds a local administrator. The password is the
value of the SecureString parameter named by PasswordParameter, read here with the instance profile (AWS Tools for
PowerShell, else the AWS CLI); it never travels in the command and is never logged. The journal entry 'workUser'
records whether the user existed, was enabled and was in Administrators (record-if-absent). Test-before-Set: the
password is set only when the user is created or when the account is changed from disabled to enabled, so a second
run reports ok. Uses Microsoft.PowerShell.LocalAccounts, or ADSI where that module is missing (2012 R2, 32-bit).

.PARAMETER UserName
The local user name: 1-20 characters, letters, digits, dot, underscore, hyphen.

.PARAMETER PasswordParameter
The NAME of the Parameter Store SecureString holding the password (never the password itself).

.PARAMETER Region
The region of that parameter; default: the instance's region from IMDSv2.

.EXAMPLE
.\1.1.0.ps1 -UserName clonework -PasswordParameter /clonectl/work-user-password

.NOTES
Exit codes: 0 ok/changed, 1 failed. See agent-docs/work-user.md.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidateLength(1, 20)]
    [ValidatePattern('^[A-Za-z0-9._-]+$')]
    [string] $UserName,

    [Parameter(Mandatory = $true)]
    [ValidateLength(1, 2048)]
    [ValidatePattern('^[A-Za-z0-9_./-]+$')]
    [string] $PasswordParameter,

    [ValidatePattern('^$|^[a-z]{2}(-[a-z]+)+-[0-9]+$')]
    [string] $Region = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'work-user' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    $before = Get-CloneLocalUserState -Name $UserName
    $null = Add-CloneJournalEntry -Run $run -Name 'workUser' -Before ([ordered]@{
            name = $UserName; existed = $before.exists; enabled = $before.enabled; inAdministrators = $before.inAdministrators
        })
    if (-not $before.exists -or -not $before.enabled) {
        # Read the password only when it will be used; it stays a SecureString on the LocalAccounts path.
        $secure = Read-CloneSecureString -Name $PasswordParameter -Region $Region
        if (-not $before.exists) {
            Set-CloneLocalUserPassword -Name $UserName -Password $secure -Create
            Add-CloneChange -Run $run -Item ('user/' + $UserName) -From 'absent' -To 'present'
        } else {
            Set-CloneLocalUserPassword -Name $UserName -Password $secure
            Set-CloneLocalUserEnabled -Name $UserName -Enabled $true
            Add-CloneChange -Run $run -Item ('user/' + $UserName + '/enabled') -From $false -To $true
        }
        $secure = $null
    }
    if (-not $before.inAdministrators) {
        Set-CloneAdministratorsMember -Name $UserName -Member $true
        Add-CloneChange -Run $run -Item ('user/' + $UserName + '/inAdministrators') -From $false -To $true
    }
    Set-CloneFact -Run $run -Name 'user' -Value (Get-CloneLocalUserState -Name $UserName)
    Set-CloneFact -Run $run -Name 'passwordParameter' -Value $PasswordParameter
}
exit (Complete-CloneRun -Run $run)
