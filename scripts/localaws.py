#!/usr/bin/env python3
"""The bundled local AWS: moto_server on 127.0.0.1 with SigV4 checking ON, bootstrapped for clonectl.

    python scripts/localaws.py --port 5000 --out /tmp/localaws.json

Starts moto (EC2, STS, IAM, SSM Parameter Store) in this process, turns signature checking off just long enough
to create an IAM user with an access key (moto only accepts keys of users it knows), turns it back on, seeds what
the demo and tests need, then writes --out (JSON: endpoint, region, accessKeyId, secretAccessKey, seeded ids)
atomically and serves until SIGTERM/SIGINT. The file is written only when everything is ready, so callers wait
for the file, not the port.

Later issues put the project's Run Command simulator in front of this; until then SSM Run Command calls are
whatever moto answers.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.request

# Signature checking from the first call on: moto reads this when it is imported.
os.environ.setdefault("INITIAL_NO_AUTH_ACTION_COUNT", "0")
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

REGION = "us-east-1"


def set_auth(endpoint: str, enabled: bool) -> None:
    body = b"0" if enabled else b"inf"
    # A form content type would make Flask swallow the body; moto reads the raw data.
    req = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=body, method="POST",
                                 headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def bootstrap(endpoint: str) -> dict:
    set_auth(endpoint, False)
    boot = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="bootstrap",
                aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **boot)
    user_arn = iam.create_user(UserName="clonectl")["User"]["Arn"]
    # A broad inline policy: moto evaluates IAM policies when auth is on.
    iam.put_user_policy(UserName="clonectl", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }))
    key = iam.create_access_key(UserName="clonectl")["AccessKey"]
    # A role the controller may assume (role_arn + source_profile setups), with the same broad policy.
    role = iam.create_role(RoleName="clonectl-controller", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        # moto matches the principal literally (an account root ARN would not cover the user).
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}],
    }))["Role"]
    iam.put_role_policy(RoleName="clonectl-controller", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }))
    set_auth(endpoint, True)

    creds = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key["AccessKeyId"],
                 aws_secret_access_key=key["SecretAccessKey"])
    ec2 = boto3.client("ec2", **creds)
    ssm = boto3.client("ssm", **creds)
    # A Windows source server, as an operator would have after a lift-and-shift.
    images = ec2.describe_images(Filters=[{"Name": "platform", "Values": ["windows"]}])["Images"]
    image_id = images[0]["ImageId"] if images else ec2.describe_images()["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    source = ec2.run_instances(
        ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="m5.large", SubnetId=subnet,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "APP01"}]}],
    )["Instances"][0]["InstanceId"]
    ssm.put_parameter(Name="/clonectl/demo/work-user-password", Type="SecureString",
                      Value="Demo-Only-" + key["SecretAccessKey"][:12])
    return {
        "endpoint": endpoint, "region": REGION,
        "accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"],
        "sourceInstanceId": source, "sourceImageId": image_id, "vpcId": vpc, "subnetId": subnet,
        "secureParameter": "/clonectl/demo/work-user-password",
        "roleArn": role["Arn"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True, help="where to write the JSON description once ready")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started this one goes away (tests use it)")
    args = parser.parse_args()
    parent = os.getppid()
    # A parent may start us with SIGTERM blocked (Foundation's Process does): unblock it, or stopping hangs.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{args.port}"
    try:
        info = bootstrap(endpoint)
    except Exception as exc:  # report, stop, and let the caller see why
        print(f"localaws: bootstrap failed: {exc!r}", file=sys.stderr)
        server.stop()
        return 1
    tmp = args.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(info, fh)
    os.chmod(tmp, 0o600)
    os.replace(tmp, args.out)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
        if args.exit_with_parent and os.getppid() != parent:
            break
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
