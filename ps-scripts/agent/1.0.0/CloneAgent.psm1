# CloneAgent 1.0.0: the shared module every clonectl payload runs with (Windows PowerShell 5.1; 4.0 where noted).
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

$script:Context = @{ Nonce = ''; PayloadSha256 = ''; InstanceId = $null; Region = $null; Written = $false }
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

# ---- run context and log -------------------------------------------------------------------------------------------

function New-CloneRun {
    # MaxChars is the envelope budget: 2,500 (what ListCommandInvocations returns) unless a payload documents more.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [ValidatePattern('^[a-z0-9-]+$')] [string] $Payload,
        [Parameter(Mandatory = $true)] [ValidatePattern('^\d+\.\d+\.\d+$')] [string] $Version,
        [ValidateRange(1000, 24000)] [int] $MaxChars = 2500
    )
    $logDir = Join-Path $script:DataRoot 'logs'
    $logPath = $null
    try {
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
        Payload = $Payload; Version = $Version; MaxChars = $MaxChars; StartedAt = Get-CloneUtcStamp
        Changed = New-Object System.Collections.ArrayList; Facts = [ordered]@{}; OptionalFacts = @{}
        Errors = New-Object System.Collections.ArrayList; Log = New-Object System.Collections.ArrayList
        LogPath = $logPath; RebootPending = $false; Completed = $false
    }
    Write-CloneLog -Run $run -Message ("start {0}@{1}" -f $Payload, $Version)
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
    foreach ($ch in $Text.ToCharArray()) {
        # An if-chain, not switch: `continue` inside a switch would only leave the switch.
        $n = [int]$ch
        if ($n -eq 34) { $null = $Sb.Append('\"') }
        elseif ($n -eq 92) { $null = $Sb.Append('\\') }
        elseif ($n -eq 8) { $null = $Sb.Append('\b') }
        elseif ($n -eq 12) { $null = $Sb.Append('\f') }
        elseif ($n -eq 10) { $null = $Sb.Append('\n') }
        elseif ($n -eq 13) { $null = $Sb.Append('\r') }
        elseif ($n -eq 9) { $null = $Sb.Append('\t') }
        elseif ($n -lt 0x20 -or $n -gt 0x7E) { $null = $Sb.Append('\u').Append($n.ToString('x4', $script:Invariant)) }
        else { $null = $Sb.Append($ch) }
    }
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
    # Over budget: drop the oldest log lines, then optional facts, then (never over 24,000) all facts.
    while ($text.Length -gt $Run.MaxChars -and $tail.Count -gt 0) {
        $tail.RemoveAt(0); $text = Format-CloneEnvelope -Body $body
    }
    if ($text.Length -gt $Run.MaxChars -and $Run.OptionalFacts.Count -gt 0) {
        $kept = [ordered]@{}
        foreach ($k in $facts.Keys) { if (-not $Run.OptionalFacts.Contains($k)) { $kept[$k] = $facts[$k] } }
        $kept['omittedFacts'] = @($Run.OptionalFacts.Keys | Sort-Object)
        $body['facts'] = $kept; $text = Format-CloneEnvelope -Body $body
    }
    if ($text.Length -gt 24000) {
        $body['facts'] = [ordered]@{ omitted = 'facts exceeded the 24000-character envelope limit; see the guest log' }
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
    $path = Get-CloneJournalPath
    $dir = Split-Path -Parent $path
    if (-not (Test-Path -LiteralPath $dir)) { $null = New-Item -ItemType Directory -Path $dir -Force }
    $tmp = Join-Path $dir ('journal.{0}.tmp' -f [guid]::NewGuid().ToString('N'))
    [IO.File]::WriteAllText($tmp, (ConvertTo-CloneJson $Journal), (New-Object Text.UTF8Encoding($false)))
    if (Test-Path -LiteralPath $path) { [IO.File]::Replace($tmp, $path, [NullString]::Value) }
    else { Move-Item -LiteralPath $tmp -Destination $path -Force }
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
            $prov = @(Get-AppxProvisionedPackage -Online | ForEach-Object { $_.PackageName })
            $perUser = @(Get-AppxPackage -AllUsers | Where-Object { -not $_.IsFramework -and [string]$_.SignatureKind -ne 'System' -and $prov -notcontains $_.PackageFullName })
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
    if ($pending.Count -gt 0) {
        & $add 'reboot-pending' ("a reboot is pending ({0}): reboot the instance, then run sysprep again" -f ($pending -join ', '))
    }
    try {
        $sl = @(Get-CloneCim -ClassName SoftwareLicensingService)[0]
        if ($null -ne $sl.PSObject.Properties['RemainingWindowsRearmCount'] -and [int]$sl.RemainingWindowsRearmCount -lt 1) {
            & $add 'sysprep-count' 'the Windows rearm count is exhausted: sysprep /generalize would fail; build the master from a fresher image'
        }
    } catch { Write-Verbose -Message 'rearm count not readable' }
    $cs = Get-CloneCim -ClassName Win32_ComputerSystem
    if ([int]$cs.DomainRole -ge 4) { & $add 'domain-controller' 'this is a domain controller: sysprep is not supported on one; demote it first' }
    if (Get-Service -Name 'ClusSvc' -ErrorAction SilentlyContinue) { & $add 'cluster' 'the Failover Clustering service is installed: remove the node from its cluster and the feature first' }
    if ((Invoke-CloneImds -Path 'meta-data/instance-life-cycle') -eq 'spot') {
        & $add 'spot' 'this is a Spot instance: a one-time request terminates it at shutdown and the copy is lost; use an On-Demand work copy'
    }
    $e = Get-CloneEc2Launch
    if ($e.flavour -eq 'v2') {
        $yml = Join-Path $env:ProgramData 'Amazon\EC2Launch\config\agent-config.yml'
        if ((Test-Path -LiteralPath $yml) -and ([IO.File]::ReadAllText($yml) -notmatch 'startSsm')) {
            & $add 'ec2launch-startssm' ("{0} has no startSsm task: clones would never start the SSM agent; add it back" -f $yml)
        }
    }
    if ($e.flavour -eq 'none') { & $add 'no-ec2launch' 'neither EC2Launch v2, EC2Launch v1 nor EC2Config is installed: install EC2Launch v2' }
    return , $list.ToArray()
}

# ---- Parameter Store SecureStrings (read on the instance, with its own role; the value is never logged) ---------------

function Read-CloneSecureString {
    [CmdletBinding()]
    [OutputType([securestring])]
    param([Parameter(Mandatory = $true)] [string] $Name, [string] $Region)
    if (-not $Region) { $Region = Get-CloneRegion }
    if (-not $Region) { throw 'cannot tell the region (IMDS did not answer): pass Region' }
    if (-not (Get-Command -Name Get-SSMParameter -ErrorAction SilentlyContinue)) {
        foreach ($m in @('AWS.Tools.SimpleSystemsManagement', 'AWSPowerShell')) {
            if (Get-Module -ListAvailable -Name $m) { Import-Module -Name $m -ErrorAction SilentlyContinue; break }
        }
    }
    $type = $null; $plain = $null
    if (Get-Command -Name Get-SSMParameter -ErrorAction SilentlyContinue) {
        try { $p = Get-SSMParameter -Name $Name -WithDecryption $true -Region $Region }
        catch { throw ("could not read the SecureString parameter '{0}' with Get-SSMParameter: {1}" -f $Name, $_.Exception.Message) }
        $type = [string]$p.Type; $plain = [string]$p.Value; $p = $null
    } else {
        $aws = $null
        foreach ($c in @('aws.exe', (Join-Path $env:ProgramFiles 'Amazon\AWSCLIV2\aws.exe'), (Join-Path $env:ProgramFiles 'Amazon\AWSCLI\bin\aws.exe'))) {
            if (Get-Command -Name $c -ErrorAction SilentlyContinue) { $aws = $c; break }
        }
        if ($null -eq $aws) {
            throw ("cannot read the SecureString parameter '{0}': install AWS Tools for PowerShell (AWS.Tools.SimpleSystemsManagement or AWSPowerShell) or the AWS CLI on the instance" -f $Name)
        }
        $r = Invoke-CloneNative -FilePath $aws -ArgumentList @('ssm', 'get-parameter', '--name', $Name, '--with-decryption', '--region', $Region, '--output', 'json', '--query', 'Parameter.{t:Type,v:Value}')
        # Only stderr may appear in the error: stdout holds the secret.
        if ($r.ExitCode -ne 0) { throw ("could not read the SecureString parameter '{0}' with the AWS CLI (exit {1}): {2}" -f $Name, $r.ExitCode, $r.Error) }
        # A JSON error message quotes its input, which holds the secret: replace it with one that does not.
        try { $o = ($r.Output -join "`n") | ConvertFrom-Json } catch { $o = $null }
        $r = $null
        if ($null -eq $o -or $null -eq $o.PSObject.Properties['v']) { throw ("the AWS CLI answer for '{0}' could not be read (AWS CLI v1 or v2 expected)" -f $Name) }
        $type = [string]$o.t; $plain = [string]$o.v; $o = $null
    }
    if ($type -ne 'SecureString') {
        $plain = $null
        throw ("parameter '{0}' is a {1}, not a SecureString: store secrets as SecureString" -f $Name, $type)
    }
    $secure = ConvertTo-SecureString -String $plain -AsPlainText -Force
    $plain = $null
    return $secure
}

function ConvertFrom-CloneSecureString {
    # Plain text only where an API demands it (ADSI SetPassword); callers drop it at once.
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
    # Puts back what jobs-stop recorded: task enabled/disabled, service start type and running state. A task that
    # was running is not started again (it runs on its own trigger); a service that was running is.
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Run, [Parameter(Mandatory = $true)] [Collections.IDictionary] $Before)
    foreach ($t in @($Before['tasks'])) {
        if ($null -eq $t) { continue }
        $task = Get-ScheduledTask -TaskPath $t['path'] -TaskName $t['name'] -ErrorAction SilentlyContinue
        $id = 'task/' + $t['path'] + $t['name']
        if ($null -eq $task) { Add-CloneError -Run $Run -Message ("scheduled task {0}{1} recorded in the journal does not exist here" -f $t['path'], $t['name']); continue }
        $wasDisabled = ($t['state'] -eq 'Disabled'); $isDisabled = ([string]$task.State -eq 'Disabled')
        if ($wasDisabled -ne $isDisabled) {
            if ($wasDisabled) { $null = Disable-ScheduledTask -TaskPath $t['path'] -TaskName $t['name'] }
            else { $null = Enable-ScheduledTask -TaskPath $t['path'] -TaskName $t['name'] }
            Add-CloneChange -Run $Run -Item $id -From ([string]$task.State) -To ([string](Get-ScheduledTask -TaskPath $t['path'] -TaskName $t['name']).State)
        }
    }
    foreach ($s in @($Before['services'])) {
        if ($null -eq $s) { continue }
        $now = Get-CloneServiceState -Name $s['name']
        if ($null -eq $now) { Add-CloneError -Run $Run -Message ("service {0} recorded in the journal does not exist here" -f $s['name']); continue }
        if ($now.startType -ne $s['startType'] -and @('Boot', 'System') -notcontains $s['startType']) {
            Set-CloneServiceStartType -Name $s['name'] -StartType $s['startType']
            Add-CloneChange -Run $Run -Item ('service/' + $s['name'] + '/startType') -From $now.startType -To $s['startType']
        }
        if ($s['status'] -eq 'Running' -and $now.status -ne 'Running') {
            Start-Service -Name $s['name']
            Add-CloneChange -Run $Run -Item ('service/' + $s['name'] + '/status') -From $now.status -To 'Running'
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
    'Split-CloneTaskPattern', 'Restore-CloneJobs', 'Restore-CloneWorkUser'
)
