"""The result envelope, format v1 (agent-docs/envelope.md): three CRLF lines, the middle one canonical JSON.

The simulator must produce envelopes byte-compatible with the real payloads, so member order and the hash rule
live here once: the SHA-256 covers exactly the bytes of the JSON line, without its line end.
"""
import hashlib

from . import canonjson

BEGIN = "-----BEGIN CLONECTL RESULT v1-----"
END_FMT = "-----END CLONECTL RESULT sha256=%s-----"

# Member order is part of the contract (the table in envelope.md).
MEMBERS = ("v", "payload", "version", "payloadSha256", "nonce", "instanceId", "status", "changed", "facts",
           "errors", "logTail", "startedAt", "finishedAt")
STATUSES = ("ok", "changed", "failed", "reboot-pending")


def build(fields: dict) -> dict:
    """Orders fields as the contract says; refuses missing or unknown members so a model cannot drift."""
    missing = [m for m in MEMBERS if m not in fields]
    extra = [k for k in fields if k not in MEMBERS]
    if missing or extra:
        raise ValueError(f"envelope members wrong: missing {missing}, unknown {extra}")
    if fields["status"] not in STATUSES:
        raise ValueError(f"envelope status {fields['status']!r} is not one of {STATUSES}")
    return {m: fields[m] for m in MEMBERS}


def render(doc: dict, newline: str = "\r\n") -> str:
    """The envelope text as a payload prints it (CRLF on Windows), ending with a line end."""
    line = canonjson.dumps(doc)
    digest = hashlib.sha256(line.encode("ascii")).hexdigest()
    return BEGIN + newline + line + newline + (END_FMT % digest) + newline


def tamper(text: str) -> str:
    """Changes one character of the (last) JSON line and keeps the END line: what a 'tampered' fault delivers."""
    lines = text.split("\r\n")
    for i in reversed(range(len(lines))):
        line = lines[i]
        if line.startswith("{") and '"status":"' in line:
            lines[i] = line.replace('"status":"', '"status":"X', 1)
            break
    return "\r\n".join(lines)


def verdict(output: str, nonce: str, payload_sha256: str) -> str:
    """The controller's five verdicts (envelope.md), for tests that judge simulator output like the controller."""
    import json
    lines = [l[:-1] if l.endswith("\r") else l for l in output.split("\n")]
    starts = [i for i, l in enumerate(lines) if l.lstrip("\ufeff") == BEGIN]
    if not starts:
        return "missing"
    begin = starts[-1]  # after a 3010 re-run the last envelope is this run's
    ends = [i for i in range(begin + 1, len(lines)) if lines[i].startswith("-----END CLONECTL RESULT sha256=")]
    if not ends or not lines[ends[0]].endswith("-----"):
        return "truncated"
    if ends[0] != begin + 2:
        return "tampered"
    line, declared = lines[begin + 1], lines[ends[0]][len("-----END CLONECTL RESULT sha256="):-5]
    if hashlib.sha256(line.encode("utf-8")).hexdigest() != declared:
        return "tampered"
    try:
        doc = json.loads(line)
    except ValueError:
        return "tampered"
    if not isinstance(doc, dict) or doc.get("v") != 1:
        return "tampered"
    if doc.get("nonce") != nonce or doc.get("payloadSha256") != payload_sha256:
        return "stale"
    return "verified"
