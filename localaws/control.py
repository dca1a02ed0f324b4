"""The control API under /__sim/ (JSON in, JSON out; local only, no signature):

  GET  /__sim/health                 {"ok": true}
  GET  /__sim/calls[?api=ssm:SendCommand]   {"calls": [{seq, api, time, status, by, fault}], "counts": {api: n}}
  GET  /__sim/faults                 the active rules with their seen/fired counters
  POST /__sim/faults                 {"rules": [...]} replaces the rules (faults.py documents them)
  GET  /__sim/config, POST /__sim/config {"pendingSeconds": 2, ...}: timings (sim.DEFAULTS)
  GET  /__sim/guests/<instance id>   the guest model; POST patches top-level keys (e.g. {"agentInstalled": false})
  GET  /__sim/images/<image id>      the guest snapshot kept for an image
  POST /__sim/reset                  clears faults and the call log, restores the default timings
"""
import json
from urllib.parse import parse_qs

from .faults import FaultError
from .sim import DEFAULTS, ConfigError


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
            snap = sim.faults.snapshot()
            wanted = parse_qs(environ.get("QUERY_STRING", "")).get("api")
            if wanted:
                snap["calls"] = [c for c in snap["calls"] if c["api"] in wanted]
            return _json(200, snap)
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
            sim.config.clear()
            sim.config.update(DEFAULTS)
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
