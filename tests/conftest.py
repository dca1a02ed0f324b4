"""Shared helpers for the payload tests: where things are, and the tree-sitter-pwsh parse check."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PS = ROOT / "ps-scripts"
DOCS = ROOT / "agent-docs"
# Every released version stays on disk; MODULE and LOADER are the newest (what plans use by default).
MODULES = sorted(PS.glob("agent/*/CloneAgent.psm1"), key=lambda p: tuple(int(x) for x in p.parent.name.split(".")))
LOADERS = sorted(PS.glob("loader/*/loader.ps1"), key=lambda p: tuple(int(x) for x in p.parent.name.split(".")))
MODULE = MODULES[-1]
LOADER = LOADERS[-1]


def module_for(payload_path):
    """The module a payload file runs with: the one its standalone import names (agent\\<version>\\CloneAgent.psm1)."""
    m = re.search(r"agent\\(\d+\.\d+\.\d+)\\CloneAgent\.psm1", payload_path.read_text(encoding="ascii"))
    return PS / "agent" / m.group(1) / "CloneAgent.psm1"


def loader_for(version):
    """The loader template a payload released with module `version` runs under (Manifest.loader(forModule:))."""
    same = PS / "loader" / version / "loader.ps1"
    return same if same.exists() else LOADER


def payload_files():
    return sorted(PS.glob("payloads/*/*.ps1"))


def powershell_files():
    return sorted(list(PS.rglob("*.ps1")) + list(PS.rglob("*.psm1")) + list(PS.rglob("*.psd1")))


def rel(path):
    return path.relative_to(ROOT).as_posix()


_parser = None


def parse_errors(source: bytes):
    """Every ERROR or MISSING node as (line, column, description), 1-based, in source order."""
    global _parser
    if _parser is None:
        import tree_sitter
        import tree_sitter_pwsh
        _parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
    tree = _parser.parse(source)
    found = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            found.append((node.start_point[0] + 1, node.start_point[1] + 1, f"missing {node.type}"))
        elif node.is_error:
            text = source[node.start_byte:node.end_byte].decode("utf-8", "replace").splitlines()
            found.append((node.start_point[0] + 1, node.start_point[1] + 1, f"syntax error near {text[0][:40]!r}" if text else "syntax error"))
        if node.has_error:
            stack.extend(reversed(node.children))
    return sorted(found)


def script_parameter_declarations(text: str):
    """The declarations of a script's top-level param( ... ) block, split at top-level commas: name -> text."""
    m = re.search(r"^\[CmdletBinding\([^)]*\)\]\s*\nparam\(", text, re.MULTILINE)
    assert m, "no [CmdletBinding()] followed by param( at the top level"
    depth, i, start, parts = 1, m.end(), m.end(), []
    quote = None
    while depth:
        ch = text[i]
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 1:
            parts.append(text[start:i]); start = i + 1
        i += 1
    parts.append(text[start:i - 1])
    decls = {}
    for part in parts:
        names = re.findall(r"\]\s*\$(\w+)", part)
        if names:
            decls[names[-1]] = part
    return decls


def script_parameters(text: str):
    """Names declared in a script's top-level param( ... ) block, in order."""
    return list(script_parameter_declarations(text))


def help_block(text: str):
    """The comment-based help: the first <# ... #> block holding .SYNOPSIS."""
    for m in re.finditer(r"<#(.*?)#>", text, re.DOTALL):
        if ".SYNOPSIS" in m.group(1):
            return m.group(1)
    return ""


@pytest.fixture(scope="session")
def manifest():
    import json
    return json.loads((PS / "manifest.json").read_text(encoding="utf-8"))
