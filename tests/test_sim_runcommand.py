"""SSM Run Command through the simulator with boto3 and the AWS CLI: round trips, limits, errors, listings."""
import hashlib
import json
import os
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from simfixtures import (LOOSE, aws, client, control, finished, launch, make_loader, online, parse_envelope,  # noqa: F401
                         send, sim, wait_for)

# The CLI installed next to the Python running the tests (the project venv).
AWS_CLI = os.path.join(os.path.dirname(sys.executable), "aws")


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_round_trip_not_visible_at_first_then_verified_envelope(sim):
    control(sim, "POST", "/config", {"invocationVisibleSeconds": 2})
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    nonce = "fedcba9876543210fedcba9876543210"
    text, script_sha = make_loader("preflight", {}, nonce)
    command_id = send(ssm, [source], text, Comment="preflight of APP01")
    with pytest.raises(ClientError) as err:
        ssm.get_command_invocation(CommandId=command_id, InstanceId=source)
    assert code_of(err) == "InvocationDoesNotExist"
    inv = finished(ssm, command_id, source)
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("Success", "Success", 0)
    assert inv["PluginName"] == "aws:runPowerShellScript" and inv["StandardErrorContent"] == ""
    doc, line, declared = parse_envelope(inv["StandardOutputContent"])
    assert hashlib.sha256(line.encode("ascii")).hexdigest() == declared
    assert list(doc)[:7] == ["v", "payload", "version", "payloadSha256", "nonce", "instanceId", "status"]
    assert (doc["nonce"], doc["payloadSha256"], doc["instanceId"]) == (nonce, script_sha, source)
    assert doc["facts"]["windows"]["ec2Launch"]["flavour"] == "v1" and doc["status"] == "ok"
    assert doc["facts"]["windows"]["computerName"] == "APP01" and doc["facts"]["ready"] is True


def test_send_command_refuses_what_aws_refuses(sim):
    ssm = client(sim, "ssm", config=LOOSE)
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    cases = [
        (dict(InstanceIds=["i-0123456789abcdef0"]), "InvalidInstanceId"),
        (dict(InstanceIds=[source] * 51), "InvalidInstanceId"),
        (dict(InstanceIds=[source], DocumentName="AWS-RunShellScript"), "InvalidDocument"),
        (dict(InstanceIds=[source], Comment="x" * 101), "ValidationException"),
        (dict(InstanceIds=[source], TimeoutSeconds=29), "ValidationException"),
        (dict(InstanceIds=[source], Parameters={"workingDirectory": ["C:\\"]}), "InvalidParameters"),
        (dict(InstanceIds=[source], Parameters={"commands": ["echo {{ ssm:secret }}"]}), "InvalidParameters"),
    ]
    for overrides, expected in cases:
        kwargs = dict(DocumentName="AWS-RunPowerShellScript", Parameters={"commands": [text]})
        kwargs.update(overrides)
        with pytest.raises(ClientError) as err:
            ssm.send_command(**kwargs)
        assert code_of(err) == expected, overrides
    assert all(c["Comment"] != "x" * 101 for c in ssm.list_commands()["Commands"])


def test_stopped_and_agentless_instances_are_invalid_targets(sim):
    ssm, ec2 = client(sim, "ssm"), client(sim, "ec2")
    stopped, agentless = launch(sim, count=2)
    online(sim, stopped)
    ec2.stop_instances(InstanceIds=[stopped])
    control(sim, "POST", f"/guests/{agentless}", {"agentInstalled": False})
    text, _ = make_loader("preflight")
    for iid in (stopped, agentless):
        with pytest.raises(ClientError) as err:
            send(ssm, [iid], text)
        assert code_of(err) == "InvalidInstanceId" and iid in err.value.response["Error"]["Message"]
    rows = ssm.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [stopped, agentless]}])["InstanceInformationList"]
    assert [(r["InstanceId"], r["PingStatus"]) for r in rows] == [(stopped, "ConnectionLost")]


def test_describe_instance_information_fields_filters_and_paging(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    rows = ssm.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [source]}])["InstanceInformationList"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["PingStatus"], row["PlatformType"], row["ComputerName"]) == ("Online", "Windows", "APP01")
    assert row["AgentVersion"] and row["ResourceType"] == "EC2Instance"
    with pytest.raises(ClientError) as err:
        client(sim, "ssm", config=LOOSE).describe_instance_information(MaxResults=4)
    assert code_of(err) == "ValidationException"
    control(sim, "POST", "/config", {"pendingSeconds": 3})  # room for the check below on a slow machine
    ids = launch(sim, count=6)
    listed = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": ids}])
    assert listed["InstanceInformationList"] == []  # not registered while pending and booting
    for iid in ids:
        online(sim, iid)
    first = ssm.describe_instance_information(MaxResults=5, Filters=[{"Key": "PingStatus", "Values": ["Online"]}])
    assert len(first["InstanceInformationList"]) == 5 and first["NextToken"]
    rest = ssm.describe_instance_information(MaxResults=5, NextToken=first["NextToken"],
                                             Filters=[{"Key": "PingStatus", "Values": ["Online"]}])
    seen = [r["InstanceId"] for r in first["InstanceInformationList"] + rest["InstanceInformationList"]]
    assert set(ids) <= set(seen) and len(seen) == len(set(seen))


def test_list_command_invocations_details_keep_the_head_of_2500(sim):
    ssm = client(sim, "ssm")
    [iid] = launch(sim)
    online(sim, iid)
    tasks = [{"path": "\\App\\", "name": f"Job{n:03d}", "state": "Ready"} for n in range(80)]
    control(sim, "POST", f"/guests/{iid}", {"tasks": tasks})
    text, _ = make_loader("jobs-stop", {"Tasks": ["\\App\\*"], "Services": []})
    command_id = send(ssm, [iid], text)
    inv = finished(ssm, command_id, iid)
    stdout = inv["StandardOutputContent"]
    assert 2500 < len(stdout) <= 24000
    rows = ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"]
    output = rows[0]["CommandPlugins"][0]["Output"]
    assert len(output) == 2500 and output == stdout[:2500] and "-----END" not in output
    plain = ssm.list_command_invocations(CommandId=command_id)["CommandInvocations"]
    assert plain[0]["CommandPlugins"] == [] and plain[0]["Status"] == "Success"
    with pytest.raises(ClientError) as err:
        client(sim, "ssm", config=LOOSE).list_command_invocations(CommandId=command_id, MaxResults=51)
    assert code_of(err) == "ValidationException"


def test_list_commands_and_cancel(sim):
    control(sim, "POST", "/config", {"runDelaySeconds": 3})
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    command_id = send(ssm, [source], text, Comment="to cancel")
    listed = ssm.list_commands(CommandId=command_id)["Commands"]
    assert [(c["CommandId"], c["Comment"], c["InstanceIds"]) for c in listed] == [(command_id, "to cancel", [source])]
    assert listed[0]["Parameters"]["commands"] == [text]  # parameters stay in the history, as on AWS
    ssm.cancel_command(CommandId=command_id)
    inv = finished(ssm, command_id, source)
    assert (inv["Status"], inv["ResponseCode"], inv["StandardOutputContent"]) == ("Cancelled", -1, "")
    assert ssm.list_commands(CommandId=command_id)["Commands"][0]["Status"] == "Cancelled"
    with pytest.raises(ClientError) as err:
        ssm.cancel_command(CommandId="00000000-0000-0000-0000-000000000000")
    assert code_of(err) == "InvalidCommandId"


def test_aws_cli_is_a_second_client(sim):
    if not os.path.exists(AWS_CLI):
        pytest.skip(f"the AWS CLI is not at {AWS_CLI}")
    info = sim.info
    env = dict(os.environ, AWS_ACCESS_KEY_ID=info["accessKeyId"], AWS_SECRET_ACCESS_KEY=info["secretAccessKey"],
               AWS_DEFAULT_REGION=info["region"], AWS_MAX_ATTEMPTS="1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    base = [AWS_CLI, "--endpoint-url", info["endpoint"], "--output", "json", "ssm"]
    text, _ = make_loader("preflight")
    sent = subprocess.run(base + ["send-command", "--instance-ids", info["sourceInstanceId"], "--document-name",
                                  "AWS-RunPowerShellScript", "--parameters", json.dumps({"commands": [text]})],
                          env=env, capture_output=True, text=True, timeout=120)
    assert sent.returncode == 0, sent.stderr
    command_id = json.loads(sent.stdout)["Command"]["CommandId"]

    def cli_invocation():
        got = subprocess.run(base + ["get-command-invocation", "--command-id", command_id, "--instance-id",
                                     info["sourceInstanceId"]], env=env, capture_output=True, text=True, timeout=120)
        if got.returncode != 0:
            assert "InvocationDoesNotExist" in got.stderr, got.stderr
            return None
        doc = json.loads(got.stdout)
        return doc if doc["Status"] == "Success" else None
    doc = wait_for(cli_invocation, "the CLI to see Success")
    assert parse_envelope(doc["StandardOutputContent"])[0]["payload"] == "preflight"
    bad = subprocess.run(base + ["send-command", "--instance-ids", "i-0000000000000000f", "--document-name",
                                 "AWS-RunPowerShellScript", "--parameters", json.dumps({"commands": [text]})],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "InvalidInstanceId" in bad.stderr
