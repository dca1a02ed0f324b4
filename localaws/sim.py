"""The simulator's shared state and the guest life cycle (boot, reboot, Sysprep), over moto's EC2 truth.

Whether an instance runs is moto's answer (asked through boto3 on moto's internal port, signed with the bootstrap
key); whether its agent is online is the simulator's: running in moto, no pending phase shown, the boot or reboot
window over, the agent installed and not lost.
"""
import copy
import threading
import time

import boto3
from botocore.exceptions import ClientError

from . import guest as guestmod
from . import ratelimits
from .commands import CommandStore
from .ec2_front import Ec2Front
from .faults import Faults
from .sigv4 import KeyStore

DEFAULTS = {
    "invocationVisibleSeconds": 0.3,  # GetCommandInvocation answers InvocationDoesNotExist this long
    "runDelaySeconds": 0.2,           # before delivery and before the result is reported
    "rebootSeconds": 1.0,             # agent offline during a 3010 reboot
    "bootSeconds": 0.5,               # agent offline after the pending phase of a launch or start
    "pendingSeconds": 1.0, "stoppingSeconds": 1.0, "shuttingDownSeconds": 1.0, "imagePendingSeconds": 1.0,
    "sysprepSeconds": 0.5,            # from the reported result to Sysprep's shutdown
    "timeScale": 1.0,                 # multiplies TimeoutSeconds and executionTimeout
    "maxReruns": 10,                  # 3010 loops allowed before the simulator gives up
    "rebootOutputAll": 0,             # 1: the output holds every run of a 3010 loop (unverified on AWS), 0: the last
    "callLatencySeconds": 0.0,        # added to every AWS call the front answers (not to /__sim)
    "rateLimitsEnabled": 1,           # 1: token buckets per account and API (ratelimits.py), 0: no limits
    "rateLimits": ratelimits.DEFAULT_LIMITS,  # API or group -> {"burst": n, "refill": r}; POST merges entry by entry
}
FLAGS = ("rateLimitsEnabled",)  # 1 or 0
WHOLE = ("maxReruns",)          # whole numbers


class ConfigError(ValueError):
    pass


def default_config() -> dict:
    return copy.deepcopy(DEFAULTS)


def moto_iam_key(access_key: str):
    """An IAM user's key created straight on moto (not through the front): moto runs in this process, so its
    IAM backend can be asked. Only active long-term keys: a temporary key's session token is not kept there."""
    try:
        from moto.iam.models import iam_backends
        for account in list(iam_backends.values()):
            for backend in list(account.values()):
                key = backend.access_keys.get(access_key)
                if key is not None and key.status == "Active" and not getattr(key, "role_arn", None):
                    return key.secret_access_key, None
    except Exception:  # moto's internals moved: the key stays unknown, which is the safe answer
        return None
    return None


class Sim:
    def __init__(self, moto_endpoint: str, region: str, access_key: str, secret: str, seed: int = 0):
        self.region = region
        self.account_id = "123456789012"
        self.config = default_config()
        self.keys = KeyStore(moto_iam_key)
        self.keys.add(access_key, secret)
        self.key_accounts: dict[str, str] = {}  # access key -> account, where not the default account
        self.guests = guestmod.GuestStore(seed)
        self.commands = CommandStore()
        self.faults = Faults()
        self.limiter = ratelimits.RateLimiter()
        self.ec2 = Ec2Front(self)
        self.stopping = threading.Event()
        creds = dict(endpoint_url=moto_endpoint, region_name=region, aws_access_key_id=access_key,
                     aws_secret_access_key=secret)
        self._ec2 = boto3.client("ec2", **creds)
        self._ssm = boto3.client("ssm", **creds)

    def update_config(self, changes: dict) -> dict:
        """Validates every change first and applies none if one is wrong (ConfigError says what to fix)."""
        if not isinstance(changes, dict):
            raise ConfigError("the settings must be a JSON object, e.g. {\"pendingSeconds\": 2}")
        clean = {}
        for key, value in changes.items():
            if key not in DEFAULTS:
                raise ConfigError(f"unknown setting {key!r}; known: {', '.join(DEFAULTS)}")
            if key == "rateLimits":
                try:
                    clean[key] = ratelimits.merge(self.config["rateLimits"], value)
                except ratelimits.LimitError as exc:
                    raise ConfigError(str(exc)) from None
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{key} must be a non-negative number, got {value!r}")
            if key in FLAGS and value not in (0, 1):
                raise ConfigError(f"{key} must be 1 (on) or 0 (off), got {value!r}")
            if key in WHOLE and value != int(value):
                raise ConfigError(f"{key} must be a whole number, got {value!r}")
            clean[key] = int(value) if key in FLAGS + WHOLE else value
        self.config.update(clean)  # rateLimits is replaced, never changed in place: readers see one table
        return copy.deepcopy(self.config)

    def reset_config(self) -> None:
        self.config.update(default_config())
        self.limiter.reset()

    def account_of(self, access_key: str | None) -> str:
        """The account a call is made in (for its rate-limit buckets): the account of an assumed role's key when
        the AssumeRole answer said so, else moto's default account, where every IAM user of the bootstrap is."""
        return self.key_accounts.get(access_key or "", self.account_id)

    # --- moto's truth -------------------------------------------------------------------------------------------
    def describe(self, instance_ids=None) -> list[dict]:
        kwargs = {"Filters": [{"Name": "instance-id", "Values": list(instance_ids)}]} if instance_ids else {}
        out = []
        for page in self._ec2.get_paginator("describe_instances").paginate(**kwargs):
            for res in page["Reservations"]:
                out.extend(res["Instances"])
        return out

    def read_secure_parameter(self, name: str) -> str:
        try:
            return self._ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        except ClientError as exc:
            raise KeyError(name) from exc

    # --- the agent ----------------------------------------------------------------------------------------------
    def _online(self, inst: dict) -> bool:
        iid = inst["InstanceId"]
        guest = self.guests.ensure(iid, inst.get("ImageId"))
        online = (inst["State"]["Name"] == "running" and self.ec2.phase(iid) is None and guest["agentInstalled"]
                  and not guest.get("agentGone") and time.time() >= guest.get("offlineUntil", 0))
        if online:
            guest["registered"] = True  # the agent has reported in: from now on the instance is listed
        return online

    def is_online(self, instance_id: str) -> bool:
        if not instance_id.startswith("i-"):
            return False
        found = self.describe([instance_id])
        return bool(found) and self._online(found[0])

    def instance_information(self, instance_ids=None) -> list[dict]:
        rows = []
        for inst in self.describe(instance_ids):
            iid = inst["InstanceId"]
            guest = self.guests.ensure(iid, inst.get("ImageId"))
            online = self._online(inst)
            if online:
                guest["lastPing"] = time.time()
            # AWS lists an instance only once its agent has registered, and drops it when it is terminated.
            if inst["State"]["Name"] == "terminated" or not guest["agentInstalled"] or not guest.get("registered"):
                continue
            name = guest["hostName"] + ("." + guest["domain"] if guest.get("domain") else "")
            rows.append({
                "InstanceId": iid, "PingStatus": "Online" if online else "ConnectionLost",
                "LastPingDateTime": guest.get("lastPing", inst["LaunchTime"].timestamp()),
                "AgentVersion": guest["agentVersion"], "IsLatestVersion": False, "PlatformType": "Windows",
                "PlatformName": guest["osName"], "PlatformVersion": guest["osVersion"],
                "ResourceType": "EC2Instance", "IPAddress": inst.get("PrivateIpAddress", ""),
                "ComputerName": name, "AssociationStatus": "Success",
            })
        return rows

    # --- guest life cycle ---------------------------------------------------------------------------------------
    def _apply_boot(self, guest: dict) -> None:
        for key, value in (guest.pop("pendingChanges", None) or {}).items():
            guest[key] = value
        guest["pendingReboot"] = False
        if guest["imageState"] == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE":
            guest["imageState"] = "IMAGE_STATE_COMPLETE"  # OOBE ran on this boot
            guest.setdefault("pantherLog", []).append("Info [oobe] specialize and OOBE passes completed")

    def boot(self, instance_id: str, offline_seconds: float) -> None:
        with self.guests.lock:
            guest = self.guests.ensure(instance_id, None)
            guest["offlineUntil"] = time.time() + offline_seconds
            self._apply_boot(guest)

    def reboot(self, instance_id: str, agent_back: bool = True) -> None:
        with self.guests.lock:
            guest = self.guests.ensure(instance_id, None)
            guest["offlineUntil"] = time.time() + self.config["rebootSeconds"]
            self._apply_boot(guest)
            if not agent_back:
                guest["agentGone"] = True

    def after_sysprep(self, instance_id: str, kind: str) -> None:
        """Sysprep runs detached after the payload reported: generalize, then shut down (stopped in moto)."""
        time.sleep(self.config["sysprepSeconds"])
        if self.stopping.is_set():
            return
        with self.guests.lock:
            guest = self.guests.ensure(instance_id, None)
            rng = self.guests.rng
            guest.update({"machineSid": guestmod.random_sid(rng), "hostName": guestmod.random_win_name(rng),
                          "timeZoneId": "UTC", "domain": None, "pendingReboot": False,
                          "imageState": "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE",
                          "sysprepCount": guest.get("sysprepCount", 0) + 1})
            guest.pop("pendingChanges", None)
            guest.pop("sysprepStarting", None)
            guest.setdefault("pantherLog", []).extend([
                "Info [sysprep.exe] Sysprep generalize pass started", "Info [sysprep.exe] Generalize completed",
                "Info [sysprep.exe] Shutting down the machine" if kind == "sysprep-shutdown" else
                "Info [sysprep.exe] Sysprep quit without shutdown"])
        if kind == "sysprep-shutdown":
            self._ec2.stop_instances(InstanceIds=[instance_id])
            self.ec2.set_phase(instance_id, "stopping", self.config["stoppingSeconds"])
