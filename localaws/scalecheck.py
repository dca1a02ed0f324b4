"""Measures the simulator at fleet scale: many running instances, many commands in flight at once.

    .venv/bin/python -m localaws.scalecheck [--instances 5000] [--commands 100] [--per-command 50]
                                            [--keep-limits] [--config JSON]

Starts scripts/localaws.py as its own process (so its CPU time is the simulator's alone, read from /proc),
launches the instances through the front in chunks of 500, waits for their agents, sends the commands at once
(one client thread per 5 commands; each command a time-zone loader with its own nonce, for its own 50 ids),
and polls ListCommands until every command is terminal. Prints the timings, the simulator's CPU seconds per
phase and its thread count, plus DescribeInstances through the front and straight to moto. The rate limits
are switched off unless --keep-limits (they would measure the limits, not the simulator).
"""
import argparse
import base64
import gzip
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time

import boto3
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
RETRY = Config(retries={"total_max_attempts": 10, "mode": "standard"}, max_pool_connections=50)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def threads_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(next(line for line in fh if line.startswith("Threads:")).split()[1])


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return int(next(line for line in fh if line.startswith("VmRSS:")).split()[1]) / 1024


def loader_text(nonce: str) -> str:
    """A time-zone loader carrying the real CloneAgent module and payload when ps-scripts/ lists them."""
    module, script = b"# CloneAgent stand-in\r\n", b"# time-zone stand-in\r\nexit 0\r\n"
    try:
        with open(os.path.join(ROOT, "ps-scripts", "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
        entry = next(p for p in manifest["payloads"] if p["name"] == "time-zone")
        mod = next(m for m in manifest["modules"] if m["version"] == entry["module"])
        with open(os.path.join(ROOT, "ps-scripts", mod["path"]), "rb") as m, \
                open(os.path.join(ROOT, "ps-scripts", entry["path"]), "rb") as s:
            module, script = m.read(), s.read()
    except (OSError, StopIteration, KeyError, ValueError):
        pass
    b64gz = lambda data: base64.b64encode(gzip.compress(data, mtime=0)).decode()  # noqa: E731
    params = base64.b64encode(json.dumps({"TimeZoneId": "Tokyo Standard Time"}).encode()).decode()
    return (f"# clonectl loader v1: time-zone@1.0.0\r\n$c = @{{\r\n  Payload = 'time-zone'; Version = '1.0.0'; "
            f"Nonce = '{nonce}'\r\n  ModuleSha256 = '{hashlib.sha256(module).hexdigest()}'; "
            f"PayloadSha256 = '{hashlib.sha256(script).hexdigest()}'\r\n  Module = '{b64gz(module)}'\r\n"
            f"  Script = '{b64gz(script)}'\r\n  Params = '{params}'\r\n}}\r\n")


def control(info, method, path, body=None):
    import urllib.request
    req = urllib.request.Request(info["controlEndpoint"] + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=5000)
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--per-command", type=int, default=50)
    parser.add_argument("--keep-limits", action="store_true")
    parser.add_argument("--config", default="{}", help="extra simulator settings as JSON")
    parser.add_argument("--root", default=ROOT, help="the tree whose scripts/localaws.py to run")
    args = parser.parse_args()

    out = os.path.join(tempfile.mkdtemp(), "localaws.json")
    config = json.loads(args.config)
    proc = subprocess.Popen([sys.executable, os.path.join(args.root, "scripts", "localaws.py"), "--port", "0",
                             "--out", out] + (["--config", json.dumps(config)] if config else []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not os.path.exists(out):
            if proc.poll() is not None:
                print(proc.stderr.read().decode(), file=sys.stderr)
                return 1
            time.sleep(0.1)
        info = json.load(open(out))
        return measure(args, info, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def measure(args, info, pid) -> int:
    creds = dict(endpoint_url=info["endpoint"], region_name=info["region"], aws_access_key_id=info["accessKeyId"],
                 aws_secret_access_key=info["secretAccessKey"], config=RETRY)
    ec2, ssm = boto3.client("ec2", **creds), boto3.client("ssm", **creds)
    settings = control(info, "GET", "/config")
    if not args.keep_limits and "rateLimitsEnabled" in settings:
        control(info, "POST", "/config", {"rateLimitsEnabled": 0})
    report = {"instances": args.instances, "commands": args.commands, "perCommand": args.per_command}

    # The bootstrap's /24 holds 251 addresses: the fleet gets a /18 of its own.
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.0.0/18")["Subnet"]["SubnetId"]
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    ids = []
    while len(ids) < args.instances:
        n = min(500, args.instances - len(ids))
        res = ec2.run_instances(ImageId=info["sourceImageId"], MinCount=n, MaxCount=n, InstanceType="m5.large",
                                SubnetId=subnet)
        ids += [i["InstanceId"] for i in res["Instances"]]
    report["launchSeconds"] = round(time.monotonic() - t0, 2)
    report["launchCpu"] = round(cpu_seconds(pid) - cpu0, 2)
    time.sleep(settings.get("pendingSeconds", 1) + settings.get("bootSeconds", 0.5) + 0.5)

    t = time.monotonic()
    ec2.describe_instances(InstanceIds=ids[:50])
    report["describe50ViaFront"] = round(time.monotonic() - t, 3)
    t = time.monotonic()
    pages = sum(1 for _ in ec2.get_paginator("describe_instances").paginate())
    report["describeAllViaFront"] = round(time.monotonic() - t, 2)
    moto = boto3.client("ec2", **dict(creds, endpoint_url=info["motoEndpoint"]))
    t = time.monotonic()
    sum(1 for _ in moto.get_paginator("describe_instances").paginate())
    report["describeAllMotoDirect"] = round(time.monotonic() - t, 2)
    report["describePages"] = pages

    batches = [ids[i:i + args.per_command] for i in range(0, len(ids), args.per_command)][:args.commands]
    texts = [loader_text(secrets.token_hex(16)) for _ in batches]
    command_ids, errors = [], []
    lock = threading.Lock()

    def sender(chunk):
        client = boto3.client("ssm", **creds)
        for batch, text in chunk:
            try:
                cid = client.send_command(InstanceIds=batch, DocumentName="AWS-RunPowerShellScript",
                                          Parameters={"commands": [text]})["Command"]["CommandId"]
                with lock:
                    command_ids.append(cid)
            except Exception as exc:  # reported, not fatal: the figures say how many went out
                with lock:
                    errors.append(repr(exc))
    work = list(zip(batches, texts))
    chunks = [work[i:i + 5] for i in range(0, len(work), 5)]
    senders = [threading.Thread(target=sender, args=(c,)) for c in chunks]
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    for s in senders:
        s.start()
    peak_threads = 0
    for s in senders:
        s.join()
    report["sendSeconds"] = round(time.monotonic() - t1, 2)
    report["sendErrors"] = errors[:3]
    report["commandsSent"] = len(command_ids)

    statuses = {}
    polls = 0
    while True:
        peak_threads = max(peak_threads, threads_of(pid))
        statuses = {}
        for page in ssm.get_paginator("list_commands").paginate():
            for c in page["Commands"]:
                statuses[c["CommandId"]] = c["Status"]
        polls += 1
        if all(statuses.get(c) in TERMINAL for c in command_ids):
            break
        if time.monotonic() - t1 > 1800:
            report["gaveUp"] = True
            break
        time.sleep(0.5)
    report["allTerminalSeconds"] = round(time.monotonic() - t1, 2)
    report["runCpu"] = round(cpu_seconds(pid) - cpu1, 2)
    report["peakThreads"] = peak_threads
    report["rssMb"] = round(rss_mb(pid), 1)
    report["statusCounts"] = {s: list(statuses.values()).count(s) for s in set(statuses.values())}
    t = time.monotonic()
    rows = ssm.list_command_invocations(CommandId=command_ids[-1])["CommandInvocations"]
    report["listInvocationsSeconds"] = round(time.monotonic() - t, 3)
    report["invocationStatuses"] = sorted({r["Status"] for r in rows})
    report["listCommandsPolls"] = polls
    calls = control(info, "GET", "/calls?log=0")
    report["calls"] = calls.get("counts")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
