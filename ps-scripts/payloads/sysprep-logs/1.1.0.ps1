<#PSScriptInfo
.VERSION 1.1.0
.GUID b4a1d6e8-2f9c-4b07-8d53-6e0a2c7f4b14
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl sysprep logs readonly
.RELEASENOTES 1.1.0: budget 23,900 characters, under the agent's 24,000-byte cut (D13).
#>

<#
.SYNOPSIS
Returns the tails of the Panther setupact.log / setuperr.log and of the EC2Launch logs, for when Sysprep failed (work copy).

.DESCRIPTION
Read-only. For each log that exists it returns the last Lines lines in facts.logs (path and lines), each line cut
to 300 characters and each log kept within an equal share of about 20,000 characters, so the envelope stays under
23,900 characters (the agent keeps stdout only while it is under 24,000 bytes; GetCommandInvocation returns that). This is the one payload whose envelope may exceed 2,500
characters: read it with GetCommandInvocation, not ListCommandInvocations. Logs: %WINDIR%\System32\Sysprep\Panther
setupact.log and setuperr.log, %WINDIR%\Panther setupact.log, and the EC2Launch v2 agent.log, EC2Launch v1
Ec2Launch.log or EC2Config Ec2ConfigLog.txt.

.PARAMETER Lines
How many lines to return from the end of each log, 1-200 (default 40).

.EXAMPLE
.\1.1.0.ps1 -Lines 80

.NOTES
Exit codes: 0 ok, 1 failed. See agent-docs/sysprep-logs.md.
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 200)]
    [int] $Lines = 40
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'sysprep-logs' -Version '1.1.0' -MaxChars 23900
Invoke-CloneBody -Run $run -Body {
    $candidates = @(
        (Join-Path $env:WINDIR 'System32\Sysprep\Panther\setupact.log'),
        (Join-Path $env:WINDIR 'System32\Sysprep\Panther\setuperr.log'),
        (Join-Path $env:WINDIR 'Panther\setupact.log'),
        (Join-Path $env:ProgramData 'Amazon\EC2Launch\log\agent.log'),
        (Join-Path $env:ProgramData 'Amazon\EC2-Windows\Launch\Log\Ec2Launch.log'),
        (Join-Path $env:ProgramFiles 'Amazon\Ec2ConfigService\Logs\Ec2ConfigLog.txt')
    )
    $found = @($candidates | Where-Object { Test-Path -LiteralPath $_ })
    $logs = New-Object System.Collections.ArrayList
    if ($found.Count -gt 0) {
        $share = [int](20000 / $found.Count)
        foreach ($path in $found) {
            $tail = @(Get-Content -LiteralPath $path -Tail $Lines -ErrorAction Stop | ForEach-Object {
                    $l = [string]$_
                    if ($l.Length -gt 300) { $l = $l.Substring(0, 297) + '...' }
                    $l
                })
            # Keep the newest lines that fit this log's share of the budget (measured as escaped JSON).
            $kept = New-Object System.Collections.ArrayList
            $used = 0
            for ($i = $tail.Count - 1; $i -ge 0; $i--) {
                $cost = (ConvertTo-CloneJson $tail[$i]).Length + 1
                if ($used + $cost -gt $share) { break }
                $used += $cost
                $kept.Insert(0, $tail[$i])
            }
            $null = $logs.Add([ordered]@{ path = $path; lines = $kept.ToArray(); omitted = ($tail.Count - $kept.Count) })
        }
    }
    Set-CloneFact -Run $run -Name 'imageState' -Value (Get-CloneImageState)
    Set-CloneFact -Run $run -Name 'logs' -Value $logs.ToArray()
    Set-CloneFact -Run $run -Name 'missing' -Value @($candidates | Where-Object { $found -notcontains $_ })
    Write-CloneLog -Run $run -Message ("{0} of {1} logs found" -f $found.Count, $candidates.Count)
}
exit (Complete-CloneRun -Run $run)
