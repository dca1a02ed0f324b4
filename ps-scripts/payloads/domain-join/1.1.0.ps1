<#PSScriptInfo
.VERSION 1.1.0
.GUID e2c9a7f3-1b8d-4e56-9a04-7c3f5b1d8e12
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl clone domain
.RELEASENOTES 1.1.0: the credential never binds to a cmdlet parameter (D2); computer-account reuse (KB5020276) explained, a join waiting for its reboot reports 3010 again (D10).
#>

<#
.SYNOPSIS
Joins a clone to an Active Directory domain with a credential read on the instance from Parameter Store, then exit 3010.

.DESCRIPTION
Optional post-clone step (Sysprep removed the source's membership). The credential is the SecureString named by
CredentialParameter, holding 'DOMAIN\user', a newline, and the password; it is read here with the instance profile,
never travels in the command, and is never logged. Test-before-Set: a member of DomainName reports ok; a member of
another domain is a failure (leave it first). Otherwise Add-Computer -DomainName -Credential [-OUPath] -Force, then
exit 3010 so the SSM agent reboots and runs the command again, which then reports ok. A run while the join waits
for its reboot (Netlogon JoinDomain present) asks for the reboot again (3010), never reports ok early. A computer
account that already exists and may not be reused (KB5020276, 0xAAC) is a failure that says how to fix it. It runs
before jobs-restore, so services that log on as domain accounts can start.

.PARAMETER DomainName
The domain's DNS name, for example corp.example.com.

.PARAMETER CredentialParameter
The NAME of the Parameter Store SecureString holding 'DOMAIN\user' newline password (never the credential itself).

.PARAMETER OUPath
Optional distinguished name of the OU for the computer account: 'OU=Servers,DC=corp,DC=example,DC=com'.

.EXAMPLE
.\1.1.0.ps1 -DomainName corp.example.com -CredentialParameter /clonectl/domain-join

.NOTES
Exit codes: 0 ok, 1 failed, 3010 reboot-pending. The domain controllers must be reachable from the clone's VPC.
See agent-docs/domain-join.md.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidateLength(1, 255)]
    [ValidatePattern('^(?=.*\.)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$')]
    [string] $DomainName,

    [Parameter(Mandatory = $true)]
    [ValidateLength(1, 2048)]
    [ValidatePattern('^[A-Za-z0-9_./-]+$')]
    [string] $CredentialParameter,

    [ValidateLength(0, 1024)]
    [ValidatePattern('^$|^(OU|CN)=.+,DC=.+$')]
    [string] $OUPath = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'domain-join' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    $cs = Get-CloneCim -ClassName Win32_ComputerSystem
    Set-CloneFact -Run $run -Name 'domainBefore' -Value ([ordered]@{ partOfDomain = [bool]$cs.PartOfDomain; domain = [string]$cs.Domain })
    # After Add-Computer and before the reboot, Win32_ComputerSystem may already name the new domain; Netlogon's
    # JoinDomain key stays until the reboot. A re-sent command must ask for the reboot again, not report ok (D10).
    if (@(Get-ClonePendingRenameOrJoin) -contains 'domain join') {
        Write-CloneLog -Run $run -Message "a domain join waits for its reboot (Netlogon JoinDomain is present)"
        $run.RebootPending = $true
        return
    }
    if ([bool]$cs.PartOfDomain) {
        if ([string]$cs.Domain -eq $DomainName) { Write-CloneLog -Run $run -Message "already a member of $DomainName"; return }
        throw ("this computer is a member of {0}, not {1}: leave that domain first" -f $cs.Domain, $DomainName)
    }
    $secure = Read-CloneSecureString -Name $CredentialParameter
    # Split 'DOMAIN\user' from the password inside the module, character by character: the password never becomes a
    # string or a cmdlet parameter (module logging would record it, D2). Only SecureString and PSCredential objects
    # are bound below, which event 4103 shows by type name.
    $parts = Split-CloneCredential -Secure $secure -Name $CredentialParameter
    $secure.Dispose()
    $credential = New-Object Management.Automation.PSCredential($parts.User, $parts.Password)
    $join = @{ DomainName = $DomainName; Credential = $credential; Force = $true; WarningAction = 'SilentlyContinue' }
    if ($OUPath) { $join['OUPath'] = $OUPath }
    try {
        Add-Computer @join
    } catch {
        $e = $_.Exception
        $text = $e.Message
        if ($null -ne $e.InnerException) { $text = $text + ' ' + $e.InnerException.Message }
        # 0xAAC (2732) NERR_AccountReuseBlockedByPolicy: the October 2022 hardening (KB5020276) refuses to reuse an
        # existing computer account unless the joining user created it or is allowed to.
        if ($text -match '0x0*AAC\b|2732|NERR_AccountReuseBlockedByPolicy|account with the same name exists|account already exists') {
            throw ("Add-Computer to {0} failed: a computer account named {1} already exists in the domain and this user may not reuse it (KB5020276, 0xAAC). Delete or reset that account in Active Directory, or pre-stage it for this user, or allow reuse with the GPO 'Domain controller: Allow computer account re-use during domain join'; then run domain-join again ({2})" -f $DomainName, $env:COMPUTERNAME, $text)
        }
        throw ("Add-Computer to {0} failed: {1}" -f $DomainName, $text)
    }
    Add-CloneChange -Run $run -Item 'domain' -From ([string]$cs.Domain) -To $DomainName
    $run.RebootPending = $true
}
exit (Complete-CloneRun -Run $run)
