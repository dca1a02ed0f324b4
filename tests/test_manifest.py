"""scripts/manifest.py: --check passes on the repository, and fails naming the file when bytes change."""
import json
import shutil
import subprocess
import sys

import pytest

from conftest import PS, ROOT

SCRIPT = ROOT / "scripts" / "manifest.py"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


@pytest.fixture
def copy(tmp_path):
    dst = tmp_path / "ps-scripts"
    shutil.copytree(PS, dst)
    return dst


def test_check_passes_on_the_repository():
    r = run("--check")
    assert r.returncode == 0, r.stderr


def test_a_modified_file_fails_check_naming_it(copy):
    target = copy / "payloads" / "hostname" / "1.0.0.ps1"
    target.write_bytes(target.read_bytes().replace(b"Rename-Computer -NewName", b"Rename-Computer  -NewName"))
    other = copy / "agent" / "1.0.0" / "CloneAgent.psm1"
    other.write_bytes(other.read_bytes() + b"\n")
    r = run("--check", "--root", str(copy))
    assert r.returncode == 1
    assert "payloads/hostname/1.0.0.ps1: bytes differ" in r.stderr
    assert "agent/1.0.0/CloneAgent.psm1: bytes differ" in r.stderr
    assert "time-zone" not in r.stderr


def test_write_refuses_to_change_a_released_hash(copy):
    target = copy / "payloads" / "verify" / "1.0.0.ps1"
    target.write_bytes(target.read_bytes() + b"\n")
    before = (copy / "manifest.json").read_bytes()
    r = run("--write", "--root", str(copy))
    assert r.returncode == 1
    assert "payloads/verify/1.0.0.ps1" in r.stderr and "bump the version" in r.stderr
    assert (copy / "manifest.json").read_bytes() == before


def test_write_adds_a_new_version_and_keeps_the_old(copy):
    old = copy / "payloads" / "verify" / "1.0.0.ps1"
    new = copy / "payloads" / "verify" / "1.0.1.ps1"
    new.write_bytes(old.read_bytes().replace(b".VERSION 1.0.0", b".VERSION 1.0.1")
                    .replace(b"-Version '1.0.0'", b"-Version '1.0.1'"))
    assert run("--check", "--root", str(copy)).returncode == 1  # unlisted until written
    r = run("--write", "--root", str(copy))
    assert r.returncode == 0, r.stderr
    data = json.loads((copy / "manifest.json").read_text())
    versions = [e["version"] for e in data["payloads"] if e["name"] == "verify"]
    assert versions == ["1.0.0", "1.0.1", "1.1.0"]
    # The released entries keep every member they had, the superseded reason included.
    assert next(e for e in data["payloads"] if e["name"] == "verify" and e["version"] == "1.0.0").get("superseded")
    assert run("--check", "--root", str(copy)).returncode == 0


def test_a_version_mismatch_inside_the_file_is_reported(copy):
    bad = copy / "payloads" / "verify" / "2.0.0.ps1"
    shutil.copy(copy / "payloads" / "verify" / "1.0.0.ps1", bad)
    r = run("--write", "--root", str(copy))
    assert r.returncode == 1
    assert "payloads/verify/2.0.0.ps1: <#PSScriptInfo .VERSION 1.0.0 #> does not match the file name 2.0.0" in r.stderr


def test_a_missing_released_file_fails_check(copy):
    (copy / "payloads" / "time-zone" / "1.0.0.ps1").unlink()
    r = run("--check", "--root", str(copy))
    assert r.returncode == 1 and "payloads/time-zone/1.0.0.ps1: listed in the manifest but missing" in r.stderr


def test_manifest_shape(manifest):
    assert manifest["formatVersion"] == 1
    optional = {"superseded"}
    assert {"version", "path", "sha256"} <= set(manifest["loader"]) <= {"version", "path", "sha256"} | optional
    assert all({"version", "path", "sha256"} <= set(m) <= {"version", "path", "sha256"} | optional for m in manifest["modules"])
    assert all({"name", "version", "path", "sha256", "module", "description"} <= set(p)
               <= {"name", "version", "path", "sha256", "module", "description"} | optional for p in manifest["payloads"])
    assert all(len(e["sha256"]) == 64 for e in manifest["payloads"] + manifest["modules"] + [manifest["loader"]])
