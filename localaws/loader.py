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
    params: dict


def parse_values(text: str) -> dict:
    """The hashtable's known keys and their literal values (first occurrence of each wins)."""
    start = text.find("@{")
    body = text[start:] if start >= 0 else text
    values: dict[str, str] = {}
    for match in _PAIR.finditer(body):
        values.setdefault(match.group(1), match.group(2).replace("''", "'"))
    return values


def _blob(name: str, value: str, gzipped: bool) -> bytes:
    compact = re.sub(r"\s+", "", value)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LoaderRefused(f"clonectl loader: {name} is not valid base64 ({exc})") from None
    if not gzipped:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise LoaderRefused(f"clonectl loader: {name} is not valid gzip ({exc})") from None


def load(text: str) -> Loaded:
    values = parse_values(text)
    missing = [k for k in KEYS if k not in values]
    if missing:
        raise LoaderRefused("clonectl loader: the loader text lacks " + ", ".join(missing))
    for key, value in values.items():
        if "__CLONECTL_" in value:
            raise LoaderRefused(f"clonectl loader: {key} still holds a template placeholder")
    for key in ("ModuleSha256", "PayloadSha256"):
        if not _HEX64.match(values[key]):
            raise LoaderRefused(f"clonectl loader: {key} is not 64 hex characters")
    module = _blob("Module", values["Module"], True)
    script = _blob("Script", values["Script"], True)
    # The real loader checks both hashes before running anything, and names the one that differs.
    for name, data, expected in (("module", module, values["ModuleSha256"]),
                                 ("payload", script, values["PayloadSha256"])):
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected.lower():
            raise LoaderRefused(f"clonectl loader: {name} SHA-256 mismatch: expected {expected.lower()}, got {actual}")
    try:
        params = json.loads(_blob("Params", values["Params"], False).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LoaderRefused(f"clonectl loader: Params is not UTF-8 JSON ({exc})") from None
    if not isinstance(params, dict):
        raise LoaderRefused("clonectl loader: Params must be a JSON object")
    return Loaded(values["Payload"], values["Version"], values["Nonce"], values["ModuleSha256"].lower(),
                  values["PayloadSha256"].lower(), module, script, params)


def resolve_params(params: dict, instance_id: str) -> dict:
    """Plain params as they are; {common, byInstance} -> common overlaid with this instance's own entry."""
    if "byInstance" not in params and "common" not in params:
        return dict(params)
    by_instance = params.get("byInstance") or {}
    if instance_id not in by_instance:
        raise ValueError(f"Params has no byInstance entry for {instance_id}")
    merged = dict(params.get("common") or {})
    merged.update(by_instance[instance_id])
    return merged


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
