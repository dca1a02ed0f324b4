#!/usr/bin/env python3
"""The fleet benchmark (issue 6): clonectl against an AWS CLI loop, over the local Run Command simulator.

    scripts/fleet-bench.sh [--sizes 10,100,500] [--latency 0.05] [--memory-clones 5000] [--skip-baseline]
                           [--out results.json] [--keep] [--phase-timeout 7200]

For each size N, on a fresh local AWS (scripts/localaws.py, 127.0.0.1 only) with a fixed added latency per call:
two plans of N clones are launched (not measured), then
  - clonectl runs post-clone (host name, time zone) and verify on the first plan's clones;
  - scripts/bench/cli-loop.sh does the same on the second plan's clones the way operators do it today: one
    `aws ssm send-command` per instance and step, `aws ssm get-command-invocation` per instance every second;
each measured as one child process (wall time; peak RSS and user+sys CPU from wait4), with the simulator's call log
for the calls each made by API and the throttles they met. A memory phase runs clonectl alone on --memory-clones
clones. Prints a table, the targets (PASS/MISS), a markdown table for the README, and writes everything as JSON.

The pure parts (plans, figures, targets, tables) are tested in tests/test_fleet_bench.py.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(REPO, ".venv", "bin")
STEPS = ("hostname", "time-zone", "verify")      # the guest steps measured, in order
TIME_ZONE = "Tokyo Standard Time"
# Phases (pending, stopping, image creation, reboots) last about a second, as in scripts/demo.sh.
TIMINGS = {"pendingSeconds": 1, "stoppingSeconds": 1, "shuttingDownSeconds": 1, "imagePendingSeconds": 2,
           "rebootSeconds": 1, "bootSeconds": 0.5, "sysprepSeconds": 1}
POLL_SECONDS = "0.5"                              # CLONECTL_POLL_SECONDS, as the demo
TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
THROTTLE_CODES = ("ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException")

# Targets (issue 6), checked on clonectl's figures.
TARGET_POLL_PER_ROUND = 0.1     # API calls per instance per poll round, at most
TARGET_CALLS_PER_STEP = 3.0     # Run Command calls per instance per step, at most
TARGET_RATIO = 20.0             # CLI loop wall / clonectl wall at TARGET_RATIO_SIZE clones, at least
TARGET_RATIO_SIZE = 500
TARGET_RSS_MB = 64.0            # peak RSS in the memory phase, under
TARGET_MEMORY_CLONES = 5000


def log(message: str) -> None:
    print(message, flush=True)


# --- plans ----------------------------------------------------------------------------------------------------------
def clone_name(i: int) -> str:
    return f"c{i:04d}"


def host_name(i: int) -> str:
    return f"C{i:04d}"


def make_plan(name: str, info: dict, clones: int) -> str:
    """A plan like scripts/demo.sh's, without prep (no work user, firewall or jobs): post-clone is then host name and
    time zone only. Every clone in the same subnet (the fleet subnet when there is one), no fixed private IP."""
    fleet_subnet = info.get("fleetSubnetId", info["subnetId"])
    lines = [
        f"# fleet benchmark plan: {clones} clones of the simulated source (scripts/fleet_bench.py)",
        "version: 1",
        f"name: {name}",
        "source:",
        f"  instanceId: {info['sourceInstanceId']}",
        "workCopy:",
        f"  subnetId: {info['subnetId']}",
        f"  securityGroupIds: [{info['securityGroupId']}]",
        f"  instanceProfile: {info['instanceProfile']}",
        "  instanceType: m5.large",
        "sysprep: {shutdownTimeoutMinutes: 10}",
        'masterImage: {name: "{plan}-master-{runId}"}',
        "clones:",
    ]
    for i in range(1, clones + 1):
        lines.append(f"  - {{name: {clone_name(i)}, subnetId: {fleet_subnet}, hostName: {host_name(i)}, "
                     f"timeZone: {TIME_ZONE}}}")
    return "\n".join(lines) + "\n"


def step_params(step: str, host: str) -> list[tuple[str, str]]:
    """The payload parameters clonectl's post-clone and verify steps give one clone (PostCloneStep, VerifyStep)."""
    if step == "hostname":
        return [("NewName", host)]
    if step == "time-zone":
        return [("TimeZoneId", TIME_ZONE)]
    if step == "verify":
        return [("ExpectedHostName", host), ("ExpectedTimeZoneId", TIME_ZONE)]
    raise ValueError(f"unknown step {step}")


# --- figures --------------------------------------------------------------------------------------------------------
def is_throttle(call: dict) -> bool:
    """A call answered as throttled: the simulator's throttle fault or rate limiter, or an HTTP 429/503 or a
    throttling error code. A plain 400 is not one (InvocationDoesNotExist is a 400 too)."""
    if call.get("fault") in ("throttle", "ratelimit", "throttled") or call.get("by") == "ratelimit":
        return True
    if call.get("status") in (429, 503):
        return True
    return any(call.get(k) in THROTTLE_CODES for k in ("code", "error", "errorCode"))


def summarize_calls(calls: list[dict], server: dict | None = None) -> dict:
    """Counts by API, throttles (total and by API) and the SendCommand calls that were answered 200, from the call
    log's entries. `server`: the simulator's own exact counters (GET /__sim/calls after a reset: "counts",
    "throttles", "total"), used instead of the entries' counts when it has them; if entries fell out of the log
    (total differs), commands sent = SendCommand calls - throttled ones."""
    counts: dict[str, int] = {}
    throttles: dict[str, int] = {}
    sent = 0
    for call in calls:
        api = call.get("api", "?")
        counts[api] = counts.get(api, 0) + 1
        if is_throttle(call):
            throttles[api] = throttles.get(api, 0) + 1
        elif api == "ssm:SendCommand" and call.get("status") == 200:
            sent += 1
    complete = True
    if server and isinstance(server.get("counts"), dict) and isinstance(server.get("throttles"), dict):
        counts, throttles = dict(server["counts"]), dict(server["throttles"])
        if server.get("total", len(calls)) != len(calls):
            complete = False
            sent = counts.get("ssm:SendCommand", 0) - throttles.get("ssm:SendCommand", 0)
    return {"counts": dict(sorted(counts.items())), "throttles": sum(throttles.values()),
            "throttlesByApi": dict(sorted(throttles.items())), "commandsSent": sent, "logComplete": complete}


def compute_figures(n: int, summary: dict, wall: float, maxrss_kib: int, cpu: float, steps: int = len(STEPS)) -> dict:
    """The per-tool figures from one measured phase on n instances doing `steps` guest steps each.

    pollRounds: how many poll rounds an invocation saw on average. A tool that polls with ListCommandInvocations
    covers a command's invocations per round, so rounds = ListCommandInvocations calls / commands sent; a tool that
    only uses GetCommandInvocation polls one invocation per call, so rounds = GetCommandInvocation calls /
    invocations. pollCallsPerInstancePerRound = poll calls / invocations (n * steps) / rounds: 1.0 for a
    per-instance loop, 1/50 for commands of 50 polled one page a round.
    """
    counts = summary["counts"]
    invocations = n * steps
    lci = counts.get("ssm:ListCommandInvocations", 0)
    gci = counts.get("ssm:GetCommandInvocation", 0)
    poll_calls = lci + gci
    sent = summary.get("commandsSent", counts.get("ssm:SendCommand", 0))
    if lci and sent:
        rounds = lci / sent
    elif gci:
        rounds = gci / invocations
    else:
        rounds = 0.0
    ssm_calls = sum(v for k, v in counts.items() if k.startswith("ssm:"))
    return {
        "instances": n, "steps": steps, "wallSeconds": round(wall, 3), "cpuSeconds": round(cpu, 3),
        "peakRssMB": round(maxrss_kib / 1024, 1), "calls": counts, "totalCalls": sum(counts.values()),
        "callsPerInstance": {k: round(v / n, 3) for k, v in counts.items()},
        "runCommandCalls": ssm_calls,
        "runCommandCallsPerInstancePerStep": round(ssm_calls / invocations, 3),
        "commandsSent": sent, "pollCalls": poll_calls, "pollRounds": round(rounds, 2),
        "pollCallsPerInstancePerRound": round(poll_calls / invocations / rounds, 4) if rounds else 0.0,
        "throttles": summary["throttles"], "throttlesByApi": summary.get("throttlesByApi", {}),
    }


def ratios(controller: dict, baseline: dict) -> dict:
    def div(a, b):
        return round(a / b, 2) if b else None
    return {"wall": div(baseline["wallSeconds"], controller["wallSeconds"]),
            "calls": div(baseline["totalCalls"], controller["totalCalls"]),
            "cpu": div(baseline["cpuSeconds"], controller["cpuSeconds"]),
            "peakRss": div(baseline["peakRssMB"], controller["peakRssMB"])}


def check_targets(sizes: list[dict], memory: dict | None) -> list[dict]:
    """One row per target and size: {"target", "value", "result": PASS | MISS | n/a, "note"}."""
    rows = []
    for size in sizes:
        ctl, n = size["controller"], size["instances"]
        value = ctl["pollCallsPerInstancePerRound"]
        rows.append({"target": f"poll calls per instance per round <= {TARGET_POLL_PER_ROUND} ({n} clones)",
                     "value": value, "result": "PASS" if value <= TARGET_POLL_PER_ROUND else "MISS"})
        value = ctl["runCommandCallsPerInstancePerStep"]
        rows.append({"target": f"Run Command calls per instance per step <= {TARGET_CALLS_PER_STEP:g} ({n} clones)",
                     "value": value, "result": "PASS" if value <= TARGET_CALLS_PER_STEP else "MISS"})
    at = [s for s in sizes if s["instances"] == TARGET_RATIO_SIZE and s.get("ratio", {}).get("wall") is not None]
    row = {"target": f"CLI loop wall / clonectl wall >= {TARGET_RATIO:g} at {TARGET_RATIO_SIZE} clones"}
    if at:
        value = at[0]["ratio"]["wall"]
        row.update(value=value, result="PASS" if value >= TARGET_RATIO else "MISS")
    else:
        row.update(value=None, result="n/a", note=f"no {TARGET_RATIO_SIZE}-clone run with the baseline")
    rows.append(row)
    row = {"target": f"peak RSS < {TARGET_RSS_MB:g} MB with {TARGET_MEMORY_CLONES:,} invocations in flight"}
    if memory:
        value = memory["controller"]["peakRssMB"]
        row.update(value=value, result="PASS" if value < TARGET_RSS_MB else "MISS")
        if memory["instances"] != TARGET_MEMORY_CLONES:
            row["note"] = f"measured with {memory['instances']:,} clones, not {TARGET_MEMORY_CLONES:,}"
    else:
        row.update(value=None, result="n/a", note="memory phase skipped (--memory-clones 0)")
    rows.append(row)
    return rows


# --- tables ---------------------------------------------------------------------------------------------------------
def _fmt(value, digits=2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def format_table(sizes: list[dict], memory: dict | None) -> str:
    """Plain text: one block per size (clonectl and the CLI loop side by side), then the memory phase."""
    out = []
    for size in sizes:
        n, ctl, cli = size["instances"], size["controller"], size.get("baseline")
        tools = [("clonectl", ctl)] + ([("CLI loop", cli)] if cli else [])
        apis = sorted({a for _, t in tools for a in t["calls"]})
        header = ["", *[name for name, _ in tools]] + (["CLI/clonectl"] if cli else [])
        r = size.get("ratio", {})

        def row(label, key, digits=2, ratio=None):
            cells = [label] + [_fmt(t[key], digits) for _, t in tools]
            return cells + ([_fmt(r.get(ratio)) + ("x" if r.get(ratio) is not None else "")] if cli else [])

        rows = [row("wall s", "wallSeconds", 2, "wall"), row("CPU s (user+sys)", "cpuSeconds", 2, "cpu"),
                row("peak RSS MB", "peakRssMB", 1, "peakRss"), row("API calls", "totalCalls", 0, "calls"),
                row("Run Command calls / instance / step", "runCommandCallsPerInstancePerStep", 3),
                row("poll rounds (average)", "pollRounds", 2),
                row("poll calls / instance / round", "pollCallsPerInstancePerRound", 4),
                row("throttles met", "throttles", 0)]
        for api in apis:
            rows.append([f"  {api} / instance"] + [_fmt(t["callsPerInstance"].get(api, 0.0), 3) for _, t in tools]
                        + ([""] if cli else []))
        title = f"{n} clones (latency {size['latencySeconds']} s per call)"
        if size.get("stepSeconds"):
            title += ", clonectl steps: " + ", ".join(f"{k} {v}" for k, v in size["stepSeconds"].items())
        out += [title, _grid(header, rows), ""]
    if memory:
        ctl = memory["controller"]
        rows = [["wall s", _fmt(ctl["wallSeconds"])], ["CPU s (user+sys)", _fmt(ctl["cpuSeconds"])],
                ["peak RSS MB", _fmt(ctl["peakRssMB"], 1)], ["API calls", str(ctl["totalCalls"])],
                ["Run Command calls / instance / step", _fmt(ctl["runCommandCallsPerInstancePerStep"], 3)],
                ["poll calls / instance / round", _fmt(ctl["pollCallsPerInstancePerRound"], 4)],
                ["throttles met", str(ctl["throttles"])]]
        out += [f"memory phase: clonectl alone on {memory['instances']:,} clones", _grid(["", "clonectl"], rows), ""]
    return "\n".join(out)


def format_targets(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        note = f" ({r['note']})" if r.get("note") else ""
        lines.append(f"{r['result']:<5} {r['target']}: {_fmt(r['value'], 4)}{note}")
    return "\n".join(lines)


def format_markdown(sizes: list[dict], memory: dict | None, latency: float) -> str:
    """Rows for the README's performance table (what | figure | target | reproduce)."""
    extra = "" if latency == 0.05 else f" --latency {latency:g}"
    reproduce = "`scripts/fleet-bench.sh --sizes {sizes} --memory-clones 0" + extra + "`"
    rows = ["| what | figure (latest run) | target | reproduce |", "| --- | --- | --- | --- |"]
    for size in sizes:
        n, ctl, cli, r = size["instances"], size["controller"], size.get("baseline"), size.get("ratio", {})
        fig = (f"clonectl {ctl['wallSeconds']:.1f} s wall, {ctl['cpuSeconds']:.2f} s CPU, {ctl['peakRssMB']:.1f} MB "
               f"peak RSS; {ctl['runCommandCallsPerInstancePerStep']:.2f} Run Command calls per instance per step, "
               f"{ctl['pollCallsPerInstancePerRound']:.3f} per instance per poll round; {ctl['throttles']} throttles")
        if cli:
            fig += (f"; CLI loop {cli['wallSeconds']:.1f} s wall, {cli['runCommandCallsPerInstancePerStep']:.2f} "
                    f"calls per instance per step, {cli['throttles']} throttles: **{r['wall']:.1f}x** the wall time")
        target = "<= 0.1 calls per instance per poll round, <= 3 per instance per step"
        if n == TARGET_RATIO_SIZE:
            target += f", >= {TARGET_RATIO:g}x less wall time than the CLI loop"
        what = f"post-clone (host name, time zone) + verify on {n} clones, {latency:g} s added per call"
        rows.append(f"| {what} | {fig} | {target} | {reproduce.format(sizes=n)} |")
    if memory:
        ctl = memory["controller"]
        rows.append(f"| clonectl post-clone + verify on {memory['instances']:,} clones (invocations in flight) | "
                    f"{ctl['peakRssMB']:.1f} MB peak RSS, {ctl['wallSeconds']:.1f} s wall, {ctl['cpuSeconds']:.2f} s "
                    f"CPU | under {TARGET_RSS_MB:g} MB | `scripts/fleet-bench.sh --sizes none "
                    f"--memory-clones {memory['instances']}{extra}` |")
    return "\n".join(rows)


def parse_step_seconds(text: str) -> dict:
    """`STEP: done in 3s` lines of clonectl run's progress (standard error), for the measured steps."""
    out = {}
    for m in re.finditer(r"^\S+ (post-clone|verify): done in (\S+)$", text, re.M):
        out[m.group(1)] = m.group(2)
    return out


# --- processes ------------------------------------------------------------------------------------------------------
class Children:
    """Every process the benchmark starts, each in its own session, so they can be stopped whatever happens."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, argv, **kw) -> subprocess.Popen:
        proc = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append(proc)
        return proc

    def stop(self, proc, grace: float = 5.0) -> None:
        if proc.returncode is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue
            except ChildProcessError:  # reaped by wait4 elsewhere
                return

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)


# Linux starts a child's peak RSS at its parent's RSS at fork time (the forked copy's high-water mark is kept
# across exec), so a child of this driver (boto3 loaded: ~70 MB) would report at least that. The measured command
# is therefore started by a small launcher (python -I -S, ~5 MB) that reaps it with wait4 and writes the figures.
LAUNCHER = r"""
import json, os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
start = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - start
with open(out + ".tmp", "w") as fh:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "wall": wall, "maxrssKiB": usage.ru_maxrss,
               "cpu": usage.ru_utime + usage.ru_stime, "user": usage.ru_utime, "sys": usage.ru_stime}, fh)
os.replace(out + ".tmp", out)
"""


def measure(children: Children, argv, env, stdout, stderr, timeout: float, label: str, heartbeat=None) -> dict:
    """Runs argv as one child (through LAUNCHER) and returns its exit code, wall time, ru_maxrss (KiB: the largest
    of the child and its waited-for descendants) and user+sys CPU of the child and all its descendants."""
    fd, result_path = tempfile.mkstemp(prefix="measure-", suffix=".json")
    os.close(fd)
    os.unlink(result_path)
    launcher = [os.path.join(VENV_BIN, "python"), "-I", "-S", "-c", LAUNCHER, result_path, *argv]
    start = time.monotonic()
    proc = children.start(launcher, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
    last_beat = start
    while True:
        try:
            proc.wait(1.0)
            break
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if now - start > timeout:
            children.stop(proc)
            raise RuntimeError(f"{label}: not finished after {timeout:.0f} s; stopped")
        if heartbeat and now - last_beat >= 30:
            last_beat = now
            heartbeat(now - start)
    try:
        with open(result_path) as fh:
            result = json.load(fh)
    except OSError:
        raise RuntimeError(f"{label}: the launcher exited {proc.returncode} without figures") from None
    os.unlink(result_path)
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalAws:
    """scripts/localaws.py as a child: a fresh moto + Run Command simulator on 127.0.0.1."""

    def __init__(self, children: Children, workdir: str, config: dict):
        self.children, self.workdir, self.config = children, workdir, config
        self.proc = None
        self.info: dict = {}
        self.latency_via = None
        self.call_log_mode = None  # "calls/reset" or "sequence numbers" (the simulator has no reset of the log)
        self.rate_limits_default = None  # the simulator's rateLimitsEnabled (None: it has no rate limits)

    def start(self, timeout: float = 120) -> dict:
        out = os.path.join(self.workdir, "localaws.json")
        self.log_path = os.path.join(self.workdir, "localaws.log")
        self.log_file = open(self.log_path, "w")
        argv = [os.path.join(VENV_BIN, "python"), os.path.join(REPO, "scripts", "localaws.py"),
                "--port", str(free_port()), "--out", out, "--exit-with-parent", "--config", json.dumps(self.config)]
        self.proc = self.children.start(argv, stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not os.path.exists(out):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(self.log_path) as fh:
                    raise RuntimeError(f"the local AWS did not start; its log:\n{fh.read()}")
            time.sleep(0.2)
        with open(out) as fh:
            self.info = json.load(fh)
        self.rate_limits_default = self.control("/config").get("rateLimitsEnabled")
        return self.info

    def stop(self) -> None:
        if self.proc is not None:
            self.children.stop(self.proc)
            self.proc = None
            self.log_file.close()

    def control(self, path: str, body=None, method: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.info["controlEndpoint"] + path, data=data,
                                     method=method or ("POST" if data is not None else "GET"),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.load(resp)

    def set_measuring(self, measuring: bool, latency: float) -> None:
        """Measured phases: the added latency and the simulator's own rate limits (as it starts). Setup: no latency
        and no rate limits, so launching hundreds of clones is not slowed by what is not measured."""
        self.set_latency(latency if measuring else 0)
        if self.rate_limits_default is not None:
            self.control("/config", {"rateLimitsEnabled": self.rate_limits_default if measuring else 0})

    @property
    def rate_limits(self) -> str:
        if self.rate_limits_default is None:
            return "none in this simulator"
        return "on" if self.rate_limits_default else "off"

    def set_latency(self, seconds: float) -> str:
        """A fixed added latency per call: the simulator's callLatencySeconds if it has it, else a `slow` fault rule
        on every API (the same effect: each answer is held back that long)."""
        if self.latency_via != "slow-fault":
            try:
                self.control("/config", {"callLatencySeconds": seconds})
                self.latency_via = "callLatencySeconds"
                return self.latency_via
            except urllib.error.HTTPError as exc:
                if exc.code != 400:
                    raise
        self.latency_via = "slow-fault"
        rules = [{"fault": "slow", "api": "*", "seconds": seconds}] if seconds > 0 else []
        self.control("/faults", {"rules": rules})
        return self.latency_via


class CallLog:
    """The simulator's call log for one measured phase. POST /__sim/calls/reset first if the simulator has it; else
    only the calls after the highest sequence number seen at the start count. The log keeps the last 20,000 calls,
    so it is read every 10 s and merged by sequence number."""

    def __init__(self, aws: LocalAws):
        self.aws = aws
        self.calls: dict[int, dict] = {}
        self.after = 0
        self.stopping = threading.Event()
        self.thread = None
        self.error = None

    def begin(self) -> None:
        try:
            self.aws.control("/calls/reset", {})
            self.aws.call_log_mode = "calls/reset"
        except urllib.error.HTTPError as exc:
            if exc.code not in (404, 405):
                raise
            self.aws.call_log_mode = "sequence numbers"
            self.after = max((c["seq"] for c in self.aws.control("/calls")["calls"]), default=0)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _read(self) -> dict:
        snap = self.aws.control("/calls")
        for call in snap["calls"]:
            if call["seq"] > self.after:
                self.calls[call["seq"]] = call
        return snap

    def _loop(self) -> None:
        while not self.stopping.wait(10):
            try:
                self._read()
            except Exception as exc:  # the final read reports; a missed merge only matters past 20,000 calls
                self.error = exc

    def end(self) -> dict:
        """The phase's summary (summarize_calls), with the simulator's exact counters when it keeps them."""
        self.stopping.set()
        self.thread.join(30)
        snap = self._read()
        entries = [self.calls[s] for s in sorted(self.calls)]
        summary = summarize_calls(entries, snap if self.aws.call_log_mode == "calls/reset" else None)
        seqs = sorted(self.calls)
        missing = (seqs[-1] - seqs[0] + 1 - len(seqs)) if seqs else 0
        if not summary["logComplete"]:
            log("  note: more calls than the simulator's log keeps between reads; counts are its exact counters, "
                "commands sent = SendCommand calls - throttled ones")
        elif missing:
            log(f"  warning: {missing} calls fell out of the simulator's call log between reads; not counted")
        return summary

    def count_now(self) -> int:
        return len(self.calls)


# --- the benchmark --------------------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        self.clonectl = os.environ.get("CLONECTL_BIN") or os.path.join(REPO, ".build", "release", "clonectl")
        self.children = Children()
        self.workdir = tempfile.mkdtemp(prefix="fleet-bench-")
        self.phase_seconds: dict[str, float] = {}

    # environment
    def env_for(self, info: dict) -> dict:
        env = dict(os.environ)
        # An operator's ~/.aws files (profiles, retry modes) must not change what is measured: empty ones instead.
        empty = os.path.join(self.workdir, "aws-empty")
        if not os.path.exists(empty):
            with open(os.open(empty, os.O_WRONLY | os.O_CREAT, 0o600), "w"):
                pass
        env.update(AWS_ACCESS_KEY_ID=info["accessKeyId"], AWS_SECRET_ACCESS_KEY=info["secretAccessKey"],
                   AWS_REGION=info["region"], AWS_DEFAULT_REGION=info["region"], AWS_ENDPOINT_URL=info["endpoint"],
                   AWS_EC2_METADATA_DISABLED="true", CLONECTL_POLL_SECONDS=POLL_SECONDS,
                   AWS_CONFIG_FILE=empty, AWS_SHARED_CREDENTIALS_FILE=empty,
                   PATH=VENV_BIN + os.pathsep + env.get("PATH", ""))
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        env.setdefault("CLONECTL_PAYLOADS", os.path.join(REPO, "ps-scripts"))
        return env

    def clonectl_run(self, argv, env, log_path, label, timeout=None) -> dict:
        with open(log_path, "w") as out, open(log_path + ".err", "w") as err:
            def beat(elapsed):
                log(f"  ... {label}: {elapsed:.0f} s, last line: {tail(log_path)}")
            res = measure(self.children, [self.clonectl, *argv], env, out, err,
                          timeout or self.args.phase_timeout, label, beat)
        if res["rc"] != 0:
            with open(log_path + ".err") as fh:
                errtext = fh.read()
            raise RuntimeError(f"{label}: clonectl exited {res['rc']}\n{tail(log_path, 20)}\n{errtext}")
        return res

    def timed(self, key: str, start: float) -> float:
        self.phase_seconds[key] = round(time.monotonic() - start, 1)
        return self.phase_seconds[key]

    def start_world(self, tag: str):
        folder = os.path.join(self.workdir, tag)
        os.makedirs(folder)
        aws = LocalAws(self.children, folder, TIMINGS)
        info = aws.start()
        info["fleetSubnetId"] = fleet_subnet(info)
        return folder, aws, info, self.env_for(info)

    def setup_plan(self, aws, info, env, folder, name, n) -> tuple[str, dict]:
        plan = os.path.join(folder, f"{name}.yaml")
        with open(plan, "w") as fh:
            fh.write(make_plan(name, info, n))
        check = subprocess.run([self.clonectl, "plan", "validate", plan], env=env, capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"plan {plan} is invalid:\n{check.stdout}{check.stderr}")
        ledger = os.path.join(folder, f"{name}.ledger.sqlite")
        start = time.monotonic()
        log(f"  setup {name}: run --until launch-clones ({n} clones)")
        self.clonectl_run(["run", plan, "--until", "launch-clones", "--ledger", ledger], env,
                          os.path.join(folder, f"{name}.setup.log"), f"setup {name}")
        log(f"  setup {name}: done in {time.monotonic() - start:.1f} s")
        clones = clone_instances(ledger, name)
        if len(clones) != n:
            raise RuntimeError(f"setup {name}: {len(clones)} running clones found, {n} planned")
        return plan, clones

    def measure_controller(self, aws, env, folder, name, plan, n, label) -> dict:
        aws.set_measuring(True, self.args.latency)
        calls = CallLog(aws)
        calls.begin()
        log_path = os.path.join(folder, f"{name}.run.log")
        ledger = os.path.join(folder, f"{name}.ledger.sqlite")
        log(f"  {label}: clonectl run --until verify on {n} clones")

        def beat(elapsed):
            log(f"  ... {label}: {elapsed:.0f} s, {calls.count_now()} calls so far, last line: {tail(log_path)}")

        with open(log_path, "w") as out, open(log_path + ".err", "w") as err:
            res = measure(self.children, [self.clonectl, "run", plan, "--until", "verify", "--ledger", ledger,
                                          "--output", "json"], env, out, err, self.args.phase_timeout, label, beat)
        summary = calls.end()
        aws.set_measuring(False, 0)
        with open(log_path) as fh:
            text = fh.read()
        if res["rc"] != 0:
            with open(log_path + ".err") as fh:
                raise RuntimeError(f"{label}: clonectl exited {res['rc']}\n{text[-4000:]}\n{fh.read()}")
        figures = compute_figures(n, summary, res["wall"], res["maxrssKiB"], res["cpu"])
        # Progress lines ("STEP: done in 3s") go to standard error; standard output is the JSON document.
        with open(log_path + ".err") as fh:
            figures["stepSeconds"] = parse_step_seconds(fh.read())
        log(f"  {label}: {figures['wallSeconds']:.2f} s wall, {figures['totalCalls']} calls, "
            f"{figures['peakRssMB']} MB peak RSS")
        return figures

    def measure_baseline(self, aws, env, folder, clones: dict, n) -> dict:
        loop_dir = os.path.join(folder, "cli-loop")
        start = time.monotonic()
        log(f"  baseline: rendering {n * len(STEPS)} command texts with clonectl payloads render (not timed)")
        render_all(self.clonectl, env, loop_dir, clones)
        log(f"  baseline: rendered in {time.monotonic() - start:.1f} s")
        aws.set_measuring(True, self.args.latency)
        calls = CallLog(aws)
        calls.begin()
        out_path = os.path.join(folder, "cli-loop.out")
        env = dict(env, CLI_LOOP_TIMEOUT=str(int(self.args.phase_timeout)))
        log(f"  baseline: scripts/bench/cli-loop.sh on {n} clones (aws CLI, one call per instance)")

        def beat(elapsed):
            log(f"  ... baseline: {elapsed:.0f} s, {calls.count_now()} calls so far, {count_lines(out_path)} of "
                f"{n * len(STEPS)} invocations finished")

        with open(out_path, "w") as out, open(out_path + ".err", "w") as err:
            res = measure(self.children, ["bash", os.path.join(REPO, "scripts", "bench", "cli-loop.sh"), loop_dir],
                          env, out, err, self.args.phase_timeout, "baseline", beat)
        summary = calls.end()
        aws.set_measuring(False, 0)
        with open(out_path) as fh:
            statuses = [line.split() for line in fh if line.strip()]
        if res["rc"] != 0:
            with open(out_path + ".err") as fh:
                raise RuntimeError(f"baseline: cli-loop.sh exited {res['rc']}\n{fh.read()[-4000:]}\n"
                                   f"{[s for s in statuses if s[-1] != 'Success'][:20]}")
        figures = compute_figures(n, summary, res["wall"], res["maxrssKiB"], res["cpu"])
        figures["invocationsSucceeded"] = sum(1 for s in statuses if s[-1] == "Success")
        log(f"  baseline: {figures['wallSeconds']:.2f} s wall, {figures['totalCalls']} calls, "
            f"{figures['invocationsSucceeded']} of {n * len(STEPS)} invocations succeeded")
        return figures

    def run_size(self, n: int) -> dict:
        log(f"== {n} clones ==")
        t0 = time.monotonic()
        folder, aws, info, env = self.start_world(f"size-{n}")
        try:
            log(f"  local AWS at {info['endpoint']} ({time.monotonic() - t0:.1f} s to start)")
            aws.set_measuring(False, 0)
            s0 = time.monotonic()
            ctl_plan, _ = self.setup_plan(aws, info, env, folder, f"bench-ctl-{n}", n)
            cli_plan, cli_clones = (None, None) if self.args.skip_baseline else \
                self.setup_plan(aws, info, env, folder, f"bench-cli-{n}", n)
            self.timed(f"{n}:setup", s0)
            s0 = time.monotonic()
            size = {"instances": n, "latencySeconds": self.args.latency}
            size["controller"] = self.measure_controller(aws, env, folder, f"bench-ctl-{n}", ctl_plan, n,
                                                         "controller")
            size["stepSeconds"] = size["controller"].pop("stepSeconds")
            self.timed(f"{n}:controller", s0)
            if not self.args.skip_baseline:
                s0 = time.monotonic()
                size["baseline"] = self.measure_baseline(aws, env, folder, cli_clones, n)
                size["ratio"] = ratios(size["controller"], size["baseline"])
                self.timed(f"{n}:baseline", s0)
            size["latencyVia"] = aws.latency_via
            size["callLog"] = aws.call_log_mode
            size["rateLimits"] = aws.rate_limits
        finally:
            aws.stop()
        self.timed(f"{n}:total", t0)
        return size

    def run_memory(self, m: int) -> dict:
        log(f"== memory phase: {m:,} clones, clonectl only ==")
        t0 = time.monotonic()
        folder, aws, info, env = self.start_world(f"memory-{m}")
        try:
            aws.set_measuring(False, 0)
            s0 = time.monotonic()
            plan, _ = self.setup_plan(aws, info, env, folder, f"bench-mem-{m}", m)
            self.timed("memory:setup", s0)
            s0 = time.monotonic()
            controller = self.measure_controller(aws, env, folder, f"bench-mem-{m}", plan, m, "memory phase")
            self.timed("memory:controller", s0)
            result = {"instances": m, "latencySeconds": self.args.latency, "latencyVia": aws.latency_via,
                      "callLog": aws.call_log_mode, "rateLimits": aws.rate_limits,
                      "stepSeconds": controller.pop("stepSeconds"), "controller": controller}
        finally:
            aws.stop()
        self.timed("memory:total", t0)
        return result

    def run(self) -> int:
        args = self.args
        if not os.access(self.clonectl, os.X_OK):
            log(f"fleet-bench: no clonectl at {self.clonectl} (build it or set CLONECTL_BIN)")
            return 2
        log(f"fleet benchmark: clonectl {self.clonectl}; sizes {args.sizes}; {args.latency} s per call; memory "
            f"phase {args.memory_clones or 'skipped'}; work folder {self.workdir}")
        sizes, memory = [], None
        for n in args.sizes:
            sizes.append(self.run_size(n))
        if args.memory_clones:
            memory = self.run_memory(args.memory_clones)
        targets = check_targets(sizes, memory)
        log("")
        log(format_table(sizes, memory))
        log("targets (clonectl):")
        log(format_targets(targets))
        log("")
        log("for the README's performance table:")
        log(format_markdown(sizes, memory, args.latency))
        log("")
        log("phase seconds: " + ", ".join(f"{k} {v}" for k, v in self.phase_seconds.items()))
        result = {"settings": {"sizes": args.sizes, "latencySeconds": args.latency, "memoryClones": args.memory_clones,
                               "baseline": not args.skip_baseline, "pollSeconds": float(POLL_SECONDS),
                               "timings": TIMINGS, "clonectl": self.clonectl, "cpuCount": os.cpu_count()},
                  "sizes": sizes, "memory": memory, "targets": targets, "phaseSeconds": self.phase_seconds}
        if args.out:
            with open(args.out, "w") as fh:
                json.dump(result, fh, indent=2)
                fh.write("\n")
            log(f"results: {args.out}")
        return 0


def tail(path: str, lines: int = 1) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 8192))
            text = fh.read().decode("utf-8", "replace").rstrip("\n").splitlines()
        return "\n".join(text[-lines:]) if text else ""
    except OSError:
        return ""


def count_lines(path: str) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return 0


def fleet_subnet(info: dict) -> str:
    """A /18 beside the bootstrap's /24 for the clones: a /24 holds 251 instances (EC2 reserves 5 addresses), far
    fewer than two plans of 500 or the memory phase's 5,000."""
    import boto3
    ec2 = boto3.client("ec2", endpoint_url=info["endpoint"], region_name=info["region"],
                       aws_access_key_id=info["accessKeyId"], aws_secret_access_key=info["secretAccessKey"])
    return ec2.create_subnet(VpcId=info["vpcId"], CidrBlock="10.20.64.0/18")["Subnet"]["SubnetId"]


def clone_instances(ledger: str, plan_name: str) -> dict:
    """{clone name: instance id} of a plan's clones, from the run state in the setup's ledger. The setup run waited
    until every clone was running with its agent Online; describing 5,000 instances through moto again would take
    minutes (one such DescribeInstances outlasted boto3's 60 s read timeout)."""
    import sqlite3
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT state_json FROM runs WHERE plan_name = ? ORDER BY created_at DESC LIMIT 1",
                         (plan_name,)).fetchone()
    finally:
        db.close()
    if not row or not row[0]:
        raise RuntimeError(f"no run state of plan {plan_name} in {ledger}")
    return dict(json.loads(row[0]).get("clones") or {})


def render_all(clonectl: str, env: dict, loop_dir: str, clones: dict) -> None:
    """DIR/steps and DIR/<step>/<instance>.json ({"commands": [loader text]}) for scripts/bench/cli-loop.sh: the
    exact text clonectl would put in the document's commands parameter, one rendering (fresh nonce) each."""
    os.makedirs(loop_dir)
    with open(os.path.join(loop_dir, "steps"), "w") as fh:
        fh.write("\n".join(STEPS) + "\n")
    jobs = []
    for step in STEPS:
        os.makedirs(os.path.join(loop_dir, step))
        for name, iid in sorted(clones.items()):
            host = "C" + name[1:]  # clone_name(i) -> host_name(i)
            jobs.append((step, iid, step_params(step, host)))

    def render(job):
        step, iid, params = job
        argv = [clonectl, "payloads", "render", step] + [a for k, v in params for a in ("--param", f"{k}={v}")]
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr}")
        with open(os.path.join(loop_dir, step, f"{iid}.json"), "w") as fh:
            json.dump({"commands": [done.stdout]}, fh)

    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        list(pool.map(render, jobs))


def parse_sizes(text: str) -> list[int]:
    if text.strip().lower() == "none":
        return []
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes numbers separated by commas, got {text!r}") from None
    if not sizes or any(s < 1 or s > 9999 for s in sizes):
        raise argparse.ArgumentTypeError("each size is a number of clones from 1 to 9999")
    return sizes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="fleet-bench.sh", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=[10, 100, 500], help="clone counts (default 10,100,500; none: only the memory phase)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every call (default 0.05)")
    parser.add_argument("--memory-clones", type=int, default=TARGET_MEMORY_CLONES,
                        help="clones of the memory phase (default 5000; 0 skips it)")
    parser.add_argument("--skip-baseline", action="store_true", help="measure clonectl only")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (plans, ledgers, logs)")
    parser.add_argument("--phase-timeout", type=float, default=7200,
                        help="seconds each phase may take (default 7200: the CLI loop on 500 clones makes ~3,000 "
                             "AWS CLI calls of about a second each)")
    args = parser.parse_args(argv)
    if args.memory_clones < 0 or args.memory_clones > 9999:
        parser.error("--memory-clones is from 0 to 9999")
    if args.latency < 0:
        parser.error("--latency must not be negative")
    if not args.sizes and not args.memory_clones:
        parser.error("nothing to measure: --sizes none and --memory-clones 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    bench = Bench(args)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        return bench.run()
    except KeyboardInterrupt:
        log("fleet-bench: interrupted; stopping what it started")
        return 130
    except RuntimeError as exc:
        log(f"fleet-bench: {exc}")
        return 1
    finally:
        bench.children.stop_all()
        if args.keep:
            log(f"work folder kept: {bench.workdir}")
        else:
            shutil.rmtree(bench.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
