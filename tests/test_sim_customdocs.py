"""SendCommand with an account's own Command document (clonectl's documents mode), through the simulator.

The document is created in moto (CreateDocument / UpdateDocument as moto serves them); the simulator reads the
version SendCommand names, checks DocumentHash and each parameter's allowedPattern with SSM's error codes, fills
the {{ }} references and runs the loader on the guest, which still checks the payload's SHA-256.
"""
import base64
import gzip
import hashlib
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from simfixtures import (LOOSE, aws, client, finished, module_and_script, loader_template,  # noqa: F401
                         parse_envelope, sim)

NONCE = "0123456789abcdef0123456789abcdef"


def document(payload="preflight", version="1.0.0", tamper=None):
    """The content `clonectl documents publish` builds: the loader with the nonce and the parameters as {{ }}."""
    module, script = module_and_script(payload, version)
    if tamper:
        script = tamper(script)
    template = loader_template(version)
    assert template is not None, "ps-scripts/ has the loader template"
    b64gz = lambda data: base64.b64encode(gzip.compress(data, mtime=0)).decode()  # noqa: E731
    fills = {"PAYLOAD": payload, "VERSION": version, "NONCE": "{{ Nonce }}",
             "MODULE_SHA256": hashlib.sha256(module).hexdigest(),
             "PAYLOAD_SHA256": hashlib.sha256(module_and_script(payload, version)[1]).hexdigest(),
             "MODULE_B64": b64gz(module), "SCRIPT_B64": b64gz(script), "PARAMS_B64": "{{ Params }}"}
    for key, value in fills.items():
        template = template.replace(f"__CLONECTL_{key}__", value)
    return json.dumps({
        "schemaVersion": "2.2", "description": f"clonectl payload {payload}@{version}",
        "parameters": {"Nonce": {"type": "String", "allowedPattern": "^[0-9a-f]{32}$"},
                       "Params": {"type": "String", "allowedPattern": "^[A-Za-z0-9+/]*={0,2}$"}},
        "mainSteps": [{"action": "aws:runPowerShellScript", "name": "clonectl",
                       "inputs": {"timeoutSeconds": "3600", "runCommand": template.replace("\r\n", "\n").split("\n")}}],
    }, separators=(",", ":"))


def fresh(stem="clonectl-preflight"):
    """A document name of its own: the simulator's reset leaves moto's documents in place."""
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def params(values=None, nonce=NONCE):
    return {"Nonce": [nonce], "Params": [base64.b64encode(json.dumps(values or {}).encode()).decode()]}


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_custom_document_runs_with_its_hash_and_the_guest_checks_the_payload(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    content = document()
    name = fresh()
    created = ssm.create_document(Name=name, Content=content, DocumentType="Command",
                                  DocumentFormat="JSON", VersionName="1.0.0")["DocumentDescription"]
    # moto's hash is the SHA-256 of the content as sent: what clonectl computes before it publishes.
    assert created["Hash"] == hashlib.sha256(content.encode()).hexdigest()
    cid = ssm.send_command(InstanceIds=[source], DocumentName=name, DocumentVersion="1",
                           DocumentHash=created["Hash"], DocumentHashType="Sha256",
                           Parameters=params())["Command"]["CommandId"]
    inv = finished(ssm, cid, source)
    assert (inv["Status"], inv["ResponseCode"], inv["PluginName"]) == ("Success", 0, "clonectl")
    assert inv["DocumentName"] == name and inv["DocumentVersion"] == "1"
    doc, _, _ = parse_envelope(inv["StandardOutputContent"])
    assert (doc["nonce"], doc["payload"], doc["status"]) == (NONCE, "preflight", "ok")
    listed = ssm.list_commands(CommandId=cid)["Commands"][0]
    assert listed["Parameters"] == params() and listed["DocumentName"] == name


def test_send_command_refuses_as_ssm_does(sim):
    ssm = client(sim, "ssm", config=LOOSE)
    source = sim.info["sourceInstanceId"]
    content = document()
    name = fresh()
    digest = ssm.create_document(Name=name, Content=content, DocumentType="Command",
                                 DocumentFormat="JSON", VersionName="1.0.0")["DocumentDescription"]["Hash"]
    base = dict(InstanceIds=[source], DocumentName=name, DocumentVersion="1", DocumentHash=digest,
                DocumentHashType="Sha256", Parameters=params())
    cases = [
        (dict(DocumentName="clonectl-nothing"), "InvalidDocument"),
        (dict(DocumentVersion="7"), "InvalidDocumentVersion"),
        (dict(DocumentHash="0" * 64), "InvalidDocument"),
        (dict(Parameters={"Nonce": [NONCE]}), "InvalidParameters"),                      # Params required
        (dict(Parameters={**params(), "commands": ["whoami"]}), "InvalidParameters"),     # not defined
        (dict(Parameters={**params(), "Nonce": ["NOT-HEX"]}), "InvalidParameters"),      # allowedPattern
        (dict(Parameters={**params(), "Params": ["e30='; Remove-Item C:\\ -Recurse #"]}), "InvalidParameters"),
        (dict(Parameters={**params(), "Nonce": [NONCE, NONCE]}), "InvalidParameters"),   # a String is one value
    ]
    for overrides, expected in cases:
        with pytest.raises(ClientError) as err:
            ssm.send_command(**{**base, **overrides})
        assert code_of(err) == expected, (overrides, err.value.response["Error"])
    # A version replaced behind the sender's back: same name, same VersionName, other bytes. The pinned hash
    # makes SSM refuse it; without the hash it would run (and the guest's own payload check would be all).
    ssm.delete_document(Name=name)
    evil = document(tamper=lambda script: script + b"\r\n# changed\r\n")
    ssm.create_document(Name=name, Content=evil, DocumentType="Command", DocumentFormat="JSON",
                        VersionName="1.0.0")
    with pytest.raises(ClientError) as err:
        ssm.send_command(**base)
    assert code_of(err) == "InvalidDocument"
    # Without DocumentHash the altered version runs, and the guest's loader refuses the payload (exit 2).
    cid = ssm.send_command(**{k: v for k, v in base.items() if not k.startswith("DocumentHash")})["Command"]["CommandId"]
    inv = finished(ssm, cid, source)
    assert inv["Status"] == "Failed" and inv["ResponseCode"] == 2
    assert "has SHA-256" in inv["StandardErrorContent"] and inv["StandardOutputContent"] == ""


def test_moto_refuses_duplicate_content_and_version_names(sim):
    """What `documents publish` relies on: SSM refuses the same content again and a taken VersionName."""
    ssm = client(sim, "ssm")
    content = document()
    name = fresh()
    ssm.create_document(Name=name, Content=content, DocumentType="Command", DocumentFormat="JSON",
                        VersionName="1.0.0")
    with pytest.raises(ClientError) as err:
        ssm.update_document(Name=name, Content=content, DocumentVersion="$LATEST",
                            DocumentFormat="JSON", VersionName="1.0.1")
    assert code_of(err) == "DuplicateDocumentContent"
    with pytest.raises(ClientError) as err:
        ssm.update_document(Name=name, Content=document(version="1.1.0"), DocumentVersion="$LATEST",
                            DocumentFormat="JSON", VersionName="1.0.0")
    assert code_of(err) == "DuplicateDocumentVersionName"
    added = ssm.update_document(Name=name, Content=document(version="1.1.0"),
                                DocumentVersion="$LATEST", DocumentFormat="JSON",
                                VersionName="1.1.0")["DocumentDescription"]
    assert (added["DocumentVersion"], added["VersionName"]) == ("2", "1.1.0")


def test_a_lost_answer_of_moto_served_document_calls_comes_after_they_are_carried_out(sim):
    """The faults front moto's calls too: CreateDocument / UpdateDocument carried out, their answers lost; the same
    call sent again meets DocumentAlreadyExists / DuplicateDocumentVersionName, and no second version is made."""
    from botocore.exceptions import ConnectionClosedError
    from simfixtures import control
    ssm = client(sim, "ssm", config=LOOSE)
    name = fresh()
    control(sim, "POST", "/faults", {"rules": [{"fault": "lostAnswer", "api": "ssm:CreateDocument", "count": 1},
                                               {"fault": "lostAnswer", "api": "ssm:UpdateDocument", "count": 1}]})
    try:
        with pytest.raises(ConnectionClosedError):
            ssm.create_document(Name=name, Content=document(), DocumentType="Command", DocumentFormat="JSON",
                                VersionName="1.0.0")
        assert ssm.describe_document(Name=name, VersionName="1.0.0")["Document"]["DocumentVersion"] == "1"
        with pytest.raises(ClientError) as err:
            ssm.create_document(Name=name, Content=document(), DocumentType="Command", DocumentFormat="JSON",
                                VersionName="1.0.0")
        assert code_of(err) == "DocumentAlreadyExists"
        newer = document(version="1.1.0")
        with pytest.raises(ConnectionClosedError):
            ssm.update_document(Name=name, Content=newer, DocumentVersion="$LATEST", DocumentFormat="JSON",
                                VersionName="1.1.0")
        assert ssm.describe_document(Name=name, VersionName="1.1.0")["Document"]["DocumentVersion"] == "2"
        with pytest.raises(ClientError) as err:
            ssm.update_document(Name=name, Content=newer, DocumentVersion="$LATEST", DocumentFormat="JSON",
                                VersionName="1.1.0")
        assert code_of(err) == "DuplicateDocumentVersionName"
        assert ssm.describe_document(Name=name)["Document"]["LatestVersion"] == "2"
        calls = control(sim, "GET", "/calls")["calls"]
        lost = [(c["api"], c["by"]) for c in calls if c["fault"] == "lostAnswer"]
        assert lost == [("ssm:CreateDocument", "moto"), ("ssm:UpdateDocument", "moto")]
    finally:
        control(sim, "POST", "/faults", {"rules": []})


def test_list_commands_shows_a_custom_documents_nonce_and_filters_by_its_name(sim):
    """What the controller's search for a command whose answer was lost reads in documents mode (findCommand):
    ListCommands by instance with InvokedAfter, the Comment's marker and the document's own Nonce parameter;
    the DocumentName filter keeps only that document's commands."""
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    name = fresh()
    digest = ssm.create_document(Name=name, Content=document(), DocumentType="Command", DocumentFormat="JSON",
                                 VersionName="1.0.0")["DocumentDescription"]["Hash"]
    nonce = uuid.uuid4().hex
    cid = ssm.send_command(InstanceIds=[source], DocumentName=name, DocumentVersion="1", DocumentHash=digest,
                           Parameters=params(nonce=nonce), Comment=f"clonectl preflight preflight@1.0.0 #{nonce[:16]}")[
        "Command"]["CommandId"]
    finished(ssm, cid, source)
    after = {"key": "InvokedAfter", "value": "2020-01-01T00:00:00Z"}
    mine = ssm.list_commands(InstanceId=source, Filters=[after, {"key": "DocumentName", "value": name}])["Commands"]
    assert [c["CommandId"] for c in mine] == [cid]
    assert mine[0]["Parameters"]["Nonce"] == [nonce] and set(mine[0]["Parameters"]) == {"Nonce", "Params"}
    assert mine[0]["Comment"].endswith(f"#{nonce[:16]}") and mine[0]["DocumentVersion"] == "1"
    other = ssm.list_commands(InstanceId=source, Filters=[{"key": "DocumentName", "value": fresh()}])["Commands"]
    assert other == []


def test_document_over_64_kb_is_refused(sim):
    ssm = client(sim, "ssm", config=LOOSE)
    big = json.loads(document())
    big["description"] = "x" * (64 * 1024)
    with pytest.raises(ClientError) as err:
        ssm.create_document(Name=fresh("clonectl-big"), Content=json.dumps(big), DocumentType="Command",
                            DocumentFormat="JSON", VersionName="1.0.0")
    assert code_of(err) == "MaxDocumentSizeExceeded"
