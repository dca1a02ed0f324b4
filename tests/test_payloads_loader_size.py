"""Builds the loader the way the controller does (envelope.md) for every payload: it must fit and stay SSM-safe."""
import base64
import gzip
import hashlib
import json
import re

import pytest

from conftest import PS, loader_for, module_for, payload_files, rel

LIMIT = 48_000  # envelope.md: the controller refuses a loader over this many characters


def build(payload_path, params):
    module_path = module_for(payload_path)
    module = module_path.read_bytes()
    script = payload_path.read_bytes()
    values = {
        "PAYLOAD": payload_path.parent.name, "VERSION": payload_path.stem, "NONCE": "0123456789abcdef" * 2,
        "MODULE_SHA256": hashlib.sha256(module).hexdigest(), "PAYLOAD_SHA256": hashlib.sha256(script).hexdigest(),
        "MODULE_B64": base64.b64encode(gzip.compress(module, mtime=0)).decode(),
        "SCRIPT_B64": base64.b64encode(gzip.compress(script, mtime=0)).decode(),
        "PARAMS_B64": base64.b64encode(json.dumps(params).encode()).decode(),
    }
    text = loader_for(module_path.parent.name).read_text(encoding="ascii")
    for k, v in values.items():
        text = text.replace(f"__CLONECTL_{k}__", v)
    return text


@pytest.mark.parametrize("path", payload_files(), ids=rel)
def test_loader_fits_and_has_no_ssm_parameter_syntax(path):
    # 50 clones with different names: the largest realistic Params.
    params = {"common": {}, "byInstance": {f"i-{n:017x}": {"NewName": f"APP{n:02d}"} for n in range(50)}}
    text = build(path, params)
    assert len(text) < LIMIT, f"{rel(path)}: loader is {len(text)} characters"
    assert "__CLONECTL_" not in text and "{{" not in text
    # Every literal is single-quoted and from the base64 / hex / name alphabet: nothing to escape.
    for literal in re.findall(r"'([^']*)'", text):
        assert re.fullmatch(r"[A-Za-z0-9+/=._ :@<>\\-]*", literal), literal[:60]


def test_the_checked_bytes_are_the_manifest_bytes(manifest):
    # The loader checks the SHA-256 of the uncompressed bytes: the same value the manifest lists.
    module = next(m for m in manifest["modules"] if m["version"] == "1.0.0")
    assert hashlib.sha256((PS / module["path"]).read_bytes()).hexdigest() == module["sha256"]
    text = build(PS / "payloads" / "hostname" / "1.0.0.ps1", {"NewName": "APP02"})
    assert f"ModuleSha256 = '{module['sha256']}'" in text
