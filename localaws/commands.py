"""The Run Command store: commands, their per-instance invocations, and the aggregate statuses AWS reports.

A command runs on at most `concurrency` instances at once (MaxConcurrency): worker.py starts that many runners per
command and each takes the next invocation from the command's queue when it has finished one (next_invocation).
When more invocations have failed (Failed or TimedOut) than `error_limit` allows (MaxErrors), no new invocation is
started: the ones still queued end Cancelled at once (AWS "stops sending the command to additional targets"; the
status those targets show is our guess) and the command ends Failed; the ones already running finish.
Everything here is guarded by one lock; the worker only changes an invocation through set_state(), so readers
always see a consistent status / details / code triple.
"""
import collections
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
    cancel: threading.Event = field(default_factory=threading.Event)  # also set to wake a waiting worker at stop
    dispatched: bool = False  # taken by a runner: past the MaxConcurrency gate


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
    max_concurrency: str = "50"  # as sent
    max_errors: str = "0"        # as sent
    concurrency: int = 50        # MaxConcurrency resolved against the target count
    error_limit: int = 0         # MaxErrors resolved against the target count
    errors: int = 0              # invocations ended Failed or TimedOut
    stopped_by_errors: bool = False
    queue: collections.deque = field(default_factory=collections.deque)  # instance ids not dispatched yet


def aggregate(cmd: Command) -> tuple[str, str]:
    """The command's Status and StatusDetails from its invocations (AWS's rules, simplified)."""
    states = [i.status for i in cmd.invocations.values()]
    if all(s == "Pending" for s in states):
        return ("Cancelled", "Cancelled") if cmd.cancelled else ("Pending", "Pending")
    if any(s not in TERMINAL for s in states):
        return ("Cancelling", "Cancelling") if cmd.cancelled else ("InProgress", "InProgress")
    if all(s == "Success" for s in states):
        return "Success", "Success"
    if cmd.stopped_by_errors:
        return "Failed", "Failed"
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

    def add(self, document, parameters, instance_ids, comment, timeout_seconds, visible_delay,
            max_concurrency="50", max_errors="0", concurrency=50, error_limit=0) -> Command:
        now = time.time()
        cid = str(uuid.uuid4())
        invs = {iid: Invocation(cid, iid, now, now + visible_delay) for iid in instance_ids}
        cmd = Command(cid, document, parameters, list(instance_ids), comment, timeout_seconds, now,
                      now + timeout_seconds, invs, max_concurrency=max_concurrency, max_errors=max_errors,
                      concurrency=concurrency, error_limit=error_limit, queue=collections.deque(invs))
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
            if status in ("Failed", "TimedOut"):
                cmd = self.commands.get(inv.command_id)
                if cmd is not None:
                    cmd.errors += 1
                    if cmd.errors > cmd.error_limit and not cmd.stopped_by_errors:
                        cmd.stopped_by_errors = True
                        self._cancel_queued(cmd)

    def _cancel_queued(self, cmd: Command) -> None:
        """Ends the invocations no runner has taken (they were never sent to their instance)."""
        now = time.time()
        for iid in cmd.queue:
            inv = cmd.invocations[iid]
            if not inv.dispatched and inv.status not in TERMINAL:
                inv.status, inv.details, inv.ended = "Cancelled", "Cancelled", now
        cmd.queue.clear()

    def next_invocation(self, cmd: Command) -> Invocation | None:
        """The next queued invocation for a runner of cmd (now past the MaxConcurrency gate), or None when there
        is none left to start (all taken, or MaxErrors exceeded)."""
        with self.lock:
            while cmd.queue and not cmd.stopped_by_errors:
                inv = cmd.invocations[cmd.queue.popleft()]
                if inv.status in TERMINAL:  # cancelled while it waited
                    continue
                inv.dispatched = True
                return inv
            return None

    def wake_all(self) -> None:
        with self.lock:
            for cmd in self.commands.values():
                for inv in cmd.invocations.values():
                    if inv.status not in TERMINAL:
                        inv.cancel.set()

    def commands_newest_first(self) -> list[Command]:
        with self.lock:
            return [self.commands[c] for c in reversed(self.order)]

    def cancel(self, command_id: str, instance_ids: list | None) -> Command | None:
        with self.lock:
            cmd = self.commands.get(command_id)
            if cmd is None:
                return None
            targets = instance_ids or list(cmd.invocations)
            now = time.time()
            for iid in targets:
                inv = cmd.invocations.get(iid)
                if inv is not None and inv.status not in TERMINAL:
                    inv.cancel.set()
                    if not inv.dispatched:  # waiting for a MaxConcurrency slot: nothing runs it, it ends now
                        inv.status, inv.details, inv.ended = "Cancelled", "Cancelled", now
            if not instance_ids:
                cmd.cancelled = True
            return cmd
