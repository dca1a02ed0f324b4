"""What the front adds to moto's EC2: RunInstances ClientToken idempotency, state phases, guest hooks.

moto flips states at once; AWS passes through pending / stopping / shutting-down (instances) and pending (images).
The front remembers when a transition started and, while its phase lasts, rewrites the state in DescribeInstances
and DescribeImages answers (and drops items a state filter would not have matched). CreateImage snapshots the
instance's guest under the new image id, and tags the new image's snapshots with its `snapshot` TagSpecification as
EC2 does (moto 5.2.1 raises NotImplementedError on one: `install_snapshot_tag_specifications`); RunInstances gives
each new instance a copy of its image's guest.
"""
import hashlib
import re
import threading
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as xml_escape

from . import ec2_validate

NS = "http://ec2.amazonaws.com/doc/2016-11-15"
ET.register_namespace("", NS)
Q = "{%s}" % NS
CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
# Read calls whose DryRun moto ignores (it honours it on the others clonectl asks about).
DRY_RUN_IGNORED = {"DescribeSnapshots"}
_IDS = re.compile(r"<instanceId>(i-[0-9a-f]+)</instanceId>")


def install_snapshot_tag_specifications() -> None:
    """Teach moto's CreateImage the `snapshot` TagSpecification. EC2 (API reference, CreateImage TagSpecification.N):
    ResourceType `image` tags the AMI, `snapshot` tags every snapshot the call creates (the same tags on each), both at
    creation, atomically with the call; any other type fails the request. moto tags the image and raises
    NotImplementedError for `snapshot`. Patched in moto's backend (moto runs in this process, server.py) rather than
    in the request, whose SigV4 signature moto checks: the spec is taken off, moto makes the image, and the tags go on
    the image's snapshots before the answer leaves, so DescribeSnapshots and DescribeTags show them at once and IAM's
    ec2:ResourceTag on the snapshot (DeleteSnapshot) sees them. The authorization requests of the call (authz.py)
    carry the snapshot resource with these request tags, as AWS asks them."""
    from moto.ec2.models.amis import AmiBackend
    if getattr(AmiBackend.create_image, "_clonectl_snapshot_tags", False):
        return
    moto_create_image = AmiBackend.create_image

    def create_image(self, instance_id, name, description, tag_specifications):
        snapshot_tags: dict[str, str] = {}
        kept = []
        for spec in tag_specifications or []:
            if spec.get("ResourceType") == "snapshot":
                snapshot_tags.update({t["Key"]: t.get("Value", "") for t in spec.get("Tags") or []})
            else:
                kept.append(spec)
        ami = moto_create_image(self, instance_id, name, description, tag_specifications=kept)
        if snapshot_tags:
            snapshots = [m["Ebs"]["SnapshotId"] for m in ami.block_device_mappings if m.get("Ebs", {}).get("SnapshotId")]
            self.create_tags(snapshots, snapshot_tags)
        return ami

    create_image._clonectl_snapshot_tags = True
    AmiBackend.create_image = create_image


def error_xml(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>{hashlib.md5(message.encode()).hexdigest()}"
            "</RequestID></Response>").encode()


class Ec2Front:
    def __init__(self, sim):
        self.sim = sim
        self.lock = threading.RLock()
        self.phases: dict[str, tuple[str, float]] = {}  # resource id -> (shown state, until)
        self.tokens: dict[str, tuple[str, bytes]] = {}  # ClientToken -> (params fingerprint, moto's answer)
        self.run_lock = threading.Lock()  # one RunInstances with a token at a time: no double launch on a race
        self.image_lock = threading.Lock()  # one CreateImage at a time: the name check and the create are one step

    def phase(self, resource_id: str) -> str | None:
        with self.lock:
            shown = self.phases.get(resource_id)
            if shown and time.time() < shown[1]:
                return shown[0]
            return None

    def phase_until(self, resource_id: str) -> float | None:
        """When the phase shown for resource_id ends, or None when none is shown."""
        with self.lock:
            shown = self.phases.get(resource_id)
            return shown[1] if shown and time.time() < shown[1] else None

    def set_phase(self, resource_id: str, state: str, seconds: float) -> None:
        with self.lock:
            self.phases[resource_id] = (state, time.time() + seconds)

    @staticmethod
    def _fingerprint(params: list) -> str:
        # The same token with other parameters is IdempotentParameterMismatch; auth fields are not parameters.
        keep = sorted((k, v) for k, v in params if k not in ("Signature", "Timestamp"))
        return hashlib.sha256(repr(keep).encode()).hexdigest()

    def handle(self, action: str, params: list, forward, authenticate):
        """forward() -> (status, headers, body) from moto; returns the answer the client gets.
        authenticate() -> None or an error answer: run before any answer the front gives without moto."""
        values = dict(params)
        refused = ec2_validate.check(action, values)
        if refused is not None:
            denied = authenticate()
            return denied if denied is not None else \
                (400, [("Content-Type", "text/xml")], error_xml(refused[0], xml_escape(refused[1])))
        if action in ("RunInstances", "StartInstances"):
            denied = authenticate()
            if denied is not None:
                return denied
        if action == "RunInstances" and values.get("ClientToken"):
            return self._run_with_token(values["ClientToken"], params, forward)
        if action == "CreateImage":
            denied = authenticate()
            if denied is not None:
                return denied
            with self.image_lock:
                taken = self._image_named(values.get("Name", ""))
                if taken:
                    # EC2: AMI names are unique per account and region (moto accepts duplicates).
                    return 400, [("Content-Type", "text/xml")], error_xml(
                        "InvalidAMIName.Duplicate", f"AMI name {values.get('Name', '')} is already in use by AMI {taken}")
                return self._created_image(forward(), values)
        if action == "StartInstances":
            busy = [i for k, i in params if k.startswith("InstanceId.") and self.phase(i) == "stopping"]
            if busy:
                return 400, [("Content-Type", "text/xml")], error_xml(
                    "IncorrectInstanceState", f"The instance '{busy[0]}' is not in a state from which it can be started.")
        if values.get("DryRun", "").lower() == "true" and action in DRY_RUN_IGNORED:
            # EC2 never answers a dry run with data: allowed is 412 DryRunOperation (moto answers these read calls
            # as if DryRun were absent).
            denied = authenticate()
            return denied if denied is not None else (412, [("Content-Type", "text/xml")], error_xml(
                "DryRunOperation", "Request would have succeeded, but DryRun flag is set."))
        status, headers, body = forward()
        if status != 200:
            return status, headers, body
        if action == "RunInstances":
            return status, headers, self._launched(body, "pending")
        if action == "StartInstances":
            self._booting([i for k, i in params if k.startswith("InstanceId.")])
            return status, headers, body
        if action == "StopInstances":
            for key, iid in params:
                if key.startswith("InstanceId."):
                    self.set_phase(iid, "stopping", self.sim.config["stoppingSeconds"])
        elif action == "TerminateInstances":
            for key, iid in params:
                if key.startswith("InstanceId."):
                    self.set_phase(iid, "shutting-down", self.sim.config["shuttingDownSeconds"])
        elif action == "DescribeInstances":
            return status, headers, self._rewrite_instances(body, params)
        elif action == "DescribeImages":
            # moto calls its images' root device "standard", a value EC2 never gives (ebs | instance-store).
            body = body.replace(b"<rootDeviceType>standard</rootDeviceType>", b"<rootDeviceType>ebs</rootDeviceType>")
            return status, headers, self._rewrite_images(body, params)
        return status, headers, body

    def _image_named(self, name: str) -> str | None:
        """The id of this account's image called `name` (a deregistered image frees its name), or None."""
        if not name:
            return None
        found = self.sim._ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])["Images"]
        return next((i["ImageId"] for i in found if i.get("State") != "deregistered"), None)

    def _created_image(self, answer, values):
        status, headers, body = answer
        match = re.search(rb"<imageId>(ami-[0-9a-f]+)</imageId>", body) if status == 200 else None
        if match:
            image_id = match.group(1).decode()
            self.sim.guests.snapshot(values.get("InstanceId", ""), image_id)
            self.set_phase(image_id, "pending", self.sim.config["imagePendingSeconds"])
        return status, headers, body

    def _run_with_token(self, token, params, forward):
        fingerprint = self._fingerprint(params)
        with self.run_lock:
            known = self.tokens.get(token)
            if known is not None:
                if known[0] != fingerprint:
                    return 400, [("Content-Type", "text/xml")], error_xml(
                        "IdempotentParameterMismatch",
                        f"The client token {token} was already used with different parameters.")
                return 200, [("Content-Type", "text/xml")], known[1]
            status, headers, body = forward()
            if status == 200:
                body = self._launched(body, "pending")
                self.tokens[token] = (fingerprint, body)
            return status, headers, body

    def _launched(self, body: bytes, state: str) -> bytes:
        text = body.decode()
        images = re.findall(r"<imageId>(ami-[0-9a-z]+)</imageId>", text)
        ids = _IDS.findall(text)
        for iid, image in zip(ids, images or [None] * len(ids)):
            self.sim.guests.ensure(iid, image)
        self._booting(ids)
        return body

    def _booting(self, ids: list) -> None:
        cfg = self.sim.config
        for iid in ids:
            self.set_phase(iid, "pending", cfg["pendingSeconds"])
            self.sim.boot(iid, cfg["pendingSeconds"] + cfg["bootSeconds"])

    @staticmethod
    def _filter_values(params: list, name: str) -> list | None:
        keys = [k[: -len(".Name")] for k, v in params if k.startswith("Filter.") and k.endswith(".Name") and v == name]
        if not keys:
            return None
        return [v for k, v in params if any(k.startswith(p + ".Value.") for p in keys)]

    def _rewrite_instances(self, body: bytes, params: list) -> bytes:
        if not any(self.phase(i) for i in set(_IDS.findall(body.decode()))):
            return body
        wanted = self._filter_values(params, "instance-state-name")
        root = ET.fromstring(body)
        for rset in root.iter(Q + "reservationSet"):
            for res in list(rset):
                iset = res.find(Q + "instancesSet")
                for inst in list(iset if iset is not None else []):
                    shown = self.phase(inst.findtext(Q + "instanceId") or "")
                    if shown:
                        state = inst.find(Q + "instanceState")
                        state.find(Q + "code").text = str(CODES[shown])
                        state.find(Q + "name").text = shown
                        if wanted is not None and shown not in wanted:
                            iset.remove(inst)
                if iset is not None and len(iset) == 0:
                    rset.remove(res)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)

    def _rewrite_images(self, body: bytes, params: list) -> bytes:
        ids = re.findall(r"<imageId>(ami-[0-9a-z]+)</imageId>", body.decode())
        if not any(self.phase(i) for i in ids):
            return body
        wanted = self._filter_values(params, "state")
        root = ET.fromstring(body)
        for iset in root.iter(Q + "imagesSet"):
            for item in list(iset):
                shown = self.phase(item.findtext(Q + "imageId") or "")
                if shown:
                    item.find(Q + "imageState").text = shown
                    if wanted is not None and shown not in wanted:
                        iset.remove(item)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)
