"""The simulator does not flatter (review S1-S14): each 1.1.0 fix against the 1.0.0 behaviour it replaces, and the
guest faults that put a guest in the state each fix is about."""
from simfixtures import (aws, client, control, launch, online, parse_envelope, run_payload, sim, guest)  # noqa: F401

from localaws import worker

NEW = "1.1.0"


def run(sim, iid, payload, params=None, version=NEW):
    inv = run_payload(sim, iid, payload, params, version=version)
    return inv, parse_envelope(inv["StandardOutputContent"])[0] if inv["StandardOutputContent"] else None


def patch(sim, iid, changes):
    control(sim, "POST", f"/guests/{iid}", changes)


def fresh(sim):
    [iid] = launch(sim)
    online(sim, iid)
    return iid


def test_agent_cut_is_the_agents_string_prefix():
    assert worker.agent_cut("x" * 23999) == "x" * 23999
    cut = worker.agent_cut("x" * 24000)
    assert len(cut) == 24000 and cut.endswith("--output truncated--") and cut.startswith("x" * 23980)


def test_a_plain_string_parameter_is_refused_as_the_script_does(sim):
    ssm = client(sim, "ssm")
    ssm.put_parameter(Name="/clonectl/test/plain", Type="String", Value="not-a-secret-store")
    iid = fresh(sim)
    inv, doc = run(sim, iid, "work-user", {"UserName": "cloneadmin", "PasswordParameter": "/clonectl/test/plain"})
    assert inv["ResponseCode"] == 1
    assert "is a String, not a SecureString" in doc["errors"][0] and "not-a-secret-store" not in inv["StandardOutputContent"]


def test_work_user_names_the_binding_rejects(sim):
    iid = fresh(sim)
    inv, doc = run(sim, iid, "work-user", {"UserName": "clone admin", "PasswordParameter": sim.info["secureParameter"]})
    assert inv["ResponseCode"] == 1 and "UserName" in doc["errors"][0]


def test_protected_services_are_refused_before_anything_changes(sim):
    iid = fresh(sim)
    inv, doc = run(sim, iid, "jobs-stop", {"Services": ["AmazonSSMAgent"]})
    assert inv["ResponseCode"] == 1 and "'AmazonSSMAgent' is protected" in doc["errors"][0]
    assert guest(sim, iid)["services"][0]["status"] == "Running"
    # A service a protected one depends on: stopping it would cascade.
    patch(sim, iid, {"services": [{"name": "AmazonSSMAgent", "startType": "Automatic", "status": "Running"},
                                  {"name": "NetHelper", "startType": "Automatic", "status": "Running",
                                   "dependents": ["AmazonSSMAgent"]}]})
    inv, doc = run(sim, iid, "jobs-stop", {"Services": ["NetHelper"]})
    assert inv["ResponseCode"] == 1 and "would also stop the protected service 'AmazonSSMAgent'" in doc["errors"][0]
    # 1.0.0 had no such refusal (D12): it stops the agent's own service.
    inv, doc = run(sim, iid, "jobs-stop", {"Services": ["AmazonSSMAgent"]}, version="1.0.0")
    assert doc["status"] == "changed"


def test_a_wildcard_task_pattern_matching_nothing_fails(sim):
    iid = fresh(sim)
    inv, doc = run(sim, iid, "jobs-stop", {"Tasks": ["\\Nothing\\*"]})
    assert inv["ResponseCode"] == 1 and "no scheduled task matches" in doc["errors"][0]


def test_service_that_will_not_start_1_0_0_stops_1_1_0_goes_on(sim):
    iid = fresh(sim)
    patch(sim, iid, {"services": [{"name": "AmazonSSMAgent", "startType": "Automatic", "status": "Running"},
                                  {"name": "AppSvc", "startType": "Automatic", "status": "Running"},
                                  {"name": "AppWeb", "startType": "Automatic", "status": "Running"}]})
    run(sim, iid, "jobs-stop", {"Services": ["AppSvc", "AppWeb"]})
    control(sim, "POST", "/faults", {"rules": [{"fault": "serviceWontStart", "service": "AppSvc",
                                                "reason": "domain-account", "payload": "jobs-restore"}]})
    inv, doc = run(sim, iid, "jobs-restore")
    assert inv["ResponseCode"] == 1
    assert any("AppSvc could not start" in e and "domain-join" in e for e in doc["errors"]), doc["errors"]
    services = {s["name"]: s for s in guest(sim, iid)["services"]}
    assert services["AppWeb"]["status"] == "Running" and services["AppSvc"]["startType"] == "Automatic"
    assert "restoredAt" not in guest(sim, iid)["journal"]["entries"]["jobs"]
    # The clone joins its domain (a domain-account service can log on now): the re-run finishes and closes the entry.
    patch(sim, iid, {"domain": "corp.example.com"})
    inv, doc = run(sim, iid, "jobs-restore")
    assert doc["status"] == "changed" and {"item": "service/AppSvc/status", "from": "Stopped", "to": "Running"} in doc["changed"]
    assert "restoredAt" in guest(sim, iid)["journal"]["entries"]["jobs"]


def test_appx_bundle_is_a_false_blocker_for_1_0_0_only(sim):
    iid = fresh(sim)
    pub = "8wekyb3d8bbwe"
    patch(sim, iid, {"appx": {
        "provisioned": [{"name": "Microsoft.DesktopAppInstaller",
                         "fullName": f"Microsoft.DesktopAppInstaller_2024.506.2113.0_neutral_~_{pub}"}],
        "installed": [{"name": "Microsoft.DesktopAppInstaller",
                       "fullName": f"Microsoft.DesktopAppInstaller_1.22.11261.0_x64__{pub}"}]}})
    _, old = run(sim, iid, "preflight", version="1.0.0")
    assert [b["id"] for b in old["facts"]["sysprepBlockers"]] == ["appx-per-user"]
    _, new = run(sim, iid, "preflight")
    assert new["facts"]["sysprepBlockers"] == [] and new["facts"]["ready"] is True


def test_sysprep_waits_for_ec2launch_and_refuses_when_still_busy(sim):
    iid = fresh(sim)
    control(sim, "POST", "/faults", {"rules": [{"fault": "ec2LaunchBusy", "instanceId": iid, "count": 1}]})
    inv, doc = run(sim, iid, "sysprep")
    assert inv["ResponseCode"] == 1 and "EC2Launch v2 is still running its stages" in doc["errors"][0]
    assert "sysprep" not in (guest(sim, iid)["journal"] or {}).get("entries", {})
    patch(sim, iid, {"ec2LaunchStatus": "ok"})
    inv, doc = run(sim, iid, "sysprep")
    assert doc["status"] == "changed"


def test_sethostname_task_1_0_0_loops_1_1_0_refuses(sim):
    iid = fresh(sim)
    control(sim, "POST", "/faults", {"rules": [{"fault": "setHostNameTask", "instanceId": iid, "count": 1}]})
    params = {"NewName": "CLONE11"}
    inv, doc = run(sim, iid, "hostname", params)
    assert inv["ResponseCode"] == 1 and "active setHostName task" in doc["errors"][0]
    control(sim, "POST", "/config", {"maxReruns": 2})
    inv, _ = run(sim, iid, "hostname", params, version="1.0.0")
    assert "asked for a reboot 2 times in a row" in inv["StandardErrorContent"]  # the D8 loop
    assert guest(sim, iid)["hostName"] != "CLONE11"


def test_insecure_data_root_is_refused_until_fixed(sim):
    iid = fresh(sim)
    run(sim, iid, "firewall-off")
    assert guest(sim, iid)["dataRoot"] == {"owner": "S-1-5-32-544", "protected": True}
    control(sim, "POST", "/faults", {"rules": [{"fault": "insecureDataRoot", "instanceId": iid, "count": 1}]})
    inv, doc = run(sim, iid, "firewall-restore")
    assert inv["ResponseCode"] == 1 and "not safe to trust" in doc["errors"][0] and "journal.json" in doc["errors"][0]
    assert guest(sim, iid)["firewall"]["Public"] is False  # nothing was restored from an untrusted journal
    patch(sim, iid, {"dataRoot": {"owner": "S-1-5-32-544", "protected": True}})
    inv, doc = run(sim, iid, "firewall-restore")
    assert doc["status"] == "changed"


def test_existing_computer_account_is_explained(sim):
    ssm = client(sim, "ssm")
    ssm.put_parameter(Name="/clonectl/test/join", Type="SecureString", Value="CORP\\joiner\nP@ss", Overwrite=True)
    iid = fresh(sim)
    control(sim, "POST", "/faults", {"rules": [{"fault": "computerAccountExists", "instanceId": iid, "count": 1}]})
    params = {"DomainName": "corp.example.com", "CredentialParameter": "/clonectl/test/join"}
    inv, doc = run(sim, iid, "domain-join", params)
    assert inv["ResponseCode"] == 1 and "KB5020276" in doc["errors"][0] and "P@ss" not in inv["StandardOutputContent"]
    patch(sim, iid, {"domainComputerAccounts": []})
    inv, doc = run(sim, iid, "domain-join", params)
    assert inv["ResponseCode"] == 0 and guest(sim, iid)["domain"] == "corp.example.com"


def test_verify_closes_the_sysprep_entry_and_warns_on_2025_status(sim):
    iid = fresh(sim)
    patch(sim, iid, {"journal": {"v": 1, "entries": {"sysprep": {"recordedBy": "sysprep@1.1.0", "recordedAt": "x",
                                                                 "before": {"machineSid": "S-1-5-21-1-2-3"}}}},
                     "osVersion": "10.0.26100", "ec2LaunchStatus": "failed"})
    inv, doc = run(sim, iid, "verify")
    assert doc["status"] == "ok" and "warning" in doc["facts"]["ec2Launch"]
    assert "restoredAt" in guest(sim, iid)["journal"]["entries"]["sysprep"]
    _, old = run(sim, iid, "verify", version="1.0.0")
    assert old["status"] == "failed" and "EC2Launch.exe status reports failed" in old["errors"][0]


def test_constrained_language_mode_is_named(sim):
    iid = fresh(sim)
    patch(sim, iid, {"languageMode": "ConstrainedLanguage"})
    inv, doc = run(sim, iid, "preflight")
    assert inv["ResponseCode"] == 2 and doc is None and "ConstrainedLanguage mode" in inv["StandardErrorContent"]
