"""Deterministic JSON, byte for byte the same as the PowerShell module's writer (agent-docs/envelope.md).

Why not json.dumps: it leaves U+007F as is, and its float and key-order rules are not the contract. The rules:
members in the order given (dicts keep insertion order), compact, escapes for \" \\ \b \f \n \r \t, every other
control character and every character above U+007E as \\uXXXX in lower-case hex (UTF-16 code units, so astral
characters become surrogate pairs), integers written plainly, true/false/null. Floats are refused: the envelope
never carries them, and their text form differs between runtimes.
"""
import re

_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What needs an escape: every character but U+0020..U+007E, and " and \ among those.
_ESCAPED = re.compile(r'[^ !#-\[\]-~]')


def _escape(match) -> str:
    ch = match.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code > 0xFFFF:  # astral: a surrogate pair, as UTF-16 code units
        code -= 0x10000
        return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))
    return "\\u%04x" % code


def _string(text: str) -> str:
    # One regex pass instead of a Python loop per character (the envelope of every invocation goes through here).
    return '"' + _ESCAPED.sub(_escape, text) + '"'


def dumps(value) -> str:
    """The canonical text of value (str, int, bool, None, list/tuple, dict with str keys)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"canonical JSON keys must be strings, got {type(key).__name__}")
            parts.append(_string(key) + ":" + dumps(item))
        return "{" + ",".join(parts) + "}"
    raise TypeError(f"canonical JSON cannot carry {type(value).__name__} (floats are not allowed)")
