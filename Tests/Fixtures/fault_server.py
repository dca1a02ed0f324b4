#!/usr/bin/env python3
"""A scriptable HTTP/1.1 server that misbehaves on request, for transport and retry tests.

Run:  python fault_server.py --port N [--host 127.0.0.1]
Plain Python 3 standard library. HTTP/1.1 with keep-alive; every accepted TCP connection is counted, so tests
can prove connection reuse.

Control API (these paths are never scripted and never counted as requests):
  POST /__control  body JSON {"script": [action, ...], "default": action}
      Replaces the script. Each later non-control request consumes the next script entry, in arrival order;
      when the script is empty it gets "default" (initially {"action": "echo"}). Both keys are optional:
      a missing "script" leaves the script empty, a missing "default" keeps the current default.
      Answers 200 {"ok": true, "queued": n}; a malformed body answers 400 with the reason.
  GET  /__stats    200 {"requests": n, "connections": n, "scriptRemaining": n}
  GET  /__requests 200 [{"method", "path", "query", "headers": {lowercased name: value}, "bodyLength", "action"}]
                   (the last 1000 non-control requests, oldest first)
  POST /__reset    empties the script, restores the echo default and zeroes the counters and the log.

Actions:
  {"action": "echo"}
      200, Content-Type application/json, body {"method", "path", "query", "headers": {lowercased name: value,
      repeated names joined with ", "}, "rawHeaders": [[name, value], ...] as received, "body": base64,
      "bodyLength": n, "bodySha256": hex}.
  {"action": "status", "code": 503, "body": "text", "headers": {"Name": "value"}}
      That status with that body (default empty) and headers; Content-Length is always set.
  {"action": "drop"}
      Reads the request, then closes the socket without answering (curl reports 52, empty reply).
      Note: libcurl silently re-sends once when a *reused* keep-alive connection dies before any response
      byte, so a drop on a reused connection consumes a second script entry. Script two drops, or use a fresh
      client, when a test must see the failure.
  {"action": "reset"}
      Reads the request, then closes with a TCP RST (SO_LINGER 0): curl reports 56 (receive failure) or 52.
  {"action": "interim", "code": 102, "headers": {"X-Interim": "1"}, "then": action}
      Sends an interim 1xx response carrying those headers, then performs `then` (default echo). Clients must
      keep only the final response's headers.
  {"action": "slow", "delay": 2.0, "then": action}
      Sleeps `delay` seconds, then performs `then` (default echo).
  {"action": "big", "bytes": N, "chunked": false}
      200 with N bytes of "x"; with "chunked": true it omits Content-Length and uses chunked encoding.
"""
import argparse
import base64
import hashlib
import json
import os
import signal
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

DEFAULT_ACTION = {"action": "echo"}


class State:
    """Everything shared between handler threads, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.script = []
        self.default = dict(DEFAULT_ACTION)
        self.requests = 0
        self.connections = 0
        self.log = []

    def next_action(self):
        with self.lock:
            self.requests += 1
            return self.script.pop(0) if self.script else self.default


STATE = State()


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many concurrent clients connect at once; the default backlog of 5 drops SYNs

    def get_request(self):
        conn = super().get_request()
        with STATE.lock:
            STATE.connections += 1
        return conn


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body are separate writes: Nagle + delayed ACK adds 40 ms

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def dispatch(self):
        body = self.read_body()
        path = urlsplit(self.path).path
        if path.startswith("/__"):
            return self.control(path, body)
        action = STATE.next_action()
        split = urlsplit(self.path)
        with STATE.lock:
            STATE.log.append({
                "method": self.command, "path": split.path, "query": split.query,
                "headers": self.header_dict(), "bodyLength": len(body), "action": action.get("action"),
            })
            del STATE.log[:-1000]
        try:
            self.perform(action, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout or cancellation)

    def header_dict(self):
        merged = {}
        for name, value in self.headers.items():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged

    def control(self, path, body):
        if path == "/__control" and self.command == "POST":
            try:
                spec = json.loads(body or b"{}")
                script = spec.get("script", [])
                if not isinstance(script, list) or not all(isinstance(a, dict) and "action" in a for a in script):
                    raise ValueError('"script" must be a list of objects with an "action" key')
            except ValueError as e:
                return self.send(400, json.dumps({"ok": False, "error": str(e)}).encode(), "application/json")
            with STATE.lock:
                STATE.script = list(script)
                if "default" in spec:
                    STATE.default = spec["default"]
            return self.send(200, json.dumps({"ok": True, "queued": len(script)}).encode(), "application/json")
        if path == "/__stats":
            with STATE.lock:
                stats = {"requests": STATE.requests, "connections": STATE.connections,
                         "scriptRemaining": len(STATE.script)}
            return self.send(200, json.dumps(stats).encode(), "application/json")
        if path == "/__requests":
            with STATE.lock:
                log = list(STATE.log)
            return self.send(200, json.dumps(log).encode(), "application/json")
        if path == "/__reset" and self.command == "POST":
            with STATE.lock:
                STATE.reset()
            return self.send(200, b'{"ok": true}', "application/json")
        return self.send(404, f"unknown control path {path}".encode(), "text/plain")

    def perform(self, action, body):
        kind = action.get("action", "echo")
        if kind == "echo":
            return self.send(200, self.echo(body), "application/json")
        if kind == "status":
            payload = str(action.get("body", "")).encode()
            return self.send(int(action.get("code", 200)), payload, None, action.get("headers") or {})
        if kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if kind == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return None
        if kind == "interim":
            lines = [f"HTTP/1.1 {int(action.get('code', 102))} Interim\r\n"]
            lines += [f"{n}: {v}\r\n" for n, v in (action.get("headers") or {"X-Interim": "1"}).items()]
            self.wfile.write(("".join(lines) + "\r\n").encode("latin-1"))
            return self.perform(action.get("then") or DEFAULT_ACTION, body)
        if kind == "slow":
            time.sleep(float(action.get("delay", 1.0)))
            return self.perform(action.get("then") or DEFAULT_ACTION, body)
        if kind == "big":
            return self.big(int(action.get("bytes", 0)), bool(action.get("chunked", False)))
        return self.send(500, f"fault_server: unknown action {kind!r}".encode(), "text/plain")

    def echo(self, body):
        split = urlsplit(self.path)
        return json.dumps({
            "method": self.command, "path": split.path, "query": split.query,
            "headers": self.header_dict(), "rawHeaders": [[n, v] for n, v in self.headers.items()],
            "body": base64.b64encode(body).decode(), "bodyLength": len(body),
            "bodySha256": hashlib.sha256(body).hexdigest(),
        }).encode()

    def send(self, code, payload, content_type, headers=None):
        self.send_response(code)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def big(self, size, chunked):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        block = b"x" * 65536
        left = size
        while left > 0:
            piece = block[:min(left, len(block))]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            left -= len(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


def watch_parent(parent: int) -> None:
    """Exits the whole process once it is re-parented: its test process died without stopping it."""
    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description="Scriptable faulty HTTP/1.1 server for tests.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started this one goes away (a crashed test run)")
    args = parser.parse_args()
    if args.exit_with_parent:
        watch_parent(os.getppid())
    # A parent may hand down a blocked SIGTERM (the Swift test runner does): unblock it, or a plain
    # terminate() would not stop this server and the parent would wait for its SIGKILL fallback.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(signal.Signals))
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    server = FaultServer((args.host, args.port), Handler)
    print(f"fault_server listening on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
