"""Shared helpers for tests/test_sim_*.py: a running local AWS, clients, loaders and polling.

Not a conftest.py (tests/ is shared): test modules import the fixtures they use by name.
"""
import base64
import gzip
import hashlib
import json
import os
import sys
import time
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from localaws import loader  # noqa: E402
from localaws.server import LocalAws  # noqa: E402

# Short timings so the workflow moves quickly; nothing asserts on how long anything took.
FAST = {"invocationVisibleSeconds": 0.2, "runDelaySeconds": 0.05, "rebootSeconds": 0.3, "bootSeconds": 0.2,
        "pendingSeconds": 0.5, "stoppingSeconds": 0.5, "shuttingDownSeconds": 0.5, "imagePendingSeconds": 0.5,
        "sysprepSeconds": 0.2, "timeScale": 0.01}
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
# botocore checks some limits itself; without that check the simulator's own answer is what a test sees.
LOOSE = Config(retries={"total_max_attempts": 1, "mode": "standard"}, parameter_validation=False)
DEADLINE = 30.0


@pytest.fixture(scope="module")
def aws():
    server = LocalAws(config=FAST).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sim(aws):
    """The running local AWS with faults, call log and timings reset before each test."""
    control(aws, "POST", "/reset", {})
    control(aws, "POST", "/config", FAST)
    return aws


def client(aws, service, config=NO_RETRY, **overrides):
    info = aws.info
    kwargs = dict(endpoint_url=info["endpoint"], region_name=info["region"], aws_access_key_id=info["accessKeyId"],
                  aws_secret_access_key=info["secretAccessKey"], config=config)
    kwargs.update(overrides)
    return boto3.client(service, **kwargs)


def control(aws, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(aws.info["controlEndpoint"] + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def wait_for(predicate, what, deadline=DEADLINE, every=0.05):
    """Polls until predicate() returns something truthy; fails naming what never happened."""
    end = time.time() + deadline
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def throttled(exc):
    return isinstance(exc, ClientError) and exc.response["Error"]["Code"] in ("ThrottlingException",
                                                                              "RequestLimitExceeded")


def patient(probe):
    """A polling probe that reads a throttled answer as "not yet", as a client that retries would: the helpers
    poll faster than the simulator's rate limits refill (clients here do not retry by themselves)."""
    def wrapped():
        try:
            return probe()
        except ClientError as exc:
            if throttled(exc):
                return None
            raise
    return wrapped


PS_SCRIPTS = os.environ.get("CLONECTL_PS_SCRIPTS") or os.path.join(ROOT, "ps-scripts")


def _manifest():
    path = os.path.join(PS_SCRIPTS, "manifest.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def module_and_script(payload, version="1.0.0"):
    """The real module and payload bytes when ps-scripts/manifest.json lists them, else small stand-ins
    (the simulator runs its model of the payload; only the bytes' hashes travel into the envelope)."""
    manifest = _manifest()
    if manifest:
        entry = next((p for p in manifest["payloads"] if p["name"] == payload and p["version"] == version), None)
        if entry is not None:
            module = next(m for m in manifest["modules"] if m["version"] == entry["module"])
            with open(os.path.join(PS_SCRIPTS, module["path"]), "rb") as m, \
                    open(os.path.join(PS_SCRIPTS, entry["path"]), "rb") as s:
                return m.read(), s.read()
    return b"# CloneAgent stand-in\r\n", f"# {payload} stand-in\r\nexit 0\r\n".encode()


def loader_template(version=None):
    """The loader template a payload of that module version runs under (the newest when there is none of it)."""
    manifest = _manifest()
    if not manifest or "loader" not in manifest:
        return None
    entry = next((e for e in manifest.get("loaders", []) if e["version"] == version), manifest["loader"])
    with open(os.path.join(PS_SCRIPTS, entry["path"]), encoding="utf-8") as fh:
        return fh.read()


def make_loader(payload, params=None, nonce="0123456789abcdef0123456789abcdef", version="1.0.0"):
    """The loader as the controller sends it: the real template filled in when ps-scripts/ has one."""
    module, script = module_and_script(payload, version)
    template = loader_template(version)
    if template is None:
        return loader.build(payload, version, nonce, module, script, params or {}), hashlib.sha256(script).hexdigest()
    b64gz = lambda data: base64.b64encode(gzip.compress(data, mtime=0)).decode()  # noqa: E731
    fills = {"PAYLOAD": payload, "VERSION": version, "NONCE": nonce,
             "MODULE_SHA256": hashlib.sha256(module).hexdigest(), "PAYLOAD_SHA256": hashlib.sha256(script).hexdigest(),
             "MODULE_B64": b64gz(module), "SCRIPT_B64": b64gz(script),
             "PARAMS_B64": base64.b64encode(json.dumps(params or {}).encode()).decode()}
    for key, value in fills.items():
        template = template.replace(f"__CLONECTL_{key}__", value)
    return template, hashlib.sha256(script).hexdigest()


def send(ssm, instance_ids, text, **extra):
    return ssm.send_command(InstanceIds=list(instance_ids), DocumentName="AWS-RunPowerShellScript",
                            Parameters={"commands": [text]}, **extra)["Command"]["CommandId"]


def finished(ssm, command_id, instance_id):
    """Polls GetCommandInvocation until a terminal status (retrying InvocationDoesNotExist, as clients must)."""
    def probe():
        try:
            inv = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except ssm.exceptions.InvocationDoesNotExist:
            return None
        return inv if inv["Status"] in ("Success", "Failed", "TimedOut", "Cancelled") else None
    return wait_for(patient(probe), f"command {command_id} on {instance_id} to finish")


def run_payload(aws, instance_id, payload, params=None, nonce="0123456789abcdef0123456789abcdef", version="1.0.0"):
    ssm = client(aws, "ssm")
    text, _ = make_loader(payload, params, nonce, version=version)
    return finished(ssm, send(ssm, [instance_id], text), instance_id)


def parse_envelope(stdout):
    """(json dict, json line, declared sha256) of the LAST envelope in a text, as the controller reads it (after a
    3010 reboot the agent's output holds every run's envelope); asserts the three-line shape."""
    lines = stdout.split("\r\n")
    begin = len(lines) - 1 - lines[::-1].index("-----BEGIN CLONECTL RESULT v1-----")
    line, end = lines[begin + 1], lines[begin + 2]
    assert end.startswith("-----END CLONECTL RESULT sha256=") and end.endswith("-----"), end
    return json.loads(line), line, end[len("-----END CLONECTL RESULT sha256="):-5]


def guest(aws, instance_id):
    return control(aws, "GET", f"/guests/{instance_id}")


def launch(aws, image_id=None, count=1, **extra):
    ec2 = client(aws, "ec2")
    res = ec2.run_instances(ImageId=image_id or aws.info["sourceImageId"], MinCount=count, MaxCount=count,
                            InstanceType="m5.large", SubnetId=aws.info["subnetId"], **extra)
    return [i["InstanceId"] for i in res["Instances"]]


def online(aws, instance_id):
    ssm = client(aws, "ssm")
    def probe():
        rows = ssm.describe_instance_information(
            Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])["InstanceInformationList"]
        return rows and rows[0]["PingStatus"] == "Online"
    # Every 0.15 s: below DescribeInstanceInformation's refill (10/s), so the test's own calls find tokens left.
    wait_for(patient(probe), f"{instance_id} to be Online", every=0.15)


def outcome(call) -> str:
    """"ok", or the AWS error code the call was answered with."""
    try:
        call()
        return "ok"
    except ClientError as exc:
        return exc.response["Error"]["Code"]
