<#PSScriptInfo
.VERSION 1.2.0
.GUID b4a1d6e8-2f9c-4b07-8d53-6e0a2c7f4b14
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl sysprep logs readonly
.RELEASENOTES 1.2.0: -Whole returns every log whole (within MaxChars) when the command's output goes to S3; module 1.2.0.
#>

<#
.SYNOPSIS
Returns the Panther setupact.log / setuperr.log and the EC2Launch logs for when Sysprep failed (work copy): tails, or whole with -Whole when the output goes to S3.

.DESCRIPTION
Read-only. By default exactly what 1.1.0 does: for each log that exists it returns the last Lines lines in
facts.logs (path, lines, omitted), each line cut to 300 characters and each log kept within an equal share of about
20,000 characters, so the envelope stays under 23,900 characters (the agent keeps stdout only while it is under
24,000 bytes; GetCommandInvocation returns that). Read it with GetCommandInvocation, not ListCommandInvocations.

With -Whole (only when the command's output goes to an S3 bucket, OutputS3BucketName: the agent uploads the whole
stdout there and the controller reads the envelope from the bucket; Run Command itself keeps 24,000 characters, so
without a bucket the envelope would be cut and reported as truncated): every log found is returned whole, lines not
cut, within MaxChars characters for the whole envelope. When the logs do not fit, each log keeps its newest lines
(a log smaller than its equal share gives the rest to the others) and counts the lines left out in omitted. Logs are
read with FileShare ReadWrite and Delete (setupact.log may still be open), at most the last 2 x MaxChars bytes of
each file (a line ends there at the latest; the lines before are counted, not decoded).

Logs: %WINDIR%\System32\Sysprep\Panther setupact.log and setuperr.log, %WINDIR%\Panther setupact.log, and the
EC2Launch v2 agent.log, EC2Launch v1 Ec2Launch.log or EC2Config Ec2ConfigLog.txt.

.PARAMETER Lines
Without -Whole: how many lines to return from the end of each log, 1-200 (default 40). Ignored with -Whole.

.PARAMETER Whole
Return every log whole (default false). Give it only when the command's output goes to an S3 bucket; the controller
sends it only then (Run Command keeps 24,000 characters of stdout).

.PARAMETER MaxChars
With -Whole: the envelope's budget in characters, 100,000-16,000,000 (default 4,000,000). 4,000,000 holds a typical
failed Sysprep's Panther logs whole (setupact.log is a few hundred KB to a few MB) and takes seconds on Windows
PowerShell 5.1: each line is escaped twice (once to measure it, once in the envelope) at about 10,000 lines per
second, so 4,000,000 characters of 150-character lines is about 27,000 lines. 16,000,000 stays far under the 64 MiB
the controller reads from S3 and the memory of a small instance. Ignored without -Whole.

.EXAMPLE
.\1.2.0.ps1 -Lines 80

.EXAMPLE
.\1.2.0.ps1 -Whole $true -MaxChars 8000000

.NOTES
Exit codes: 0 ok, 1 failed. See agent-docs/sysprep-logs.md.
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 200)]
    [int] $Lines = 40,
    [ValidateNotNull()]
    [bool] $Whole = $false,
    [ValidateRange(100000, 16000000)]
    [int] $MaxChars = 4000000
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.2.0\CloneAgent.psm1')
}

function Read-WholeLog {
    # The lines of a log read with sharing (setupact.log may be open for writing), at most its last MaxBytes bytes:
    # returns @{ Lines = [string[]]; Skipped = lines before the part read (counted by their line feeds) }.
    # Encoding as Get-Content reads it: a BOM (UTF-8, UTF-16 LE/BE), else the ANSI code page.
    param([string] $Path, [long] $MaxBytes)
    $share = [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete
    $fs = New-Object IO.FileStream($Path, [IO.FileMode]::Open, [IO.FileAccess]::Read, $share)
    try {
        $head = New-Object byte[] 3
        $n = $fs.Read($head, 0, 3)
        $enc = [Text.Encoding]::Default; $start = 0; $unit = 1
        if ($n -ge 3 -and $head[0] -eq 0xEF -and $head[1] -eq 0xBB -and $head[2] -eq 0xBF) { $enc = New-Object Text.UTF8Encoding($false); $start = 3 }
        elseif ($n -ge 2 -and $head[0] -eq 0xFF -and $head[1] -eq 0xFE) { $enc = [Text.Encoding]::Unicode; $start = 2; $unit = 2 }
        elseif ($n -ge 2 -and $head[0] -eq 0xFE -and $head[1] -eq 0xFF) { $enc = [Text.Encoding]::BigEndianUnicode; $start = 2; $unit = 2 }
        $skipped = 0
        $from = [long]$start
        if ($fs.Length - $start -gt $MaxBytes) {
            $from = $fs.Length - $MaxBytes
            if ((($from - $start) % $unit) -ne 0) { $from += 1 }
            # Count the line feeds before the part read, block by block (a line feed byte is never part of another
            # character in UTF-8 or an ANSI code page; UTF-16 is decoded on code-unit boundaries).
            $fs.Position = $start
            $block = New-Object byte[] 4194304
            $left = $from - $start
            while ($left -gt 0) {
                $got = $fs.Read($block, 0, [int][Math]::Min([long]$block.Length, $left))
                if ($got -le 0) { break }
                $skipped += $enc.GetString($block, 0, $got).Split([char]10).Length - 1
                $left -= $got
            }
        }
        $fs.Position = $from
        $reader = New-Object IO.StreamReader($fs, $enc, $false)
        $text = $reader.ReadToEnd()
    } finally {
        $fs.Dispose()
    }
    # Line ends as Get-Content reads them: CRLF, CR or LF; a final line end does not start another line.
    $all = [regex]::Split($text, '\r\n|\r|\n')
    $first = 0; $count = $all.Length
    if ($text.Length -eq 0) { $count = 0 }
    elseif ($text.EndsWith([string][char]10) -or $text.EndsWith([string][char]13)) { $count -= 1 }
    if ($from -gt $start -and $count -gt 0) {
        # The first line read began before the part read (or is the rest of a CRLF cut in two): left out, counted.
        $first = 1; $count -= 1; $skipped += 1
    }
    $lines = New-Object string[] $count
    [Array]::Copy($all, $first, $lines, 0, $count)
    return @{ Lines = $lines; Skipped = $skipped }
}

if ($Whole) {
    $run = New-CloneRun -Payload 'sysprep-logs' -Version '1.2.0' -MaxChars $MaxChars -OutputToS3
} else {
    $run = New-CloneRun -Payload 'sysprep-logs' -Version '1.2.0' -MaxChars 23900
}
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
    if ($found.Count -gt 0 -and $Whole) {
        # Whole logs: what a line costs in the envelope is its escaped JSON plus a comma. 16,000 characters are kept
        # for the rest of the envelope (logTail at most 20 x 200, the paths, missing, imageState, the frame), so the
        # module never has to drop anything to meet MaxChars.
        $read = New-Object System.Collections.ArrayList
        foreach ($path in $found) {
            $r = Read-WholeLog -Path $path -MaxBytes (2 * [long]$MaxChars)
            $costs = New-Object long[] $r.Lines.Length
            $total = [long]0
            for ($i = 0; $i -lt $r.Lines.Length; $i++) {
                $l = $r.Lines[$i]
                if ($l -cmatch '^[\x20\x21\x23-\x5B\x5D-\x7E]*\z') { $c = $l.Length + 3 } else { $c = (ConvertTo-CloneJson $l).Length + 1 }
                $costs[$i] = $c; $total += $c
            }
            $null = $read.Add(@{ Path = $path; Lines = $r.Lines; Skipped = $r.Skipped; Costs = $costs; Total = $total; Keep = 0 })
        }
        # Equal shares, smallest log first: a log under its share is kept whole and leaves the rest to the others;
        # a log over its share keeps its newest lines.
        $left = [long]$MaxChars - 16000
        $k = $read.Count
        foreach ($e in @($read | Sort-Object -Property { $_.Total })) {
            $share = [long][Math]::Floor($left / $k); $k -= 1
            $used = [long]0; $keep = 0; $i = $e.Lines.Length - 1
            while ($i -ge 0 -and $used + $e.Costs[$i] -le $share) { $used += $e.Costs[$i]; $keep += 1; $i -= 1 }
            $e.Keep = $keep
            $left -= $used
        }
        foreach ($e in $read) {
            $kept = New-Object string[] $e.Keep
            [Array]::Copy($e.Lines, $e.Lines.Length - $e.Keep, $kept, 0, $e.Keep)
            $null = $logs.Add([ordered]@{ path = $e.Path; lines = $kept; omitted = ($e.Skipped + $e.Lines.Length - $e.Keep) })
            Write-CloneLog -Run $run -Message ("{0}: {1} lines whole, {2} omitted" -f $e.Path, $e.Keep, ($e.Skipped + $e.Lines.Length - $e.Keep))
        }
    } elseif ($found.Count -gt 0) {
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
