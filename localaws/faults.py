r"""Faults on demand and the call log.

A fault rule is JSON: {"fault": KIND, "api": "ssm:SendCommand" | "ssm:*" | "ec2:*" | "*", "share": 0..1,
"count": N, ...}. `share` is applied deterministically (share 0.5 = every second matching call, starting with the
second; 1 = every call) so tests never depend on chance; `count` stops the rule after N faults.

API kinds (checked by the front before a call is served or forwarded):
  throttle  SSM: 400 ThrottlingException "Rate exceeded"; EC2: 503 RequestLimitExceeded; others: 400 Throttling
  error5xx  SSM: 500 InternalServerError; EC2: 500 InternalError; others: 500 InternalFailure
  drop        the connection is closed without an answer; the call is NOT carried out
  slow        the call is held `seconds` (default 2) before it is carried out, then answered: it lands at the end
              of the hold even when the client has gone (killed, timed out) meanwhile
  lostAnswer  the call IS carried out, then the connection is closed without an answer (a lost answer)
  lateAnswer  the call is carried out at once and its answer held `seconds` (default 2): a client killed during
              the hold leaves a call that has landed
Invocation kinds (checked once per invocation when the worker starts; optional "instanceId" narrows them, and
optional "payload" to invocations running that payload, e.g. "jobs-restore"):
  undeliverable, deliveryTimedOut, truncateOutput ("chars": keep that many), tamperEnvelope,
  agentNotBack (the agent does not return after a 3010 reboot), sysprepBlocker ("reason": text added to the guest),
  delayed ("seconds", default 1: the agent is away at delivery, the invocation shows Delayed that long, then
  runs or ends DeliveryTimedOut), cancelling ("seconds", default 1: cancelled while it runs, as by CancelCommand:
  Cancelling that long, then Cancelled), terminated (never sent: Cancelled/Terminated, as when the command has
  exceeded MaxErrors), outputPrefix ("text": printed before the payload's output, as a localized Windows prints
  warnings in its own language: non-ASCII text that the agent's byte cuts count in UTF-8 bytes)
Guest kinds (also per invocation; they change the guest's state, which stays until a test or an operator fixes it
through POST /__sim/guests/<id>, as on a real server):
  serviceWontStart ("service", "reason": 'domain-account' fails until the guest is in a domain, else the text):
      guest serviceStartFailures[service] = reason
  ec2LaunchBusy      EC2Launch v2 still in its stages: ec2LaunchStatus 'running' (the guest gets EC2Launch v2 if
                     it had v1/EC2Config, as after an upgrade); fixed by {"ec2LaunchStatus": "ok"}
  setHostNameTask    an active setHostName task in agent-config.yml (v2 as above): ec2LaunchTasks + setHostName
  insecureDataRoot   C:\ProgramData\clonectl holds an item a non-administrator created ("path", "owner"):
                     dataRoot.untrustedItem; fixed by {"dataRoot": {"owner": "S-1-5-32-544", "protected": true}}
  computerAccountExists  the domain already has a computer account with the guest's current name ("name" to
                     name another): domainComputerAccounts; fixed by {"domainComputerAccounts": []}
  sysprepFails       Sysprep starts (the payload says changed) and then fails without shutting down, writing
                     "lines" (default 50) lines of "width" (default 120) characters to Panther's setupact.log, every
                     tenth an Error (so setuperr.log has them too): sysprepFails; fixed by {"sysprepFails": null}

The call log keeps the last MAX_LOG calls; the counters beside it (calls, throttled answers, rate-limited calls
per API, and the total) are kept exactly however many calls there were, until the log is cleared.
"""
import collections
import threading
import time

API_KINDS = ("throttle", "error5xx", "drop", "slow", "lostAnswer", "lateAnswer")
GUEST_KINDS = ("serviceWontStart", "ec2LaunchBusy", "setHostNameTask", "insecureDataRoot", "computerAccountExists",
               "sysprepFails")
INVOCATION_KINDS = ("undeliverable", "deliveryTimedOut", "truncateOutput", "tamperEnvelope", "agentNotBack",
                    "sysprepBlocker", "delayed", "cancelling", "terminated", "outputPrefix") + GUEST_KINDS
MAX_LOG = 20000


class FaultError(ValueError):
    """A malformed rule: the control API answers 400 with this text."""


def _validate(rule) -> dict:
    if not isinstance(rule, dict):
        raise FaultError("each rule must be a JSON object")
    kind = rule.get("fault")
    if kind not in API_KINDS + INVOCATION_KINDS:
        raise FaultError(f"fault {kind!r} is not one of {', '.join(API_KINDS + INVOCATION_KINDS)}")
    share = rule.get("share", 1)
    if not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise FaultError(f"share must be a number from 0 to 1, got {share!r}")
    count = rule.get("count")
    if count is not None and (not isinstance(count, int) or count < 0):
        raise FaultError(f"count must be a non-negative integer, got {count!r}")
    if kind in API_KINDS and not isinstance(rule.get("api", "*"), str):
        raise FaultError("api must be a string such as 'ssm:SendCommand', 'ec2:*' or '*'")
    if "payload" in rule and not isinstance(rule["payload"], str):
        raise FaultError("payload must be a payload name such as 'jobs-restore'")
    if kind == "sysprepFails":
        for name, low, high in (("lines", 1, 200000), ("width", 60, 4000)):
            value = rule.get(name, low)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise FaultError(f"sysprepFails: {name} must be an integer from {low} to {high}, got {value!r}")
    if kind == "serviceWontStart" and not isinstance(rule.get("service"), str):
        raise FaultError("serviceWontStart needs \"service\": the service name, e.g. \"AppSvc\"")
    clean = dict(rule)
    clean.update({"share": float(share), "seen": 0, "fired": 0})
    return clean


def _api_matches(pattern: str, api: str) -> bool:
    if pattern in ("*", api):
        return True
    return pattern.endswith(":*") and api.startswith(pattern[:-1])


class Faults:
    def __init__(self, max_log: int = MAX_LOG):
        self.lock = threading.Lock()
        self.rules: list[dict] = []
        self.calls: collections.deque = collections.deque(maxlen=max_log)
        self.seq = 0
        self._clear_counts()

    def _clear_counts(self) -> None:
        self.counts: dict[str, int] = {}
        self.throttles: dict[str, int] = {}     # answered with a throttling error (rate limit or throttle fault)
        self.rate_limited: dict[str, int] = {}  # of those, the ones the rate limiter refused
        self.total = 0
        self.in_flight: dict[str, int] = {}  # calls held by slow / lateAnswer right now, per API

    def hold(self, api: str, delta: int) -> None:
        """Counts a call held by a slow or lateAnswer fault (+1 when the hold starts, -1 when it ends), so a test
        can act while the call is in flight."""
        with self.lock:
            self.in_flight[api] = self.in_flight.get(api, 0) + delta

    def set_rules(self, rules) -> None:
        if not isinstance(rules, list):
            raise FaultError('the body must be {"rules": [ ... ]}')
        clean = [_validate(r) for r in rules]
        with self.lock:
            self.rules = clean

    def reset(self) -> None:
        with self.lock:
            self.rules = []
            self.calls.clear()
            self._clear_counts()

    def limit_log(self, max_log: int) -> None:
        """Keeps at most max_log calls from now on (tests use a small cap to go past it quickly)."""
        with self.lock:
            self.calls = collections.deque(self.calls, maxlen=max_log)

    def reset_calls(self) -> None:
        """Clears the call log and its counters; the rules (and their seen/fired counters) stay."""
        with self.lock:
            self.calls.clear()
            self._clear_counts()

    def _fires(self, rule) -> bool:
        """Deterministic share: the n-th matching call faults when floor(n*share) steps up."""
        if rule.get("count") is not None and rule["fired"] >= rule["count"]:
            return False
        n = rule["seen"]
        rule["seen"] += 1
        if int((n + 1) * rule["share"] + 1e-9) > int(n * rule["share"] + 1e-9):
            rule["fired"] += 1
            return True
        return False

    def api_faults(self, api: str) -> list[dict]:
        """The rules that fire for this call, in rule order (a slow rule and then a throttle may both apply)."""
        with self.lock:
            return [dict(r) for r in self.rules
                    if r["fault"] in API_KINDS and _api_matches(r.get("api", "*"), api) and self._fires(r)]

    def invocation_faults(self, instance_id: str, payload: str | None = None) -> dict:
        with self.lock:
            return {r["fault"]: dict(r) for r in self.rules
                    if r["fault"] in INVOCATION_KINDS and r.get("instanceId") in (None, instance_id)
                    and r.get("payload") in (None, payload) and self._fires(r)}

    def log(self, api: str, status: int, by: str, fault: str | None = None, authz: list | None = None) -> None:
        """`authz`: the authorization requests AWS would make for the call (authz.py), kept with it when known."""
        with self.lock:
            self.seq += 1
            entry = {"seq": self.seq, "api": api, "time": time.time(), "status": status, "by": by, "fault": fault}
            if authz is not None:
                entry["authz"] = authz
            self.calls.append(entry)
            self.total += 1
            self.counts[api] = self.counts.get(api, 0) + 1
            if fault == "throttle":
                self.throttles[api] = self.throttles.get(api, 0) + 1
                if by == "ratelimit":
                    self.rate_limited[api] = self.rate_limited.get(api, 0) + 1

    def snapshot(self, with_calls: bool = True) -> dict:
        """The log and its exact counters: counts {api: calls}, throttles {api: throttled answers},
        rateLimited {api: calls the rate limiter refused}, total, and dropped (calls no longer in the log)."""
        with self.lock:
            return {"calls": list(self.calls) if with_calls else [], "counts": dict(self.counts),
                    "throttles": dict(self.throttles), "rateLimited": dict(self.rate_limited), "total": self.total,
                    "inFlight": {k: v for k, v in self.in_flight.items() if v},
                    "dropped": self.total - len(self.calls), "maxLog": self.calls.maxlen}

    def describe(self) -> list:
        with self.lock:
            return [dict(r) for r in self.rules]
