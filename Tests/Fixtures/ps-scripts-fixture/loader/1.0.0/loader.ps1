# clonectl loader v1 (fixture): __CLONECTL_PAYLOAD__@__CLONECTL_VERSION__
$ErrorActionPreference = 'Stop'
$c = @{
  Payload = '__CLONECTL_PAYLOAD__'; Version = '__CLONECTL_VERSION__'; Nonce = '__CLONECTL_NONCE__'
  ModuleSha256 = '__CLONECTL_MODULE_SHA256__'; PayloadSha256 = '__CLONECTL_PAYLOAD_SHA256__'
  Module = '__CLONECTL_MODULE_B64__'
  Script = '__CLONECTL_SCRIPT_B64__'
  Params = '__CLONECTL_PARAMS_B64__'
}
function Expand-Gzip([string]$b64) {
  $in = New-Object IO.MemoryStream(, [Convert]::FromBase64String($b64))
  $gz = New-Object IO.Compression.GZipStream($in, [IO.Compression.CompressionMode]::Decompress)
  $out = New-Object IO.MemoryStream
  $gz.CopyTo($out)
  return , $out.ToArray()
}
$sha = [Security.Cryptography.SHA256]::Create()
$module = Expand-Gzip $c.Module
$script = Expand-Gzip $c.Script
if (([BitConverter]::ToString($sha.ComputeHash($module)) -replace '-', '').ToLower() -ne $c.ModuleSha256) { exit 2 }
if (([BitConverter]::ToString($sha.ComputeHash($script)) -replace '-', '').ToLower() -ne $c.PayloadSha256) { exit 2 }
exit 0
