"""The front server: one public port that routes each call to the simulator or, byte for byte, to moto.

SSM Run Command operations (ssm_api.SERVED) are answered here after a SigV4 check; EC2 goes through ec2_front
(which forwards to moto and adjusts the answer); everything else (STS, IAM, Parameter Store, other SSM calls) is
forwarded unchanged and its answer returned as is, but IAM SimulatePrincipalPolicy, which moto does not serve
(iamsim.py). IAM CreateAccessKey and STS AssumeRole answers are read on the
way back so their keys can sign Run Command calls too. /__sim/* is the control API (see control.py).

Every AWS call, in this order: the added latency (config callLatencySeconds; a plain sleep, no lock held, so
concurrent calls overlap), the fault rules (faults.py), the rate limit of its account and API (ratelimits.py;
config rateLimitsEnabled, rateLimits), then the answer. A rate-limited call is logged with by "ratelimit" and
fault "throttle".
"""
import http.client
import json
import re
import socket
import time
import uuid
from urllib.parse import parse_qsl

from . import authz, control, documents, iamsim, ssm_api
from .sigv4 import AuthFailure, verify

# Hop-by-hop headers, and Expect: the front already answered 100-continue; moto gets the whole body at once.
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer", "expect"}
_KEYS = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>.*?<SecretAccessKey>([^<]+)</SecretAccessKey>"
                   rb"(?:.*?<SessionToken>([^<]+)</SessionToken>)?", re.S)
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/")
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")
_ASSUMED = re.compile(rb"<Arn>arn:aws:sts::(\d{12}):assumed-role/")


def _headers(environ) -> list[tuple[str, str]]:
    out = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            out.append((key[5:].replace("_", "-").title(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            out.append((key.replace("_", "-").title(), value))
    return out


def _s3_operation(method: str, path: str, query: str) -> str:
    """S3 (REST) names no operation in the request: its name from the method and whether a key is addressed
    (path style, as the simulator's clients address it), for the call log and the IAM policy checks."""
    has_key = "/" in path.lstrip("/")
    if "list-type" in query or (method == "GET" and not has_key):
        return "ListObjectsV2" if "list-type" in query else "ListObjects"
    return {("GET", True): "GetObject", ("PUT", True): "PutObject", ("HEAD", True): "HeadObject",
            ("DELETE", True): "DeleteObject", ("PUT", False): "CreateBucket", ("HEAD", False): "HeadBucket",
            ("DELETE", False): "DeleteBucket"}.get((method, has_key), "?")


def classify(headers: dict, body: bytes, query: str, method: str = "", path: str = "") -> tuple[str, str, list]:
    """(service, operation, query params) for the call log, the faults and the routing."""
    target = headers.get("x-amz-target", "")
    if target:
        prefix, _, op = target.partition(".")
        return ("ssm" if prefix == "AmazonSSM" else prefix.lower()), op, []
    params = parse_qsl(query, keep_blank_values=True)
    if "x-www-form-urlencoded" in headers.get("content-type", ""):
        params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    action = dict(params).get("Action", "")
    scope = _SCOPE.search(headers.get("authorization", ""))
    # STS's unsigned calls carry no credential scope to route by (moto routes them by action the same way).
    unsigned_sts = action in ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")
    service = scope.group(1) if scope else ("sts" if unsigned_sts else "ec2" if action else "other")
    if service == "s3" and not action:
        return service, _s3_operation(method, path, query), params
    return service, action or "?", params


def json_error(status: int, code: str, message: str):
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", str(uuid.uuid4()))], body


def xml_error(status: int, service: str, code: str, message: str):
    rid = str(uuid.uuid4())
    if service == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code><Message>'
                f"{message}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>")
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{rid}</RequestId></ErrorResponse>")
    return status, [("Content-Type", "text/xml")], body.encode()


def fault_answer(kind: str, service: str):
    json_api = service == "ssm"
    if kind == "throttle":
        if json_api:
            return json_error(400, "ThrottlingException", "Rate exceeded")
        if service == "ec2":
            return xml_error(503, "ec2", "RequestLimitExceeded", "Request limit exceeded.")
        return xml_error(400, service, "Throttling", "Rate exceeded")
    if json_api:
        return json_error(500, "InternalServerError", "An internal error occurred (simulated).")
    return xml_error(500, service, "InternalError" if service == "ec2" else "InternalFailure",
                     "An internal error has occurred (simulated).")


class FrontApp:
    def __init__(self, sim, moto_host: str, moto_port: int):
        self.sim, self.moto_host, self.moto_port = sim, moto_host, moto_port

    def forward(self, method, path, header_list, body):
        conn = http.client.HTTPConnection(self.moto_host, self.moto_port, timeout=300)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in header_list:
                if name.lower() not in HOP and name.lower() != "content-length":
                    conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP and k.lower() != "content-length"]
            return resp.status, headers, data
        finally:
            conn.close()

    def __call__(self, environ, start_response):
        try:
            return self._call(environ, start_response)
        except Exception as exc:  # a simulator bug must answer, not leave the client waiting for a timeout
            status, headers, body = json_error(500, "InternalServerError", f"simulator error: {exc!r}")
            return self._answer(start_response, status, headers, body)

    def _call(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path.startswith("/__sim/"):
            status, headers, body = control.handle(self.sim, environ, path)
            return self._answer(start_response, status, headers, body)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        header_list = _headers(environ)
        lower = {k.lower(): v for k, v in header_list}
        query = environ.get("QUERY_STRING", "")
        full_path = environ.get("RAW_URI") or (path + ("?" + query if query else ""))
        service, op, params = classify(lower, body, query, environ.get("REQUEST_METHOD", ""), path)
        api = f"{service}:{op}"
        latency = self.sim.config.get("callLatencySeconds", 0)
        if latency > 0:
            time.sleep(latency)
        slowed = None
        after = []  # faults that strike once the call has been carried out
        for rule in self.sim.faults.api_faults(api):
            if rule["fault"] == "slow":
                self.sim.faults.hold(api, 1)
                try:
                    time.sleep(float(rule.get("seconds", 2)))
                finally:
                    self.sim.faults.hold(api, -1)
                slowed = "slow"
                continue
            if rule["fault"] in ("lostAnswer", "lateAnswer"):
                after.append(rule)
                continue
            if rule["fault"] == "drop":
                self.sim.faults.log(api, 0, "fault", "drop")
                self._drop(environ)
                return []
            status, headers, data = fault_answer(rule["fault"], service)
            self.sim.faults.log(api, status, "fault", rule["fault"])
            return self._answer(start_response, status, headers, data)
        if self.sim.config.get("rateLimitsEnabled", 1):
            key = _ACCESS_KEY.search(lower.get("authorization", ""))
            account = self.sim.account_of(key.group(1) if key else None)
            if not self.sim.limiter.allow(self.sim.config["rateLimits"], account, api):
                status, headers, data = fault_answer("throttle", service)
                self.sim.faults.log(api, status, "ratelimit", "throttle")
                return self._answer(start_response, status, headers, data)
        # What IAM would be asked, with the tags as they are before the call changes them (authz.py).
        asked = self._authz(lower, service, op, params, body, environ["REQUEST_METHOD"], path, query)
        forward = lambda: self.forward(environ["REQUEST_METHOD"], full_path, header_list, body)  # noqa: E731
        too_big = documents.size_refusal(op, body) if service == "ssm" else None
        if too_big:  # SSM's 64 KB limit on a document, which moto does not check
            status, headers, data = json_error(400, "MaxDocumentSizeExceeded", too_big)
            by = "sim"
        elif service == "ssm" and op in ssm_api.SERVED:
            status, headers, data = self._serve_ssm(environ, op, header_list, body, full_path)
            by = "sim"
        elif service == "iam" and op == "SimulatePrincipalPolicy":  # moto does not serve it (iamsim.py)
            status, headers, data = self._serve_iam_simulate(environ, header_list, body, full_path, params)
            by = "sim"
        elif service == "ec2":
            status, headers, data = self.sim.ec2.handle(
                op, params, forward, lambda: self._ec2_auth(environ, header_list, body, full_path))
            by = "moto+sim"
        else:
            status, headers, data = forward()
            by = "moto"
            if status == 200 and op in ("CreateAccessKey", "AssumeRole", "GetSessionToken", "AssumeRoleWithWebIdentity"):
                assumed = _ASSUMED.search(data)
                for key, secret, token in _KEYS.findall(data):
                    self.sim.keys.add(key.decode(), secret.decode(), token.decode() if token else None)
                    if assumed and assumed.group(1).decode() != self.sim.account_id:
                        self.sim.key_accounts[key.decode()] = assumed.group(1).decode()
        for rule in after:
            if rule["fault"] == "lateAnswer":
                self.sim.faults.hold(api, 1)
                try:
                    time.sleep(float(rule.get("seconds", 2)))
                finally:
                    self.sim.faults.hold(api, -1)
                slowed = "lateAnswer"
            else:
                # Carried out, answer lost: the client sees the connection close (curl 52).
                self.sim.faults.log(api, status, by, "lostAnswer", authz=asked)
                self._drop(environ)
                return []
        self.sim.faults.log(api, status, by, slowed, authz=asked)
        return self._answer(start_response, status, headers, data)

    def _authz(self, lower: dict, service: str, op: str, params: list, body: bytes, method: str, path: str, query: str):
        """The call's authorization requests, or None when the simulator is told not to keep them (config authzLog)
        or cannot tell (a simulator bug must not fail the call; the log then says so)."""
        if not self.sim.config.get("authzLog", 1):
            return None
        try:
            key = _ACCESS_KEY.search(lower.get("authorization", ""))
            world = authz.World(self.sim.account_of(key.group(1) if key else None),
                                authz.region_of(lower.get("authorization", ""), self.sim.region))
            return authz.requests(world, service, op, params, body, method, lower.get("host", ""), path, query)
        except Exception as exc:  # noqa: BLE001
            return [{"error": f"authz mapping failed: {exc!r}"}]

    def _ec2_auth(self, environ, header_list, body, full_path):
        """EC2's answer to a bad signature, for the calls the front may answer without asking moto."""
        host = dict((k.lower(), v) for k, v in header_list).get("host", "localhost")
        try:
            verify(self.sim.keys, environ["REQUEST_METHOD"], f"http://{host}{full_path}", dict(header_list), body)
        except AuthFailure as exc:
            code = "AuthFailure" if exc.code in ("UnrecognizedClientException", "InvalidSignatureException") \
                else exc.code
            return xml_error(401, "ec2", code, "AWS was not able to validate the provided access credentials")
        return None

    def _serve_iam_simulate(self, environ, header_list, body, full_path, params):
        host = dict((k.lower(), v) for k, v in header_list).get("host", "localhost")
        try:
            key = verify(self.sim.keys, environ["REQUEST_METHOD"], f"http://{host}{full_path}", dict(header_list), body)
        except AuthFailure as exc:
            code = "InvalidClientTokenId" if exc.code == "UnrecognizedClientException" else exc.code
            return xml_error(403, "iam", code, exc.message)
        return iamsim.answer(self.sim, f"http://{self.moto_host}:{self.moto_port}", key, dict(params))

    def _serve_ssm(self, environ, op, header_list, body, full_path):
        host = dict((k.lower(), v) for k, v in header_list).get("host", "localhost")
        try:
            verify(self.sim.keys, environ["REQUEST_METHOD"], f"http://{host}{full_path}", dict(header_list), body)
        except AuthFailure as exc:
            return json_error(exc.status, exc.code, exc.message)
        try:
            result = ssm_api.handle(self.sim, op, body)
        except ssm_api.SsmError as exc:
            return json_error(exc.status, exc.code, exc.message)
        return 200, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", str(uuid.uuid4()))], \
            json.dumps(result).encode()

    @staticmethod
    def _drop(environ):
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @staticmethod
    def _answer(start_response, status, headers, body):
        reason = http.client.responses.get(status, "Unknown")
        start_response(f"{status} {reason}", list(headers) + [("Content-Length", str(len(body)))])
        return [body]
