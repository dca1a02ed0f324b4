"""The Run Command store: commands, their per-instance invocations, and the aggregate statuses AWS reports.

Each invocation is run by worker.py on its own thread. Everything here is guarded by one lock; the worker only
changes an invocation through set_state(), so readers always see a consistent status / details / code triple.
"""
import threading
import time
import uuid
from dataclasses import dataclass, field

TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")


@dataclass
class Invocation:
    command_id: str
    instance_id: str
    requested: float
    visible_at: float
    status: str = "Pending"
    details: str = "Pending"
    code: int = -1
    stdout: str = ""
    stderr: str = ""
    started: float | None = None
    ended: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass
class Command:
    command_id: str
    document: str
    parameters: dict
    instance_ids: list
    comment: str
    timeout_seconds: int
    requested: float
    expires: float
    invocations: dict  # instance id -> Invocation
    cancelled: bool = False


def aggregate(cmd: Command) -> tuple[str, str]:
    """The command's Status and StatusDetails from its invocations (AWS's rules, simplified)."""
    states = [i.status for i in cmd.invocations.values()]
    if all(s == "Pending" for s in states):
        return ("Cancelled", "Cancelled") if cmd.cancelled else ("Pending", "Pending")
    if any(s not in TERMINAL for s in states):
        return ("Cancelling", "Cancelling") if cmd.cancelled else ("InProgress", "InProgress")
    if all(s == "Success" for s in states):
        return "Success", "Success"
    if any(s == "Cancelled" for s in states) and cmd.cancelled:
        return "Cancelled", "Cancelled"
    if any(s == "TimedOut" for s in states):
        return "TimedOut", "Delivery Timed Out" if all(
            i.details == "DeliveryTimedOut" for i in cmd.invocations.values() if i.status == "TimedOut") else "Failed"
    return "Failed", "Failed"


class CommandStore:
    def __init__(self):
        self.lock = threading.RLock()
        self.commands: dict[str, Command] = {}
        self.order: list[str] = []  # newest last

    def add(self, document, parameters, instance_ids, comment, timeout_seconds, visible_delay) -> Command:
        now = time.time()
        cid = str(uuid.uuid4())
        invs = {iid: Invocation(cid, iid, now, now + visible_delay) for iid in instance_ids}
        cmd = Command(cid, document, parameters, list(instance_ids), comment, timeout_seconds, now,
                      now + timeout_seconds, invs)
        with self.lock:
            self.commands[cid] = cmd
            self.order.append(cid)
        return cmd

    def get(self, command_id: str) -> Command | None:
        with self.lock:
            return self.commands.get(command_id)

    def visible_invocation(self, command_id: str, instance_id: str) -> Invocation | None:
        """None while AWS would still answer InvocationDoesNotExist (eventual consistency) or when unknown."""
        with self.lock:
            cmd = self.commands.get(command_id)
            inv = cmd.invocations.get(instance_id) if cmd else None
            if inv is None or time.time() < inv.visible_at:
                return None
            return inv

    def set_state(self, inv: Invocation, status: str, details: str, code: int | None = None,
                  stdout: str | None = None, stderr: str | None = None) -> None:
        with self.lock:
            inv.status, inv.details = status, details
            if code is not None:
                inv.code = code
            if stdout is not None:
                inv.stdout = stdout
            if stderr is not None:
                inv.stderr = stderr
            if status == "InProgress" and inv.started is None:
                inv.started = time.time()
            if status in TERMINAL:
                inv.ended = time.time()

    def commands_newest_first(self) -> list[Command]:
        with self.lock:
            return [self.commands[c] for c in reversed(self.order)]

    def cancel(self, command_id: str, instance_ids: list | None) -> Command | None:
        with self.lock:
            cmd = self.commands.get(command_id)
            if cmd is None:
                return None
            targets = instance_ids or list(cmd.invocations)
            for iid in targets:
                inv = cmd.invocations.get(iid)
                if inv is not None and inv.status not in TERMINAL:
                    inv.cancel.set()
            if not instance_ids:
                cmd.cancelled = True
            return cmd
