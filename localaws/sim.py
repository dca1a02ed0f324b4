"""The simulator's shared state and the guest life cycle (boot, reboot, Sysprep), over moto's EC2 truth.

Whether an instance runs is moto's answer: moto runs in this process, so its EC2 backend is read directly (an id
-> instance index, no HTTP call); if moto's internals are not as expected, it is asked through boto3 on moto's
internal port instead, signed with the bootstrap key. Whether its agent is online is the simulator's: running in
moto, no pending phase shown, the boot or reboot window over, the agent installed and not lost.
"""
import copy
import datetime
import logging
import threading
import time

import boto3
from botocore.exceptions import ClientError

from . import guest as guestmod
from . import ratelimits
from .commands import CommandStore
from .ec2_front import Ec2Front
from .faults import Faults
from .pagetokens import PageTokens
from .sigv4 import KeyStore

log = logging.getLogger("localaws")

DEFAULTS = {
    "invocationVisibleSeconds": 0.3,  # GetCommandInvocation answers InvocationDoesNotExist this long
    "runDelaySeconds": 0.6,           # before delivery (Pending) and before the result is reported
    "rebootSeconds": 1.0,             # agent offline during a 3010 reboot
    "bootSeconds": 0.5,               # agent offline after the pending phase of a launch or start
    "pendingSeconds": 1.0, "stoppingSeconds": 1.0, "shuttingDownSeconds": 1.0, "imagePendingSeconds": 1.0,
    "sysprepSeconds": 0.5,            # from the reported result to Sysprep's shutdown
    "timeScale": 1.0,                 # multiplies TimeoutSeconds and executionTimeout
    "maxReruns": 10,                  # 3010 loops allowed before the simulator gives up
    # 1 (default): the output holds every run of a 3010 loop, as the agent appends to its stdout file across the
    # reboot (amazon-ssm-agent iomodule/commandoutput.go: O_APPEND, no cleanUp on exit 3010); 0: only the last run.
    "rebootOutputAll": 1,
    "callLatencySeconds": 0.0,        # added to every AWS call the front answers (not to /__sim)
    "rateLimitsEnabled": 1,           # 1: token buckets per account and API (ratelimits.py), 0: no limits
    "rateLimits": ratelimits.DEFAULT_LIMITS,  # API or group -> {"burst": n, "refill": r}; POST merges entry by entry
    "cancelSeconds": 0.5,             # a running invocation shows Cancelling this long after CancelCommand
    "offlineSendRefused": 0,          # 1: SendCommand refuses an instance whose agent is offline (field reports)
    "authzLog": 1,                    # 1: each logged call carries the authorization requests AWS makes (authz.py)
}
FLAGS = ("rateLimitsEnabled", "offlineSendRefused", "authzLog")  # 1 or 0
WHOLE = ("maxReruns",)          # whole numbers


class ConfigError(ValueError):
    pass


def sysprep_failure_lines(lines: int = 50, width: int = 120) -> list:
    """What the sysprepFails fault writes to Panther's setupact.log: `lines` numbered lines padded to `width`
    characters (every tenth, and the last, an Error, so setuperr.log gets them too), the same for the same arguments."""
    out = []
    for i in range(1, lines + 1):
        kind = "Error" if i % 10 == 0 or i == lines else "Info "
        head = f"2026-12-03 03:{(i // 60) % 60:02d}:{i % 60:02d}, {kind} [sysprep.exe] SYSPRP line {i} of {lines}: "
        if i == lines:
            head += "Sysprep_Generalize failed (0x80070005) "
        out.append((head + "x" * width)[:max(width, len(head))])
    return out


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
        self.page_tokens = PageTokens()
        self.stopping = threading.Event()
        self._index_lock = threading.Lock()
        self._index_backend = None
        self._index: dict = {}      # instance id -> moto's Instance object
        self._in_process = True     # False once moto's internals turned out not to be as expected
        creds = dict(endpoint_url=moto_endpoint, region_name=region, aws_access_key_id=access_key,
                     aws_secret_access_key=secret)
        self._ec2 = boto3.client("ec2", **creds)
        self._ssm = boto3.client("ssm", **creds)
        self._s3 = boto3.client("s3", **creds)
        self._logs = boto3.client("logs", **creds)
        self._iam = boto3.client("iam", **creds)  # iamsim.py reads identity policies (the bootstrap key may)
        self.notes: list = []  # what went wrong on the simulated agent's side (a failed S3 upload), for tests

    def log_note(self, text: str) -> None:
        self.notes.append(text)

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

    def shutdown(self) -> None:
        """Stops the workers: every waiting invocation wakes up and ends without touching moto."""
        self.stopping.set()
        self.commands.wake_all()

    # --- moto's truth -------------------------------------------------------------------------------------------
    def describe(self, instance_ids=None) -> list[dict]:
        kwargs = {"Filters": [{"Name": "instance-id", "Values": list(instance_ids)}]} if instance_ids else {}
        out = []
        for page in self._ec2.get_paginator("describe_instances").paginate(**kwargs):
            for res in page["Reservations"]:
                out.extend(res["Instances"])
        return out

    def read_secure_parameter(self, name: str) -> str:
        """What Read-CloneSecureString gets: the value of a SecureString; a String or StringList is refused by the
        script (NotSecureString), as a missing or forbidden one is (KeyError)."""
        from .payloads import NotSecureString
        try:
            parameter = self._ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except ClientError as exc:
            raise KeyError(name) from exc
        if parameter.get("Type") != "SecureString":
            raise NotSecureString(parameter.get("Type", "String"))
        return parameter["Value"]

    # --- moto's truth, read in process ---------------------------------------------------------------------------
    def _moto_backend(self):
        from moto.ec2.models import ec2_backends
        return ec2_backends[self.account_id][self.region]

    def _moto_instance(self, instance_id: str):
        """moto's Instance object (it changes in place when moto changes state), or None when moto has none."""
        backend = self._moto_backend()
        index = self._index if backend is self._index_backend else None
        inst = index.get(instance_id) if index is not None else None
        if inst is None:
            with self._index_lock:  # a launch since the index was built, or a new backend: build it again
                if self._index_backend is not backend or instance_id not in self._index:
                    self._index = {i.id: i for r in list(backend.reservations.values()) for i in list(r.instances)}
                    self._index_backend = backend
                inst = self._index.get(instance_id)
        return inst

    @staticmethod
    def _row(inst) -> dict:
        """The part of a DescribeInstances item the simulator reads, from moto's Instance object."""
        launched = inst.launch_time
        if isinstance(launched, datetime.datetime) and launched.tzinfo is None:
            launched = launched.replace(tzinfo=datetime.timezone.utc)
        return {"InstanceId": inst.id, "ImageId": inst.image_id, "State": {"Name": inst._state.name},
                "LaunchTime": launched, "PrivateIpAddress": inst.private_ip or ""}

    def _rows(self, instance_ids=None) -> list[dict]:
        """Like describe(), read in process when possible (no HTTP call, no XML), in moto's order."""
        if self._in_process:
            try:
                backend = self._moto_backend()
                wanted = set(instance_ids) if instance_ids else None
                return [self._row(i) for r in list(backend.reservations.values()) for i in list(r.instances)
                        if wanted is None or i.id in wanted]
            except Exception as exc:  # moto's internals moved: use its API from now on
                self._in_process = False
                log.warning("localaws: reading moto's EC2 backend failed (%r); asking moto through boto3", exc)
        return self.describe(instance_ids)

    def _instance_rows(self, instance_ids: list) -> dict:
        """instance id -> row for the ids moto knows; one lookup for all of them."""
        ids = [i for i in instance_ids if isinstance(i, str) and i.startswith("i-")]
        if not ids:
            return {}
        if self._in_process:
            try:
                found = {}
                for iid in ids:
                    inst = self._moto_instance(iid)
                    if inst is not None:
                        found[iid] = self._row(inst)
                return found
            except Exception as exc:
                self._in_process = False
                log.warning("localaws: reading moto's EC2 backend failed (%r); asking moto through boto3", exc)
        return {inst["InstanceId"]: inst for inst in self.describe(sorted(set(ids)))}

    # --- the agent ----------------------------------------------------------------------------------------------
    def _agent(self, inst: dict) -> tuple[bool, float | None]:
        """(online, when to look again): the second is the end of the boot/reboot window or of the shown phase
        when that is all that keeps the agent offline, None when nothing known will bring it back by itself."""
        iid = inst["InstanceId"]
        guest = self.guests.guests.get(iid) or self.guests.ensure(iid, inst.get("ImageId"))  # lock only to create
        if inst["State"]["Name"] != "running" or not guest["agentInstalled"] or guest.get("agentGone"):
            return False, None
        now = time.time()
        back = max(guest.get("offlineUntil", 0), self.ec2.phase_until(iid) or 0)
        if now < back:
            return False, back
        guest["registered"] = True  # the agent has reported in: from now on the instance is listed
        return True, None

    def _online(self, inst: dict) -> bool:
        return self._agent(inst)[0]

    def agent_status(self, instance_id: str) -> tuple[bool, float | None]:
        found = self._instance_rows([instance_id]).get(instance_id)
        return self._agent(found) if found else (False, None)

    def is_online(self, instance_id: str) -> bool:
        return self.agent_status(instance_id)[0]

    def offline_ids(self, instance_ids: list) -> list:
        """The ids whose agent is not online now (unknown, stopped, agent-less, booting), in the order given."""
        rows = self._instance_rows(instance_ids)
        return [i for i in instance_ids if i not in rows or not self._online(rows[i])]

    def invalid_targets(self, instance_ids: list) -> list:
        """The ids SendCommand refuses with InvalidInstanceId, in the order given: not a managed node (unknown to
        EC2, or its agent never registered) or in a state the API reference calls invalid (shutting-down,
        terminated). Running, pending, stopped and stopping instances are valid targets; their invocations wait
        (Pending, Delayed) for the agent. With offlineSendRefused, an offline agent is refused too."""
        rows = self._instance_rows(instance_ids)
        bad = []
        for iid in instance_ids:
            row = rows.get(iid)
            shown = self.ec2.phase(iid) or (row["State"]["Name"] if row else None)
            if row is None or shown in ("shutting-down", "terminated"):
                bad.append(iid)
                continue
            online = self._online(row)
            guest = self.guests.guests.get(iid) or {}
            if not guest.get("registered") or (self.config["offlineSendRefused"] and not online):
                bad.append(iid)
        return bad

    def bucket_exists(self, name: str) -> bool:
        """Whether moto's S3 has the bucket (read in process; through boto3 if moto's internals moved)."""
        try:
            from moto.s3.models import s3_backends
            return name in s3_backends[self.account_id]["global"].buckets
        except Exception:
            try:
                self._s3.head_bucket(Bucket=name)
                return True
            except ClientError:
                return False

    def instance_tags_match(self, instance_id: str, tags: dict) -> bool:
        """DescribeInstanceInformation's tag filters (tag-key, tag:NAME) against the instance's EC2 tags."""
        try:
            have = dict(self._moto_backend().tags.get(instance_id, {}))
        except Exception:
            found = self.describe([instance_id])
            have = {t["Key"]: t["Value"] for t in (found[0].get("Tags", []) if found else [])}
        for key, values in tags.items():
            if key == "tag-key":
                if not any(v in have for v in values):
                    return False
            elif have.get(key[4:]) not in values:
                return False
        return True

    def instance_information(self, instance_ids=None) -> list[dict]:
        rows = []
        for inst in self._rows(instance_ids):
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
        named = guest["hostName"]
        for key, value in (guest.pop("pendingChanges", None) or {}).items():
            guest[key] = value
        # EC2Launch v2's setHostName task compares the name at every boot and sets its own back (review D8).
        from .guestops import ec2launch_tasks
        if guest.get("ec2Launch", {}).get("flavour") == "v2" and "setHostName" in ec2launch_tasks(guest):
            guest["hostName"] = guest.get("ec2LaunchHostName") or named
        guest["pendingReboot"] = False
        if guest["imageState"] == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE":
            guest["imageState"] = "IMAGE_STATE_COMPLETE"  # OOBE ran on this boot
            # The specialize pass gives each machine its own SID: every clone of one master differs.
            guest["machineSid"] = guestmod.random_sid(self.guests.rng)
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
        if kind == "sysprep-fails":
            # Started while EC2Launch v2 or servicing was busy (payload 1.0.0, review D11): Sysprep fails, logs why
            # and the instance keeps running; the controller waits for a stop that never comes.
            with self.guests.lock:
                guest = self.guests.ensure(instance_id, None)
                guest.pop("sysprepStarting", None)
                if guest.get("sysprepFails"):
                    guest.setdefault("pantherLog", []).extend(sysprep_failure_lines(**guest["sysprepFails"]))
                else:
                    guest.setdefault("pantherLog", []).append(
                        "Error [sysprep.exe] SYSPRP Sysprep_Generalize: another operation is in progress (EC2Launch "
                        "stages or servicing); generalize failed")
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
