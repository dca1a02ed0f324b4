"""sysprep-logs 1.2.0 in the simulator, as ps-scripts/payloads/sysprep-logs/1.2.0.ps1 behaves over module 1.2.0:
tails by default (1.1.0's rules, 23,900), Whole returns the logs whole within MaxChars (its only cap, New-CloneRun
-OutputToS3), and the sysprepFails fault seeds a failed Sysprep with a big Panther log."""
import hashlib
import json

import pytest

from simfixtures import (aws, client, control, finished, guest, launch, make_loader, online, parse_envelope,  # noqa: F401
                         run_payload, send, sim, wait_for)
from localaws import faults as faultsmod
from localaws.sim import sysprep_failure_lines

PANTHER = "C:\\Windows\\System32\\Sysprep\\Panther\\"


def fresh(sim):
    [iid] = launch(sim)
    online(sim, iid)
    return iid


def seed(sim, iid, lines):
    control(sim, "POST", f"/guests/{iid}", {"pantherLog": lines})


def run(sim, iid, params=None, version="1.2.0"):
    inv = run_payload(sim, iid, "sysprep-logs", params, version=version)
    return inv, inv["StandardOutputContent"]


def logs_of(doc):
    return {l["path"][len(PANTHER):]: l for l in doc["facts"]["logs"]}


def test_without_whole_1_2_0_returns_the_tails_of_1_1_0(sim):
    iid = fresh(sim)
    seed(sim, iid, [f"Info line {i} " + "L" * 400 for i in range(500)])
    for version in ("1.1.0", "1.2.0"):
        inv, out = run(sim, iid, {"Lines": 200}, version=version)
        doc, _, _ = parse_envelope(out)
        assert inv["ResponseCode"] == 0 and len(out) <= 23900, version
        act = logs_of(doc)["setupact.log"]
        # 300-character lines, each log within its share of 20,000 characters (one log found: all of it).
        assert all(len(l) == 300 and l.endswith("...") for l in act["lines"])
        assert act["lines"][-1].startswith("Info line 499 ")
        assert act["omitted"] == 200 - len(act["lines"]) and act["omitted"] > 0
        assert sum(len(json.dumps(l)) + 1 for l in act["lines"]) <= 20000


def test_whole_returns_every_line_uncut_past_24000_and_the_api_copy_is_cut(sim):
    iid = fresh(sim)
    lines = [f"2026-12-03 Info [x] line {i} \"q\" \\ tab\t\u00e9 " + "P" * 400 for i in range(300)]
    seed(sim, iid, lines + ["Error [sysprep.exe] failed"])
    ssm, s3 = client(sim, "ssm"), client(sim, "s3")
    s3.create_bucket(Bucket="clonectl-logs")
    text, _ = make_loader("sysprep-logs", {"Whole": True}, version="1.2.0")
    command_id = send(ssm, [iid], text, OutputS3BucketName="clonectl-logs")
    inv = finished(ssm, command_id, iid)
    assert inv["StandardOutputContent"].endswith("--output truncated--"), "Run Command keeps 24,000"
    key = f"{command_id}/{iid}/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout"
    whole = s3.get_object(Bucket="clonectl-logs", Key=key)["Body"].read().decode("ascii")
    doc, line, declared = parse_envelope(whole)
    assert hashlib.sha256(line.encode("ascii")).hexdigest() == declared and len(whole) > 24000
    act, err = logs_of(doc)["setupact.log"], logs_of(doc)["setuperr.log"]
    assert act["lines"] == lines + ["Error [sysprep.exe] failed"] and act["omitted"] == 0
    assert err["lines"] == ["Error [sysprep.exe] failed"] and err["omitted"] == 0
    assert f"{PANTHER}setupact.log: 301 lines whole, 0 omitted" in " ".join(doc["logTail"])


def test_whole_keeps_the_newest_lines_within_max_chars_and_counts_the_rest(sim):
    iid = fresh(sim)
    lines = [f"Info line {i} " + "x" * 100 for i in range(5000)]
    seed(sim, iid, lines)
    inv, out = run(sim, iid, {"Whole": True, "MaxChars": 100000})
    # 5,000 lines of ~115 characters: the envelope is cut by the API (no bucket here), so read the rule from the
    # model directly through a bucket-less run's length: it must be within MaxChars, over 24,000.
    assert out.endswith("--output truncated--")
    from localaws import payloads, payloads_clone
    g = {"pantherLog": lines, "imageState": "IMAGE_STATE_COMPLETE", "log": []}
    ctx = payloads.Context(iid, "sysprep-logs", "1.2.0", "0" * 32, "0" * 64, lambda n: None)
    result = payloads.run(g, {"Whole": True, "MaxChars": 100000}, ctx)
    doc, _, _ = parse_envelope(result.stdout)
    assert 24000 < len(result.stdout) <= 100000
    act = logs_of(doc)["setupact.log"]
    assert act["omitted"] + len(act["lines"]) == 5000 and act["omitted"] > 0
    assert act["lines"] == lines[5000 - len(act["lines"]):]
    assert sum(len(json.dumps(l)) + 1 for l in act["lines"]) <= 100000 - payloads_clone.WHOLE_RESERVE
    # The 23,900 cap of 1.1.0 does not apply with Whole: the run's budget does.
    assert "facts exceeded" not in result.stdout


def test_a_small_log_leaves_its_share_to_a_big_one(sim):
    from localaws import payloads
    lines = [f"Info line {i} " + "y" * 200 for i in range(2000)] + ["Error one"]
    g = {"pantherLog": lines, "imageState": "IMAGE_STATE_COMPLETE", "log": []}
    ctx = payloads.Context("i-0", "sysprep-logs", "1.2.0", "0" * 32, "0" * 64, lambda n: None)
    doc, _, _ = parse_envelope(payloads.run(g, {"Whole": True, "MaxChars": 200000}, ctx).stdout)
    act, err = logs_of(doc)["setupact.log"], logs_of(doc)["setuperr.log"]
    assert err["lines"] == ["Error one"]
    used = sum(len(json.dumps(l)) + 1 for l in act["lines"])
    # setupact.log gets everything setuperr.log did not use, not half of the budget.
    assert used > (200000 - 16000) // 2 and used <= 200000 - 16000 - (len(json.dumps("Error one")) + 1)


def test_whole_and_max_chars_are_1_2_0_parameters_bound_as_powershell_does(sim):
    from localaws import payloads
    g = {"pantherLog": ["a"], "imageState": "IMAGE_STATE_COMPLETE", "log": []}
    def doc(version, params):
        ctx = payloads.Context("i-0", "sysprep-logs", version, "0" * 32, "0" * 64, lambda n: None)
        return parse_envelope(payloads.run(g, params, ctx).stdout)[0]
    assert "parameter name 'Whole'" in doc("1.1.0", {"Whole": True})["errors"][0]
    assert "'MaxChars'" in doc("1.2.0", {"Whole": True, "MaxChars": 24000})["errors"][0]
    assert "System.Boolean" in doc("1.2.0", {"Whole": "yes"})["errors"][0]
    assert doc("1.2.0", {"Whole": 1})["status"] == "ok"


def test_the_sysprep_fails_fault_leaves_a_running_work_copy_and_a_big_panther_log(sim):
    with pytest.raises(faultsmod.FaultError):
        faultsmod._validate({"fault": "sysprepFails", "lines": 0})
    iid = fresh(sim)
    control(sim, "POST", "/faults", {"rules": [{"fault": "sysprepFails", "lines": 400, "width": 300,
                                                "payload": "sysprep"}]})
    inv = run_payload(sim, iid, "sysprep", {"Shutdown": True}, version="1.1.0")
    doc, _, _ = parse_envelope(inv["StandardOutputContent"])
    assert doc["status"] == "changed"
    want = sysprep_failure_lines(400, 300)
    wait_for(lambda: guest(sim, iid)["pantherLog"][-400:] == want, "Sysprep to fail and log 400 lines")
    ec2 = client(sim, "ec2")
    state = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running", "a failed Sysprep does not shut the work copy down"
    assert sum(1 for l in want if "Error" in l) == 40 and all(len(l) == 300 for l in want)
