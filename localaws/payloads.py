"""Runs the Python model of a named payload on a guest and turns its result into the envelope and exit code.

The models (payloads_prep.py, payloads_clone.py) take the same parameters as the PowerShell payloads
(agent-docs/payloads.md), change the guest as the payload would, write the journal in the same format, and report
through the same envelope. A model raises Failed for a clear, expected failure; the runner maps statuses to the
exit codes of envelope.md (ok/changed 0, failed 1, reboot-pending 3010).
"""
import time
from dataclasses import dataclass, field

from . import envelope


class Failed(Exception):
    """A payload's expected failure: the envelope's status is failed and errors carries the message."""


@dataclass
class Context:
    instance_id: str
    payload: str
    version: str
    nonce: str
    payload_sha256: str
    read_secure_parameter: object  # callable(name) -> str, raises KeyError when the parameter does not exist
    now: object = time.time


@dataclass
class Outcome:
    status: str = "ok"
    changed: list = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    after_report: str | None = None  # "sysprep-shutdown" / "sysprep-quit": what happens once the result is out

    def change(self, item: str, before, after) -> None:
        self.changed.append({"item": item, "from": before, "to": after})
        if self.status == "ok":
            self.status = "changed"


@dataclass
class RunResult:
    exit_code: int
    stdout: str
    stderr: str
    after_report: str | None


EXIT_CODES = {"ok": 0, "changed": 0, "failed": 1, "reboot-pending": 3010}
MAX_QUIET_SIZE = 2500


def utc(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def journal(guest: dict) -> dict:
    if guest.get("journal") is None:
        guest["journal"] = {"v": 1, "entries": {}}
    return guest["journal"]


def record(guest: dict, ctx: Context, key: str, before: dict) -> bool:
    """Test-then-Set: the first recording is the truth, so a re-run of prep never overwrites it."""
    entries = journal(guest)["entries"]
    if key in entries:
        return False
    entries[key] = {"recordedBy": f"{ctx.payload}@{ctx.version}", "recordedAt": utc(ctx.now()), "before": before}
    return True


def entry(guest: dict, key: str, hint: str) -> dict:
    entries = (guest.get("journal") or {}).get("entries") or {}
    if key not in entries:
        raise Failed(f"no {key} entry in the journal: run {hint} on the source before imaging")
    return entries[key]


def check_params(params: dict, allowed: tuple, required: tuple = ()) -> None:
    unknown = [k for k in params if k not in allowed]
    if unknown:
        raise Failed(f"unknown parameter(s) {', '.join(sorted(unknown))}; this payload takes {', '.join(allowed) or 'none'}")
    for name in required:
        if params.get(name) in (None, "", []):
            raise Failed(f"parameter {name} is required")


def _models() -> dict:
    from . import payloads_clone, payloads_prep
    return {**payloads_prep.MODELS, **payloads_clone.MODELS}


def run(guest: dict, params: dict, ctx: Context, error: str | None = None) -> RunResult:
    """error: a failure found before the model could start (e.g. no byInstance entry for this instance)."""
    models = _models()
    started = ctx.now()
    log = [f"{utc(started)} {ctx.payload}@{ctx.version} start on {ctx.instance_id}"]
    out = Outcome()
    model = models.get(ctx.payload)
    try:
        if error is not None:
            raise Failed(error)
        if model is None:
            raise Failed(f"unknown payload {ctx.payload!r}; known: {', '.join(sorted(models))}")
        model(guest, params, ctx, out)
    except Failed as exc:
        out.status, out.errors, out.after_report = "failed", out.errors + [str(exc)], None
    for change in out.changed:
        log.append(f"changed {change['item']}")
    log.append(f"{utc(ctx.now())} {ctx.payload} {out.status}")
    guest.setdefault("log", []).extend(log)
    fields = {"v": 1, "payload": ctx.payload, "version": ctx.version, "payloadSha256": ctx.payload_sha256,
              "nonce": ctx.nonce, "instanceId": ctx.instance_id, "status": out.status, "changed": out.changed,
              "facts": out.facts, "errors": out.errors, "logTail": log, "startedAt": utc(started),
              "finishedAt": utc(ctx.now())}
    text = envelope.render(envelope.build(fields))
    # Like the real payload: shorten the log tail first to stay within what ListCommandInvocations shows.
    while len(text) > MAX_QUIET_SIZE and fields["logTail"]:
        fields["logTail"] = fields["logTail"][1:]
        text = envelope.render(envelope.build(fields))
    return RunResult(EXIT_CODES[out.status], text, "", out.after_report)
