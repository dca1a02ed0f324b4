"""The Windows guest each simulated instance plays, and the snapshots that make guest state follow images.

A guest is plain data (a dict of JSON-able values) so it can be copied into an image, shown on /__sim/guests and
patched by tests. Payload models (payloads.py) read and change it; the Run Command worker (commands.py) decides
when it is online. Keys:
  hostName, timeZoneId, domain (None = workgroup), firewall {Domain, Private, Public: bool},
  users {name: {enabled, inAdministrators}}, tasks [{path, name, state}], services [{name, startType, status}],
  journal (the journal.json document or None), machineSid, imageState, ec2Launch {flavour, version},
  sysprepBlockers [str], pendingReboot, agentInstalled, agentVersion, osName, osVersion, log [str],
  sysprepCount, pantherLog [str]
Optional keys (absent = the usual healthy state) that the 1.1.0 models and the guest faults use:
  ec2LaunchTasks [str] (EC2Launch v2 agent-config.yml task lines; default AWS's, with startSsm), ec2LaunchStatus
  ('ok' | 'running' | 'failed'), ec2LaunchHostName, servicingBusy, appx {provisioned, installed: [{name, fullName}]},
  bitlocker, rearmCount, domainRole, lifecycle ('spot'), serviceStartFailures {name: reason}, services[].dependents,
  dataRoot {owner SID, protected, untrustedItem {path, owner}}, domainComputerAccounts [str], languageMode,
  awsToolsVersion
"""
import copy
import random
import string
import threading

DEFAULT_AGENT_VERSION = "3.3.1142.0"
# Keys that describe the running instance rather than its disk: not carried into images.
PER_INSTANCE = ("registered", "lastPing", "offlineUntil", "agentGone", "sysprepStarting")


def random_sid(rng: random.Random) -> str:
    return "S-1-5-21-%d-%d-%d" % (rng.randrange(10**9, 4 * 10**9), rng.randrange(10**9, 4 * 10**9),
                                  rng.randrange(10**9, 4 * 10**9))


def random_win_name(rng: random.Random) -> str:
    # What Windows picks after Sysprep when the answer file leaves the name to it: WIN- and 11 characters
    # would exceed NetBIOS' 15, so Windows uses 11 in total: "WIN-" + 7.
    return "WIN-" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(7))


def fresh_guest(rng: random.Random) -> dict:
    """A Windows Server 2022 instance as AWS's own AMI boots it: EC2Launch v2, UTC, firewall on, no app jobs."""
    return {
        "hostName": random_win_name(rng), "timeZoneId": "UTC", "domain": None,
        "firewall": {"Domain": True, "Private": True, "Public": True},
        "users": {"Administrator": {"enabled": True, "inAdministrators": True}},
        "tasks": [], "services": [{"name": "AmazonSSMAgent", "startType": "Automatic", "status": "Running"}],
        "journal": None, "machineSid": random_sid(rng), "imageState": "IMAGE_STATE_COMPLETE",
        "ec2Launch": {"flavour": "v2", "version": "2.0.1981"}, "sysprepBlockers": [], "pendingReboot": False,
        "agentInstalled": True, "agentVersion": DEFAULT_AGENT_VERSION,
        "osName": "Microsoft Windows Server 2022 Datacenter", "osVersion": "10.0.20348",
        "log": [], "sysprepCount": 0, "pantherLog": [],
    }


def source_guest(rng: random.Random) -> dict:
    """The bootstrap's lifted production server APP01: Tokyo time, app jobs running, Server 2019 with EC2Launch v1."""
    guest = fresh_guest(rng)
    guest.update({
        "hostName": "APP01", "timeZoneId": "Tokyo Standard Time",
        "tasks": [{"path": "\\App\\", "name": "Nightly", "state": "Ready"},
                  {"path": "\\App\\", "name": "Hourly", "state": "Ready"},
                  {"path": "\\Microsoft\\Windows\\Defrag\\", "name": "ScheduledDefrag", "state": "Ready"}],
        "services": [{"name": "AmazonSSMAgent", "startType": "Automatic", "status": "Running"},
                     {"name": "AppSvc", "startType": "Automatic", "status": "Running"},
                     {"name": "AppWorker", "startType": "Manual", "status": "Stopped"}],
        "ec2Launch": {"flavour": "v1", "version": "1.3.2004080"},
        "osName": "Microsoft Windows Server 2019 Datacenter", "osVersion": "10.0.17763",
        "users": {"Administrator": {"enabled": True, "inAdministrators": True},
                  "appadmin": {"enabled": True, "inAdministrators": True}},
    })
    return guest


class GuestStore:
    """Guests by instance id and snapshots by image id, behind one lock (the worker and the front share them)."""

    def __init__(self, seed: int = 0):
        self.lock = threading.RLock()
        self.rng = random.Random(seed or None)
        self.guests: dict[str, dict] = {}
        self.images: dict[str, dict] = {}

    def get(self, instance_id: str) -> dict | None:
        with self.lock:
            return self.guests.get(instance_id)

    def ensure(self, instance_id: str, image_id: str | None) -> dict:
        """The guest of instance_id, created from its image's snapshot (or a fresh Windows) on first sight."""
        with self.lock:
            guest = self.guests.get(instance_id)
            if guest is None:
                guest = self.from_image(image_id)
                self.guests[instance_id] = guest
            return guest

    def from_image(self, image_id: str | None) -> dict:
        with self.lock:
            snap = self.images.get(image_id or "")
            if snap is None:
                return fresh_guest(self.rng)
            # An image keeps the disk: same SID, name, journal; what runs at boot is decided by its ImageState.
            # What belongs to the instance, not the disk, starts afresh (a new instance registers anew).
            guest = copy.deepcopy(snap)
            for key in PER_INSTANCE:
                guest.pop(key, None)
            return guest

    def snapshot(self, instance_id: str, image_id: str) -> None:
        with self.lock:
            guest = self.guests.get(instance_id)
            if guest is not None:
                self.images[image_id] = copy.deepcopy(guest)

    def patch(self, instance_id: str, changes: dict) -> dict:
        """Test hook: overlay top-level keys (e.g. agentInstalled false, sysprepBlockers [...])."""
        with self.lock:
            guest = self.guests.get(instance_id)
            if guest is None:
                guest = self.guests[instance_id] = fresh_guest(self.rng)
            for key, value in changes.items():
                guest[key] = copy.deepcopy(value)
            return guest
