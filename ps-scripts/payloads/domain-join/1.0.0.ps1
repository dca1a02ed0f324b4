<#PSScriptInfo
.VERSION 1.0.0
.GUID e2c9a7f3-1b8d-4e56-9a04-7c3f5b1d8e12
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl clone domain
.RELEASENOTES First release.
#>

<#
.SYNOPSIS
Joins a clone to an Active Directory domain with a credential read on the instance from Parameter Store, then exit 3010.

.DESCRIPTION
Optional post-clone step (Sysprep removed the source's membership). The credential is the SecureString named by
CredentialParameter, holding 'DOMAIN\user', a newline, and the password; it is read here with the instance profile,
never travels in the command, and is never logged. Test-before-Set: a member of DomainName reports ok; a member of
another domain is a failure (leave it first). Otherwise Add-Computer -DomainName -Credential [-OUPath] -Force, then
exit 3010 so the SSM agent reboots and runs the command again, which then reports ok.

.PARAMETER DomainName
The domain's DNS name, for example corp.example.com.

.PARAMETER CredentialParameter
The NAME of the Parameter Store SecureString holding 'DOMAIN\user' newline password (never the credential itself).

.PARAMETER OUPath
Optional distinguished name of the OU for the computer account: 'OU=Servers,DC=corp,DC=example,DC=com'.

.EXAMPLE
.\1.0.0.ps1 -DomainName corp.example.com -CredentialParameter /clonectl/domain-join

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
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.0.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'domain-join' -Version '1.0.0'
Invoke-CloneBody -Run $run -Body {
    $cs = Get-CloneCim -ClassName Win32_ComputerSystem
    Set-CloneFact -Run $run -Name 'domainBefore' -Value ([ordered]@{ partOfDomain = [bool]$cs.PartOfDomain; domain = [string]$cs.Domain })
    if ([bool]$cs.PartOfDomain) {
        if ([string]$cs.Domain -eq $DomainName) { Write-CloneLog -Run $run -Message "already a member of $DomainName"; return }
        throw ("this computer is a member of {0}, not {1}: leave that domain first" -f $cs.Domain, $DomainName)
    }
    $secure = Read-CloneSecureString -Name $CredentialParameter
    # Split 'DOMAIN\user' from the password without printing either; the user name is not logged either.
    $bstr = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($secure)
    try {
        $plain = [Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr)
        $cut = $plain.IndexOf("`n")
        if ($cut -lt 1) { throw ("the SecureString '{0}' must hold DOMAIN\user, a newline, then the password" -f $CredentialParameter) }
        $user = $plain.Substring(0, $cut).TrimEnd("`r")
        $rest = $plain.Substring($cut + 1).TrimEnd("`r", "`n")
        $plain = $null
        $password = ConvertTo-SecureString -String $rest -AsPlainText -Force
        $rest = $null
    } finally {
        [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr)
    }
    $credential = New-Object Management.Automation.PSCredential($user, $password)
    $join = @{ DomainName = $DomainName; Credential = $credential; Force = $true; WarningAction = 'SilentlyContinue' }
    if ($OUPath) { $join['OUPath'] = $OUPath }
    try {
        Add-Computer @join
    } catch {
        throw ("Add-Computer to {0} failed: {1}" -f $DomainName, $_.Exception.Message)
    }
    Add-CloneChange -Run $run -Item 'domain' -From ([string]$cs.Domain) -To $DomainName
    $run.RebootPending = $true
}
exit (Complete-CloneRun -Run $run)
