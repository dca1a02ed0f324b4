"""The --output json contract, through the built binary: every command writes exactly one JSON document on standard
output (standard error discarded), on success and on failure, valid against controller/schemas/ (jsonschema);
configuration errors exit 78 with no usage block. Commands that need a live AWS are checked end to end in
Tests/IntegrationTests/OutputEndToEndTests.swift with the same validator (scripts/validate_json.py)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import validate_json  # noqa: E402

BIN = Path(os.environ.get("CLONECTL_BIN", ROOT / ".build" / "debug" / "clonectl"))
PLAN = ROOT / "controller" / "plans" / "example-app01.yaml"
REQUEST = b"GET / HTTP/1.1\r\nHost: example.amazonaws.com\r\n\r\n"


@pytest.fixture(scope="module")
def binary():
    if not BIN.exists():
        pytest.fail(f"{BIN} is not built: run `swift build` first (scripts/test.sh does)")
    return str(BIN)


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    (h / ".aws").mkdir(parents=True)
    return h


def env_for(home, **extra):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true",
           "CLONECTL_PAYLOADS": str(ROOT / "ps-scripts")}
    env.update(extra)
    return env


def run(binary, args, env, stdin=b"", text_mode=False):
    """(exit code, stdout) with standard error discarded, as `... 2>/dev/null | jq .` would see it."""
    argv = [binary] + args + ([] if text_mode else ["--output", "json"])
    p = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    return p.returncode, p.stdout.decode()


def one_valid_document(out: str) -> dict:
    found = validate_json.problems(out)
    assert not found, f"not one valid document: {found}\n{out}"
    return json.loads(out)


def bad_plan(tmp_path) -> Path:
    p = tmp_path / "bad.yaml"
    p.write_text("version: 1\nname: Bad_Name\nclones: 3\n")
    return p


def no_region_plan(tmp_path) -> Path:
    """The example plan without its region: line, so the usual chain (flag, environment, profile) decides."""
    p = tmp_path / "noregion.yaml"
    p.write_text("".join(l for l in PLAN.read_text().splitlines(keepends=True) if not l.startswith("region:")))
    return p


def tampered_payloads(tmp_path) -> Path:
    copy = tmp_path / "ps-scripts"
    shutil.copytree(ROOT / "ps-scripts", copy)
    target = next((copy / "payloads" / "time-zone").glob("*.ps1"))
    target.write_text(target.read_text() + "\nWrite-Output 'changed'\n")
    return copy


# (name, args, extra environment, expected exit code, expected error code or None)
def cases(tmp_path, ledger):
    region = {"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x" * 40}
    return [
        ("plan validate", ["plan", "validate", str(PLAN)], {}, 0, None),
        ("plan validate bad", ["plan", "validate", str(bad_plan(tmp_path))], {}, 65, "plan-invalid"),
        ("plan show", ["plan", "show", str(PLAN)], {}, 0, None),
        ("plan show missing", ["plan", "show", str(tmp_path / "none.yaml")], {}, 65, "plan-invalid"),
        ("payloads list", ["payloads", "list"], {}, 0, None),
        ("payloads show", ["payloads", "show", "hostname"], {}, 0, None),
        ("payloads show unknown", ["payloads", "show", "hostnam"], {}, 1, "payloads"),
        ("payloads verify", ["payloads", "verify"], {}, 0, None),
        ("payloads verify tampered", ["payloads", "verify", "--payloads", str(tampered_payloads(tmp_path))], {}, 1,
         "payloads-changed"),
        ("payloads render", ["payloads", "render", "hostname", "--param", "NewName=APP02"], {}, 0, None),
        ("payloads render usage", ["payloads", "render", "hostname", "--param", "NewName"], {}, 64, "usage"),
        ("status", ["status", "--ledger", ledger], {}, 0, None),
        ("status unknown run", ["status", "run-nope", "--ledger", ledger], {}, 1, "not-found"),
        ("history", ["history", "--ledger", ledger], {}, 0, None),
        ("show unknown command", ["show", "cmd-nope", "--ledger", ledger], {}, 1, "not-found"),
        ("run no region", ["run", str(no_region_plan(tmp_path)), "--ledger", ledger], {}, 78, "config"),
        ("run no credentials", ["run", str(PLAN), "--ledger", ledger], {}, 78, "config"),
        ("run dry run", ["run", str(PLAN), "--dry-run", "--ledger", ledger], region, 0, None),
        ("run bad plan", ["run", str(bad_plan(tmp_path)), "--ledger", ledger], region, 65, "plan-invalid"),
        ("step no target", ["step", "verify"], region, 64, "usage"),
        ("step no region", ["step", "verify", "--instance", "i-0123456789abcdef0", "--ledger", ledger], {}, 78, "config"),
        ("cleanup unknown run", ["cleanup", "run-nope", "--ledger", ledger], region, 1, "not-found"),
        ("run region conflict", ["run", str(PLAN), "--region", "eu-west-1", "--ledger", ledger], region, 64, "usage"),
        ("doctor no region", ["doctor", "--ledger", ledger], {}, 78, "config"),
        ("documents verify no region", ["documents", "verify"], {}, 78, "config"),
        ("documents list no region", ["documents", "list"], {}, 78, "config"),
        ("documents publish reserved prefix", ["documents", "publish", "--prefix", "aws-"], region, 64, "usage"),
        ("documents list bad plan", ["documents", "list", "--plan", str(bad_plan(tmp_path))], region, 65,
         "plan-invalid"),
        ("step bad documents prefix", ["step", "verify", "--instance", "i-0123456789abcdef0", "--mode", "documents",
                                       "--documents-prefix", "amzn-"], region, 64, "usage"),
        ("unknown subcommand", ["bogus"], {}, 64, "usage"),
        ("version", ["version"], {}, 0, None),
        ("debug sigv4", ["debug", "sigv4", "--region", "us-east-1", "--service", "iam", "--access-key-id", "AKIDEXAMPLE",
                         "--time", "2015-08-30T12:36:00Z"], {"AWS_SECRET_ACCESS_KEY": "s" * 40}, 0, None),
        ("debug aws-smoke no region", ["debug", "aws-smoke", "--instance", "i-0123456789abcdef0", "--yes"], {}, 78, "config"),
    ]


def test_every_command_writes_one_valid_document_on_success_and_on_failure(binary, home, tmp_path):
    ledger = str(tmp_path / "ledger.sqlite")
    seen = set()
    for name, args, extra, code, error in cases(tmp_path, ledger):
        rc, out = run(binary, args, env_for(home, **extra), stdin=REQUEST)
        assert rc == code, f"{name}: exit {rc}, expected {code}\n{out}"
        doc = one_valid_document(out)
        assert doc["ok"] is (code == 0), name
        if error:
            assert doc["error"]["code"] == error, f"{name}: {doc['error']}"
            assert doc["error"]["exitCode"] == rc, name
            assert doc["error"]["message"], name
        seen.add(doc["command"])
    # Every schema file but the common one was exercised by a real answer of the binary here or end to end.
    assert {"plan validate", "plan show", "payloads list", "payloads show", "payloads verify", "payloads render",
            "status", "history", "show", "run", "step", "cleanup", "doctor", "debug sigv4", "version", "clonectl",
            "documents list", "documents verify", "documents publish"} <= seen


def test_a_bad_plan_lists_every_problem_with_its_place(binary, home, tmp_path):
    rc, out = run(binary, ["plan", "validate", str(bad_plan(tmp_path))], env_for(home))
    problems = one_valid_document(out)["error"]["problems"]
    assert rc == 65
    assert {"file": str(tmp_path / "bad.yaml"), "line": 2, "column": 7, "field": "name"}.items() <= problems[0].items() \
        or any(p["line"] == 2 and p["field"] == "name" for p in problems), problems
    assert any(p["field"] == "source" and "required" in p["message"] for p in problems), problems


@pytest.mark.parametrize("setup, fix", [
    ("none", "--region"),
    ("unknown-profile", "prod"),
    ("broken-config", "line 3"),
])
def test_configuration_errors_exit_78_without_a_usage_block_and_name_the_fix(binary, home, setup, fix):
    env = env_for(home)
    config = home / ".aws" / "config"
    if setup == "unknown-profile":
        config.write_text("[profile prod]\nregion = eu-west-1\n")
        env["AWS_PROFILE"] = "prdo"
    elif setup == "broken-config":
        config.write_text("[default]\nregion = us-east-1\nthis line is wrong\n")
    for args in (["run", str(no_region_plan(home))], ["step", "verify", "--instance", "i-0123456789abcdef0"]):
        p = subprocess.run([binary] + args + ["--ledger", str(home / "l.sqlite")], env=env, capture_output=True, timeout=60)
        err = p.stderr.decode()
        assert p.returncode == 78, f"{args}: exit {p.returncode}: {err}"
        assert "Usage:" not in err and "USAGE" not in err, err
        assert fix in err or (fix == "line 3" and ":3" in err), f"the message names what to fix ({fix}): {err}"
        assert p.stdout == b""


def test_doctor_reports_a_configuration_error_as_a_check_and_goes_on(binary, home, tmp_path):
    rc, out = run(binary, ["doctor", "--ledger", str(tmp_path / "l.sqlite")], env_for(home))
    doc = one_valid_document(out)
    checks = {c["name"]: c["status"] for c in doc["checks"]}
    assert rc == 78 and doc["error"]["code"] == "config"
    assert checks["configuration"] == "fail"
    assert checks["ledger"] == "ok" and checks["payloads"] == "ok", "the other checks still ran"
    p = subprocess.run([binary, "doctor", "--ledger", str(tmp_path / "l.sqlite")], env=env_for(home), capture_output=True)
    lines = p.stdout.decode().splitlines()
    assert p.returncode == 78 and any(l.startswith("FAIL  configuration") and "--region" in l for l in lines), lines
    assert any(l.startswith("ok    payloads") for l in lines), lines


def test_clonectl_output_environment_selects_json(binary, home):
    p = subprocess.run([binary, "payloads", "list"], env=env_for(home, CLONECTL_OUTPUT="json"), capture_output=True)
    assert p.returncode == 0
    assert one_valid_document(p.stdout.decode())["command"] == "payloads list"


def test_the_validator_refuses_what_breaks_the_contract():
    good = {"schemaVersion": 1, "command": "history", "ok": True, "history": []}
    assert validate_json.problems(json.dumps(good)) == []
    assert validate_json.problems(json.dumps(good) + "\n" + json.dumps(good)), "two documents"
    assert validate_json.problems("progress line\n" + json.dumps(good)), "text before the document"
    assert validate_json.problems(json.dumps({**good, "schemaVersion": 2}))
    assert validate_json.problems(json.dumps({k: v for k, v in good.items() if k != "history"}))
    assert validate_json.problems(json.dumps({**good, "ok": False})), "a failure needs its error object"
    failed = {**good, "ok": False, "error": {"code": "x", "message": "m"}}
    assert validate_json.problems(json.dumps(failed)), "error.exitCode is required"
    row = {"command": "c", "run": None, "instance": "i-1", "step": "s", "payload": "p@1", "status": "Success",
           "verdict": "verified", "result": "maybe", "reboots": 0, "sent": "t"}
    assert validate_json.problems(json.dumps({**good, "history": [row]})), "result is ok, changed, failed or running"
