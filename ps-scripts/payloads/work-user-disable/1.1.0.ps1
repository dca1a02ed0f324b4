<#PSScriptInfo
.VERSION 1.1.0
.GUID 7d2f9c84-5b1e-4a36-8e0c-9f3a6d2b7e06
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl clone user
.RELEASENOTES 1.1.0: runs with CloneAgent 1.1.0 (data folder checked before the journal is trusted, D1).
#>

<#
.SYNOPSIS
Puts the work user back as the journal recorded on the source: disabled when prep created it (clone).

.DESCRIPTION
Reads the journal entry 'workUser' written by work-user on the source. A user that prep created is disabled (not
deleted, so its use stays auditable); a user that existed gets back its recorded enabled state and Administrators
membership. Only what differs is changed, so a second run reports ok. A missing entry is a failure that says to run
work-user on the source before imaging. LocalAccounts where present, ADSI otherwise.

.EXAMPLE
.\1.1.0.ps1

.NOTES
Exit codes: 0 ok/changed, 1 failed. See agent-docs/work-user-disable.md.
#>
[CmdletBinding()]
param()
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'work-user-disable' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    $entry = Get-CloneJournalEntry -Name 'workUser' -Producer 'work-user'
    Restore-CloneWorkUser -Run $run -Before $entry['before']
    if ($run.Errors.Count -eq 0) { Set-CloneJournalRestored -Run $run -Name 'workUser' }
    Set-CloneFact -Run $run -Name 'user' -Value (Get-CloneLocalUserState -Name ([string]$entry['before']['name']))
}
exit (Complete-CloneRun -Run $run)
