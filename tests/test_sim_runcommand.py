"""SSM Run Command through the simulator with boto3 and the AWS CLI: round trips, limits, errors, listings."""
import hashlib
import json
import os
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from simfixtures import (LOOSE, aws, client, control, finished, guest, launch, make_loader, online,  # noqa: F401
                         parse_envelope, patient, send, sim, wait_for)

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
        (dict(InstanceIds=[source] * 51), "ValidationException"),  # the model's 50, checked before duplicates
        (dict(InstanceIds=[source] * 2), "DuplicateInstanceId"),
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


def test_never_registered_and_terminated_instances_are_invalid_targets(sim):
    ssm, ec2 = client(sim, "ssm"), client(sim, "ec2")
    agentless, gone = launch(sim, count=2)
    control(sim, "POST", f"/guests/{agentless}", {"agentInstalled": False})
    online(sim, gone)
    ec2.terminate_instances(InstanceIds=[gone])
    text, _ = make_loader("preflight")
    for iid in (agentless, gone, "i-0123456789abcdef0"):
        with pytest.raises(ClientError) as err:
            send(ssm, [iid], text)
        assert code_of(err) == "InvalidInstanceId" and iid in err.value.response["Error"]["Message"]
    rows = ssm.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [agentless, gone]}])["InstanceInformationList"]
    assert rows == []


def test_a_stopped_instance_is_a_valid_target_its_invocation_waits_then_times_out(sim):
    # The API reference: Running, Pending, Stopped and Stopping are valid states for SendCommand.
    ssm, ec2 = client(sim, "ssm"), client(sim, "ec2")
    [stopped] = launch(sim)
    online(sim, stopped)
    ec2.stop_instances(InstanceIds=[stopped])
    control(sim, "POST", "/config", {"timeScale": 0.05})  # TimeoutSeconds 60 -> 3 s of delivery attempts
    text, _ = make_loader("preflight")
    command_id = send(ssm, [stopped], text, TimeoutSeconds=60)
    seen = set()

    def delayed():
        inv = patient(lambda: ssm.get_command_invocation(CommandId=command_id, InstanceId=stopped))() \
            if sim.sim.commands.visible_invocation(command_id, stopped) else None
        if inv:
            seen.add((inv["Status"], inv["StatusDetails"]))
        return inv and inv["Status"] == "Delayed"
    wait_for(delayed, "the invocation to show Delayed")
    inv = finished(ssm, command_id, stopped)
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("TimedOut", "DeliveryTimedOut", -1)
    assert ("Delayed", "Delayed") in seen
    rows = ssm.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [stopped]}])["InstanceInformationList"]
    assert [(r["InstanceId"], r["PingStatus"]) for r in rows] == [(stopped, "ConnectionLost")]
    # The field reports' behaviour, kept behind a setting: an offline agent refused at once.
    control(sim, "POST", "/config", {"offlineSendRefused": 1})
    with pytest.raises(ClientError) as err:
        send(ssm, [stopped], text)
    assert code_of(err) == "InvalidInstanceId"


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
    # The agent's cut: 2,500 UTF-8 bytes with its marker (outputcut.py); this output is ASCII.
    marker = "\n---Output truncated---"
    assert len(output) == 2500 and output == stdout[:2500 - len(marker)] + marker and "-----END" not in output
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


# --- MaxConcurrency and MaxErrors ------------------------------------------------------------------------------

def _intervals(ssm, command_id, ids):
    """(start, end) of each invocation's execution, from GetCommandInvocation, once all have finished."""
    out = []
    for iid in ids:
        inv = finished(ssm, command_id, iid)
        assert inv["Status"] == "Success", inv
        out.append((inv["ExecutionStartDateTime"], inv["ExecutionEndDateTime"]))
    return sorted(out)


def test_max_concurrency_1_runs_one_instance_at_a_time(sim):
    control(sim, "POST", "/config", {"runDelaySeconds": 0.25})
    ssm = client(sim, "ssm")
    ids = launch(sim, count=3)
    for iid in ids:
        online(sim, iid)
    text, _ = make_loader("time-zone", {"TimeZoneId": "Tokyo Standard Time"})
    sent = ssm.send_command(InstanceIds=ids, DocumentName="AWS-RunPowerShellScript",
                            Parameters={"commands": [text]}, MaxConcurrency="1")["Command"]
    assert (sent["MaxConcurrency"], sent["MaxErrors"], sent["TargetCount"]) == ("1", "0", 3)
    most, saw_queued = 0, False

    def sample():
        nonlocal most, saw_queued
        rows = patient(lambda: ssm.list_command_invocations(CommandId=sent["CommandId"])["CommandInvocations"])()
        if rows is None:
            return False
        statuses = [r["Status"] for r in rows]
        most = max(most, statuses.count("InProgress"))
        saw_queued = saw_queued or ("InProgress" in statuses and ("Pending", "Pending") in
                                    [(r["Status"], r["StatusDetails"]) for r in rows])
        return len(rows) == 3 and all(s in ("Success", "Failed", "TimedOut", "Cancelled") for s in statuses)
    wait_for(sample, "the three invocations to finish", every=0.1)
    assert most == 1 and saw_queued
    spans = _intervals(ssm, sent["CommandId"], ids)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), spans  # one after the other
    assert ssm.list_commands(CommandId=sent["CommandId"])["Commands"][0]["MaxConcurrency"] == "1"
    # The same three with the default (50): they run side by side, so the check above can tell.
    together = send(ssm, ids, text)
    spans = _intervals(ssm, together, ids)
    assert spans[0][1] > spans[-1][0], spans


def test_max_concurrency_percentages_resolve_against_the_target_count(sim):
    from localaws.ssm_api import _resolve_rate
    assert [_resolve_rate(v, 3, True) for v in ("1", "10%", "34%", "67%", "100%", "7")] == [1, 1, 1, 2, 3, 7]
    assert [_resolve_rate(v, 3, False) for v in ("0", "0%", "10%", "34%", "100%")] == [0, 0, 0, 1, 3]
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    sent = ssm.send_command(InstanceIds=[source], DocumentName="AWS-RunPowerShellScript",
                            Parameters={"commands": [text]}, MaxConcurrency="10%", MaxErrors="100%")["Command"]
    assert (sent["MaxConcurrency"], sent["MaxErrors"]) == ("10%", "100%")
    cmd = sim.sim.commands.get(sent["CommandId"])
    assert (cmd.concurrency, cmd.error_limit) == (1, 1)
    assert finished(ssm, sent["CommandId"], source)["Status"] == "Success"


@pytest.mark.parametrize("max_errors,rest", [("0", ("Cancelled", "Terminated", -1)), ("1", ("Success", "Success", 0))])
def test_max_errors_stops_sending_to_the_instances_not_started(sim, max_errors, rest):
    ssm = client(sim, "ssm")
    ids = launch(sim, count=3)
    for iid in ids:
        online(sim, iid)
    # A payload that fails on the first instance (exit 1): a Failed invocation, which counts against MaxErrors.
    zones = {iid: {"TimeZoneId": "Nowhere Standard Time" if iid == ids[0] else "Tokyo Standard Time"} for iid in ids}
    text, _ = make_loader("time-zone", {"common": {}, "byInstance": zones})
    command_id = ssm.send_command(InstanceIds=ids, DocumentName="AWS-RunPowerShellScript",
                                  Parameters={"commands": [text]}, MaxConcurrency="1",
                                  MaxErrors=max_errors)["Command"]["CommandId"]
    first = finished(ssm, command_id, ids[0])
    assert (first["Status"], first["StatusDetails"]) == ("Failed", "Failed")
    for iid in ids[1:]:
        inv = finished(ssm, command_id, iid)
        assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == rest
        assert guest(sim, iid)["timeZoneId"] == ("UTC" if rest[0] == "Cancelled" else "Tokyo Standard Time")
    cmd = wait_for(lambda: ssm.list_commands(CommandId=command_id)["Commands"][0]["CompletedCount"] == 3 and
                   ssm.list_commands(CommandId=command_id)["Commands"][0], "the command to complete")
    assert (cmd["Status"], cmd["ErrorCount"], cmd["MaxErrors"]) == ("Failed", 1, max_errors)
    # Within the budget the command was attempted everywhere but not all succeeded: Incomplete (documented).
    assert cmd["StatusDetails"] == ("Failed" if max_errors == "0" else "Incomplete")


def test_cancel_ends_the_invocations_waiting_for_a_slot_at_once(sim):
    control(sim, "POST", "/config", {"runDelaySeconds": 6})
    ssm = client(sim, "ssm")
    ids = launch(sim, count=3)
    for iid in ids:
        online(sim, iid)
    text, _ = make_loader("preflight")
    command_id = send(ssm, ids, text, MaxConcurrency="1")
    ssm.cancel_command(CommandId=command_id)
    started = time.monotonic()
    for iid in ids:
        assert finished(ssm, command_id, iid)["Status"] == "Cancelled"
    assert time.monotonic() - started < 4.5  # nothing waited out the 6 s delivery delay
    assert ssm.list_commands(CommandId=command_id)["Commands"][0]["Status"] == "Cancelled"


PATTERN_C = "^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$"
PATTERN_E = "^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$"


def test_bad_max_concurrency_and_max_errors_are_validation_errors(sim):
    ssm = client(sim, "ssm", config=LOOSE)
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    base = dict(InstanceIds=[source], DocumentName="AWS-RunPowerShellScript", Parameters={"commands": [text]})
    for field, value, pattern in [("MaxConcurrency", "0", PATTERN_C), ("MaxConcurrency", "101%", PATTERN_C),
                                  ("MaxConcurrency", "0%", PATTERN_C), ("MaxConcurrency", "ten", PATTERN_C),
                                  ("MaxErrors", "-1", PATTERN_E), ("MaxErrors", "1.5", PATTERN_E),
                                  ("MaxErrors", "00", PATTERN_E), ("MaxErrors", "101%", PATTERN_E)]:
        with pytest.raises(ClientError) as err:
            ssm.send_command(**base, **{field: value})
        assert code_of(err) == "ValidationException"
        wire = field[0].lower() + field[1:]
        assert err.value.response["Error"]["Message"] == (
            f"1 validation error detected: Value '{value}' at '{wire}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern}")
    with pytest.raises(ClientError) as err:
        ssm.send_command(**base, MaxConcurrency="0", MaxErrors="x")
    message = err.value.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: Value '0' at 'maxConcurrency'")
    assert "; Value 'x' at 'maxErrors' failed to satisfy constraint" in message
    sent = ssm.send_command(**base, MaxConcurrency="100%", MaxErrors="0%")["Command"]
    assert (sent["MaxConcurrency"], sent["MaxErrors"]) == ("100%", "0%")


def test_agent_state_comes_from_moto_in_process_and_the_boto3_path_still_serves(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    assert finished(ssm, send(ssm, [source], text), source)["Status"] == "Success"
    assert sim.sim._in_process  # moto's backend was read directly: no fallback happened
    [stopped] = launch(sim)  # terminated below: an invalid target
    online(sim, stopped)
    client(sim, "ec2").terminate_instances(InstanceIds=[stopped])
    asked = []
    describe = sim.sim.describe
    sim.sim.describe = lambda ids=None: asked.append(list(ids or [])) or describe(ids)
    sim.sim._in_process = False  # as if moto's internals had moved
    try:
        assert finished(ssm, send(ssm, [source], text), source)["Status"] == "Success"
        with pytest.raises(ClientError) as err:
            send(ssm, [source, stopped], text)
        assert code_of(err) == "InvalidInstanceId" and stopped in err.value.response["Error"]["Message"]
        assert sorted([source, stopped]) in asked  # SendCommand's check: one lookup for all its ids
    finally:
        sim.sim._in_process = True
        sim.sim.describe = describe


def test_many_commands_in_flight_at_once_all_finish(sim):
    # This checks the runners, not the limits; short boots so 100 instances are online soon.
    control(sim, "POST", "/config", {"rateLimitsEnabled": 0, "pendingSeconds": 0.2, "bootSeconds": 0.1})
    ssm = client(sim, "ssm")
    ids = launch(sim, count=100)
    wait_for(lambda: sim.sim.offline_ids(ids) == [], "100 agents online")
    text, _ = make_loader("time-zone", {"TimeZoneId": "Tokyo Standard Time"})
    commands = [send(ssm, ids[k:k + 50], text) for k in (0, 50)] + [send(ssm, ids[:50], text, MaxConcurrency="7")]

    def statuses(command_id):
        pages = ssm.get_paginator("list_command_invocations").paginate(CommandId=command_id)
        return [r["Status"] for page in pages for r in page["CommandInvocations"]]
    wait_for(lambda: all(statuses(c).count("Success") == 50 for c in commands), "150 invocations to succeed")
    assert all(guest(sim, iid)["timeZoneId"] == "Tokyo Standard Time" for iid in ids[::10])


def test_output_goes_whole_to_s3_and_cloudwatch_at_the_agents_layout(sim):
    """A bucket, a prefix and CloudWatch output: the agent's keys (s3output.py cites the agent's source) hold the
    whole stdout, longer than the 24,000 bytes GetCommandInvocation returns; the stream too; the URLs point there."""
    ssm, s3, logs = client(sim, "ssm"), client(sim, "s3"), client(sim, "logs")
    s3.create_bucket(Bucket="clonectl-out")
    source = sim.info["sourceInstanceId"]
    noise = "\u00e9" * 15000  # 30,000 bytes of UTF-8 before the envelope: the API's copy is cut
    control(sim, "POST", "/faults", {"rules": [{"fault": "outputPrefix", "text": noise + "\n", "count": 1}]})
    text, _ = make_loader("preflight")
    command_id = send(ssm, [source], text, OutputS3BucketName="clonectl-out", OutputS3KeyPrefix="runs/demo/",
                      CloudWatchOutputConfig={"CloudWatchOutputEnabled": True})
    inv = finished(ssm, command_id, source)
    assert inv["StandardOutputContent"].endswith("--output truncated--")
    key = f"runs/demo/{command_id}/{source}/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout"
    assert inv["StandardOutputUrl"] == f"https://s3.us-east-1.amazonaws.com/clonectl-out/{key}"
    whole = s3.get_object(Bucket="clonectl-out", Key=key)["Body"].read().decode("utf-8")
    assert whole.startswith(noise) and len(whole.encode("utf-8")) > 30000
    doc, line, declared = parse_envelope(whole[len(noise) + 1:])
    assert hashlib.sha256(line.encode("ascii")).hexdigest() == declared and doc["payload"] == "preflight"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="clonectl-out")["Contents"]]
    assert keys == [key], "no stderr object when the plugin wrote nothing to stderr"
    row = ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"][0]
    plugin = row["CommandPlugins"][0]
    assert (plugin["OutputS3BucketName"], plugin["OutputS3KeyPrefix"]) == \
        ("clonectl-out", f"runs/demo/{command_id}/{source}/awsrunPowerShellScript")
    assert row["CloudWatchOutputConfig"]["CloudWatchOutputEnabled"] is True
    group = "/aws/ssm/AWS-RunPowerShellScript"  # no group named: the agent's default
    stream = f"{command_id}/{source}/aws-runPowerShellScript/stdout"
    events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    assert "".join(e["message"] for e in events) == whole


def test_s3_calls_are_logged_by_operation(sim):
    """The call log names S3's REST operations (the IAM policy checks replay it)."""
    s3 = client(sim, "s3")
    s3.create_bucket(Bucket="clonectl-log-ops")
    s3.put_object(Bucket="clonectl-log-ops", Key="a/b/stdout", Body=b"x")
    s3.get_object(Bucket="clonectl-log-ops", Key="a/b/stdout")
    s3.head_bucket(Bucket="clonectl-log-ops")
    counts = control(sim, "GET", "/calls?api=s3")["counts"]
    for op in ("CreateBucket", "PutObject", "GetObject", "HeadBucket"):
        assert counts.get(f"s3:{op}", 0) >= 1, counts
