# clonectl loader v1: __CLONECTL_PAYLOAD__@__CLONECTL_VERSION__ (template 1.1.0; agent-docs/envelope.md)
if ([string]$ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
  # Under WDAC/AppLocker script enforcement the .NET calls below are blocked (so is [Console] here: a cmdlet says it).
  Write-Error -Message ('clonectl loader refused __CLONECTL_PAYLOAD__@__CLONECTL_VERSION__: PowerShell runs in ' + $ExecutionContext.SessionState.LanguageMode + ' mode under WDAC or AppLocker script enforcement: allow the SSM agent scripts - see agent-docs/instance-requirements.md') -ErrorAction Continue
  exit 2
}
$ErrorActionPreference = 'Stop'
$global:ProgressPreference = 'SilentlyContinue'
$global:WarningPreference = 'SilentlyContinue'
$c = @{
  Payload = '__CLONECTL_PAYLOAD__'; Version = '__CLONECTL_VERSION__'; Nonce = '__CLONECTL_NONCE__'
  ModuleSha256 = '__CLONECTL_MODULE_SHA256__'; PayloadSha256 = '__CLONECTL_PAYLOAD_SHA256__'
  Module = '__CLONECTL_MODULE_B64__'
  Script = '__CLONECTL_SCRIPT_B64__'
  Params = '__CLONECTL_PARAMS_B64__'
}
function Expand-Blob([string] $b64, [string] $sha, [string] $file) {
  # gunzip; check the SHA-256 of the uncompressed bytes (CSP class: SHA256Managed throws under the FIPS policy).
  # Returns the checked text: it runs from memory, never from a file someone else could swap (D1).
  $in = New-Object IO.MemoryStream(, [Convert]::FromBase64String($b64))
  $gz = New-Object IO.Compression.GZipStream($in, [IO.Compression.CompressionMode]::Decompress)
  $out = New-Object IO.MemoryStream
  $gz.CopyTo($out); $gz.Dispose()
  $bytes = $out.ToArray()
  $h = -join ((New-Object Security.Cryptography.SHA256CryptoServiceProvider).ComputeHash($bytes) | ForEach-Object { $_.ToString('x2') })
  if ($h -ne $sha) { throw "$file has SHA-256 $h, expected $sha" }
  return [Text.Encoding]::UTF8.GetString($bytes)
}
try {
  $m = Expand-Blob $c.Module $c.ModuleSha256 'CloneAgent.psm1'
  $s = [scriptblock]::Create((Expand-Blob $c.Script $c.PayloadSha256 ($c.Payload + '.ps1')))
  $j = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($c.Params))
  $null = New-Module -Name CloneAgent -ScriptBlock ([scriptblock]::Create($m)) | Import-Module -Force -PassThru
} catch {
  [Console]::Error.WriteLine('clonectl loader refused ' + $c.Payload + '@' + $c.Version + ': ' + $_.Exception.Message)
  exit 2
}
Set-CloneAgentContext -Nonce $c.Nonce -PayloadSha256 $c.PayloadSha256
try {
  $p = Resolve-CloneParameters -Json $j
  $null = & $s @p
  exit $LASTEXITCODE
} catch {
  exit (Write-CloneFailure -Payload $c.Payload -Version $c.Version -Message ('could not run: ' + $_.Exception.Message))
}
