"""scripts/localaws.py as the Swift tests start it: the --out contract, and a clean stop on SIGTERM."""
import json
import os
import signal
import subprocess
import sys
import urllib.request

import boto3

from simfixtures import ROOT, wait_for

CONTRACT = ("endpoint", "region", "accessKeyId", "secretAccessKey", "sourceInstanceId", "sourceImageId", "vpcId",
            "subnetId", "secureParameter", "roleArn")


def test_script_writes_the_contract_serves_and_stops(tmp_path):
    out = tmp_path / "localaws.json"
    sock_probe = __import__("localaws.server", fromlist=["free_port"])
    port = sock_probe.free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "localaws.py"), "--port", str(port),
                             "--out", str(out)], env=dict(os.environ, LOCALAWS_CONFIG='{"pendingSeconds": 0.2}'),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: out.exists() or proc.poll() is not None, "the --out file", deadline=120)
        assert proc.poll() is None, proc.stderr.read().decode()
        info = json.loads(out.read_text())
        assert all(info.get(k) for k in CONTRACT), info
        # Tests/TestSupport/LocalAWS.swift decodes the file as [String: String]: one non-string value breaks it.
        assert all(isinstance(v, str) for v in info.values()), info
        assert info["endpoint"] == f"http://127.0.0.1:{port}" and info["controlEndpoint"] == info["endpoint"] + "/__sim"
        assert oct(out.stat().st_mode & 0o777) == "0o600"
        with urllib.request.urlopen(info["controlEndpoint"] + "/config", timeout=10) as resp:
            assert json.loads(resp.read())["pendingSeconds"] == 0.2  # LOCALAWS_CONFIG was applied
        ssm = boto3.client("ssm", endpoint_url=info["endpoint"], region_name=info["region"],
                           aws_access_key_id=info["accessKeyId"], aws_secret_access_key=info["secretAccessKey"])
        rows = ssm.describe_instance_information()["InstanceInformationList"]
        assert [r["InstanceId"] for r in rows] == [info["sourceInstanceId"]]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    assert code == 0


def test_script_refuses_a_bad_config(tmp_path):
    out = tmp_path / "never.json"
    done = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "localaws.py"), "--port", "1", "--out",
                           str(out), "--config", "[1]"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--config" in done.stderr and not out.exists()
