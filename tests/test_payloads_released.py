"""Released payload bytes never change, and 1.1.0 is what plans use by default while 1.0.0 stays runnable.

The SHA-256 values below were copied from ps-scripts/manifest.json at efbf349, when 1.0.0 was the only release.
They are written here, not read from the manifest, so that editing a 1.0.0 file AND its manifest entry together
still fails: the manifest check alone cannot see that.
"""
import hashlib
import json

import pytest

from conftest import PS

RELEASED_1_0_0 = {
    "loader/1.0.0/loader.ps1": "44cf35bf2469773ffcc17016e05b15c83d96fd4fbeaeb6eef12d1b0bdcf2c0e0",
    "agent/1.0.0/CloneAgent.psm1": "5933b19ea7f2c05156b6f10d66fca7ba380b9373908aba99f135fcb239873c1b",
    "payloads/domain-join/1.0.0.ps1": "62ac6e1a7e99ec4e13872dea5c46ea0f86de2a46e0282cdf738e7006974067ce",
    "payloads/firewall-off/1.0.0.ps1": "debddb688844b0de8f7a6b1e3e984de1c41961812eca4010bcf5562c4b106875",
    "payloads/firewall-restore/1.0.0.ps1": "2aaed59fe188eeb5d36029b7482a73cdf540a678e305676dcd4df2a708effd32",
    "payloads/hostname/1.0.0.ps1": "870ed4ed8c744b831d37b7e6f3d62753ae57da548e8a127769ed3d5885ee14f9",
    "payloads/jobs-restore/1.0.0.ps1": "faa641089fc3217311ac50faef451ee28caa952f5cb2b3b8496de191e405d7c9",
    "payloads/jobs-stop/1.0.0.ps1": "952ddb9f76846b979c8d8d0f4fc0175f57d430babd05dd7a4add83fb5e9781c4",
    "payloads/preflight/1.0.0.ps1": "913a0054223e318867b7f9531c99541e9da6b058c6b07dfd7a58eb82df3b6844",
    "payloads/source-restore/1.0.0.ps1": "5303ad21b6da89ac29951485a90653fa9af95ddc0034f679fc12cce835b08f48",
    "payloads/sysprep/1.0.0.ps1": "1402e970228819c504d6762fe274cedaf827c95a42e46a9cd988c8679544acc7",
    "payloads/sysprep-logs/1.0.0.ps1": "7248c27c934cb463c7f335f7a86b95a9e2bfd1476c08eb5b3209b87c2d13668d",
    "payloads/time-zone/1.0.0.ps1": "c7030ee259be2de75639b5e9f4f32507b197acbef2f8d1c890c3d3ca78e7546e",
    "payloads/verify/1.0.0.ps1": "e7039d874b480a4806c899110ff5bac64a3d0c80b1dd3b724607c77963ee77c2",
    "payloads/work-user/1.0.0.ps1": "59bb8b6884211c1b985eee9082537a25f495dc315c62bad6eaaf2d1b4098fdc3",
    "payloads/work-user-disable/1.0.0.ps1": "d38f4f9c25af6e61510cf35b11161d4d9d2f3197356c8e4aad25c08904f3dc5d",
}


@pytest.mark.parametrize("path", sorted(RELEASED_1_0_0))
def test_1_0_0_bytes_are_unchanged(path):
    actual = hashlib.sha256((PS / path).read_bytes()).hexdigest()
    assert actual == RELEASED_1_0_0[path], f"{path} changed after release: restore its bytes; release a fix as a new version"


def test_1_0_0_stays_listed_and_is_marked_superseded_with_a_reason(manifest):
    listed = {e["path"]: e for e in manifest["payloads"] + manifest["modules"] + manifest["loaders"]}
    for path, sha in RELEASED_1_0_0.items():
        assert path in listed, f"{path} must stay in the manifest: released versions stay runnable"
        assert listed[path]["sha256"] == sha
        reason = listed[path].get("superseded", "")
        assert "1.1.0" in reason and "D1" in reason, f"{path}: superseded must say by what and why"


# The newest version of each payload (what plans use by default) and its module: 1.1.0 everywhere, except
# sysprep-logs, whose 1.2.0 (module 1.2.0) returns whole Panther logs when the output goes to S3.
LATEST = {"sysprep-logs": ("1.2.0", "1.2.0")}


def vkey(version):
    return tuple(int(x) for x in version.split("."))


def test_1_1_0_is_the_default_and_is_not_superseded(manifest):
    names = {e["name"] for e in manifest["payloads"]}
    assert len(names) == 14
    for name in names:
        versions = [e for e in manifest["payloads"] if e["name"] == name]
        latest = max(versions, key=lambda e: vkey(e["version"]))
        want = LATEST.get(name, ("1.1.0", "1.1.0"))
        assert (latest["version"], latest["module"]) == want and "superseded" not in latest, name
        # 1.1.0 stays listed with module 1.1.0 and is not superseded (a plan may pin it).
        v110 = [e for e in versions if e["version"] == "1.1.0"]
        assert len(v110) == 1 and v110[0]["module"] == "1.1.0" and "superseded" not in v110[0], name
    assert manifest["loader"]["version"] == "1.1.0"


def loader_for_module(manifest, module):
    """Manifest.loader(forModule:): the loader of that version, else the newest older one."""
    versions = [e["version"] for e in manifest["loaders"]]
    if module in versions:
        return module
    return max((v for v in versions if vkey(v) < vkey(module)), key=vkey)


def test_each_payload_version_has_the_loader_of_its_module(manifest):
    # 1.0.0 payloads keep loader 1.0.0, 1.1.0 payloads get loader 1.1.0; module 1.2.0 (sysprep-logs 1.2.0) runs
    # under loader 1.1.0, which calls only functions module 1.2.0 keeps unchanged.
    loaders = {e["version"] for e in manifest["loaders"]}
    assert {"1.0.0", "1.1.0"} <= loaders
    for e in manifest["payloads"]:
        want = "1.1.0" if e["module"] == "1.2.0" else e["module"]
        assert loader_for_module(manifest, e["module"]) == want, f"{e['name']}@{e['version']}: loader for module {e['module']}"
    loader = (PS / "loader" / "1.1.0" / "loader.ps1").read_text(encoding="ascii")
    module = (PS / "agent" / "1.2.0" / "CloneAgent.psm1").read_text(encoding="ascii")
    for function in ("Set-CloneAgentContext", "Resolve-CloneParameters", "Write-CloneFailure"):
        assert function in loader and f"function {function} " in module, function


def test_the_1_1_0_loader_never_writes_the_payload_to_disk():
    text = (PS / "loader" / "1.1.0" / "loader.ps1").read_text(encoding="ascii")
    assert "WriteAllBytes" not in text and "New-Item" not in text and "Import-Module -Name" not in text
    assert "[scriptblock]::Create(" in text and "New-Module" in text
    assert text.index("LanguageMode") < text.index("FromBase64String"), "the language check comes first (D17)"
