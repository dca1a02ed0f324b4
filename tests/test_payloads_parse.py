"""Every PowerShell file parses with the tree-sitter-pwsh grammar (no PowerShell runs here).

Known false positives of the grammar are written around in the sources (agent-docs and ../shared/STYLE.md list them);
a failure names file:line:col for each ERROR / MISSING node.
"""
import pytest

from conftest import PS, parse_errors, powershell_files, rel


def test_there_are_files_to_parse():
    names = {p.name for p in powershell_files()}
    assert "CloneAgent.psm1" in names and "loader.ps1" in names
    assert len(list(PS.glob("payloads/*/*.ps1"))) >= 14


@pytest.mark.parametrize("path", powershell_files(), ids=rel)
def test_parses_cleanly(path):
    errors = parse_errors(path.read_bytes())
    assert not errors, "\n".join(f"{rel(path)}:{line}:{col}: {what}" for line, col, what in errors)


@pytest.mark.parametrize("snippet,line", [
    (b"function F {\n  if ($x) {\n    'a'\n}\n", 1),            # unclosed brace
    (b"$a = 'ok'\n$b = \"unterminated\n", 2),                    # unclosed string
    (b"$h = @\"\nno terminator\n", 1),                           # unclosed here-string
    (b"$x = (1 + )\n", 1),                                       # missing operand
])
def test_a_broken_snippet_is_reported_with_its_position(snippet, line):
    errors = parse_errors(snippet)
    assert errors, f"the grammar accepted a broken snippet: {snippet!r}"
    assert all(l >= 1 and c >= 1 for l, c, _ in errors)
    assert any(l >= line for l, _, _ in errors)


def test_a_clean_snippet_reports_nothing():
    src = b"[CmdletBinding()]\nparam([ValidateRange(1, 5)] [int] $N = 1)\nSet-StrictMode -Version Latest\nexit 0\n"
    assert parse_errors(src) == []
