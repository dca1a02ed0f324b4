# CloneAgent 1.2.0: the shared module every clonectl payload runs with (Windows PowerShell 5.1; 4.0 where noted).
# 1.2.0 is 1.1.0 plus two things, nothing else: New-CloneRun -OutputToS3 (the command's output goes to an S3 bucket,
# OutputS3BucketName, so the agent uploads the whole stdout: the 23,900 cap does not apply, the budget MaxChars the
# payload gives does, up to 16,000,000) and a faster JSON string writer (String.Replace and one regex pass instead of
# a PowerShell loop per character, for multi-megabyte envelopes on Windows PowerShell 5.1; the same bytes).
# 1.1.0 fixes the review of 1.0.0 (../shared/reviews/payloads-1.0.0.md): D1 data root ACL, D2 secrets never bound to a
# cmdlet parameter, D4 restore goes on past a failure, D5 AppX by family name, D11 quiet wait, D12 protected services,
# D13 budget under the agent's cut, D16 UTF-8 from the AWS CLI, D18 (rearm count is a fact, YAML task lines parsed).
# Sections: run context and log, the deterministic JSON writer and the envelope, the journal, IMDSv2, Windows facts,
# Sysprep blockers, Parameter Store SecureStrings, per-instance parameters, and the restore helpers shared by
# source-restore and the clone payloads. It is ASCII-only on purpose: Windows PowerShell reads a BOM-less file in the
# ANSI code page. Nothing here writes to the pipeline except return values; the envelope goes to [Console]::Out.
Set-StrictMode -Version Latest
# A script module does not see its caller's preference variables (its scope chain is module -> global), so the
# payload's 'Stop' must be set here too, or a failing cmdlet inside a helper would only write to stderr and go on.
$ErrorActionPreference = 'Stop'
# powershell.exe writes warnings and progress to stdout when it is redirected: keep them off in this module.
$WarningPreference = 'SilentlyContinue'
$ProgressPreference = 'SilentlyContinue'

$script:Context = @{ Nonce = ''; PayloadSha256 = ''; InstanceId = $null; Region = $null; Written = $false; DataRoot = ''; DataRootChecked = $false }
$script:DataRoot = Join-Path $env:ProgramData 'clonectl'
$script:Invariant = [Globalization.CultureInfo]::InvariantCulture

function Set-CloneAgentContext {
    # The loader passes what the controller put in this command; a payload run by hand leaves both empty, so the
    # controller would call its envelope stale, which is the truth.
    [CmdletBinding()]
    param([string] $Nonce = '', [string] $PayloadSha256 = '')
    $script:Context.Nonce = $Nonce
    $script:Context.PayloadSha256 = $PayloadSha256
}

function Get-CloneUtcStamp {
    [CmdletBinding()]
    param([datetime] $Time = [datetime]::UtcNow)
    return $Time.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", $script:Invariant)
}

# ---- the data root C:\ProgramData\clonectl (D1) ----------------------------------------------------------------------
# ProgramData lets every local user create folders and files (BUILTIN\Users: CI WD,AD; CREATOR OWNER: F), so what a
# SYSTEM payload trusts there (the journal above all) must be proven to come from an administrator. The root gets a
# protected DACL (SYSTEM and Administrators full control, nothing inherited) and every item under it must be owned by
# SYSTEM, Administrators or TrustedInstaller with no explicit write grant to anyone else; anything else is refused.

$script:TrustedSids = @('S-1-5-18', 'S-1-5-32-544', 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464')
# WriteData, AppendData, WriteEA, DeleteChild, WriteAttributes, Delete, WriteDAC, WriteOwner, GenericAll, GenericWrite.
$script:WriteRights = 0x2 -bor 0x4 -bor 0x10 -bor 0x40 -bor 0x100 -bor 0x10000 -bor 0x40000 -bor 0x80000 -bor 0x10000000 -bor 0x40000000

function Get-CloneDataRoot { return $script:DataRoot }

function Get-CloneUntrustedWriters {
    # The SIDs outside the trusted three that an Allow ACE of this security descriptor lets write.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [object] $Acl, [switch] $ExplicitOnly)
    $found = New-Object System.Collections.ArrayList
    foreach ($ace in @($Acl.GetAccessRules($true, (-not $ExplicitOnly), [Security.Principal.SecurityIdentifier]))) {
        if ([string]$ace.AccessControlType -ne 'Allow') { continue }
        if ($ExplicitOnly -and $ace.IsInherited) { continue }
        $sid = [string]$ace.IdentityReference.Value
        if ($script:TrustedSids -contains $sid) { continue }
        if (([int64]$ace.FileSystemRights -band $script:WriteRights) -ne 0 -and $found -notcontains $sid) { $null = $found.Add($sid) }
    }
    return , $found.ToArray()
}

function Get-CloneOwnerSid {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [object] $Acl)
    try { return [string]$Acl.GetOwner([Security.Principal.SecurityIdentifier]).Value } catch { return [string]$Acl.Owner }
}

function New-CloneDataRootAcl {
    # Protected (no inheritance from ProgramData), owner Administrators, SYSTEM and Administrators full control.
    $acl = New-Object Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($true, $false)
    $acl.SetOwner((New-Object Security.Principal.SecurityIdentifier('S-1-5-32-544')))
    foreach ($sid in @('S-1-5-18', 'S-1-5-32-544')) {
        $rule = New-Object Security.AccessControl.FileSystemAccessRule((New-Object Security.Principal.SecurityIdentifier($sid)),
            [Security.AccessControl.FileSystemRights]::FullControl, ([Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'),
            [Security.AccessControl.PropagationFlags]::None, [Security.AccessControl.AccessControlType]::Allow)
        $acl.AddAccessRule($rule)
    }
    return $acl
}

function Test-CloneDataRoot {
    # Returns $null when the root can be trusted, else the reason (what is wrong and what to do). With -Repair, a root
    # that does not exist is created protected, and a root owned by an administrator whose DACL is still inherited
    # (as clonectl 1.0.0 left it) is made protected; an item owned by anyone else is never repaired, only refused.
    [CmdletBinding()]
    param([switch] $Repair)
    $root = $script:DataRoot
    $fix = "inspect it (icacls and dir /q '$root'), remove what a non-administrator created, then run again"
    if (-not (Test-Path -LiteralPath $root)) {
        if (-not $Repair) { return $null }
        $null = New-Item -ItemType Directory -Path $root -Force
        Set-Acl -LiteralPath $root -AclObject (New-CloneDataRootAcl)
        $script:Context.DataRoot = 'created protected'
    }
    $item = Get-Item -LiteralPath $root -Force
    if (-not $item.PSIsContainer) { return ("{0} is a file, not a folder: {1}" -f $root, $fix) }
    if (([int]$item.Attributes -band 0x400) -ne 0) { return ("{0} is a junction or symbolic link: {1}" -f $root, $fix) }
    $acl = Get-Acl -LiteralPath $root
    $owner = Get-CloneOwnerSid -Acl $acl
    if ($script:TrustedSids -notcontains $owner) { return ("{0} is owned by {1}, not by SYSTEM or Administrators: {2}" -f $root, $owner, $fix) }
    $writers = Get-CloneUntrustedWriters -Acl $acl
    if ($writers.Count -gt 0 -or -not $acl.AreAccessRulesProtected) {
        if (-not $Repair) { return ("{0} lets {1} write (inherited: {2}): run any clonectl 1.1.0 payload to protect it" -f $root, ($writers -join ', '), (-not $acl.AreAccessRulesProtected)) }
        Set-Acl -LiteralPath $root -AclObject (New-CloneDataRootAcl)
        if (-not $script:Context.DataRoot) { $script:Context.DataRoot = 'protected (was inherited from ProgramData)' }
    }
    # Everything below: created by whom, and granted to whom explicitly (inherited grants now come from the root).
    $n = 0
    foreach ($child in @(Get-ChildItem -LiteralPath $root -Force -Recurse -ErrorAction Stop)) {
        if (++$n -gt 2000) { return ("{0} holds more than 2000 items: {1}" -f $root, $fix) }
        if (([int]$child.Attributes -band 0x400) -ne 0) { return ("{0} is a junction or symbolic link: {1}" -f $child.FullName, $fix) }
        $a = Get-Acl -LiteralPath $child.FullName
        $o = Get-CloneOwnerSid -Acl $a
        if ($script:TrustedSids -notcontains $o) { return ("{0} is owned by {1}, not by SYSTEM or Administrators: a non-administrator created it; {2}" -f $child.FullName, $o, $fix) }
        $w = Get-CloneUntrustedWriters -Acl $a -ExplicitOnly
        if ($w.Count -gt 0) { return ("{0} grants write access to {1}: {2}" -f $child.FullName, ($w -join ', '), $fix) }
    }
    if (-not $script:Context.DataRoot) { $script:Context.DataRoot = 'protected' }
    return $null
}

function Assert-CloneDataRoot {
    # Before the journal is read or written: a root that fails the check is refused, never used.
    [CmdletBinding()]
    param()
    if ($script:Context.DataRootChecked) { return }
    $problem = Test-CloneDataRoot -Repair
    if ($null -ne $problem) { throw ('the clonectl data folder is not safe to trust: ' + $problem) }
    $script:Context.DataRootChecked = $true
}

# ---- run context and log -------------------------------------------------------------------------------------------

function New-CloneRun {
    # MaxChars is the envelope budget: 2,500 (what ListCommandInvocations returns) unless a payload documents more;
    # never over 23,900: the agent keeps stdout only while it is under 24,000 bytes (D13). OutputToS3 (1.2.0): the
    # payload was told that this command's output goes to an S3 bucket (OutputS3BucketName), where the agent uploads
    # the whole stdout; then MaxChars may go up to 16,000,000 and is the only cap. The guest cannot see the bucket:
    # the controller passes the payload's switch only when it set one.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [ValidatePattern('^[a-z0-9-]+$')] [string] $Payload,
        [Parameter(Mandatory = $true)] [ValidatePattern('^\d+\.\d+\.\d+$')] [string] $Version,
        [ValidateRange(1000, 16000000)] [int] $MaxChars = 2500,
        [switch] $OutputToS3
    )
    if (-not $OutputToS3 -and $MaxChars -gt 23900) {
        throw ("MaxChars {0} is over 23,900: the agent keeps stdout only while it is under 24,000 bytes; a larger budget needs -OutputToS3" -f $MaxChars)
    }
    $hardCap = 23900
    if ($OutputToS3) { $hardCap = $MaxChars }
    $logDir = Join-Path $script:DataRoot 'logs'
    $logPath = $null
    # The data root is checked (and protected) before anything is written there; a refusal becomes the run's error.
    $rootError = $null
    try { $rootError = Test-CloneDataRoot -Repair } catch { $rootError = 'the data folder could not be checked: ' + $_.Exception.Message }
    if ($null -eq $rootError) { $script:Context.DataRootChecked = $true }
    try {
        if ($null -ne $rootError) { throw $rootError }
        if (-not (Test-Path -LiteralPath $logDir)) { $null = New-Item -ItemType Directory -Path $logDir -Force }
        $logPath = Join-Path $logDir ($Payload + '.log')
        # Keep one old generation so a long-lived source does not grow the log without bound.
        if ((Test-Path -LiteralPath $logPath) -and ((Get-Item -LiteralPath $logPath).Length -gt 1MB)) {
            Move-Item -LiteralPath $logPath -Destination ($logPath + '.1') -Force
        }
    } catch {
        $logPath = $null
    }
    $run = @{
        Payload = $Payload; Version = $Version; MaxChars = $MaxChars; HardCap = $hardCap; OutputToS3 = [bool]$OutputToS3
        StartedAt = Get-CloneUtcStamp
        Changed = New-Object System.Collections.ArrayList; Facts = [ordered]@{}; OptionalFacts = @{}
        Errors = New-Object System.Collections.ArrayList; Log = New-Object System.Collections.ArrayList
        LogPath = $logPath; RebootPending = $false; Completed = $false; DataRootError = $rootError
    }
    Write-CloneLog -Run $run -Message ("start {0}@{1}" -f $Payload, $Version)
    if ($script:Context.DataRoot) { Write-CloneLog -Run $run -Message ('data folder: ' + $script:Context.DataRoot) }
    return $run
}

function Write-CloneLog {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Message)
    $line = (Get-CloneUtcStamp) + ' ' + $Message
    $null = $Run.Log.Add($line)
    Write-Verbose -Message $line
    if ($null -ne $Run.LogPath) {
        try { [IO.File]::AppendAllText($Run.LogPath, $line + "`r`n", [Text.Encoding]::UTF8) } catch { $Run.LogPath = $null }
    }
}

function Add-CloneChange {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [string] $Item,
        [AllowNull()] [object] $From, [AllowNull()] [object] $To)
    $null = $Run.Changed.Add([ordered]@{ item = $Item; from = $From; to = $To })
    Write-CloneLog -Run $Run -Message ("changed {0}: {1} -> {2}" -f $Item, (ConvertTo-CloneJson $From), (ConvertTo-CloneJson $To))
}

function Set-CloneFact {
    # Optional facts are the second thing dropped (after logTail) when the envelope is over its budget.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [string] $Name,
        [AllowNull()] [object] $Value, [switch] $Optional)
    $Run.Facts[$Name] = $Value
    if ($Optional) { $Run.OptionalFacts[$Name] = $true }
}

function Add-CloneError {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [string] $Message)
    $null = $Run.Errors.Add($Message)
    Write-CloneLog -Run $Run -Message ('error: ' + $Message)
}

function Invoke-CloneBody {
    # Runs a payload body: any pipeline output is discarded (only the envelope may reach stdout) and a terminating
    # error becomes an entry in errors with the script line, so the payload still reports.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [scriptblock] $Body)
    if ($null -ne $Run.DataRootError) {
        Add-CloneError -Run $Run -Message ('refused: the clonectl data folder is not safe to trust: ' + $Run.DataRootError)
        return
    }
    try {
        $null = & $Body
    } catch {
        $where = ''
        $ii = $_.InvocationInfo
        if ($null -ne $ii -and $ii.ScriptLineNumber -gt 0) {
            $file = 'script'; if ($ii.ScriptName) { $file = Split-Path -Leaf $ii.ScriptName }
            $where = '{0}:{1}: ' -f $file, $ii.ScriptLineNumber
        }
        Add-CloneError -Run $Run -Message ($where + $_.Exception.Message)
    }
}

function Complete-CloneRun {
    # Decides the status, writes the envelope and returns the exit code the payload must pass to `exit`.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run)
    if ($Run.Completed) { throw 'Complete-CloneRun was called twice for one run' }
    $Run.Completed = $true
    $status = 'ok'; $code = 0
    if ($Run.Errors.Count -gt 0) { $status = 'failed'; $code = 1 }
    elseif ($Run.RebootPending) { $status = 'reboot-pending'; $code = 3010 }
    elseif ($Run.Changed.Count -gt 0) { $status = 'changed' }
    Write-CloneLog -Run $Run -Message ("finish {0} exit {1}" -f $status, $code)
    Write-CloneEnvelope -Run $Run -Status $status
    return $code
}

function Write-CloneFailure {
    # For the loader: a failure before the payload could start (bad parameters, no byInstance entry) still reports.
    [CmdletBinding()]
    param([string] $Payload, [string] $Version, [string] $Message)
    if ($script:Context.Written) {
        # One envelope per command: a second would hide behind the first. stderr and the exit code carry it.
        [Console]::Error.WriteLine('clonectl: after the result was written: ' + $Message)
        return 1
    }
    $run = New-CloneRun -Payload $Payload -Version $Version
    Add-CloneError -Run $run -Message $Message
    return (Complete-CloneRun -Run $run)
}

# ---- deterministic JSON and the envelope ----------------------------------------------------------------------------
# Rules (agent-docs/envelope.md, "Serialisation rules"): compact; members in insertion order for [ordered] and
# PSCustomObject, ordinal key order for any other dictionary; escapes \" \\ \b \f \n \r \t, every other char below
# 0x20 or above 0x7E as \u with 4 lower-case hex digits; integers as digits; other numbers as strings; true/false/null.

function Add-CloneJsonString {
    param([Text.StringBuilder] $Sb, [string] $Text)
    $null = $Sb.Append('"')
    # Fast path: printable ASCII without quote or backslash goes in as it is (PowerShell loops are slow).
    # \z, not $: in .NET, $ also matches before a final newline, which must be escaped.
    if ($Text -cmatch '^[\x20\x21\x23-\x5B\x5D-\x7E]*\z') { $null = $Sb.Append($Text).Append('"'); return }
    # 1.2.0: no PowerShell loop per character (a multi-megabyte log would take minutes on 5.1). String.Replace does the
    # short escapes, backslash first so no escape is escaped twice; what is left outside printable ASCII (other
    # controls, U+007F and above, one UTF-16 code unit each) is found by one regex pass and written as \uXXXX; the
    # PowerShell loop runs once per such character only. The same bytes as 1.1.0's per-character writer.
    $t = $Text.Replace('\', '\\').Replace('"', '\"').Replace([string][char]8, '\b').Replace([string][char]12, '\f')
    $t = $t.Replace([string][char]10, '\n').Replace([string][char]13, '\r').Replace([string][char]9, '\t')
    $at = 0
    foreach ($m in [regex]::Matches($t, '[^\x20-\x7E]')) {
        $null = $Sb.Append($t, $at, $m.Index - $at)
        $null = $Sb.Append('\u').Append(([int]$t[$m.Index]).ToString('x4', $script:Invariant))
        $at = $m.Index + 1
    }
    $null = $Sb.Append($t, $at, $t.Length - $at)
    $null = $Sb.Append('"')
}

function Add-CloneJsonValue {
    param([Text.StringBuilder] $Sb, [AllowNull()] [object] $Value)
    if ($null -eq $Value) { $null = $Sb.Append('null'); return }
    if ($Value -is [Management.Automation.PSObject] -and $Value -isnot [Management.Automation.PSCustomObject]) {
        $Value = $Value.PSObject.BaseObject
    }
    if ($Value -is [bool]) { if ($Value) { $null = $Sb.Append('true') } else { $null = $Sb.Append('false') }; return }
    if ($Value -is [Management.Automation.SwitchParameter]) { Add-CloneJsonValue $Sb $Value.IsPresent; return }
    if ($Value -is [string] -or $Value -is [char] -or $Value -is [enum] -or $Value -is [guid]) {
        Add-CloneJsonString $Sb ([string]$Value); return
    }
    if ($Value -is [datetime]) { Add-CloneJsonString $Sb (Get-CloneUtcStamp -Time $Value); return }
    $integers = @([int], [long], [int16], [byte], [sbyte], [uint16], [uint32], [uint64])
    foreach ($t in $integers) {
        if ($Value -is $t) { $null = $Sb.Append($Value.ToString($script:Invariant)); return }
    }
    if ($Value -is [double] -or $Value -is [single]) { Add-CloneJsonString $Sb ($Value.ToString('R', $script:Invariant)); return }
    if ($Value -is [decimal]) { Add-CloneJsonString $Sb ($Value.ToString($script:Invariant)); return }
    if ($Value -is [Collections.IDictionary]) {
        $keys = [string[]]@($Value.Keys | ForEach-Object { [string]$_ })
        if ($Value -isnot [Collections.Specialized.OrderedDictionary]) { [Array]::Sort($keys, [StringComparer]::Ordinal) }
        $null = $Sb.Append('{'); $first = $true
        foreach ($k in $keys) {
            if (-not $first) { $null = $Sb.Append(',') }; $first = $false
            Add-CloneJsonString $Sb ([string]$k); $null = $Sb.Append(':'); Add-CloneJsonValue $Sb $Value[$k]
        }
        $null = $Sb.Append('}'); return
    }
    if ($Value -is [Management.Automation.PSCustomObject]) {
        $null = $Sb.Append('{'); $first = $true
        foreach ($p in $Value.PSObject.Properties) {
            if (-not $first) { $null = $Sb.Append(',') }; $first = $false
            Add-CloneJsonString $Sb $p.Name; $null = $Sb.Append(':'); Add-CloneJsonValue $Sb $p.Value
        }
        $null = $Sb.Append('}'); return
    }
    if ($Value -is [Collections.IEnumerable]) {
        $null = $Sb.Append('['); $first = $true
        foreach ($item in $Value) {
            if (-not $first) { $null = $Sb.Append(',') }; $first = $false
            Add-CloneJsonValue $Sb $item
        }
        $null = $Sb.Append(']'); return
    }
    Add-CloneJsonString $Sb ([string]$Value)
}

function ConvertTo-CloneJson {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [AllowNull()] [object] $Value)
    $sb = New-Object Text.StringBuilder
    Add-CloneJsonValue $sb $Value
    return $sb.ToString()
}

function Get-CloneSha256Hex {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [byte[]] $Bytes)
    # The CSP class, not SHA256.Create() (SHA256Managed on .NET Framework), which throws under the FIPS policy.
    $sha = New-Object Security.Cryptography.SHA256CryptoServiceProvider
    try { $hash = $sha.ComputeHash($Bytes) } finally { $sha.Dispose() }
    return (-join ($hash | ForEach-Object { $_.ToString('x2', $script:Invariant) }))
}

function Format-CloneEnvelope {
    # Returns the three lines with CRLF line ends (what powershell.exe writes on Windows; the controller accepts both).
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [Collections.IDictionary] $Body)
    $json = ConvertTo-CloneJson $Body
    $hex = Get-CloneSha256Hex -Bytes ([Text.Encoding]::ASCII.GetBytes($json))
    return ("-----BEGIN CLONECTL RESULT v1-----`r`n" + $json + "`r`n-----END CLONECTL RESULT sha256=" + $hex + "-----`r`n")
}

function Write-CloneEnvelope {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [string] $Status)
    $tail = New-Object System.Collections.ArrayList
    foreach ($l in @($Run.Log | Select-Object -Last 20)) {
        if ($l.Length -gt 200) { $l = $l.Substring(0, 197) + '...' }
        $null = $tail.Add($l)
    }
    $facts = $Run.Facts
    $body = [ordered]@{
        v = 1; payload = $Run.Payload; version = $Run.Version; payloadSha256 = $script:Context.PayloadSha256
        nonce = $script:Context.Nonce; instanceId = (Get-CloneInstanceId); status = $Status
        changed = @($Run.Changed); facts = $facts; errors = @($Run.Errors); logTail = $tail
        startedAt = $Run.StartedAt; finishedAt = (Get-CloneUtcStamp)
    }
    $text = Format-CloneEnvelope -Body $body
    # Over budget: drop the oldest log lines, then optional facts, then (never over 23,900) all facts. The agent keeps
    # stdout only while it is under 24,000 bytes, counting every run of a command that rebooted (exit 3010): the
    # payloads that reboot stay at 2,500 per run, so two runs and the agent's marker fit. With -OutputToS3 (1.2.0)
    # the cap is the run's MaxChars: the whole stdout is in the bucket.
    while ($text.Length -gt $Run.MaxChars -and $tail.Count -gt 0) {
        $tail.RemoveAt(0); $text = Format-CloneEnvelope -Body $body
    }
    if ($text.Length -gt $Run.MaxChars -and $Run.OptionalFacts.Count -gt 0) {
        $kept = [ordered]@{}
        foreach ($k in $facts.Keys) { if (-not $Run.OptionalFacts.Contains($k)) { $kept[$k] = $facts[$k] } }
        $kept['omittedFacts'] = @($Run.OptionalFacts.Keys | Sort-Object)
        $body['facts'] = $kept; $text = Format-CloneEnvelope -Body $body
    }
    $cap = 23900
    if ($Run.ContainsKey('HardCap') -and $null -ne $Run.HardCap) { $cap = [int]$Run.HardCap }
    if ($text.Length -gt $cap) {
        $body['facts'] = [ordered]@{ omitted = ('facts exceeded the {0}-character envelope limit; see the guest log' -f $cap) }
        $text = Format-CloneEnvelope -Body $body
    }
    [Console]::Out.Write($text)
    [Console]::Out.Flush()
    $script:Context.Written = $true
}

# ---- the journal -----------------------------------------------------------------------------------------------------
# C:\ProgramData\clonectl\journal.json travels inside the AMI: every clone restores exactly what prep changed.

function ConvertTo-CloneData {
    # ConvertFrom-Json output -> [ordered] dictionaries and object[] arrays, so StrictMode and .Contains() work.
    [CmdletBinding()]
    param([AllowNull()] [object] $Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [Management.Automation.PSCustomObject]) {
        $d = [ordered]@{}
        foreach ($p in $Value.PSObject.Properties) { $d[$p.Name] = ConvertTo-CloneData $p.Value }
        return $d
    }
    if ($Value -is [Collections.IEnumerable] -and $Value -isnot [string]) {
        $list = New-Object System.Collections.ArrayList
        foreach ($item in $Value) { $null = $list.Add((ConvertTo-CloneData $item)) }
        return , $list.ToArray()
    }
    return $Value
}

function Get-CloneJournalPath { return (Join-Path $script:DataRoot 'journal.json') }

function Get-CloneJournal {
    [CmdletBinding()]
    param()
    Assert-CloneDataRoot
    $path = Get-CloneJournalPath
    if (-not (Test-Path -LiteralPath $path)) { return [ordered]@{ v = 1; entries = [ordered]@{} } }
    try {
        $data = ConvertTo-CloneData ([IO.File]::ReadAllText($path, [Text.Encoding]::UTF8) | ConvertFrom-Json)
    } catch {
        throw ("the journal {0} is not valid JSON ({1}); restore it from the source or re-run prep" -f $path, $_.Exception.Message)
    }
    if ($data -isnot [Collections.IDictionary] -or -not $data.Contains('v') -or $data['v'] -ne 1 -or -not $data.Contains('entries')) {
        throw ("the journal {0} is not a version 1 clonectl journal" -f $path)
    }
    if ($null -eq $data['entries']) { $data['entries'] = [ordered]@{} }
    return $data
}

function Save-CloneJournal {
    # Atomic: write a temp file in the same folder, then replace, so a crash leaves the old or the new journal.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [Collections.IDictionary] $Journal)
    Assert-CloneDataRoot
    $path = Get-CloneJournalPath
    $dir = Split-Path -Parent $path
    $tmp = Join-Path $dir ('journal.{0}.tmp' -f [guid]::NewGuid().ToString('N'))
    [IO.File]::WriteAllText($tmp, (ConvertTo-CloneJson $Journal), (New-Object Text.UTF8Encoding($false)))
    # An antivirus scanner may hold journal.json for a moment: retry a few times before giving up (D18).
    for ($try = 1; ; $try++) {
        try {
            if (Test-Path -LiteralPath $path) { [IO.File]::Replace($tmp, $path, [NullString]::Value) }
            else { Move-Item -LiteralPath $tmp -Destination $path -Force }
            break
        } catch {
            if ($try -ge 5) { throw ("could not replace the journal {0} after 5 tries: {1}" -f $path, $_.Exception.Message) }
            Start-Sleep -Milliseconds (200 * $try)
        }
    }
}

function Get-CloneJournalEntry {
    # Returns the entry or throws the documented clear error; never guesses.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $Name, [Parameter(Mandatory = $true)] [string] $Producer)
    $j = Get-CloneJournal
    if (-not $j['entries'].Contains($Name)) {
        throw ("no {0} entry in the journal {1}: run {2} on the source before imaging" -f $Name, (Get-CloneJournalPath), $Producer)
    }
    return $j['entries'][$Name]
}

function Add-CloneJournalEntry {
    # Record-if-absent: the first recording is the truth. An entry already restored on the source is replaced,
    # because a new round of prep starts from the state that restore put back. Returns $true when it recorded.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [string] $Name,
        [Parameter(Mandatory = $true)] [AllowNull()] [object] $Before)
    $j = Get-CloneJournal
    if ($j['entries'].Contains($Name) -and -not $j['entries'][$Name].Contains('restoredAt')) {
        Write-CloneLog -Run $Run -Message ("journal: {0} already recorded by {1}; kept" -f $Name, $j['entries'][$Name]['recordedBy'])
        return $false
    }
    $j['entries'][$Name] = [ordered]@{
        recordedBy = ('{0}@{1}' -f $Run.Payload, $Run.Version); recordedAt = (Get-CloneUtcStamp); before = $Before
    }
    Save-CloneJournal -Journal $j
    Write-CloneLog -Run $Run -Message ("journal: recorded {0}" -f $Name)
    return $true
}

function Set-CloneJournalRestored {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [string] $Name)
    $j = Get-CloneJournal
    if (-not $j['entries'].Contains($Name)) { return }
    $e = $j['entries'][$Name]
    if ($e.Contains('restoredAt')) { return }
    $e['restoredBy'] = ('{0}@{1}' -f $Run.Payload, $Run.Version); $e['restoredAt'] = (Get-CloneUtcStamp)
    Save-CloneJournal -Journal $j
    Write-CloneLog -Run $Run -Message ("journal: marked {0} restored" -f $Name)
}

# ---- IMDSv2 ----------------------------------------------------------------------------------------------------------

function Invoke-CloneImds {
    # Token PUT then GET, 2 s each, no proxy (a machine proxy must never see metadata calls). $null on any failure.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $Path)
    try {
        $put = [Net.HttpWebRequest]::Create('http://169.254.169.254/latest/api/token')
        $put.Method = 'PUT'; $put.Timeout = 2000; $put.ReadWriteTimeout = 2000; $put.Proxy = $null; $put.ContentLength = 0
        $put.Headers.Add('X-aws-ec2-metadata-token-ttl-seconds', '60')
        $resp = $put.GetResponse()
        try { $token = (New-Object IO.StreamReader($resp.GetResponseStream())).ReadToEnd() } finally { $resp.Close() }
        $get = [Net.HttpWebRequest]::Create('http://169.254.169.254/latest/' + $Path)
        $get.Timeout = 2000; $get.ReadWriteTimeout = 2000; $get.Proxy = $null
        $get.Headers.Add('X-aws-ec2-metadata-token', $token)
        $resp = $get.GetResponse()
        try { return (New-Object IO.StreamReader($resp.GetResponseStream())).ReadToEnd().Trim() } finally { $resp.Close() }
    } catch {
        return $null
    }
}

function Get-CloneInstanceId {
    if ($null -eq $script:Context.InstanceId) {
        $id = Invoke-CloneImds -Path 'meta-data/instance-id'
        if ($null -eq $id -or $id -notmatch '^i-[0-9a-f]{8,17}$') { $id = 'unknown' }
        $script:Context.InstanceId = $id
    }
    return $script:Context.InstanceId
}

function Get-CloneRegion {
    if ($null -eq $script:Context.Region) {
        $r = Invoke-CloneImds -Path 'meta-data/placement/region'
        if ($null -eq $r -and $env:AWS_REGION) { $r = $env:AWS_REGION }
        $script:Context.Region = $r
    }
    return $script:Context.Region
}

# ---- per-instance parameters -----------------------------------------------------------------------------------------

function Resolve-CloneParameters {
    # Plain {"NewName": "APP02"}, or {"common": {...}, "byInstance": {"i-...": {...}}}: common, then this instance's
    # entry on top. Returns a hashtable for splatting.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Json)
    $result = @{}
    $Json = $Json.TrimStart([char]0xFEFF)  # a BOM would make ConvertFrom-Json fail with "Invalid JSON primitive"
    if ($Json.Trim().Length -eq 0) { return $result }
    $data = ConvertTo-CloneData ($Json | ConvertFrom-Json)
    if ($data -isnot [Collections.IDictionary]) { throw 'Params must be a JSON object' }
    $layers = @($data)
    if ($data.Contains('byInstance')) {
        foreach ($k in $data.Keys) {
            if ($k -ne 'common' -and $k -ne 'byInstance') { throw ("Params: unexpected member '{0}' beside byInstance (only common and byInstance are allowed)" -f $k) }
        }
        $id = Get-CloneInstanceId
        if ($id -eq 'unknown') { throw 'Params are per instance, but the instance id could not be read from IMDSv2 (is the metadata service reachable and IMDSv2 enabled?)' }
        if ($data['byInstance'] -isnot [Collections.IDictionary]) { throw 'Params: byInstance must be an object keyed by instance id' }
        if (-not $data['byInstance'].Contains($id)) { throw ("Params: byInstance has no entry for this instance ({0})" -f $id) }
        $layers = @()
        if ($data.Contains('common') -and $null -ne $data['common']) { $layers += , $data['common'] }
        $layers += , $data['byInstance'][$id]
    }
    foreach ($layer in $layers) {
        if ($layer -isnot [Collections.IDictionary]) { throw 'Params: common and each byInstance entry must be JSON objects' }
        foreach ($k in $layer.Keys) { $result[[string]$k] = $layer[$k] }
    }
    return $result
}

# ---- native commands -------------------------------------------------------------------------------------------------

function Invoke-CloneNative {
    # Windows PowerShell turns native stderr into error records, which 'Stop' would throw on: collect them instead.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $FilePath, [string[]] $ArgumentList = @())
    if (-not (Get-Command -Name $FilePath -ErrorAction SilentlyContinue)) { throw ("{0} is not installed or not on PATH" -f $FilePath) }
    $ErrorActionPreference = 'Continue'
    $global:LASTEXITCODE = 0
    $out = New-Object System.Collections.ArrayList; $err = New-Object System.Collections.ArrayList
    foreach ($line in (& $FilePath @ArgumentList 2>&1)) {
        if ($line -is [Management.Automation.ErrorRecord]) { $null = $err.Add([string]$line) } else { $null = $out.Add([string]$line) }
    }
    return @{ ExitCode = $LASTEXITCODE; Output = $out.ToArray(); Error = ($err -join ' ') }
}

function Get-CloneRegistryValue {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $Path, [Parameter(Mandatory = $true)] [string] $Name, [object] $Default = $null)
    $item = Get-ItemProperty -LiteralPath $Path -ErrorAction SilentlyContinue
    if ($null -eq $item -or $null -eq $item.PSObject.Properties[$Name]) { return $Default }
    return $item.$Name
}

# ---- Windows facts ---------------------------------------------------------------------------------------------------

function Get-CloneCim {
    # Get-CimInstance where it exists (3.0+), Get-WmiObject otherwise.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $ClassName, [string] $Namespace = 'root/cimv2', [string] $Filter)
    $a = @{ ClassName = $ClassName; Namespace = $Namespace; ErrorAction = 'Stop' }
    if ($Filter) { $a['Filter'] = $Filter }
    if (Get-Command -Name Get-CimInstance -ErrorAction SilentlyContinue) { return Get-CimInstance @a }
    $w = @{ Class = $ClassName; Namespace = $Namespace; ErrorAction = 'Stop' }
    if ($Filter) { $w['Filter'] = $Filter }
    return Get-WmiObject @w
}

function Get-CloneEc2Launch {
    # v2 on 2022/2025 AMIs, v1 on 2016/2019, EC2Config on 2012 R2 and older; first match wins (v2 may be installed
    # on an old image, and then it is the one that runs).
    [CmdletBinding()]
    param()
    $v2 = Join-Path $env:ProgramFiles 'Amazon\EC2Launch\EC2Launch.exe'
    $v1 = Join-Path $env:ProgramData 'Amazon\EC2-Windows\Launch\Scripts\InitializeInstance.ps1'
    $cfg = Join-Path $env:ProgramFiles 'Amazon\Ec2ConfigService\Ec2Config.exe'
    if (Test-Path -LiteralPath $v2) {
        return [ordered]@{ flavour = 'v2'; version = [string](Get-Item -LiteralPath $v2).VersionInfo.ProductVersion; path = $v2 }
    }
    if (Test-Path -LiteralPath $v1) {
        $version = 'unknown'
        $psd = Join-Path $env:ProgramData 'Amazon\EC2-Windows\Launch\Module\Ec2Launch.psd1'
        if (Test-Path -LiteralPath $psd) {
            $m = [regex]::Match([IO.File]::ReadAllText($psd), "ModuleVersion\s*=\s*'([^']+)'")
            if ($m.Success) { $version = $m.Groups[1].Value }
        }
        return [ordered]@{ flavour = 'v1'; version = $version; path = $v1 }
    }
    if (Test-Path -LiteralPath $cfg) {
        return [ordered]@{ flavour = 'EC2Config'; version = [string](Get-Item -LiteralPath $cfg).VersionInfo.FileVersion; path = $cfg }
    }
    return [ordered]@{ flavour = 'none'; version = ''; path = '' }
}

function Get-CloneMachineSid {
    # A local account's SID without its RID. LocalAccounts is missing before 2016 and in 32-bit PowerShell: ADSI then.
    [CmdletBinding()]
    param()
    try {
        if (Get-Command -Name Get-LocalUser -ErrorAction SilentlyContinue) {
            $u = Get-LocalUser | Select-Object -First 1
            if ($null -ne $u) { return $u.SID.AccountDomainSid.Value }
        }
        $computer = [ADSI]('WinNT://{0},computer' -f $env:COMPUTERNAME)
        foreach ($child in $computer.Children) {
            if ($child.SchemaClassName -eq 'User') {
                $sid = New-Object Security.Principal.SecurityIdentifier(([byte[]]$child.objectSid.Value), 0)
                return $sid.AccountDomainSid.Value
            }
        }
    } catch {
        Write-Verbose -Message ('machine SID: ' + $_.Exception.Message)
    }
    return 'unknown'
}

function Get-CloneImageState {
    return [string](Get-CloneRegistryValue -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State' -Name 'ImageState' -Default 'unknown')
}

function Get-CloneWindowsFacts {
    [CmdletBinding()]
    param()
    $os = Get-CloneCim -ClassName Win32_OperatingSystem
    $cs = Get-CloneCim -ClassName Win32_ComputerSystem
    $e = Get-CloneEc2Launch
    return [ordered]@{
        osCaption = [string]$os.Caption; osVersion = [string]$os.Version; osBuild = [string]$os.BuildNumber
        computerName = $env:COMPUTERNAME
        ec2Launch = [ordered]@{ flavour = $e.flavour; version = $e.version }
        machineSid = (Get-CloneMachineSid); imageState = (Get-CloneImageState)
        partOfDomain = [bool]$cs.PartOfDomain; domain = [string]$cs.Domain; domainRole = [int]$cs.DomainRole
    }
}

# ---- Sysprep blockers (preflight reports them, sysprep refuses on them) ----------------------------------------------

function Get-CloneSysprepBlockers {
    # Each blocker: id and a reason that says what to do. Checks that cannot run are skipped with a log line,
    # never reported as a blocker they did not see.
    [CmdletBinding()]
    param()
    $list = New-Object System.Collections.ArrayList
    $add = { param($id, $reason) $null = $list.Add([ordered]@{ id = $id; reason = $reason }) }
    try {
        $vols = @(Get-CloneCim -Namespace 'root/cimv2/Security/MicrosoftVolumeEncryption' -ClassName Win32_EncryptableVolume)
        foreach ($v in $vols) {
            # ConversionStatus is a property from Windows 8 / 2012 on; read it without tripping StrictMode before that.
            $conversion = 0
            if ($null -ne $v.PSObject.Properties['ConversionStatus']) { $conversion = [int]$v.PSObject.Properties['ConversionStatus'].Value }
            if ($conversion -ne 0 -or [int]$v.ProtectionStatus -eq 1) {
                & $add 'bitlocker' ("BitLocker is on for {0}: decrypt it first (manage-bde -off {0}); sysprep fails with 0x80310039" -f $v.DriveLetter)
            }
        }
    } catch { Write-Verbose -Message 'BitLocker WMI namespace absent: BitLocker not installed' }
    if ((Get-Command -Name Get-AppxPackage -ErrorAction SilentlyContinue) -and (Get-Command -Name Get-AppxProvisionedPackage -ErrorAction SilentlyContinue)) {
        try {
            # By name (the package family without its publisher id), never by full name: a provisioned bundle is
            # Name_<bundleVersion>_neutral_~_<publisher> while the installed main package is Name_<version>_x64__<publisher>,
            # so full names never match for bundles and every Store-signed app would look per-user (D5).
            $prov = @(Get-AppxProvisionedPackage -Online | ForEach-Object { [string]$_.DisplayName })
            $perUser = @(Get-AppxPackage -AllUsers | Where-Object {
                    -not $_.IsFramework -and [string]$_.SignatureKind -ne 'System' -and
                    -not ($null -ne $_.PSObject.Properties['IsResourcePackage'] -and $_.IsResourcePackage) -and
                    $prov -notcontains [string]$_.Name
                })
            if ($perUser.Count -gt 0) {
                $names = (@($perUser | Select-Object -First 3 | ForEach-Object { $_.Name }) -join ', ')
                & $add 'appx-per-user' ("{0} Appx package(s) installed for a user but not provisioned ({1}): remove them (Remove-AppxPackage -AllUsers); sysprep fails with 0x80073cf2" -f $perUser.Count, $names)
            }
        } catch { Write-Verbose -Message ('Appx check skipped: ' + $_.Exception.Message) }
    }
    $pending = @()
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') { $pending += 'servicing' }
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') { $pending += 'Windows Update' }
    if ($null -ne (Get-CloneRegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name 'PendingFileRenameOperations')) { $pending += 'file rename' }
    $pending += @(Get-ClonePendingRenameOrJoin)
    if ($pending.Count -gt 0) {
        & $add 'reboot-pending' ("a reboot is pending ({0}): reboot the instance, then run sysprep again" -f ($pending -join ', '))
    }
    # The rearm count is a licensing counter, not Sysprep's limit of 1001 generalizations per image: preflight reports
    # it as a fact (Get-CloneRearmCount) and nothing refuses on it (D18).
    $cs = Get-CloneCim -ClassName Win32_ComputerSystem
    if ([int]$cs.DomainRole -ge 4) { & $add 'domain-controller' 'this is a domain controller: sysprep is not supported on one; demote it first' }
    if (Get-Service -Name 'ClusSvc' -ErrorAction SilentlyContinue) { & $add 'cluster' 'the Failover Clustering service is installed: remove the node from its cluster and the feature first' }
    if ((Invoke-CloneImds -Path 'meta-data/instance-life-cycle') -eq 'spot') {
        & $add 'spot' 'this is a Spot instance: a one-time request terminates it at shutdown and the copy is lost; use an On-Demand work copy'
    }
    $e = Get-CloneEc2Launch
    if ($e.flavour -eq 'v2') {
        $yml = Join-Path $env:ProgramData 'Amazon\EC2Launch\config\agent-config.yml'
        if ((Test-Path -LiteralPath $yml) -and (@(Get-CloneEc2LaunchV2Tasks) -notcontains 'startSsm')) {
            & $add 'ec2launch-startssm' ("{0} has no startSsm task: clones would never start the SSM agent; add it back" -f $yml)
        }
    }
    if ($e.flavour -eq 'none') { & $add 'no-ec2launch' 'neither EC2Launch v2, EC2Launch v1 nor EC2Config is installed: install EC2Launch v2' }
    return , $list.ToArray()
}

function Get-ClonePendingRenameOrJoin {
    # Pending reboots the servicing keys do not show (D11): a rename (ComputerName differs from ActiveComputerName)
    # and a domain join (Netlogon JoinDomain / AvoidSpnSet stay until the reboot).
    $out = @()
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName'
    $active = [string](Get-CloneRegistryValue -Path "$key\ActiveComputerName" -Name 'ComputerName' -Default '')
    $wanted = [string](Get-CloneRegistryValue -Path "$key\ComputerName" -Name 'ComputerName' -Default $active)
    if ($active -and $wanted -and $active -ne $wanted) { $out += 'rename' }
    $netlogon = 'HKLM:\SYSTEM\CurrentControlSet\Services\Netlogon'
    if ((Test-Path -LiteralPath "$netlogon\JoinDomain") -or (Test-Path -LiteralPath "$netlogon\AvoidSpnSet")) { $out += 'domain join' }
    return , $out
}

function Get-CloneEc2LaunchV2Tasks {
    # The task names of EC2Launch v2's agent-config.yml, from '- task: name' lines; a commented line is no task (D18).
    [CmdletBinding()]
    param()
    $yml = Join-Path $env:ProgramData 'Amazon\EC2Launch\config\agent-config.yml'
    $tasks = New-Object System.Collections.ArrayList
    if (-not (Test-Path -LiteralPath $yml)) { return , $tasks.ToArray() }
    foreach ($line in [IO.File]::ReadAllLines($yml)) {
        $m = [regex]::Match($line, '^\s*-?\s*task\s*:\s*["'']?([A-Za-z0-9]+)["'']?\s*(#.*)?$')
        if ($m.Success) { $null = $tasks.Add($m.Groups[1].Value) }
    }
    return , $tasks.ToArray()
}

function Get-CloneRearmCount {
    # A fact for preflight: the licensing rearm count (not Sysprep's 1001 limit, which Windows does not expose).
    try {
        $sl = @(Get-CloneCim -ClassName SoftwareLicensingService)[0]
        if ($null -ne $sl.PSObject.Properties['RemainingWindowsRearmCount']) { return [int]$sl.RemainingWindowsRearmCount }
    } catch { Write-Verbose -Message 'rearm count not readable' }
    return $null
}

function Get-CloneEc2LaunchStatus {
    # EC2Launch v2 'status' exit code: 0 ok, 1 failed, 2 running, 3 unknown (DOMAIN.md); $null without v2.
    [CmdletBinding()]
    param()
    $e = Get-CloneEc2Launch
    if ($e.flavour -ne 'v2') { return $null }
    $r = Invoke-CloneNative -FilePath $e.path -ArgumentList @('status')
    return [int]$r.ExitCode
}

function Wait-CloneInstanceQuiet {
    # Before Sysprep (D11): EC2Launch v2 must have finished its stages (status not 2) and Windows servicing must be idle
    # (no TiWorker.exe), within TimeoutSeconds. Returns $null when quiet, else what is still busy.
    [CmdletBinding()]
    param([ValidateRange(0, 3600)] [int] $TimeoutSeconds = 600, [ValidateRange(1, 60)] [int] $PollSeconds = 10)
    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        $busy = @()
        if ((Get-CloneEc2LaunchStatus) -eq 2) { $busy += 'EC2Launch v2 is still running its stages (EC2Launch.exe status = 2)' }
        if (@(Get-Process -Name 'TiWorker' -ErrorAction SilentlyContinue).Count -gt 0) { $busy += 'Windows servicing is busy (TiWorker.exe is running)' }
        if ($busy.Count -eq 0) { return $null }
        if ([datetime]::UtcNow -ge $deadline) { return ($busy -join '; ') }
        Start-Sleep -Seconds $PollSeconds
    }
}

# ---- protected services (D12) -----------------------------------------------------------------------------------------
# Stopping one of these (or a service whose stop cascades to one of them) kills the running command or the agent's
# way back: the SSM agent, EC2Launch/EC2Config, WMI and RPC, and what a Windows server needs to stay reachable.
$script:ProtectedServices = @('AmazonSSMAgent', 'EC2Launch', 'Ec2Config', 'Winmgmt', 'RpcSs', 'RpcEptMapper', 'DcomLaunch',
    'LanmanWorkstation', 'Netlogon', 'Dnscache', 'mpssvc', 'EventLog', 'Schedule')

function Get-CloneProtectedServices { return , $script:ProtectedServices }

function Get-CloneProtectedServiceProblem {
    # $null when stopping Name is safe, else why not: it is protected, or a protected service depends on it
    # (DependentServices lists every service that Stop-Service -Force would stop with it).
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $Name)
    foreach ($p in $script:ProtectedServices) {
        if ($p -eq $Name) { return ("'{0}' is protected: stopping it would stop the SSM agent's command or the instance's way back; leave it out of Services" -f $Name) }
    }
    $svc = Get-Service -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $svc) { return $null }
    foreach ($d in @($svc.DependentServices)) {
        if ($script:ProtectedServices -contains [string]$d.Name) {
            return ("stopping '{0}' would also stop the protected service '{1}', which depends on it; leave it out of Services" -f $Name, $d.Name)
        }
    }
    return $null
}

# ---- Parameter Store SecureStrings (read on the instance, with its own role; the value is never logged) ---------------

function Read-CloneSecureString {
    # The plain text never passes through a cmdlet or function parameter, nor through the pipeline: module logging
    # (event 4103) records those bindings with their values. It is read through method calls and .NET members only,
    # and put into a SecureString one character at a time (D2). Script block logging (4104) records script text,
    # which holds no secret; transcription records host output, where nothing of this goes.
    [CmdletBinding()]
    [OutputType([securestring])]
    param([Parameter(Mandatory = $true)] [string] $Name, [string] $Region)
    if (-not $Region) { $Region = Get-CloneRegion }
    if (-not $Region) { throw 'cannot tell the region (IMDS did not answer): pass Region' }
    # Old AWS SDKs for .NET on .NET 4.5 offer TLS 1.0 only; every AWS endpoint wants TLS 1.2 (D7).
    try { [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12 } catch { Write-Verbose -Message 'TLS 1.2 not available to .NET here' }
    if (-not (Get-Command -Name Get-SSMParameter -ErrorAction SilentlyContinue)) {
        foreach ($m in @('AWS.Tools.SimpleSystemsManagement', 'AWSPowerShell')) {
            if (Get-Module -ListAvailable -Name $m) { Import-Module -Name $m -ErrorAction SilentlyContinue; break }
        }
    }
    $secure = New-Object Security.SecureString
    $type = $null
    if (Get-Command -Name Get-SSMParameter -ErrorAction SilentlyContinue) {
        $tools = Get-CloneAwsToolsVersion
        try { $p = Get-SSMParameter -Name $Name -WithDecryption $true -Region $Region }
        catch {
            $hint = ''
            if ($null -ne $tools -and $tools -lt [version]'4.0.0') { $hint = ('; AWS Tools {0} predates IMDSv2 support: install AWS.Tools.SimpleSystemsManagement 4.x or newer' -f $tools) }
            throw ("could not read the SecureString parameter '{0}' with Get-SSMParameter: {1}{2}" -f $Name, $_.Exception.Message, $hint)
        }
        $type = [string]$p.Type
        if ($type -eq 'SecureString') { foreach ($ch in $p.Value.ToCharArray()) { $secure.AppendChar($ch) } }
        $p = $null
    } else {
        $aws = $null
        foreach ($c in @('aws.exe', (Join-Path $env:ProgramFiles 'Amazon\AWSCLIV2\aws.exe'), (Join-Path $env:ProgramFiles 'Amazon\AWSCLI\bin\aws.exe'))) {
            if (Get-Command -Name $c -ErrorAction SilentlyContinue) { $aws = $c; break }
        }
        if ($null -eq $aws) {
            throw ("cannot read the SecureString parameter '{0}': install AWS Tools for PowerShell (AWS.Tools.SimpleSystemsManagement or AWSPowerShell) or the AWS CLI on the instance" -f $Name)
        }
        # UTF-8 both ways (D16): Windows PowerShell decodes native output with [Console]::OutputEncoding (the OEM code
        # page), which would silently change a non-ASCII password. PYTHONUTF8 makes the CLI write UTF-8.
        $saved = @{ Utf8 = $env:PYTHONUTF8; Io = $env:PYTHONIOENCODING; Enc = $null }
        try { $saved.Enc = [Console]::OutputEncoding; [Console]::OutputEncoding = New-Object Text.UTF8Encoding($false) } catch { $saved.Enc = $null }
        $env:PYTHONUTF8 = '1'; $env:PYTHONIOENCODING = 'utf-8'
        try {
            $r = Invoke-CloneNative -FilePath $aws -ArgumentList @('ssm', 'get-parameter', '--name', $Name, '--with-decryption', '--region', $Region, '--output', 'json', '--query', 'Parameter.[Type,Value]')
        } finally {
            $env:PYTHONUTF8 = $saved.Utf8; $env:PYTHONIOENCODING = $saved.Io
            if ($null -ne $saved.Enc) { try { [Console]::OutputEncoding = $saved.Enc } catch { Write-Verbose -Message 'console encoding not restored' } }
        }
        # Only stderr may appear in an error: stdout holds the secret.
        if ($r.ExitCode -ne 0) { throw ("could not read the SecureString parameter '{0}' with the AWS CLI (exit {1}): {2}" -f $Name, $r.ExitCode, $r.Error) }
        # The answer is ["Type", "Value"]: read its two JSON strings here, character by character, so the value never
        # becomes a parameter of ConvertFrom-Json (which module logging would record) nor one whole string.
        $text = [string]::Join("`n", [string[]]$r.Output); $r = $null
        $literal = 0; $inString = $false; $escape = $false; $hex = $null; $typeChars = New-Object Text.StringBuilder
        foreach ($ch in $text.ToCharArray()) {
            $out = $null
            if (-not $inString) { if ($ch -eq '"') { $inString = $true; $literal++ }; continue }
            if ($null -ne $hex) {
                $null = $hex.Append($ch)
                if ($hex.Length -eq 4) { $out = [char][Convert]::ToInt32($hex.ToString(), 16); $hex = $null } else { continue }
            } elseif ($escape) {
                $escape = $false
                if ($ch -eq 'u') { $hex = New-Object Text.StringBuilder; continue }
                $i = 'nrtbf"\/'.IndexOf($ch)
                if ($i -lt 0) { $literal = 99; break }
                $out = ("`n", "`r", "`t", [char]8, [char]12, '"', '\', '/')[$i]
            } elseif ($ch -eq '\') { $escape = $true; continue }
            elseif ($ch -eq '"') { $inString = $false; continue }
            else { $out = $ch }
            if ($literal -eq 1) { $null = $typeChars.Append($out) } elseif ($literal -eq 2) { $secure.AppendChar([char]$out) }
        }
        $text = $null
        if ($literal -ne 2 -or $inString) { $secure.Dispose(); throw ("the AWS CLI answer for '{0}' could not be read (AWS CLI v1 or v2 expected)" -f $Name) }
        $type = $typeChars.ToString()
    }
    if ($type -ne 'SecureString') {
        $secure.Dispose()
        throw ("parameter '{0}' is a {1}, not a SecureString: store secrets as SecureString (aws ssm put-parameter --type SecureString --overwrite)" -f $Name, $type)
    }
    $secure.MakeReadOnly()
    return $secure
}

function Get-CloneAwsToolsVersion {
    # The version of the AWS Tools module that provides Get-SSMParameter (a fact for preflight; D7), or $null.
    $c = Get-Command -Name Get-SSMParameter -ErrorAction SilentlyContinue
    if ($null -eq $c -or $null -eq $c.Module) { return $null }
    return $c.Module.Version
}

function Get-CloneAwsCliVersion {
    # 'aws --version' says e.g. 'aws-cli/2.15.0 Python/3.11.6 Windows/10 exe/AMD64'; $null when no CLI is found.
    foreach ($c in @('aws.exe', (Join-Path $env:ProgramFiles 'Amazon\AWSCLIV2\aws.exe'), (Join-Path $env:ProgramFiles 'Amazon\AWSCLI\bin\aws.exe'))) {
        if (Get-Command -Name $c -ErrorAction SilentlyContinue) {
            $r = Invoke-CloneNative -FilePath $c -ArgumentList @('--version')
            $m = [regex]::Match((($r.Output + @($r.Error)) -join ' '), 'aws-cli/(\d+\.\d+\.\d+)')
            if ($m.Success) { return [version]$m.Groups[1].Value }
            return [version]'0.0.0'
        }
    }
    return $null
}

function Split-CloneCredential {
    # A SecureString holding 'DOMAIN\user', a newline, then the password -> @{ User; Password (SecureString) }, read
    # from the BSTR character by character: the password never exists as one string nor binds to a parameter (D2).
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [securestring] $Secure, [Parameter(Mandatory = $true)] [string] $Name)
    $user = New-Object Text.StringBuilder
    $password = New-Object Security.SecureString
    $bstr = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($Secure)
    try {
        $length = $Secure.Length; $seenNewline = $false
        for ($i = 0; $i -lt $length; $i++) {
            # ReadInt16 is signed: mask it, or a character from U+8000 up would not convert.
            $ch = [char]([int][Runtime.InteropServices.Marshal]::ReadInt16($bstr, $i * 2) -band 0xFFFF)
            if (-not $seenNewline) {
                if ($ch -eq "`n") { $seenNewline = $true } elseif ($ch -ne "`r") { $null = $user.Append($ch) }
                continue
            }
            # Trailing CR/LF after the password are not part of it; one inside it is kept.
            if ($ch -eq "`r" -or $ch -eq "`n") {
                $rest = $true
                for ($k = $i; $k -lt $length; $k++) { $c2 = [char]([int][Runtime.InteropServices.Marshal]::ReadInt16($bstr, $k * 2) -band 0xFFFF); if ($c2 -ne "`r" -and $c2 -ne "`n") { $rest = $false; break } }
                if ($rest) { break }
            }
            $password.AppendChar($ch)
        }
    } finally {
        [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr)
    }
    if (-not $seenNewline -or $user.Length -eq 0 -or $password.Length -eq 0) {
        $password.Dispose()
        throw ("the SecureString '{0}' must hold DOMAIN\user, a newline, then the password" -f $Name)
    }
    $password.MakeReadOnly()
    return @{ User = $user.ToString(); Password = $password }
}

function ConvertFrom-CloneSecureString {
    # Plain text only where an API demands it (ADSI SetPassword, a method call); callers drop it at once.
    param([Parameter(Mandatory = $true)] [securestring] $Secure)
    $bstr = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($Secure)
    try { return [Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr) } finally { [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr) }
}

# ---- local users (LocalAccounts, or ADSI where the module is missing) -------------------------------------------------

function Get-CloneAdministratorsGroupName {
    # The group is localised (Administratoren, ...): resolve it from its well-known SID.
    $sid = New-Object Security.Principal.SecurityIdentifier('S-1-5-32-544')
    return ($sid.Translate([Security.Principal.NTAccount]).Value -split '\\')[-1]
}

function Test-CloneLocalAccounts { return [bool](Get-Command -Name Get-LocalUser -ErrorAction SilentlyContinue) }

function Get-CloneLocalUserState {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $Name)
    $state = [ordered]@{ name = $Name; exists = $false; enabled = $false; inAdministrators = $false }
    if (Test-CloneLocalAccounts) {
        $u = Get-LocalUser -Name $Name -ErrorAction SilentlyContinue
        if ($null -eq $u) { return $state }
        $state.exists = $true; $state.enabled = [bool]$u.Enabled
    } else {
        $computer = [ADSI]('WinNT://{0},computer' -f $env:COMPUTERNAME)
        $user = $computer.Children | Where-Object { $_.SchemaClassName -eq 'User' -and $_.Name -eq $Name } | Select-Object -First 1
        if ($null -eq $user) { return $state }
        $state.exists = $true; $state.enabled = (([int]$user.UserFlags.Value -band 2) -eq 0)
    }
    # Membership by SID through ADSI on both paths: Get-LocalGroupMember fails on groups holding orphaned SIDs,
    # and comparing SIDs avoids the many spellings of a member's ADsPath.
    $sid = (New-Object Security.Principal.NTAccount($env:COMPUTERNAME, $Name)).Translate([Security.Principal.SecurityIdentifier]).Value
    $group = [ADSI]('WinNT://{0}/{1},group' -f $env:COMPUTERNAME, (Get-CloneAdministratorsGroupName))
    foreach ($m in @($group.Invoke('Members'))) {
        $bytes = [byte[]]$m.GetType().InvokeMember('objectSid', 'GetProperty', $null, $m, $null)
        if ((New-Object Security.Principal.SecurityIdentifier($bytes, 0)).Value -eq $sid) { $state.inAdministrators = $true; break }
    }
    return $state
}

function Set-CloneLocalUserEnabled {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)] [string] $Name, [Parameter(Mandatory = $true)] [bool] $Enabled)
    if (-not $PSCmdlet.ShouldProcess($Name, "set enabled to $Enabled")) { return }
    if (Test-CloneLocalAccounts) {
        if ($Enabled) { Enable-LocalUser -Name $Name } else { Disable-LocalUser -Name $Name }
        return
    }
    $user = [ADSI]('WinNT://{0}/{1},user' -f $env:COMPUTERNAME, $Name)
    $flags = [int]$user.UserFlags.Value
    if ($Enabled) { $flags = $flags -band (-bnot 2) } else { $flags = $flags -bor 2 }
    $user.UserFlags.Value = $flags
    $user.SetInfo()
}

function Set-CloneAdministratorsMember {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)] [string] $Name, [Parameter(Mandatory = $true)] [bool] $Member)
    if (-not $PSCmdlet.ShouldProcess($Name, "Administrators member = $Member")) { return }
    if (Test-CloneLocalAccounts) {
        if ($Member) { Add-LocalGroupMember -SID 'S-1-5-32-544' -Member $Name } else { Remove-LocalGroupMember -SID 'S-1-5-32-544' -Member $Name }
        return
    }
    $group = [ADSI]('WinNT://{0}/{1},group' -f $env:COMPUTERNAME, (Get-CloneAdministratorsGroupName))
    $path = 'WinNT://{0}/{1},user' -f $env:COMPUTERNAME, $Name
    if ($Member) { $null = $group.Add($path) } else { $null = $group.Remove($path) }
}

function Set-CloneLocalUserPassword {
    # Creates the user when absent. The password is a SecureString from Parameter Store and stays one on the
    # LocalAccounts path; ADSI needs plain text, held only for the call.
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)] [string] $Name, [Parameter(Mandatory = $true)] [securestring] $Password, [switch] $Create)
    if (-not $PSCmdlet.ShouldProcess($Name, 'set password')) { return }
    if (Test-CloneLocalAccounts) {
        if ($Create) {
            $null = New-LocalUser -Name $Name -Password $Password -PasswordNeverExpires -AccountNeverExpires -Description 'clonectl work user'
        } else {
            Set-LocalUser -Name $Name -Password $Password
        }
        return
    }
    if ($Create) {
        $computer = [ADSI]('WinNT://{0},computer' -f $env:COMPUTERNAME)
        $user = $computer.Create('User', $Name)
    } else {
        $user = [ADSI]('WinNT://{0}/{1},user' -f $env:COMPUTERNAME, $Name)
    }
    $plain = ConvertFrom-CloneSecureString -Secure $Password
    try { $null = $user.SetPassword($plain) } finally { $plain = $null }
    if ($Create) { $user.Put('Description', 'clonectl work user') }
    $user.SetInfo()
    if ($Create) {
        # Flags only after the account exists: the new object's defaults (normal account) must be kept.
        $user = [ADSI]('WinNT://{0}/{1},user' -f $env:COMPUTERNAME, $Name)
        $user.UserFlags.Value = ([int]$user.UserFlags.Value) -bor 0x10000
        $user.SetInfo()
    }
}

function Remove-CloneLocalUser {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)] [string] $Name)
    if (-not $PSCmdlet.ShouldProcess($Name, 'remove local user')) { return }
    if (Test-CloneLocalAccounts) { Remove-LocalUser -Name $Name; return }
    $computer = [ADSI]('WinNT://{0},computer' -f $env:COMPUTERNAME)
    $null = $computer.Delete('User', $Name)
}

# ---- firewall, services and scheduled tasks: state and restore (shared by source-restore and the clone payloads) -----

function Get-CloneFirewallState {
    # The local (persistent) store: what Set-NetFirewallProfile changes and what restore puts back.
    [CmdletBinding()]
    param([string[]] $Profiles = @('Domain', 'Private', 'Public'))
    $state = [ordered]@{}
    foreach ($p in $Profiles) { $state[$p] = ([string](Get-NetFirewallProfile -Name $p).Enabled -eq 'True') }
    return $state
}

function Get-CloneEffectiveFirewall {
    # What is in force (Group Policy included): a GPO can keep a profile on whatever the local store says.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $ProfileName)
    return ([string](Get-NetFirewallProfile -Name $ProfileName -PolicyStore ActiveStore).Enabled -eq 'True')
}

function Set-CloneFirewallState {
    # Changes only the profiles that differ. Only the profile switch is touched, never rules, so the metadata
    # (169.254.169.254) and KMS (169.254.169.250/251) addresses are never blocked by this tool.
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [Collections.IDictionary] $Target)
    foreach ($p in $Target.Keys) {
        $want = [bool]$Target[$p]
        $now = ([string](Get-NetFirewallProfile -Name $p).Enabled -eq 'True')
        if ($now -ne $want -and $PSCmdlet.ShouldProcess("firewall profile $p", "Enabled = $want")) {
            $value = 'False'; if ($want) { $value = 'True' }
            Set-NetFirewallProfile -Name $p -Enabled $value
            Add-CloneChange -Run $Run -Item ('firewall/' + $p) -From $now -To $want
        }
    }
}

function Get-CloneServiceState {
    # Start type from the registry: Get-Service cannot tell Automatic from Automatic (Delayed Start) in 5.1.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $Name)
    $svc = Get-Service -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $svc) { return $null }
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Services\' + $svc.Name
    $start = [int](Get-CloneRegistryValue -Path $key -Name 'Start' -Default 3)
    $delayed = [int](Get-CloneRegistryValue -Path $key -Name 'DelayedAutostart' -Default 0)
    $type = @{ 0 = 'Boot'; 1 = 'System'; 2 = 'Automatic'; 3 = 'Manual'; 4 = 'Disabled' }[$start]
    if ($start -eq 2 -and $delayed -eq 1) { $type = 'AutomaticDelayedStart' }
    return [ordered]@{ name = $svc.Name; startType = $type; status = [string]$svc.Status }
}

function Set-CloneServiceStartType {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)] [string] $Name,
        [Parameter(Mandatory = $true)] [ValidateSet('Automatic', 'AutomaticDelayedStart', 'Manual', 'Disabled')] [string] $StartType)
    if (-not $PSCmdlet.ShouldProcess($Name, "start type $StartType")) { return }
    if ($StartType -eq 'Manual' -or $StartType -eq 'Disabled') { Set-Service -Name $Name -StartupType $StartType; return }
    # sc.exe sets and clears the delayed flag; Set-Service -StartupType Automatic would leave it as it was.
    $mode = 'auto'; if ($StartType -eq 'AutomaticDelayedStart') { $mode = 'delayed-auto' }
    $r = Invoke-CloneNative -FilePath 'sc.exe' -ArgumentList @('config', $Name, 'start=', $mode)
    if ($r.ExitCode -ne 0) { throw ("sc.exe config {0} start= {1} failed (exit {2}): {3}" -f $Name, $mode, $r.ExitCode, ($r.Output -join ' ')) }
}

function Split-CloneTaskPattern {
    # '\App\Nightly' -> path '\App\', name 'Nightly'; '\App\*' and '\App\' -> every task in \App\; 'Nightly' -> root.
    param([Parameter(Mandatory = $true)] [string] $Pattern)
    $p = $Pattern
    if (-not $p.StartsWith('\')) { $p = '\' + $p }
    $i = $p.LastIndexOf('\')
    $name = $p.Substring($i + 1); if ($name -eq '') { $name = '*' }
    return @{ Path = $p.Substring(0, $i + 1); Name = $name }
}

function Restore-CloneJobs {
    # Puts back what jobs-stop recorded: task enabled/disabled, service start type and running state. Every item is
    # attempted and each failure is reported on its own (D4): a service that logs on as a domain account cannot start
    # before the clone joins the domain, and must not keep every later item disabled. Start types first, then the
    # services that were running are started, last. A task that was running is not started (its triggers start it);
    # a service recorded Disabled is never started.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [Collections.IDictionary] $Before)
    foreach ($t in @($Before['tasks'])) {
        if ($null -eq $t) { continue }
        try {
            $task = Get-ScheduledTask -TaskPath $t['path'] -TaskName $t['name'] -ErrorAction SilentlyContinue
            $id = 'task/' + $t['path'] + $t['name']
            if ($null -eq $task) { Add-CloneError -Run $Run -Message ("scheduled task {0}{1} recorded in the journal does not exist here" -f $t['path'], $t['name']); continue }
            $wasDisabled = ($t['state'] -eq 'Disabled'); $isDisabled = ([string]$task.State -eq 'Disabled')
            if ($wasDisabled -ne $isDisabled) {
                if ($wasDisabled) { $null = Disable-ScheduledTask -TaskPath $t['path'] -TaskName $t['name'] }
                else { $null = Enable-ScheduledTask -TaskPath $t['path'] -TaskName $t['name'] }
                Add-CloneChange -Run $Run -Item $id -From ([string]$task.State) -To ([string](Get-ScheduledTask -TaskPath $t['path'] -TaskName $t['name']).State)
            }
        } catch {
            Add-CloneError -Run $Run -Message ("scheduled task {0}{1}: {2}" -f $t['path'], $t['name'], $_.Exception.Message)
        }
    }
    $toStart = New-Object System.Collections.ArrayList
    foreach ($s in @($Before['services'])) {
        if ($null -eq $s) { continue }
        try {
            $now = Get-CloneServiceState -Name $s['name']
            if ($null -eq $now) { Add-CloneError -Run $Run -Message ("service {0} recorded in the journal does not exist here" -f $s['name']); continue }
            if ($now.startType -ne $s['startType'] -and @('Boot', 'System') -notcontains $s['startType']) {
                Set-CloneServiceStartType -Name $s['name'] -StartType $s['startType']
                Add-CloneChange -Run $Run -Item ('service/' + $s['name'] + '/startType') -From $now.startType -To $s['startType']
            }
            if ($s['status'] -eq 'Running' -and $now.status -ne 'Running' -and $s['startType'] -ne 'Disabled') { $null = $toStart.Add(@{ Name = $s['name']; From = $now.status }) }
        } catch {
            Add-CloneError -Run $Run -Message ("service {0}: {1}" -f $s['name'], $_.Exception.Message)
        }
    }
    foreach ($x in $toStart) {
        try {
            Start-Service -Name $x.Name
            Add-CloneChange -Run $Run -Item ('service/' + $x.Name + '/status') -From $x.From -To 'Running'
        } catch {
            $why = $_.Exception.Message
            if ($null -ne $_.Exception.InnerException) { $why = $why + ' (' + $_.Exception.InnerException.Message + ')' }
            Add-CloneError -Run $Run -Message ("service {0} could not start: {1}; its start type is restored. If it logs on as a domain account, join the domain first (domain-join), then run this again" -f $x.Name, $why)
        }
    }
}

function Restore-CloneWorkUser {
    # Clone: a work user that prep created is disabled (kept for audit); one that existed gets its recorded enabled
    # state and Administrators membership back. Source (-RemoveCreated): a created user is removed.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [Collections.IDictionary] $Before, [switch] $RemoveCreated)
    $name = [string]$Before['name']
    $now = Get-CloneLocalUserState -Name $name
    if (-not $now.exists) {
        if ($Before['existed']) { Add-CloneError -Run $Run -Message ("work user {0} existed before prep but is missing now" -f $name) }
        return
    }
    if (-not $Before['existed']) {
        if ($RemoveCreated) { Remove-CloneLocalUser -Name $name; Add-CloneChange -Run $Run -Item ('user/' + $name) -From 'present' -To 'removed'; return }
        if ($now.enabled) { Set-CloneLocalUserEnabled -Name $name -Enabled $false; Add-CloneChange -Run $Run -Item ('user/' + $name + '/enabled') -From $true -To $false }
        return
    }
    if ([bool]$now.inAdministrators -ne [bool]$Before['inAdministrators']) {
        Set-CloneAdministratorsMember -Name $name -Member ([bool]$Before['inAdministrators'])
        Add-CloneChange -Run $Run -Item ('user/' + $name + '/inAdministrators') -From $now.inAdministrators -To ([bool]$Before['inAdministrators'])
    }
    if ([bool]$now.enabled -ne [bool]$Before['enabled']) {
        Set-CloneLocalUserEnabled -Name $name -Enabled ([bool]$Before['enabled'])
        Add-CloneChange -Run $Run -Item ('user/' + $name + '/enabled') -From $now.enabled -To ([bool]$Before['enabled'])
    }
}

function Test-CloneConstrainedLanguage {
    # D17: under WDAC/AppLocker enforcement scripts run in Constrained Language Mode, where the .NET calls here fail.
    return ([string]$ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage')
}

Export-ModuleMember -Function @(
    'Set-CloneAgentContext', 'Get-CloneUtcStamp', 'New-CloneRun', 'Write-CloneLog', 'Add-CloneChange', 'Set-CloneFact',
    'Add-CloneError', 'Invoke-CloneBody', 'Complete-CloneRun', 'Write-CloneFailure', 'ConvertTo-CloneJson',
    'Get-CloneSha256Hex', 'Format-CloneEnvelope', 'ConvertTo-CloneData', 'Get-CloneJournalPath', 'Get-CloneJournal',
    'Save-CloneJournal', 'Get-CloneJournalEntry', 'Add-CloneJournalEntry', 'Set-CloneJournalRestored', 'Invoke-CloneImds',
    'Get-CloneInstanceId', 'Get-CloneRegion', 'Resolve-CloneParameters', 'Invoke-CloneNative', 'Get-CloneRegistryValue',
    'Get-CloneCim', 'Get-CloneEc2Launch', 'Get-CloneMachineSid', 'Get-CloneImageState', 'Get-CloneWindowsFacts',
    'Get-CloneSysprepBlockers', 'Read-CloneSecureString', 'Get-CloneLocalUserState', 'Set-CloneLocalUserEnabled',
    'Set-CloneAdministratorsMember', 'Set-CloneLocalUserPassword', 'Remove-CloneLocalUser', 'Get-CloneFirewallState',
    'Get-CloneEffectiveFirewall', 'Set-CloneFirewallState', 'Get-CloneServiceState', 'Set-CloneServiceStartType',
    'Split-CloneTaskPattern', 'Restore-CloneJobs', 'Restore-CloneWorkUser',
    'Get-CloneDataRoot', 'Test-CloneDataRoot', 'Assert-CloneDataRoot', 'Get-ClonePendingRenameOrJoin', 'Get-CloneEc2LaunchV2Tasks',
    'Get-CloneRearmCount', 'Get-CloneEc2LaunchStatus', 'Wait-CloneInstanceQuiet', 'Get-CloneProtectedServices',
    'Get-CloneProtectedServiceProblem', 'Get-CloneAwsToolsVersion', 'Get-CloneAwsCliVersion', 'Split-CloneCredential',
    'Test-CloneConstrainedLanguage'
)
