#!/usr/bin/env python3
"""Keeps ps-scripts/manifest.json in step with the released PowerShell files.

    python scripts/manifest.py --check   # exit 1, naming each file whose bytes differ from its entry (or is unlisted)
    python scripts/manifest.py --write   # add entries for NEW versions only; never change a released entry

A released version is immutable: the controller re-runs a step with exactly the bytes it first ran, so a changed
file must get a new version (a new file beside the old one), never a new hash under the old version.
Layout (paths in the manifest are relative to ps-scripts/):
    loader/<version>/loader.ps1, agent/<version>/CloneAgent.psm1, payloads/<name>/<version>.ps1
"""
import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

VERSION = re.compile(r"^\d+\.\d+\.\d+$")
NAME = re.compile(r"^[a-z0-9-]+$")


def vkey(version):
    return tuple(int(p) for p in version.split("."))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def synopsis(text):
    """The first line of a payload's .SYNOPSIS: the manifest's description."""
    m = re.search(r"^\.SYNOPSIS\s*\n(.+)$", text, re.MULTILINE)
    return m.group(1).strip() if m else ""


def script_info_version(text):
    m = re.search(r"<#PSScriptInfo.*?^\.VERSION\s+(\S+)", text, re.MULTILINE | re.DOTALL)
    return m.group(1) if m else None


def module_version(text):
    m = re.search(r"agent\\(\d+\.\d+\.\d+)\\CloneAgent\.psm1", text)
    return m.group(1) if m else None


def discover(ps):
    """What is on disk, as manifest entries, plus the problems found while reading it."""
    problems = []
    loaders, modules, payloads = [], [], []
    for f in sorted(ps.glob("loader/*/loader.ps1")):
        loaders.append({"version": f.parent.name, "path": f.relative_to(ps).as_posix(), "sha256": sha256(f)})
    for f in sorted(ps.glob("agent/*/CloneAgent.psm1")):
        modules.append({"version": f.parent.name, "path": f.relative_to(ps).as_posix(), "sha256": sha256(f)})
    for f in sorted(ps.glob("payloads/*/*.ps1")):
        rel = f.relative_to(ps).as_posix()
        name, version = f.parent.name, f.stem
        if not NAME.match(name) or not VERSION.match(version):
            problems.append(f"{rel}: payload files are payloads/<name>/<x.y.z>.ps1 with name [a-z0-9-]+")
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        declared = script_info_version(text)
        if declared != version:
            problems.append(f"{rel}: <#PSScriptInfo .VERSION {declared} #> does not match the file name {version}")
        payloads.append({"name": name, "version": version, "path": rel, "sha256": sha256(f),
                         "module": module_version(text) or "", "description": synopsis(text)})
    for group in (loaders, modules):
        for e in group:
            if not VERSION.match(e["version"]):
                problems.append(f"{e['path']}: the folder must be a version x.y.z")
    return {"loader": loaders, "modules": modules, "payloads": payloads}, problems


def key(kind, entry):
    return (kind, entry.get("name", ""), entry["version"])


def entries(manifest):
    out = {}
    loader = manifest.get("loader")
    for e in manifest.get("loaders", [loader] if loader else []):
        out[key("loader", e)] = e
    for e in manifest.get("modules", []):
        out[key("modules", e)] = e
    for e in manifest.get("payloads", []):
        out[key("payloads", e)] = e
    return out


def load(path):
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("formatVersion") != 1:
        raise SystemExit(f"{path}: formatVersion must be 1")
    return data


def check(ps, manifest_path):
    found, problems = discover(ps)
    manifest = load(manifest_path)
    if manifest is None:
        return problems + [f"{manifest_path} is missing: run scripts/manifest.py --write"]
    listed = entries(manifest)
    on_disk = {key(k, e): e for k in found for e in found[k]}
    for k, e in sorted(listed.items()):
        f = ps / e["path"]
        if not f.exists():
            problems.append(f"{e['path']}: listed in the manifest but missing (released versions must stay runnable)")
        elif sha256(f) != e["sha256"]:
            problems.append(f"{e['path']}: bytes differ from the manifest entry (sha256 {sha256(f)} != {e['sha256']}): "
                            "changed without a version bump")
    for k, e in sorted(on_disk.items()):
        if k not in listed:
            problems.append(f"{e['path']}: not in the manifest: run scripts/manifest.py --write")
    return problems


def write(ps, manifest_path):
    found, problems = discover(ps)
    if problems:
        return problems
    manifest = load(manifest_path) or {"formatVersion": 1}
    listed = entries(manifest)
    for k, e in listed.items():
        f = ps / e["path"]
        if not f.exists():
            problems.append(f"{e['path']}: listed but missing; restore it (released versions stay runnable)")
        elif sha256(f) != e["sha256"]:
            problems.append(f"{e['path']}: its bytes changed but version {e['version']} is released: bump the version "
                            "(add a new file) instead of editing it")
    if problems:
        return problems
    merged = {"loader": [], "modules": [], "payloads": []}
    for kind in merged:
        for e in found[kind]:
            merged[kind].append(listed.get(key(kind, e), e))
    order = lambda e: (e.get("name", ""), vkey(e["version"]))
    loaders = sorted(merged["loader"], key=order)
    out = {
        "formatVersion": 1,
        # The newest loader template; older ones stay on disk and in "loaders".
        "loader": loaders[-1] if loaders else None,
        "loaders": loaders,
        "modules": sorted(merged["modules"], key=order),
        "payloads": sorted(merged["payloads"], key=order),
    }
    manifest_path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return []


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 naming every file that differs from its entry")
    mode.add_argument("--write", action="store_true", help="add entries for new versions; never change released ones")
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent / "ps-scripts",
                    help="the ps-scripts folder (default: the repository's)")
    args = ap.parse_args(argv)
    ps = args.root.resolve()
    manifest_path = ps / "manifest.json"
    problems = check(ps, manifest_path) if args.check else write(ps, manifest_path)
    for p in problems:
        print(f"manifest: {p}", file=sys.stderr)
    if not problems:
        print(f"manifest: {manifest_path} {'matches every file' if args.check else 'written'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
