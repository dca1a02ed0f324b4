"""The Run Command store: commands, their per-instance invocations, and the aggregate statuses AWS reports.

A command runs on at most `concurrency` instances at once (MaxConcurrency): worker.py starts that many runners per
command and each takes the next invocation from the command's queue when it has finished one (next_invocation).

An invocation's (Status, StatusDetails), as the API reference documents them (README "Statuses"):
  Pending/Pending       not sent yet (waiting for its delivery, or for a MaxConcurrency slot)
  Delayed/Delayed       a delivery was tried and the instance did not answer (stopped, booting, agent away); SSM
                        tries again until the delivery timeout
  InProgress/InProgress delivered, running
  Cancelling/Cancelling CancelCommand reached a running invocation; the agent has not acknowledged it yet
  Success, Failed/Failed, TimedOut/ExecutionTimedOut, TimedOut/DeliveryTimedOut, Failed/Undeliverable,
  Cancelled/Cancelled, Cancelled/Terminated (not sent: the command had exceeded MaxErrors)
MaxErrors counts only Failed and ExecutionTimedOut (the documented rule: delivery timeouts and Undeliverable do not
count). When more have ended so than `error_limit` allows, no new invocation is started: the queued ones end
Cancelled/Terminated at once and the command ends Failed; the ones already running finish.
Everything here is guarded by one lock; the worker only changes an invocation through set_state(), so readers
always see a consistent status / details / code triple.
"""
import collections
import threading
import time
import uuid
from dataclasses import dataclass, field

TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")


def counts_as_error(inv) -> bool:
    """Whether an ended invocation counts against MaxErrors (and in ErrorCount): Failed or Execution Timed Out."""
    return (inv.status, inv.details) in (("Failed", "Failed"), ("TimedOut", "ExecutionTimedOut"))


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
    cancel_seconds: float = 0  # how long a running invocation shows Cancelling before it ends Cancelled


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
    errors: int = 0              # invocations ended Failed or ExecutionTimedOut (counts_as_error)
    document_version: str = "$DEFAULT"  # as sent
    outputs: dict = field(default_factory=dict)  # OutputS3*, ServiceRoleArn, NotificationConfig, CloudWatch*
    stopped_by_errors: bool = False
    plugin: str = "aws:runPowerShellScript"  # a schemaVersion 2.2 document's plugin is its step's name
    script: str | None = None  # a custom document's script with its parameters filled in (customdocs.py)
    step_timeout: int | None = None  # a custom document's timeoutSeconds
    queue: collections.deque = field(default_factory=collections.deque)  # instance ids not dispatched yet


def aggregate(cmd: Command) -> tuple[str, str]:
    """The command's Status and StatusDetails from its invocations. Documented: Pending, In Progress, Cancelling,
    Success, Failed (more errors than MaxErrors), Cancelled, Incomplete (attempted everywhere, not all Success, not
    enough errors for Failed), Undeliverable counting for neither. Our guesses (README): Incomplete and the other
    details under Status Failed, and Delivery Timed Out (Status TimedOut) only when no invocation was delivered."""
    invs = list(cmd.invocations.values())
    if any(i.status not in TERMINAL for i in invs):
        if cmd.cancelled:
            return "Cancelling", "Cancelling"
        if all(i.status == "Pending" for i in invs):
            return "Pending", "Pending"
        return "InProgress", "InProgress"
    if cmd.cancelled and any(i.details == "Cancelled" for i in invs):
        return "Cancelled", "Cancelled"
    errors = [i for i in invs if counts_as_error(i)]
    if cmd.stopped_by_errors or len(errors) > cmd.error_limit:
        if all(i.details == "ExecutionTimedOut" for i in errors):
            return "TimedOut", "Execution Timed Out"
        return "Failed", "Failed"
    counted = [i for i in invs if i.details != "Undeliverable"]
    if not counted:
        return "Failed", "Failed"
    if all(i.status == "Success" for i in counted):
        return "Success", "Success"
    if all(i.details == "DeliveryTimedOut" for i in counted):
        return "TimedOut", "Delivery Timed Out"
    return "Failed", "Incomplete"


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
            if inv.status in TERMINAL:  # an ended invocation stays ended (a cancel may have ended it first)
                return
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
            if counts_as_error(inv):
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
                inv.status, inv.details, inv.ended = "Cancelled", "Terminated", now
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

    def cancel(self, command_id: str, instance_ids: list | None, cancel_seconds: float = 0) -> Command | None:
        """CancelCommand: an invocation not delivered yet ends Cancelled at once; a running one shows Cancelling
        until its worker sees the cancel and, `cancel_seconds` later (the agent's acknowledgement), ends it."""
        with self.lock:
            cmd = self.commands.get(command_id)
            if cmd is None:
                return None
            targets = instance_ids or list(cmd.invocations)
            now = time.time()
            for iid in targets:
                inv = cmd.invocations.get(iid)
                if inv is None or inv.status in TERMINAL:
                    continue
                if inv.status in ("InProgress", "Cancelling"):
                    inv.status, inv.details = "Cancelling", "Cancelling"
                    inv.cancel_seconds = cancel_seconds
                else:  # Pending or Delayed: nothing runs on the instance; it ends now
                    inv.status, inv.details, inv.ended = "Cancelled", "Cancelled", now
                inv.cancel.set()
            if not instance_ids:
                cmd.cancelled = True
            return cmd
