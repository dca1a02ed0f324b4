"""Runs the Python model of a named payload on a guest and reports through the envelope, as CloneAgent does.

The models (payloads_prep.py, payloads_clone.py) mirror ps-scripts/payloads/<name>/<version>.ps1 over the shared
module ps-scripts/agent/<version>/CloneAgent.psm1, per version where they differ (`at_least(run, "1.1.0")`): 1.0.0
keeps its released behaviour, flaws included (it stays runnable), 1.1.0 the fixed one. Same parameters, same change items ('firewall/Public',
'service/AppSvc/status', 'user/NAME/enabled', 'computerName'...), same facts, same journal entries, and the
module's run rules copied here once: the log lines ('<stamp> start p@v', '<stamp> changed item: from -> to' with
JSON values, '<stamp> error: ...', '<stamp> finish status exit code'), the status (errors -> failed 1, a pending
reboot -> reboot-pending 3010, changes -> changed, else ok), and the budget (2,500 characters: drop the oldest log
lines, then the optional facts, listing them in omittedFacts; never over 24,000, 23,900 from 1.1.0; module 1.2.0's
New-CloneRun -OutputToS3 makes the run's budget its only cap: Run.hard_cap).
"""
import time
from dataclasses import dataclass, field

from . import canonjson, envelope

JOURNAL_PATH = "C:\\ProgramData\\clonectl\\journal.json"


class Failed(Exception):
    """A terminating error inside a payload body: it becomes one entry in errors (Invoke-CloneBody)."""


class NotSecureString(Exception):
    """The parameter exists but is not a SecureString (its type in args[0]): Read-CloneSecureString refuses it."""


TRUSTED_SIDS = ("S-1-5-18", "S-1-5-32-544", "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464")
DATA_ROOT = "C:\\ProgramData\\clonectl"


def at_least(run_or_version, version: str) -> bool:
    """Whether the running payload is `version` or newer (the models follow each released version)."""
    v = run_or_version if isinstance(run_or_version, str) else run_or_version.ctx.version
    try:
        return tuple(int(x) for x in v.split(".")) >= tuple(int(x) for x in version.split("."))
    except ValueError:
        return True


def check_data_root(run, guest: dict) -> str | None:
    """Test-CloneDataRoot -Repair (module 1.1.0, D1) on guest['dataRoot'] = {owner, protected, item?}: None when the
    folder can be trusted (created or made protected on the way), else the refusal. 1.0.0 creates it with the
    ProgramData ACL and checks nothing."""
    root = guest.get("dataRoot")
    if not at_least(run, "1.1.0"):
        if root is None:
            guest["dataRoot"] = {"owner": "S-1-5-32-544", "protected": False}
        return None
    fix = f"inspect it (icacls and dir /q '{DATA_ROOT}'), remove what a non-administrator created, then run again"
    if root is None:
        guest["dataRoot"] = {"owner": "S-1-5-32-544", "protected": True}
        run.log("data folder: created protected")
        return None
    if root.get("owner") not in TRUSTED_SIDS:
        return f"{DATA_ROOT} is owned by {root.get('owner')}, not by SYSTEM or Administrators: {fix}"
    item = root.get("untrustedItem")
    if item:
        return (f"{item['path']} is owned by {item['owner']}, not by SYSTEM or Administrators: a non-administrator "
                f"created it; {fix}")
    if not root.get("protected"):
        root["protected"] = True
        run.log("data folder: protected (was inherited from ProgramData)")
    return None


@dataclass
class Context:
    instance_id: str
    payload: str
    version: str
    nonce: str
    payload_sha256: str
    read_secure_parameter: object  # callable(name) -> str; KeyError: no such parameter; NotSecureString: wrong type
    now: object = time.time


@dataclass
class Run:
    ctx: Context
    max_chars: int = 2500
    started: str = ""
    changed: list = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    optional: set = field(default_factory=set)
    errors: list = field(default_factory=list)
    log_lines: list = field(default_factory=list)
    reboot_pending: bool = False
    hard_cap: int | None = None  # module 1.2.0 New-CloneRun -OutputToS3: the budget is the cap, not 23,900
    after_report: str | None = None  # "sysprep-shutdown" / "sysprep-quit": what happens once the result is out

    def log(self, message: str) -> None:
        self.log_lines.append(utc(self.ctx.now()) + " " + message)

    def change(self, item: str, before, after) -> None:
        self.changed.append({"item": item, "from": before, "to": after})
        self.log(f"changed {item}: {canonjson.dumps(before)} -> {canonjson.dumps(after)}")

    def fact(self, name: str, value, optional: bool = False) -> None:
        self.facts[name] = value
        if optional:
            self.optional.add(name)

    def error(self, message: str) -> None:
        self.errors.append(message)
        self.log("error: " + message)


@dataclass
class RunResult:
    exit_code: int
    stdout: str
    stderr: str
    after_report: str | None


def utc(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# ---- the journal (C:\ProgramData\clonectl\journal.json, inside guest['journal']) -----------------------------------

def journal(guest: dict) -> dict:
    if guest.get("journal") is None:
        guest["journal"] = {"v": 1, "entries": {}}
    return guest["journal"]


def add_entry(run: Run, guest: dict, name: str, before) -> bool:
    """Record-if-absent; an entry already restored on the source is replaced (a new round of prep)."""
    entries = journal(guest)["entries"]
    if name in entries and "restoredAt" not in entries[name]:
        run.log(f"journal: {name} already recorded by {entries[name]['recordedBy']}; kept")
        return False
    entries[name] = {"recordedBy": f"{run.ctx.payload}@{run.ctx.version}", "recordedAt": utc(run.ctx.now()),
                     "before": before}
    run.log(f"journal: recorded {name}")
    return True


def get_entry(guest: dict, name: str, producer: str) -> dict:
    entries = (guest.get("journal") or {}).get("entries") or {}
    if name not in entries:
        raise Failed(f"no {name} entry in the journal {JOURNAL_PATH}: run {producer} on the source before imaging")
    return entries[name]


def set_restored(run: Run, guest: dict, name: str) -> None:
    entry = ((guest.get("journal") or {}).get("entries") or {}).get(name)
    if entry is None or "restoredAt" in entry:
        return
    entry["restoredBy"] = f"{run.ctx.payload}@{run.ctx.version}"
    entry["restoredAt"] = utc(run.ctx.now())
    run.log(f"journal: marked {name} restored")


def check_params(params: dict, allowed: tuple, required: tuple = ()) -> None:
    """PowerShell's parameter binding: an unknown or missing parameter stops the payload before it starts."""
    unknown = [k for k in params if k not in allowed]
    if unknown:
        raise Failed(f"could not run: A parameter cannot be found that matches parameter name '{unknown[0]}'.")
    for name in required:
        if params.get(name) in (None, "", []):
            raise Failed(f"could not run: Cannot bind argument to parameter '{name}' because it is an empty string.")


# ---- running ---------------------------------------------------------------------------------------------------------

def _models() -> dict:
    from . import payloads_clone, payloads_prep
    return {**payloads_prep.MODELS, **payloads_clone.MODELS}


def _render(run: Run, status: str) -> str:
    tail = [(l[:197] + "...") if len(l) > 200 else l for l in run.log_lines[-20:]]
    body = {"v": 1, "payload": run.ctx.payload, "version": run.ctx.version, "payloadSha256": run.ctx.payload_sha256,
            "nonce": run.ctx.nonce, "instanceId": run.ctx.instance_id, "status": status, "changed": run.changed,
            "facts": run.facts, "errors": run.errors, "logTail": tail, "startedAt": run.started,
            "finishedAt": utc(run.ctx.now())}
    text = envelope.render(envelope.build(body))
    while len(text) > run.max_chars and body["logTail"]:
        body["logTail"] = body["logTail"][1:]
        text = envelope.render(envelope.build(body))
    if len(text) > run.max_chars and run.optional:
        kept = {k: v for k, v in run.facts.items() if k not in run.optional}
        kept["omittedFacts"] = sorted(run.optional)
        body["facts"] = kept
        text = envelope.render(envelope.build(body))
    cap = run.hard_cap or (23900 if at_least(run.ctx.version, "1.1.0") else 24000)
    if len(text) > cap:
        body["facts"] = {"omitted": f"facts exceeded the {cap}-character envelope limit; see the guest log"}
        text = envelope.render(envelope.build(body))
    return text


def run(guest: dict, params: dict, ctx: Context, error: str | None = None) -> RunResult:
    """error: a failure found before the payload could start (Write-CloneFailure: no byInstance entry...)."""
    models = _models()
    big = 23900 if at_least(ctx.version, "1.1.0") else 24000  # D13: under the agent's 24,000-byte cut
    out = Run(ctx, max_chars=big if ctx.payload == "sysprep-logs" else 2500)
    out.started = utc(ctx.now())
    out.log(f"start {ctx.payload}@{ctx.version}")
    try:
        if error is not None:
            raise Failed(error)
        problem = check_data_root(out, guest)
        if problem is not None:
            raise Failed("refused: the clonectl data folder is not safe to trust: " + problem)
        model = models.get(ctx.payload)
        if model is None:
            raise Failed(f"could not run: the simulator has no model of payload {ctx.payload!r} "
                         f"(known: {', '.join(sorted(models))})")
        model(guest, params, out)
    except Failed as exc:
        out.error(str(exc))
    if out.errors:
        status, code, out.after_report = "failed", 1, None
    elif out.reboot_pending:
        status, code = "reboot-pending", 3010
    else:
        status, code = ("changed" if out.changed else "ok"), 0
    out.log(f"finish {status} exit {code}")
    guest.setdefault("log", []).extend(out.log_lines)
    del guest["log"][:-500]
    return RunResult(code, _render(out, status), "", out.after_report)
