"""Starts the local AWS: moto on an internal port, the front server on the public one, and the bootstrap.

    with LocalAws(port) as aws:      # or aws = LocalAws(port).start(); ... aws.stop()
        aws.info                      # the JSON scripts/localaws.py writes

Bootstrap (moto checks SigV4 from the first call, INITIAL_NO_AUTH_ACTION_COUNT=0): signature checking is turned
off just long enough to create the IAM user clonectl with an access key and the role clonectl-controller, then
seeds a Windows source instance APP01 in its own VPC and a SecureString. Everything talks to moto directly, so
the call log starts empty; the simulator learns the key and the source's guest model here.
"""
import json
import logging
import os
import socket
import threading
import urllib.request

os.environ.setdefault("INITIAL_NO_AUTH_ACTION_COUNT", "0")
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from . import guest as guestmod  # noqa: E402
from .front import FrontApp  # noqa: E402
from .sim import Sim  # noqa: E402
from .ec2_front import install_snapshot_tag_specifications  # noqa: E402

from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402

# AWS takes AssumeRoleWithWebIdentity and AssumeRoleWithSAML unsigned (the token or assertion is the proof); moto's
# request authentication, once enabled, demands an Authorization header on them too and fails with a KeyError.
# Skip it for exactly those unsigned calls, as AWS does; every other call is still authenticated.
_UNSIGNED_STS = ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")
_moto_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate_unless_unsigned_sts(self, iam_request_cls, resource="*"):
    if "Authorization" not in self.headers and self._get_action() in _UNSIGNED_STS:
        return None
    return _moto_authenticate(self, iam_request_cls, resource)


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_unless_unsigned_sts
install_snapshot_tag_specifications()  # CreateImage's `snapshot` TagSpecification, which moto does not take

REGION = "us-east-1"
HOST = "127.0.0.1"
logging.getLogger("werkzeug").setLevel(logging.ERROR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def set_auth(endpoint: str, enabled: bool) -> None:
    # A form content type would make Flask swallow the body; moto reads the raw data.
    req = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0" if enabled else b"inf",
                                 method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def reset_moto(endpoint: str) -> None:
    # moto's backends are global to the process: a second LocalAws in the same process (the next test module)
    # would find the previous one's world. Start from an empty one; only one LocalAws may run per process.
    req = urllib.request.Request(endpoint + "/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def instance_policy(account: str = "123456789012") -> str:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "controller", "iam", "instance-policy.json")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for name, value in (("region", REGION), ("account", account), ("kms-key-arn", f"arn:aws:kms:{REGION}:{account}:key/*"),
                        ("output-bucket", "clonectl-*"), ("output-prefix", "*"), ("log-group", "*")):
        text = text.replace(f"<{name}>", value)
    return text


def bootstrap(endpoint: str) -> dict:
    reset_moto(endpoint)
    set_auth(endpoint, False)
    boot = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="bootstrap",
                aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **boot)
    everything = json.dumps({"Version": "2012-10-17",
                             "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    user_arn = iam.create_user(UserName="clonectl")["User"]["Arn"]
    iam.put_user_policy(UserName="clonectl", PolicyName="all", PolicyDocument=everything)  # moto evaluates IAM
    key = iam.create_access_key(UserName="clonectl")["AccessKey"]
    role = iam.create_role(RoleName="clonectl-controller", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        # moto matches the principal literally (an account root ARN would not cover the user).
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}],
    }))["Role"]
    iam.put_role_policy(RoleName="clonectl-controller", PolicyName="all", PolicyDocument=everything)
    # The instance profile a plan names for the work copy and clones (SSM agent + /clonectl/* SecureStrings).
    iam.create_role(RoleName="clonectl-instance", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))
    # The shipped instance policy (controller/iam/instance-policy.json), its placeholders filled for this world: any
    # KMS key of the account, any clonectl-* output bucket and prefix, any log group (tests choose their own).
    iam.put_role_policy(RoleName="clonectl-instance", PolicyName="clonectl-instance", PolicyDocument=instance_policy())
    iam.create_instance_profile(InstanceProfileName="clonectl-instance")
    iam.add_role_to_instance_profile(InstanceProfileName="clonectl-instance", RoleName="clonectl-instance")
    # A second identity that may only look (doctor's permission check finds what it lacks).
    iam.create_user(UserName="clonectl-readonly")
    iam.put_user_policy(UserName="clonectl-readonly", PolicyName="look", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*",
                       "Action": ["ec2:Describe*", "ssm:Describe*", "ssm:List*", "sts:GetCallerIdentity"]}],
    }))
    readonly = iam.create_access_key(UserName="clonectl-readonly")["AccessKey"]
    set_auth(endpoint, True)

    creds = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key["AccessKeyId"],
                 aws_secret_access_key=key["SecretAccessKey"])
    ec2 = boto3.client("ec2", **creds)
    ssm = boto3.client("ssm", **creds)
    images = ec2.describe_images(Filters=[{"Name": "platform", "Values": ["windows"]}])["Images"]
    image_id = images[0]["ImageId"] if images else ec2.describe_images()["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="clonectl-work", Description="clonectl work copy and clones",
                                      VpcId=vpc)["GroupId"]
    source = ec2.run_instances(
        ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="m5.large", SubnetId=subnet,
        # clonectl:source=allowed: the operator's opt-in that the controller policy requires before it may act on a
        # source (controller/README.md, Security); the controller can never write it itself.
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "APP01"},
                                                                 {"Key": "clonectl:source", "Value": "allowed"}]}],
    )["Instances"][0]["InstanceId"]
    ssm.put_parameter(Name="/clonectl/demo/work-user-password", Type="SecureString",
                      Value="Demo-Only-" + key["SecretAccessKey"][:12])
    # domain-join's credential: 'DOMAIN\user', a newline, the password (agent-docs/domain-join.md).
    ssm.put_parameter(Name="/clonectl/demo/domain-join", Type="SecureString",
                      Value="CORP\\clonectl-join\nDemo-Only-" + key["SecretAccessKey"][:12])
    return {
        "region": REGION, "accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"],
        "sourceInstanceId": source, "sourceImageId": image_id, "vpcId": vpc, "subnetId": subnet,
        "secureParameter": "/clonectl/demo/work-user-password", "roleArn": role["Arn"],
        "domainCredentialParameter": "/clonectl/demo/domain-join",
        "securityGroupId": group, "instanceProfile": "clonectl-instance",
        "readOnlyAccessKeyId": readonly["AccessKeyId"], "readOnlySecretAccessKey": readonly["SecretAccessKey"],
    }


class LocalAws:
    def __init__(self, port: int = 0, config: dict | None = None, moto_port: int = 0, seed: int = 0):
        self.port = port or free_port()
        self.moto_port = moto_port or free_port()
        self.config, self.seed = config or {}, seed
        self.moto = self.front = self.sim = None
        self.info: dict = {}

    def start(self) -> "LocalAws":
        self.moto = ThreadedMotoServer(ip_address=HOST, port=self.moto_port, verbose=False)
        self.moto.start()
        try:
            moto_endpoint = f"http://{HOST}:{self.moto_port}"
            info = bootstrap(moto_endpoint)
            self.sim = Sim(moto_endpoint, REGION, info["accessKeyId"], info["secretAccessKey"], self.seed)
            self.sim.update_config(self.config)
            with self.sim.guests.lock:
                self.sim.guests.guests[info["sourceInstanceId"]] = guestmod.source_guest(self.sim.guests.rng)
            self.front = make_server(HOST, self.port, FrontApp(self.sim, HOST, self.moto_port), threaded=True)
            threading.Thread(target=self.front.serve_forever, daemon=True, name="localaws-front").start()
        except BaseException:
            self.stop()
            raise
        endpoint = f"http://{HOST}:{self.port}"
        self.info = {"endpoint": endpoint, **info, "motoEndpoint": moto_endpoint,
                     "controlEndpoint": endpoint + "/__sim"}
        return self

    def stop(self) -> None:
        if self.sim is not None:
            self.sim.shutdown()
        if self.front is not None:
            self.front.shutdown()
            self.front.server_close()
            self.front = None
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
