"""The control API under /__sim/ (JSON in, JSON out; local only, no signature):

  GET  /__sim/health                 {"ok": true}
  GET  /__sim/calls[?api=ssm:SendCommand][&log=0]
        {"calls": [{seq, api, time, status, by, fault}],   the last faults.MAX_LOG calls (api= filters them;
                                                           log=0 leaves them out)
         "counts": {api: n},        every call answered, per API (exact beyond the log's cap; api= does not filter)
         "throttles": {api: n},     calls answered with a throttling error (rate limit or throttle fault)
         "rateLimited": {api: n},   of those, the ones the rate limiter refused (logged with by "ratelimit")
         "total": n, "dropped": n (calls no longer in the log), "maxLog": n}
        An API with no such call is absent from a map (read a missing API as 0).
  POST /__sim/calls/reset            clears the call log and its counters; config, faults, rate-limit buckets stay
  GET  /__sim/faults                 the active rules with their seen/fired counters
  POST /__sim/faults                 {"rules": [...]} replaces the rules (faults.py documents them)
  GET  /__sim/config, POST /__sim/config {"pendingSeconds": 2, ...}: settings (sim.DEFAULTS); a POST changes only
                                     the settings it names, rateLimits entry by entry (ratelimits.merge), and
                                     answers 400 with what to fix, changing nothing, if one is wrong
  GET  /__sim/ratelimits             {"enabled": 0|1, "buckets": [{account, api, burst, refill, tokens}]}
  GET  /__sim/guests/<instance id>   the guest model; POST patches top-level keys (e.g. {"agentInstalled": false})
  GET  /__sim/images/<image id>      the guest snapshot kept for an image
  POST /__sim/reset                  clears faults and the call log, restores the default settings (timings, rate
                                     limits) and refills every rate-limit bucket
"""
import json
from urllib.parse import parse_qs

from .faults import FaultError
from .sim import ConfigError


def _json(status: int, value):
    return status, [("Content-Type", "application/json")], json.dumps(value, default=str).encode()


def _body(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        return json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None


def handle(sim, environ, path: str):
    method = environ["REQUEST_METHOD"]
    try:
        if path == "/__sim/health":
            return _json(200, {"ok": True})
        if path == "/__sim/calls" and method == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            snap = sim.faults.snapshot(with_calls=query.get("log", ["1"])[-1] != "0")
            wanted = query.get("api")
            if wanted:
                snap["calls"] = [c for c in snap["calls"] if c["api"] in wanted]
            return _json(200, snap)
        if path == "/__sim/calls/reset" and method == "POST":
            sim.faults.reset_calls()
            return _json(200, {"ok": True})
        if path == "/__sim/ratelimits" and method == "GET":
            return _json(200, {"enabled": sim.config["rateLimitsEnabled"], "buckets": sim.limiter.describe()})
        if path == "/__sim/faults":
            if method == "POST":
                body = _body(environ)
                sim.faults.set_rules(body.get("rules") if isinstance(body, dict) else None)
            return _json(200, {"rules": sim.faults.describe()})
        if path == "/__sim/config":
            if method == "POST":
                body = _body(environ)
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object of settings")
                sim.update_config(body)
            return _json(200, sim.config)
        if path == "/__sim/reset" and method == "POST":
            sim.faults.reset()
            sim.reset_config()
            return _json(200, {"ok": True})
        if path.startswith("/__sim/guests/"):
            iid = path.rsplit("/", 1)[1]
            if method == "POST":
                body = _body(environ)
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object of guest keys")
                with sim.guests.lock:
                    return _json(200, sim.guests.patch(iid, body))
            with sim.guests.lock:  # the worker changes guests; serialise a consistent copy
                guest = sim.guests.get(iid)
                return _json(200, guest) if guest is not None else _json(404, {"error": f"no guest for {iid}"})
        if path.startswith("/__sim/images/"):
            snap = sim.guests.images.get(path.rsplit("/", 1)[1])
            return _json(200, snap) if snap is not None else _json(404, {"error": "no guest snapshot for that image"})
    except (ValueError, FaultError, ConfigError) as exc:
        return _json(400, {"error": str(exc)})
    return _json(404, {"error": f"no control route {method} {path}; see localaws/control.py"})
