"""Reads the loader text the controller sends (agent-docs/envelope.md) the way the real loader runs it.

The template (ps-scripts/loader/<version>/loader.ps1) is owned by the payloads side and may change its layout, so
this parser does not depend on it: it reads the single-quoted values of the known keys of the `$c = @{ ... }`
hashtable wherever they sit, one per line or several per line. Whatever the real loader refuses (bad base64, bad
gzip, a hash mismatch, a placeholder left unfilled) this refuses too, as exit 2 with a reason on stderr.
"""
import base64
import binascii
import gzip
import hashlib
import json
import re
from dataclasses import dataclass

KEYS = ("Payload", "Version", "Nonce", "ModuleSha256", "PayloadSha256", "Module", "Script", "Params")
# A PowerShell single-quoted string: '' inside is one quote.
_PAIR = re.compile(r"\b(%s)\s*=\s*'((?:[^']|'')*)'" % "|".join(KEYS))
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class LoaderRefused(Exception):
    """The loader exits 2: stderr carries str(self), stdout stays empty (no envelope)."""


@dataclass
class Loaded:
    payload: str
    version: str
    nonce: str
    module_sha256: str
    payload_sha256: str
    module: bytes
    script: bytes
    params_text: str  # parsed per instance by resolve_params, as the module does after the loader


def parse_values(text: str) -> dict:
    """The hashtable's known keys and their literal values (first occurrence of each wins)."""
    start = text.find("@{")
    body = text[start:] if start >= 0 else text
    values: dict[str, str] = {}
    for match in _PAIR.finditer(body):
        values.setdefault(match.group(1), match.group(2).replace("''", "'"))
    return values


def _blob(prefix: str, name: str, value: str, gzipped: bool) -> bytes:
    compact = re.sub(r"\s+", "", value)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LoaderRefused(f"{prefix}{name} is not valid base64 ({exc})") from None
    if not gzipped:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise LoaderRefused(f"{prefix}{name} is not valid gzip ({exc})") from None


def load(text: str) -> Loaded:
    """Decodes and checks like loader 1.0.0: any failure here is its exit 2 with one line on stderr."""
    values = parse_values(text)
    prefix = f"clonectl loader refused {values.get('Payload', '?')}@{values.get('Version', '?')}: "
    missing = [k for k in KEYS if k not in values]
    if missing:
        raise LoaderRefused(prefix + "the loader text lacks " + ", ".join(missing))
    for key, value in values.items():
        if "__CLONECTL_" in value:
            raise LoaderRefused(f"{prefix}{key} still holds a template placeholder")
    for key in ("ModuleSha256", "PayloadSha256"):
        if not _HEX64.match(values[key]):
            raise LoaderRefused(f"{prefix}{key} is not 64 hex characters")
    # Same order and wording as the real loader: the module first, then the payload, each named by its file.
    blobs = {}
    for key, file, sha in (("Module", "CloneAgent.psm1", values["ModuleSha256"]),
                           ("Script", values["Payload"] + ".ps1", values["PayloadSha256"])):
        data = _blob(prefix, key, values[key], True)
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:  # PowerShell's -ne is case-insensitive, so upper-case hex passes there too (hexdigest is lower)
            raise LoaderRefused(f"{prefix}{file} has SHA-256 {actual}, expected {sha}")
        blobs[key] = data
    try:
        params_text = _blob(prefix, "Params", values["Params"], False).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoaderRefused(f"{prefix}Params is not UTF-8 ({exc})") from None
    return Loaded(values["Payload"], values["Version"], values["Nonce"], values["ModuleSha256"],
                  values["PayloadSha256"], blobs["Module"], blobs["Script"], params_text)


def resolve_params(params_text: str, instance_id: str) -> dict:
    """Resolve-CloneParameters: plain, or common + this instance's byInstance entry. ValueError says why not."""
    if not params_text.strip():
        return {}
    try:
        data = json.loads(params_text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Params is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("Params must be a JSON object")
    layers = [data]
    if "byInstance" in data:
        extra = [k for k in data if k not in ("common", "byInstance")]
        if extra:
            raise ValueError(f"Params: unexpected member '{extra[0]}' beside byInstance (only common and "
                             "byInstance are allowed)")
        if not isinstance(data["byInstance"], dict):
            raise ValueError("Params: byInstance must be an object keyed by instance id")
        if instance_id not in data["byInstance"]:
            raise ValueError(f"Params: byInstance has no entry for this instance ({instance_id})")
        layers = ([data["common"]] if data.get("common") is not None else []) + [data["byInstance"][instance_id]]
    result = {}
    for layer in layers:
        if not isinstance(layer, dict):
            raise ValueError("Params: common and each byInstance entry must be JSON objects")
        result.update(layer)
    return result


def build(payload: str, version: str, nonce: str, module: bytes, script: bytes, params: dict) -> str:
    """A loader text as the controller builds it (tests and the demo use it; the template's tail is elided)."""
    def b64gz(data: bytes) -> str:
        return base64.b64encode(gzip.compress(data, mtime=0)).decode("ascii")
    return (
        f"# clonectl loader v1: {payload}@{version}\r\n$ErrorActionPreference = 'Stop'\r\n$c = @{{\r\n"
        f"  Payload = '{payload}'; Version = '{version}'; Nonce = '{nonce}'\r\n"
        f"  ModuleSha256 = '{hashlib.sha256(module).hexdigest()}'; "
        f"PayloadSha256 = '{hashlib.sha256(script).hexdigest()}'\r\n"
        f"  Module = '{b64gz(module)}'\r\n  Script = '{b64gz(script)}'\r\n"
        f"  Params = '{base64.b64encode(json.dumps(params).encode()).decode('ascii')}'\r\n}}\r\n"
    )
