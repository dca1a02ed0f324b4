"""The serialisation rules in agent-docs/envelope.md agree with their example and with CloneAgent.psm1's writer."""
import hashlib
import json
import re

import pytest

from conftest import DOCS, MODULE, MODULES

ORDER = ["v", "payload", "version", "payloadSha256", "nonce", "instanceId", "status", "changed", "facts", "errors",
         "logTail", "startedAt", "finishedAt"]


def example():
    text = (DOCS / "envelope.md").read_text(encoding="utf-8")
    section = text[text.index("## Serialisation rules"):text.index("## Exit codes")]
    m = re.search(r"-----BEGIN CLONECTL RESULT v1-----\n(.*)\n-----END CLONECTL RESULT sha256=([0-9a-f]{64})-----", section)
    assert m, "the Serialisation rules section lost its example"
    return m.group(1), m.group(2)


def test_example_hash_is_the_sha256_of_the_json_line():
    line, digest = example()
    assert hashlib.sha256(line.encode("ascii")).hexdigest() == digest


def test_example_is_what_python_json_dumps_produces():
    line, _ = example()
    body = json.loads(line)
    assert list(body) == ORDER
    assert json.dumps(body, ensure_ascii=True, separators=(",", ":")) == line
    assert all(0x20 <= ord(c) <= 0x7E for c in line)
    assert "\\u007f" in line and "\\ud83d\\ude00" in line and "\\u6771" in line  # the edge cases stay covered


def test_module_builds_the_members_in_table_order():
    module = MODULE.read_text(encoding="ascii")
    start = module.index("$body = [ordered]@{")
    block = module[start:module.index("}", module.index("finishedAt", start))]
    assert re.findall(r"\b(\w+) = ", block)[1:] == ORDER  # [0] is $body itself


@pytest.mark.parametrize("module_path", MODULES, ids=lambda p: p.parent.name)
def test_module_escapes_match_the_rules(module_path):
    module = module_path.read_text(encoding="ascii")
    writer = module[module.index("function Add-CloneJsonString"):module.index("function Add-CloneJsonValue")]
    if "foreach ($ch in $Text.ToCharArray())" in writer:  # 1.0.0, 1.1.0: a PowerShell loop per character
        for code, escape in [(34, '\\"'), (92, "\\\\"), (8, "\\b"), (12, "\\f"), (10, "\\n"), (13, "\\r"), (9, "\\t")]:
            assert f"$n -eq {code}) {{ $null = $Sb.Append('{escape}') }}" in writer, (code, escape)
        assert "$n -lt 0x20 -or $n -gt 0x7E" in writer and "ToString('x4'" in writer
    else:  # 1.2.0: String.Replace, backslash first, then one regex pass for the rest outside printable ASCII
        chain = re.findall(r"\.Replace\(([^,]+), '([^']*)'\)", writer)
        assert chain[0] == ("'\\'", "\\\\"), chain
        wanted = {"'\"'": '\\"', "[string][char]8": "\\b", "[string][char]12": "\\f", "[string][char]10": "\\n",
                  "[string][char]13": "\\r", "[string][char]9": "\\t"}
        assert dict(chain[1:]) == wanted, chain
        assert "[regex]::Matches($t, '[^\\x20-\\x7E]')" in writer and "$null = $Sb.Append('\\u')" in writer
        assert "ToString('x4', $script:Invariant)" in writer
    # The fast path must exclude exactly what needs escaping: '"' (0x22), '\' (0x5C), controls and non-ASCII.
    # \z, not $: .NET's $ also matches before a trailing newline, which would then go out unescaped.
    assert r"'^[\x20\x21\x23-\x5B\x5D-\x7E]*\z'" in writer
