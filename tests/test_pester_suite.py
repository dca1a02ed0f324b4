"""The Pester suite (ps-scripts/tests/*.Tests.ps1) read with tree-sitter, where no PowerShell runs: every payload has
a Describe block, every review defect the payloads fix has an It that names it (Dn), and the suite exercises what
the issue asks of it (idempotency, restore exactness, envelope vectors, 3010 re-run, refusals). The suite itself runs
on Windows runners (.github/workflows/windows-payloads.yml)."""
import re

import pytest

from conftest import PS, parse_errors, rel

SUITE = sorted((PS / "tests").glob("*.Tests.ps1"))
PAYLOADS = sorted({p.parent.name for p in PS.glob("payloads/*/1.1.0.ps1")})
# The defects of ../shared/reviews/payloads-1.0.0.md that 1.1.0 fixes in the payloads, module or loader (D14 is the
# controller's placement, D15 is checked inside the sysprep case, D19 needs a live SendCommand).
DEFECTS = ["D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9", "D10", "D11", "D12", "D13", "D15", "D16", "D17", "D18"]


def blocks(path):
    """(command, title) for every Describe / Context / It call, titles as written (quotes removed)."""
    import tree_sitter
    import tree_sitter_pwsh
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
    source = path.read_bytes()
    tree = parser.parse(source)
    out, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(reversed(node.children))
        if node.type != "command":
            continue
        name = next((c for c in node.children if c.type == "command_name"), None)
        if name is None:
            continue
        command = source[name.start_byte:name.end_byte].decode()
        if command not in ("Describe", "Context", "It"):
            continue
        elements = next((c for c in node.children if c.type == "command_elements"), None)
        text = source[elements.start_byte:elements.end_byte].decode() if elements else ""
        m = re.match(r"\s*'((?:[^']|'')*)'|\s*\"([^\"]*)\"", text)
        if m:
            out.append((command, (m.group(1) or m.group(2) or "").replace("''", "'")))
    return out


def all_blocks():
    return [b for path in SUITE for b in blocks(path)]


def test_the_suite_exists_and_parses():
    assert SUITE, "ps-scripts/tests has no *.Tests.ps1"
    for path in SUITE + [PS / "tests" / "CloneGuest.ps1"]:
        errors = parse_errors(path.read_bytes())
        assert not errors, "\n".join(f"{rel(path)}:{line}:{col}: {what}" for line, col, what in errors)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_has_a_describe_with_cases(payload):
    found = all_blocks()
    titles = [t for c, t in found if c == "Describe"]
    assert payload in titles, f"no Describe '{payload}' in the Pester suite"
    # Its Its: the blocks after that Describe up to the next Describe.
    i = found.index(("Describe", payload))
    its = []
    for command, title in found[i + 1:]:
        if command == "Describe":
            break
        if command == "It":
            its.append(title)
    assert its, f"Describe '{payload}' has no It"


@pytest.mark.parametrize("defect", DEFECTS)
def test_every_defect_has_a_pester_case(defect):
    titles = [t for c, t in all_blocks() if c == "It"]
    pattern = re.compile(r"\b" + defect + r"\b")
    assert any(pattern.search(t) for t in titles), f"no It names {defect}"


def test_the_suite_covers_what_the_issue_asks():
    text = "\n".join(p.read_text(encoding="ascii") for p in SUITE)
    titles = " | ".join(t for c, t in all_blocks() if c == "It")
    assert "envelope-vectors.json" in text and "writerStrings" in text, "envelope bytes and hash against the shared vectors"
    assert "Should -Be 3010" in text and "Step-CloneTestReboot" in text, "a 3010 re-run"
    assert titles.count("then reports ok") >= 8, "idempotency: a second run reports ok"
    assert "exactly" in titles, "restore exactness"
    assert len(re.findall(r"(?i)\brefus", titles)) >= 6, "each refusal"
    # In-process over mocks, on both editions: no real machine state is read or changed.
    guest = (PS / "tests" / "CloneGuest.ps1").read_text(encoding="ascii")
    assert "-ModuleName CloneAgent" in guest and "Mock -CommandName Test-Path -ParameterFilter" in guest
    workflow = (PS.parent / ".github" / "workflows" / "windows-payloads.yml").read_text(encoding="utf-8")
    for os_name in ("windows-2019", "windows-2022", "windows-2025"):
        assert os_name in workflow
    assert "shell: [powershell, pwsh]" in workflow and "PSScriptAnalyzerSettings.psd1" in workflow
