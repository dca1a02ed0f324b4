"""Runs one invocation the way the SSM agent on a Windows instance would: wait for delivery, run the loader,
reboot and re-run on exit 3010, report, and for Sysprep shut the instance down after the result is out.

Timings come from sim.config (seconds) so tests can make them short; sim.config['timeScale'] scales the AWS
timeouts (TimeoutSeconds, executionTimeout) so a DeliveryTimedOut does not take the real 30 s or more.
"""
import threading
import time

from . import envelope, loader, payloads

POLL = 0.05


def start(sim, cmd, inv) -> None:
    threading.Thread(target=_guarded, args=(sim, cmd, inv), daemon=True,
                     name=f"invocation-{inv.instance_id}").start()


def _guarded(sim, cmd, inv):
    try:
        _run(sim, cmd, inv)
    except Exception as exc:  # a simulator bug must show as a failed invocation, not a silent hang
        sim.commands.set_state(inv, "Failed", "Failed", 1, "", f"simulator error: {exc!r}")


def _sleep(sim, inv, seconds) -> bool:
    """Sleeps unless cancelled or the simulator stops; True when the invocation may go on."""
    end = time.time() + seconds
    while time.time() < end:
        if inv.cancel.is_set() or sim.stopping.is_set():
            return False
        time.sleep(min(POLL, max(0.0, end - time.time())))
    return not inv.cancel.is_set()


def _wait_online(sim, inv, deadline) -> bool:
    while time.time() < deadline:
        if inv.cancel.is_set() or sim.stopping.is_set():
            return False
        if sim.is_online(inv.instance_id):
            return True
        time.sleep(POLL * 2)
    return False


def _cancelled(sim, inv):
    sim.commands.set_state(inv, "Cancelled", "Cancelled")


def _run(sim, cmd, inv):
    cfg = sim.config
    faults = sim.faults.invocation_faults(inv.instance_id)
    if not _sleep(sim, inv, cfg["runDelaySeconds"]):
        return _cancelled(sim, inv)
    if "undeliverable" in faults:
        return sim.commands.set_state(inv, "Failed", "Undeliverable")
    delivery_deadline = cmd.requested + cmd.timeout_seconds * cfg["timeScale"]
    if "deliveryTimedOut" in faults:
        delivery_deadline = time.time()
    if not _wait_online(sim, inv, delivery_deadline):
        if inv.cancel.is_set():
            return _cancelled(sim, inv)
        return sim.commands.set_state(inv, "TimedOut", "DeliveryTimedOut")
    sim.commands.set_state(inv, "InProgress", "InProgress")
    if "sysprepBlocker" in faults:
        reason = faults["sysprepBlocker"].get("reason", "BitLocker is on for C: (0x80310039)")
        with sim.guests.lock:
            blockers = sim.guests.ensure(inv.instance_id, None).setdefault("sysprepBlockers", [])
            if reason not in blockers:
                blockers.append(reason)
    exec_timeout = _execution_timeout(cmd) * cfg["timeScale"]
    text = "\n".join(cmd.parameters.get("commands", []))
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
    raw = (cmd.parameters.get("executionTimeout") or ["3600"])[0]
    try:
        return float(int(raw))
    except ValueError:
        return 3600.0


def execute(sim, instance_id: str, text: str) -> payloads.RunResult:
    """One run of the command text on the guest: the loader's checks, then the payload's model."""
    if "@{" not in text or "Payload" not in text:
        return payloads.RunResult(1, "", "clonectl simulator: this guest runs only clonectl loaders "
                                  "(agent-docs/envelope.md); the command text is not one", None)
    try:
        loaded = loader.load(text)
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
