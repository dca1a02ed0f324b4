"""How much of a command's output AWS hands back, as the SSM Agent cuts it (amazon-ssm-agent: the iohandler's
TruncateOutput and pluginutil's StringPrefix, read for this; the rules below are ours, written from them).

The agent is written in Go, where len() and slicing of a string count UTF-8 bytes: every cut is in bytes, not
characters. A cut may split a multi-byte character; the JSON the agent sends then carries U+FFFD for each byte
of the broken sequence (Go's encoder replaces invalid UTF-8 byte by byte).

- GetCommandInvocation StandardOutputContent: output of 24,000 bytes or more becomes its first 23,980 bytes and
  "--output truncated--" (24,000 bytes); StandardErrorContent: the first 8,000 bytes (read through a limit, no
  marker).
- ListCommandInvocations Details, CommandPlugins[].Output: 2,500 bytes for stdout and stderr together, stderr after
  "\\n----------ERROR-------\\n"; whichever part is too long is cut and marked "\\n---Output truncated---" /
  "\\n---Error truncated----" (both cut in half when both are long).
"""
STDOUT_MAX, STDERR_MAX, DETAILS_MAX = 24000, 8000, 2500
STDOUT_SUFFIX = "--output truncated--"
ERR_TITLE = "\n----------ERROR-------\n"
OUT_CUT = "\n---Output truncated---"
ERR_CUT = "\n---Error truncated----"


def go_text(data: bytes) -> str:
    """Bytes as Go's JSON encoder sends them: each byte that is not part of valid UTF-8 becomes U+FFFD."""
    out, i = [], 0
    while i < len(data):
        for size in (1, 2, 3, 4):
            try:
                out.append(data[i:i + size].decode("utf-8"))
                i += size
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def stdout_content(stdout: str) -> str:
    raw = stdout.encode("utf-8")
    if len(raw) < STDOUT_MAX:
        return stdout
    return go_text(raw[:STDOUT_MAX - len(STDOUT_SUFFIX)]) + STDOUT_SUFFIX


def stderr_content(stderr: str) -> str:
    raw = stderr.encode("utf-8")
    return stderr if len(raw) <= STDERR_MAX else go_text(raw[:STDERR_MAX])


def details_output(stdout: str, stderr: str, capacity: int = DETAILS_MAX) -> str:
    """The plugin Output of ListCommandInvocations Details (the agent's TruncateOutput rule, in bytes)."""
    out, err = stdout_content(stdout).encode("utf-8"), stderr_content(stderr).encode("utf-8")
    title = ERR_TITLE.encode() if err else b""
    space = capacity - len(title)
    if len(out) + len(err) < space:
        return go_text(out + title + err)
    if len(out) > space // 2 and len(err) > space // 2:
        size = space - len(ERR_CUT) - len(OUT_CUT)
        return go_text(out[:size // 2] + OUT_CUT.encode() + title + err[:size // 2] + ERR_CUT.encode())
    if len(out) <= space // 2:
        size = space - len(ERR_CUT)
        return go_text(out + title + err[:size - len(out)] + ERR_CUT.encode())
    size = space - len(OUT_CUT)
    return go_text(out[:size - len(err)] + OUT_CUT.encode() + title + err)
