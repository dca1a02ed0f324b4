"""Runs a command's invocations the way SSM and the agent on a Windows instance would: at most MaxConcurrency at
once, each waiting for delivery, running the loader, rebooting and re-running on exit 3010, reporting, and for
Sysprep shutting the instance down after the result is out.

A command gets min(MaxConcurrency, targets) runner threads; a runner takes the next queued invocation when its
previous one has ended (commands.next_invocation), so threads are bounded by what runs at once. Waits sleep on
the invocation's cancel Event (CancelCommand and the simulator's stop wake them at once); waiting for the agent
sleeps until the known end of a boot or reboot window and polls (ONLINE_POLL) only when nothing known brings it
back. Timings come from sim.config (seconds) so tests can make them short; sim.config['timeScale'] scales the AWS
timeouts (TimeoutSeconds, executionTimeout) so a DeliveryTimedOut does not take the real 30 s or more.
"""
import functools
import threading
import time

from . import envelope, loader, payloads, s3output
from .faults import GUEST_KINDS

ONLINE_POLL = 0.1
# The agent keeps a plugin's stdout only while it is under 24,000 bytes; else the first 23,980 and this marker
# (amazon-ssm-agent runpluginutil.go: pluginutil.StringPrefix(out, MaxStdoutLength=24000, "--output truncated--")).
AGENT_MAX_OUTPUT = 24000
AGENT_TRUNCATED = "--output truncated--"


def agent_cut(text: str, limit: int = AGENT_MAX_OUTPUT) -> str:
    """pluginutil.StringPrefix on the UTF-8 bytes, as the agent does before it reports the output."""
    data = text.encode("utf-8")
    if len(data) < limit:
        return text
    return data[: limit - len(AGENT_TRUNCATED)].decode("utf-8", "ignore") + AGENT_TRUNCATED


def apply_guest_faults(sim, instance_id: str, faults: dict) -> None:
    """The guest kinds of faults.py: they change the guest's state, which stays until it is fixed."""
    with sim.guests.lock:
        guest = sim.guests.ensure(instance_id, None)
        rule = faults.get("serviceWontStart")
        if rule:
            guest.setdefault("serviceStartFailures", {})[rule["service"]] = rule.get(
                "reason", "The service did not respond to the start or control request in a timely fashion")
        for kind in ("ec2LaunchBusy", "setHostNameTask"):
            if kind in faults and guest.get("ec2Launch", {}).get("flavour") != "v2":
                guest["ec2Launch"] = {"flavour": "v2", "version": "2.0.2107"}
        if "ec2LaunchBusy" in faults:
            guest["ec2LaunchStatus"] = "running"
        if "setHostNameTask" in faults:
            from .guestops import ec2launch_tasks
            guest["ec2LaunchTasks"] = [t for t in ec2launch_tasks(guest) if t != "setHostName"] + ["setHostName"]
        rule = faults.get("insecureDataRoot")
        if rule:
            root = dict(guest.get("dataRoot") or {"owner": "S-1-5-32-544", "protected": False})
            root["untrustedItem"] = {"path": rule.get("path", "C:\\ProgramData\\clonectl\\journal.json"),
                                     "owner": rule.get("owner", guest["machineSid"] + "-1001")}
            guest["dataRoot"] = root
        rule = faults.get("computerAccountExists")
        if rule:
            guest.setdefault("domainComputerAccounts", []).append(rule.get("name", guest["hostName"]))
        rule = faults.get("sysprepFails")
        if rule:
            guest["sysprepFails"] = {"lines": int(rule.get("lines", 50)), "width": int(rule.get("width", 120))}


def start_command(sim, cmd) -> None:
    for n in range(min(cmd.concurrency, len(cmd.invocations))):
        threading.Thread(target=_runner, args=(sim, cmd), daemon=True,
                         name=f"command-{cmd.command_id[:8]}-{n}").start()


def _runner(sim, cmd):
    while not sim.stopping.is_set():
        inv = sim.commands.next_invocation(cmd)
        if inv is None:
            return
        _guarded(sim, cmd, inv)


def _guarded(sim, cmd, inv):
    try:
        _run(sim, cmd, inv)
    except Exception as exc:  # a simulator bug must show as a failed invocation, not a silent hang
        sim.commands.set_state(inv, "Failed", "Failed", 1, "", f"simulator error: {exc!r}")


def _sleep(sim, inv, seconds) -> bool:
    """Sleeps unless cancelled or the simulator stops; True when the invocation may go on."""
    if seconds > 0:
        inv.cancel.wait(seconds)
    return not inv.cancel.is_set() and not sim.stopping.is_set()


def _wait_online(sim, inv, deadline) -> bool:
    while True:
        if inv.cancel.is_set() or sim.stopping.is_set():
            return False
        online, back = sim.agent_status(inv.instance_id)
        if online:  # looked at before the deadline: an agent that is back is taken, however late the look
            return True
        now = time.time()
        if now >= deadline:
            return False
        wake = back if back is not None and back > now else now + ONLINE_POLL
        inv.cancel.wait(max(0.001, min(deadline, wake) - now))


def _cancelled(sim, inv):
    """The end of a cancelled invocation. A running one was shown Cancelling by CancelCommand: the agent takes
    `cancel_seconds` to acknowledge (the simulator's stop does not wait for it)."""
    if inv.status == "Cancelling" and inv.cancel_seconds > 0 and not sim.stopping.is_set():
        sim.stopping.wait(inv.cancel_seconds)
    sim.commands.set_state(inv, "Cancelled", "Cancelled")


def _deliver(sim, cmd, inv, faults) -> bool:
    """Waits for the agent to take the command: True once InProgress. The first attempt delivers when the agent is
    online (however late a loaded machine makes it); one that finds the agent away (instance stopped, booting,
    agent lost, or a `delayed` fault) shows Delayed, and SSM tries again until the delivery timeout, which ends
    it TimedOut/DeliveryTimedOut."""
    if "deliveryTimedOut" in faults:
        sim.commands.set_state(inv, "TimedOut", "DeliveryTimedOut")
        return False
    deadline = cmd.requested + cmd.timeout_seconds * sim.config["timeScale"]
    away_until = time.time() + float(faults["delayed"].get("seconds", 1)) if "delayed" in faults else 0
    if not away_until and sim.is_online(inv.instance_id):
        sim.commands.set_state(inv, "InProgress", "InProgress")
        return True
    sim.commands.set_state(inv, "Delayed", "Delayed")
    if away_until and not _sleep(sim, inv, min(away_until, deadline) - time.time()):
        return False
    if (away_until and away_until > deadline) or not _wait_online(sim, inv, deadline):
        if not inv.cancel.is_set():
            sim.commands.set_state(inv, "TimedOut", "DeliveryTimedOut")
        return False
    sim.commands.set_state(inv, "InProgress", "InProgress")
    return True


def _run(sim, cmd, inv):
    cfg = sim.config
    text = cmd.script if cmd.script is not None else "\n".join(cmd.parameters.get("commands", []))
    faults = sim.faults.invocation_faults(inv.instance_id, loader.parse_values(text).get("Payload"))
    if not _sleep(sim, inv, cfg["runDelaySeconds"]):
        return _cancelled(sim, inv)
    if "undeliverable" in faults:
        return sim.commands.set_state(inv, "Failed", "Undeliverable")
    if "terminated" in faults:  # as if the command had exceeded its MaxErrors before this one was sent
        return sim.commands.set_state(inv, "Cancelled", "Terminated")
    if not _deliver(sim, cmd, inv, faults):
        return _cancelled(sim, inv) if inv.cancel.is_set() else None
    if "cancelling" in faults:  # as if CancelCommand had come while it ran
        inv.cancel_seconds = float(faults["cancelling"].get("seconds", 1))
        sim.commands.set_state(inv, "Cancelling", "Cancelling")
        inv.cancel.set()
        return _cancelled(sim, inv)
    if "sysprepBlocker" in faults:
        reason = faults["sysprepBlocker"].get("reason", "BitLocker is on for C: (0x80310039)")
        with sim.guests.lock:
            blockers = sim.guests.ensure(inv.instance_id, None).setdefault("sysprepBlockers", [])
            if reason not in blockers:
                blockers.append(reason)
    if any(k in faults for k in GUEST_KINDS):
        apply_guest_faults(sim, inv.instance_id, faults)
    exec_timeout = _execution_timeout(cmd) * cfg["timeScale"]
    earlier = ""  # what the runs before a 3010 reboot printed, kept when rebootOutputAll is set
    for attempt in range(cfg["maxReruns"] + 1):
        result = execute(sim, inv.instance_id, text)
        if result.exit_code != 3010:
            break
        if cfg["rebootOutputAll"]:
            earlier += result.stdout
        # The agent reboots the instance and runs the same command again from the top.
        sim.reboot(inv.instance_id, agent_back="agentNotBack" not in faults)
        if not _wait_online(sim, inv, time.time() + cfg["rebootSeconds"] + exec_timeout):
            if inv.cancel.is_set():
                return _cancelled(sim, inv)
            return sim.commands.set_state(inv, "TimedOut", "ExecutionTimedOut", -1)
    else:
        result = payloads.RunResult(1, result.stdout, f"the command asked for a reboot {cfg['maxReruns']} "
                                    "times in a row; the simulator stopped re-running it", None)
    if not _sleep(sim, inv, cfg["runDelaySeconds"]):
        return _cancelled(sim, inv)
    stdout = earlier + result.stdout
    if "tamperEnvelope" in faults:
        stdout = envelope.tamper(stdout)
    if "outputPrefix" in faults:
        stdout = str(faults["outputPrefix"].get("text", "")) + stdout
    # The agent uploads what the process printed, whole, before it reports (when the command named a bucket).
    s3output.write(sim, cmd, inv, stdout, result.stderr)
    stdout = agent_cut(stdout)  # the agent cuts what the process printed, prefix included
    if "truncateOutput" in faults:
        stdout = stdout[: faults["truncateOutput"].get("chars", max(1, len(stdout) // 2))]
    status = "Success" if result.exit_code == 0 else "Failed"
    sim.commands.set_state(inv, status, status, result.exit_code, stdout, result.stderr)
    if result.after_report:
        threading.Thread(target=_after_report, args=(sim, inv.instance_id, result.after_report), daemon=True).start()


def _after_report(sim, instance_id, kind):
    try:
        sim.after_sysprep(instance_id, kind)
    except Exception:  # moto already stopped (the simulator is shutting down): nothing left to change
        if not sim.stopping.is_set():
            raise


def _execution_timeout(cmd) -> float:
    if cmd.step_timeout is not None:
        return float(cmd.step_timeout)
    raw = (cmd.parameters.get("executionTimeout") or ["3600"])[0]
    try:
        return float(int(raw))
    except ValueError:
        return 3600.0


_LOAD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=256)
def _load_once(text: str) -> loader.Loaded:
    return loader.load(text)


def _load(text: str) -> loader.Loaded:
    """loader.load, once per distinct text: a command's 50 invocations (and the next command with the same
    loader) decode and hash-check the same bytes; the result is read only. Refusals are not kept. The lock makes
    the runners of one command, which all start at once, wait for the first decode instead of each doing it."""
    with _LOAD_LOCK:
        return _load_once(text)


def execute(sim, instance_id: str, text: str) -> payloads.RunResult:
    """One run of the command text on the guest: the loader's checks, then the payload's model."""
    if "@{" not in text or "Payload" not in text:
        return payloads.RunResult(1, "", "clonectl simulator: this guest runs only clonectl loaders "
                                  "(agent-docs/envelope.md); the command text is not one", None)
    mode = (sim.guests.get(instance_id) or {}).get("languageMode", "FullLanguage")
    if mode != "FullLanguage":  # WDAC/AppLocker enforcement (review D17): the loader cannot make its .NET calls
        values = loader.parse_values(text)
        ref = f"{values.get('Payload', '?')}@{values.get('Version', '?')}"
        if "LanguageMode" in text:  # loader 1.1.0 checks first and says so
            why = (f"PowerShell runs in {mode} mode under WDAC or AppLocker script enforcement: allow the SSM agent "
                   "scripts - see agent-docs/instance-requirements.md")
        else:
            why = "Cannot invoke method. Method invocation is supported only on core types in this language mode."
        return payloads.RunResult(2, "", f"clonectl loader refused {ref}: {why}\r\n", None)
    try:
        loaded = _load(text)
    except loader.LoaderRefused as exc:
        return payloads.RunResult(2, "", str(exc) + "\r\n", None)
    error = None
    try:
        params = loader.resolve_params(loaded.params_text, instance_id)
    except ValueError as exc:
        params, error = {}, "could not run: " + str(exc)
    ctx = payloads.Context(instance_id, loaded.payload, loaded.version, loaded.nonce, loaded.payload_sha256,
                           sim.read_secure_parameter)
    with sim.guests.lock:
        guest = sim.guests.ensure(instance_id, None)
        return payloads.run(guest, params, ctx, error)
