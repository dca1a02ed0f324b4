"""The Run Command status machine as the API reference documents it, each status observable: Pending, Delayed,
InProgress, Cancelling, Cancelled/Terminated, the command's Incomplete; MaxErrors counting only Failed and
Execution Timed Out; and the output cuts in UTF-8 bytes as the SSM Agent makes them."""
import pytest

from simfixtures import (aws, client, control, finished, launch, make_loader, online, patient, send,  # noqa: F401
                         sim, wait_for)

from localaws import outputcut
from localaws.sim import DEFAULTS


def watch(ssm, command_id, instance_id, until):
    """Every (Status, StatusDetails) a poll saw until `until` was seen or the invocation ended."""
    seen = []

    def probe():
        try:
            inv = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except ssm.exceptions.InvocationDoesNotExist:
            return False
        pair = (inv["Status"], inv["StatusDetails"])
        if not seen or seen[-1] != pair:
            seen.append(pair)
        return pair == until or inv["Status"] in ("Success", "Failed", "TimedOut", "Cancelled")
    wait_for(patient(probe), f"{until} on {instance_id}", every=0.05)
    return seen


def command_of(ssm, command_id):
    return ssm.list_commands(CommandId=command_id)["Commands"][0]


def test_with_the_default_timings_a_poll_sees_pending_first(sim):
    control(sim, "POST", "/reset", {})  # the defaults, not the fast test timings
    assert DEFAULTS["runDelaySeconds"] > DEFAULTS["invocationVisibleSeconds"]
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    command_id = send(ssm, [source], text)
    seen = watch(ssm, command_id, source, ("Success", "Success"))
    assert seen[0] == ("Pending", "Pending") and ("InProgress", "InProgress") in seen, seen
    assert seen[-1] == ("Success", "Success")


def test_delayed_while_the_agent_is_away_then_delivered(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    control(sim, "POST", "/config", {"runDelaySeconds": 0.5})  # InProgress lasts long enough to be polled
    control(sim, "POST", "/faults", {"rules": [{"fault": "delayed", "seconds": 1.0, "instanceId": source}]})
    text, _ = make_loader("preflight")
    command_id = send(ssm, [source], text)
    seen = watch(ssm, command_id, source, ("Success", "Success"))
    assert ("Delayed", "Delayed") in seen and seen[-1] == ("Success", "Success"), seen
    assert ("InProgress", "InProgress") not in seen[:seen.index(("Delayed", "Delayed"))], seen


def test_delayed_until_the_delivery_timeout_when_the_agent_never_answers(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    control(sim, "POST", "/config", {"timeScale": 0.05})  # TimeoutSeconds 30 -> 1.5 s
    control(sim, "POST", "/faults", {"rules": [{"fault": "delayed", "seconds": 600, "instanceId": source}]})
    text, _ = make_loader("preflight")
    command_id = send(ssm, [source], text, TimeoutSeconds=30)
    seen = watch(ssm, command_id, source, ("TimedOut", "DeliveryTimedOut"))
    assert ("Delayed", "Delayed") in seen and seen[-1] == ("TimedOut", "DeliveryTimedOut"), seen
    cmd = command_of(ssm, command_id)
    assert (cmd["Status"], cmd["StatusDetails"], cmd["DeliveryTimedOutCount"], cmd["ErrorCount"]) == \
        ("TimedOut", "Delivery Timed Out", 1, 0)


def test_cancel_of_a_running_invocation_shows_cancelling_then_cancelled(sim):
    control(sim, "POST", "/config", {"runDelaySeconds": 1.5, "cancelSeconds": 1.0})
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    command_id = send(ssm, [source], text)
    watch(ssm, command_id, source, ("InProgress", "InProgress"))
    ssm.cancel_command(CommandId=command_id)
    inv = ssm.get_command_invocation(CommandId=command_id, InstanceId=source)
    assert (inv["Status"], inv["StatusDetails"]) == ("Cancelling", "Cancelling")
    assert command_of(ssm, command_id)["Status"] == "Cancelling"
    inv = finished(ssm, command_id, source)
    assert (inv["Status"], inv["StatusDetails"]) == ("Cancelled", "Cancelled")
    assert (command_of(ssm, command_id)["Status"], command_of(ssm, command_id)["StatusDetails"]) == \
        ("Cancelled", "Cancelled")


def test_faults_force_cancelling_and_terminated(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    control(sim, "POST", "/faults", {"rules": [{"fault": "cancelling", "seconds": 1.0, "count": 1}]})
    command_id = send(ssm, [source], text)
    seen = watch(ssm, command_id, source, ("Cancelled", "Cancelled"))
    assert ("Cancelling", "Cancelling") in seen and seen[-1] == ("Cancelled", "Cancelled"), seen
    control(sim, "POST", "/faults", {"rules": [{"fault": "terminated", "count": 1}]})
    inv = finished(ssm, send(ssm, [source], text), source)
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("Cancelled", "Terminated", -1)


def test_delivery_timeouts_and_undeliverable_do_not_count_against_max_errors(sim):
    ssm = client(sim, "ssm")
    ids = launch(sim, count=3)
    for iid in ids:
        online(sim, iid)
    control(sim, "POST", "/faults", {"rules": [{"fault": "deliveryTimedOut", "instanceId": ids[0]},
                                               {"fault": "undeliverable", "instanceId": ids[1]}]})
    text, _ = make_loader("time-zone", {"TimeZoneId": "Tokyo Standard Time"})
    command_id = send(ssm, ids, text, MaxConcurrency="1", MaxErrors="0")
    results = [finished(ssm, command_id, iid) for iid in ids]
    assert [(r["Status"], r["StatusDetails"]) for r in results] == [
        ("TimedOut", "DeliveryTimedOut"), ("Failed", "Undeliverable"), ("Success", "Success")]
    cmd = wait_for(lambda: (c := command_of(ssm, command_id))["CompletedCount"] == 3 and c, "the command to end")
    # Attempted everywhere, not all Success, no error counted: Incomplete.
    assert (cmd["Status"], cmd["StatusDetails"], cmd["ErrorCount"]) == ("Failed", "Incomplete", 0)


def test_an_execution_timeout_counts_against_max_errors(sim):
    ssm = client(sim, "ssm")
    ids = launch(sim, count=2)
    for iid in ids:
        online(sim, iid)
    control(sim, "POST", "/faults", {"rules": [{"fault": "agentNotBack", "instanceId": ids[0]}]})
    control(sim, "POST", "/config", {"timeScale": 0.0002})
    text, _ = make_loader("hostname", {"common": {}, "byInstance": {i: {"NewName": f"HOST{n}"} for n, i in
                                                                    enumerate(ids)}})
    command_id = send(ssm, ids, text, MaxConcurrency="1", MaxErrors="0")
    first, second = (finished(ssm, command_id, iid) for iid in ids)
    assert (first["Status"], first["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")
    assert (second["Status"], second["StatusDetails"]) == ("Cancelled", "Terminated")
    cmd = command_of(ssm, command_id)
    assert (cmd["Status"], cmd["StatusDetails"], cmd["ErrorCount"]) == ("TimedOut", "Execution Timed Out", 1)


# --- output cuts (the agent's rules, in bytes) -----------------------------------------------------------------------

def test_details_cut_counts_utf8_bytes_with_the_agents_marker():
    marker = "\n---Output truncated---"  # 23 bytes
    cut = outputcut.details_output("x" * 3000, "")
    assert cut == "x" * (2500 - len(marker)) + marker and len(cut.encode()) == 2500
    wide = "ジ" * 1000  # 3 bytes each: 3,000 bytes in 1,000 characters
    cut = outputcut.details_output(wide, "")
    assert len(cut) < 2500 and cut.endswith("\n---Output truncated---")
    body = cut[: -len("\n---Output truncated---")]
    room = 2500 - len(marker)
    assert body.rstrip("\ufffd") == "ジ" * (room // 3) and body.count("\ufffd") == room % 3  # a split character
    assert outputcut.details_output("short", "boom") == "short\n----------ERROR-------\nboom"
    both = outputcut.details_output("o" * 3000, "e" * 3000)
    assert both.count("---Output truncated---") == 1 and both.endswith("\n---Error truncated----")
    assert len(both.encode()) <= 2500
    assert outputcut.details_output("o" * 100, "e" * 3000).startswith("o" * 100 + "\n----------ERROR-------\n")


def test_standard_output_content_keeps_23980_bytes_and_the_marker():
    assert outputcut.stdout_content("a" * 23999) == "a" * 23999
    cut = outputcut.stdout_content("a" * 30000)
    assert cut == "a" * 23980 + "--output truncated--"
    assert outputcut.stderr_content("é" * 5000) == "é" * 4000  # 8,000 bytes, no marker


def test_details_of_a_non_ascii_output_are_cut_in_bytes(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    warning = "警告: この操作には時間がかかります。\r\n" * 60  # 3-byte characters before the envelope
    control(sim, "POST", "/faults", {"rules": [{"fault": "outputPrefix", "text": warning}]})
    text, _ = make_loader("preflight")
    command_id = send(ssm, [source], text)
    inv = finished(ssm, command_id, source)
    output = ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"][0][
        "CommandPlugins"][0]["Output"]
    assert output.endswith("\n---Output truncated---") and "-----BEGIN" not in output
    # 2,500 bytes (a split character grows by up to 6 as U+FFFD), far fewer characters
    assert len(output.encode("utf-8")) <= 2506 and len(output) < 1000
    assert inv["StandardOutputContent"].startswith(warning) and "-----END CLONECTL RESULT" in inv["StandardOutputContent"]
