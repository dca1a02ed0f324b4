"""The guest side: loader checks, payload models, 3010 re-runs, Sysprep, and guest state following images."""
import re

from simfixtures import (aws, client, control, finished, launch, make_loader, online, parse_envelope,  # noqa: F401
                         run_payload, send, sim, wait_for, guest)

from localaws import envelope, loader


def state_of(aws, instance_id):
    ec2 = client(aws, "ec2")
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]


def test_hash_mismatch_is_refused_with_exit_2_and_no_envelope(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    text, script_sha = make_loader("firewall-off")
    tampered = text.replace(script_sha, "0" * 64)
    inv = finished(ssm, send(ssm, [source], tampered), source)
    assert (inv["Status"], inv["ResponseCode"], inv["StandardOutputContent"]) == ("Failed", 2, "")
    assert inv["StandardErrorContent"].startswith("clonectl loader refused firewall-off@1.0.0: firewall-off.ps1 "
                                                  "has SHA-256 ")
    assert "expected " + "0" * 64 in inv["StandardErrorContent"]
    assert guest(sim, source)["firewall"] == {"Domain": True, "Private": True, "Public": True}


def test_unfilled_template_placeholder_is_refused(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    text = re.sub(r"Nonce = '[0-9a-f]+'", "Nonce = '__CLONECTL_NONCE__'", text)
    inv = finished(ssm, send(ssm, [source], text), source)
    assert inv["ResponseCode"] == 2 and "Nonce still holds a template placeholder" in inv["StandardErrorContent"]


def test_loader_parser_reads_values_by_key_wherever_they_sit():
    text = ("$c = @{\n Payload='hostname'\n Version = '1.0.0'; Nonce = 'ab'''\n ModuleSha256 = 'x'\n"
            " PayloadSha256 = 'y'; Module = 'QUJD\n REVG'; Script = 'Zg=='; Params = 'e30='\n}")
    values = loader.parse_values(text)
    assert values["Payload"] == "hostname" and values["Nonce"] == "ab'" and values["Module"] == "QUJD\n REVG"
    per_instance = '{"common": {"A": 1, "C": 0}, "byInstance": {"i-1": {"A": 2, "B": 3}}}'
    assert loader.resolve_params(per_instance, "i-1") == {"A": 2, "B": 3, "C": 0}
    assert loader.resolve_params('{"common": {"A": 1}}', "i-1") == {"common": {"A": 1}}  # plain: no byInstance
    for bad, why in (('[1]', "must be a JSON object"), ('{"byInstance": {}, "x": 1}', "unexpected member 'x'"),
                     (per_instance, "no entry for this instance (i-2)")):
        try:
            loader.resolve_params(bad, "i-2")
            raise AssertionError(f"{bad} was accepted")
        except ValueError as exc:
            assert why in str(exc)


def test_prep_changes_are_journaled_and_idempotent(sim):
    [iid] = launch(sim)
    online(sim, iid)
    control(sim, "POST", f"/guests/{iid}", {"services": [{"name": "AppSvc", "startType": "Automatic",
                                                          "status": "Running"}]})
    first = run_payload(sim, iid, "jobs-stop", {"Services": ["AppSvc"], "Tasks": []})
    doc, _, _ = parse_envelope(first["StandardOutputContent"])
    assert doc["status"] == "changed" and {"item": "service/AppSvc/status", "from": "Running", "to": "Stopped"} in doc["changed"]
    again = parse_envelope(run_payload(sim, iid, "jobs-stop", {"Services": ["AppSvc"]})["StandardOutputContent"])[0]
    assert again["status"] == "ok" and again["changed"] == []
    entry = guest(sim, iid)["journal"]["entries"]["jobs"]
    assert entry["recordedBy"] == "jobs-stop@1.0.0" and entry["before"]["services"][0]["status"] == "Running"
    missing = run_payload(sim, iid, "firewall-restore")
    assert missing["ResponseCode"] == 1
    assert "no firewall entry in the journal" in parse_envelope(missing["StandardOutputContent"])[0]["errors"][0]


def test_exit_3010_reboots_and_runs_the_same_command_again(sim):
    [iid] = launch(sim)
    online(sim, iid)
    params = {"common": {}, "byInstance": {iid: {"NewName": "CLONE07"}}}
    inv = run_payload(sim, iid, "hostname", params)
    assert (inv["Status"], inv["ResponseCode"]) == ("Success", 0)
    out = inv["StandardOutputContent"]
    # By default the output accumulates across the reboot, as the agent's stdout file does (review S1).
    assert out.count("-----BEGIN CLONECTL RESULT v1-----") == 2
    doc = parse_envelope(out[out.rindex("-----BEGIN"):])[0]
    assert doc["status"] == "ok" and doc["facts"]["activeName"] == "CLONE07"  # the re-run saw the new name
    assert guest(sim, iid)["hostName"] == "CLONE07"
    both = run_payload(sim, iid, "hostname", {"NewName": "CLONE08"})["StandardOutputContent"]
    assert both.count("-----BEGIN CLONECTL RESULT v1-----") == 2
    assert parse_envelope(both[:both.rindex("-----BEGIN")])[0]["status"] == "reboot-pending"  # the first run's comes first
    assert parse_envelope(both[both.rindex("-----BEGIN"):])[0]["status"] == "ok"
    assert envelope.verdict(both, "0123456789abcdef0123456789abcdef", make_loader("hostname")[1]) == "verified"
    control(sim, "POST", "/config", {"rebootOutputAll": 0})
    last_only = run_payload(sim, iid, "hostname", {"NewName": "CLONE09"})["StandardOutputContent"]
    assert last_only.count("-----BEGIN CLONECTL RESULT v1-----") == 1
    control(sim, "POST", "/config", {"rebootOutputAll": 1})
    other = run_payload(sim, iid, "hostname", {"common": {}, "byInstance": {"i-00000000000000000": {"NewName": "X"}}})
    assert other["ResponseCode"] == 1
    assert f"byInstance has no entry for this instance ({iid})" in parse_envelope(other["StandardOutputContent"])[0]["errors"][0]


def test_sysprep_reports_then_stops_and_clones_get_a_new_identity(sim):
    ec2 = client(sim, "ec2")
    [work] = launch(sim)
    online(sim, work)
    run_payload(sim, work, "firewall-off")
    before = guest(sim, work)
    inv = run_payload(sim, work, "sysprep")
    doc = parse_envelope(inv["StandardOutputContent"])[0]
    assert inv["Status"] == "Success" and doc["status"] == "changed" and doc["errors"] == []
    wait_for(lambda: state_of(sim, work) == "stopped", "the work copy to stop after Sysprep")
    after = guest(sim, work)
    assert after["machineSid"] != before["machineSid"] and re.fullmatch(r"WIN-[A-Z0-9]{7}", after["hostName"])
    assert after["timeZoneId"] == "UTC" and after["imageState"] == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
    image = ec2.create_image(InstanceId=work, Name="master-test")["ImageId"]
    [clone] = launch(sim, image)
    online(sim, clone)
    cloned = guest(sim, clone)
    # The specialize pass on the clone's first boot gives it a SID of its own (not the generalized disk's).
    assert cloned["imageState"] == "IMAGE_STATE_COMPLETE"
    assert cloned["machineSid"] not in (after["machineSid"], before["machineSid"])
    assert cloned["journal"]["entries"]["firewall"]["before"] == {"Domain": True, "Private": True, "Public": True}
    restored = parse_envelope(run_payload(sim, clone, "firewall-restore")["StandardOutputContent"])[0]
    assert restored["status"] == "changed" and restored["facts"]["profiles"]["Public"] is True
    verified = parse_envelope(run_payload(sim, clone, "verify")["StandardOutputContent"])[0]
    assert verified["status"] == "ok" and verified["facts"]["imageState"] == "IMAGE_STATE_COMPLETE"
    assert verified["facts"]["sourceMachineSid"] == before["machineSid"] and verified["facts"]["sidChanged"] is True


def test_sysprep_blocker_fault_refuses_sysprep(sim):
    [iid] = launch(sim)
    online(sim, iid)
    control(sim, "POST", "/faults", {"rules": [{"fault": "sysprepBlocker", "instanceId": iid,
                                                "reason": "BitLocker is on for C: (0x80310039)"}]})
    inv = run_payload(sim, iid, "sysprep")
    doc = parse_envelope(inv["StandardOutputContent"])[0]
    assert (inv["Status"], inv["ResponseCode"], doc["status"]) == ("Failed", 1, "failed")
    assert doc["errors"][0].startswith("blocker bitlocker: BitLocker is on")
    assert state_of(sim, iid) == "running"


def test_work_user_reads_its_password_on_the_instance(sim):
    [iid] = launch(sim)
    online(sim, iid)
    ok = run_payload(sim, iid, "work-user", {"UserName": "clonework", "PasswordParameter": sim.info["secureParameter"]})
    doc = parse_envelope(ok["StandardOutputContent"])[0]
    assert doc["status"] == "changed" and guest(sim, iid)["users"]["clonework"] == {"enabled": True,
                                                                                 "inAdministrators": True}
    assert "Demo-Only" not in ok["StandardOutputContent"]
    bad = run_payload(sim, iid, "work-user", {"UserName": "otheruser", "PasswordParameter": "/no/such"})
    assert bad["ResponseCode"] == 1 and "/no/such" in parse_envelope(bad["StandardOutputContent"])[0]["errors"][0]
