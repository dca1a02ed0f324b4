"""The payload contract (agent-docs/payloads.md, envelope.md), checked on the text of every payload."""
import hashlib
import re

import pytest

from conftest import (DOCS, LOADERS, MODULES, PS, help_block, module_for, payload_files, powershell_files, rel,
                      script_parameter_declarations, script_parameters)

CONTRACT_NAMES = ["preflight", "work-user", "firewall-off", "jobs-stop", "source-restore", "sysprep", "hostname",
                  "time-zone", "firewall-restore", "work-user-disable", "jobs-restore", "domain-join", "verify",
                  "sysprep-logs"]
PAYLOADS = payload_files()


def text_of(path):
    return path.read_text(encoding="ascii")


def payloads_md_cells():
    """payloads.md table: name -> its parameters column."""
    cells_by_name = {}
    for line in (DOCS / "payloads.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and re.fullmatch(r"`[a-z0-9-]+`", cells[1]):
            cells_by_name[cells[1].strip("`")] = cells[3]
    return cells_by_name


def payloads_md_rows(version=None):
    """payloads.md table: name -> the parameter names in backticks of its parameters column. A column may add
    parameters from a version on ("`Lines` ...; from 1.2.0: `Whole`, ..."): with `version`, only those the version
    has; without, all of them."""
    rows = {}
    for name, cell in payloads_md_cells().items():
        parts = re.split(r"from (\d+\.\d+\.\d+):", cell)
        params = set(re.findall(r"`([A-Z][A-Za-z]+)`", parts[0]))
        for since, text in zip(parts[1::2], parts[2::2]):
            if version is None or tuple(map(int, since.split("."))) <= tuple(map(int, version.split("."))):
                params |= set(re.findall(r"`([A-Z][A-Za-z]+)`", text))
        rows[name] = params
    return rows


def test_every_contract_payload_exists_and_nothing_else():
    assert sorted({p.parent.name for p in PAYLOADS}) == sorted(CONTRACT_NAMES)
    # Every payload has a 1.1.0 (the default) beside its released 1.0.0.
    for name in CONTRACT_NAMES:
        assert (PS / "payloads" / name / "1.0.0.ps1").exists() and (PS / "payloads" / name / "1.1.0.ps1").exists(), name
    assert sorted(payloads_md_rows()) == sorted(CONTRACT_NAMES)


@pytest.mark.parametrize("path", powershell_files(), ids=rel)
def test_ascii_only_without_bom(path):
    # Windows PowerShell 5.1 reads a BOM-less file in the ANSI code page: only ASCII is safe.
    data = path.read_bytes()
    bad = [i for i, b in enumerate(data) if b > 0x7E or (b < 0x20 and b not in (9, 10, 13))]
    if bad:
        line = data[:bad[0]].count(b"\n") + 1
        pytest.fail(f"{rel(path)}:{line}: byte 0x{data[bad[0]]:02x} is not printable ASCII ({len(bad)} such bytes)")


@pytest.mark.parametrize("path", powershell_files(), ids=rel)
def test_no_write_host_and_no_ps7_only_syntax(path):
    text = text_of(path)
    assert not re.search(r"(?i)\bWrite-Host\b", text), f"{rel(path)} uses Write-Host"
    for pattern, what in [(r"\?\?", "??"), (r"\?\.", "?."), (r"&&", "&&"), (r"\|\|", "||"),
                          (r"(?i)-Parallel\b", "ForEach-Object -Parallel"), (r"(?im)^\s*clean\s*\{", "clean {}")]:
        assert not re.search(pattern, text), f"{rel(path)} uses {what}, which Windows PowerShell 5.1 lacks"


@pytest.mark.parametrize("path", PAYLOADS, ids=rel)
class TestPayload:
    def test_version_matches_script_info_and_manifest(self, path, manifest):
        text = text_of(path)
        m = re.match(r"<#PSScriptInfo\s.*?^\.VERSION (\S+)$.*?^\.GUID ([0-9a-f-]{36})$.*?#>", text, re.DOTALL | re.MULTILINE)
        assert m, f"{rel(path)} must start with <#PSScriptInfo .VERSION .GUID #>"
        assert m.group(1) == path.stem, f"{rel(path)}: .VERSION {m.group(1)} but the file is {path.stem}"
        entries = [e for e in manifest["payloads"] if e["name"] == path.parent.name and e["version"] == path.stem]
        assert len(entries) == 1, f"{rel(path)} has no single manifest entry"
        assert entries[0]["path"] == path.relative_to(PS).as_posix()
        assert entries[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entries[0]["module"] == module_for(path).parent.name and entries[0]["description"]
        assert (PS / entries[0]["path"]).exists() and module_for(path).exists()

    def test_help_documents_every_parameter(self, path):
        text = text_of(path)
        help_text = help_block(text)
        for keyword in (".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE", ".NOTES"):
            assert keyword in help_text, f"{rel(path)}: help lacks {keyword}"
        params = script_parameters(text)
        documented = re.findall(r"^\.PARAMETER (\w+)$", help_text, re.MULTILINE)
        assert sorted(documented) == sorted(params), f"{rel(path)}: .PARAMETER {documented} vs param() {params}"

    def test_parameters_match_the_contract_table(self, path):
        params = set(script_parameters(text_of(path)))
        assert params == payloads_md_rows(path.stem)[path.parent.name], f"{rel(path)}: param() differs from payloads.md"

    def test_parameters_are_typed_and_validated(self, path):
        for name, decl in script_parameter_declarations(text_of(path)).items():
            assert re.search(r"\[Validate\w+\(", decl), f"{rel(path)}: ${name} has no [Validate...] attribute"
            assert re.search(r"\[(string|int|bool|string\[\])\]\s*\$" + name, decl), f"{rel(path)}: ${name} is not typed"

    def test_no_parameter_carries_a_secret(self, path):
        for name in script_parameters(text_of(path)):
            if re.search(r"(?i)password|secret|credential|token|key", name):
                assert name.endswith("Parameter"), f"{rel(path)}: ${name} looks like a secret value; pass the NAME of a SecureString (...Parameter)"

    def test_preamble_strict_and_stop(self, path):
        text = text_of(path)
        strict = text.find("Set-StrictMode -Version Latest")
        stop = text.find("$ErrorActionPreference = 'Stop'")
        run = text.find("New-CloneRun")
        assert 0 < strict < run and 0 < stop < run, f"{rel(path)}: StrictMode and 'Stop' must come before the run starts"

    def test_reports_through_the_module_and_exits_explicitly(self, path):
        text = text_of(path)
        name, version = path.parent.name, path.stem
        assert f"New-CloneRun -Payload '{name}' -Version '{version}'" in text
        assert "Complete-CloneRun -Run $run" in text and "Invoke-CloneBody -Run $run -Body {" in text
        assert re.search(r"^exit \S", text.rstrip().splitlines()[-1]), f"{rel(path)}: the last line must be an explicit exit"
        # Only the module writes stdout (the envelope); payloads never do.
        assert not re.search(r"(?i)\[Console\]::Out|Write-Output|Out-Host|Write-Information", text)

    def test_reboot_exit_is_documented_exactly_where_it_happens(self, path):
        text = text_of(path)
        reboots = "$run.RebootPending = $true" in text
        notes = help_block(text).split(".NOTES", 1)[1]
        page = (DOCS / f"{path.parent.name}.md").read_text(encoding="utf-8")
        assert ("3010" in notes) == reboots, f"{rel(path)}: .NOTES and the code disagree about exit 3010"
        assert ("| 3010 |" in page) == reboots, f"{path.parent.name}.md and the code disagree about exit 3010"
        assert "Restart-Computer" not in text and "-Restart" not in text, "reboot only through exit 3010"

    def test_has_a_doc_page(self, path):
        page = DOCS / f"{path.parent.name}.md"
        assert page.exists(), f"agent-docs/{page.name} is missing"
        doc = page.read_text(encoding="utf-8")
        for name in script_parameters(text_of(path)):
            assert f"`{name}`" in doc, f"{page.name} does not document parameter {name}"
        for heading in ("Exit codes", "Idempotency", "Windows versions"):
            assert heading in doc, f"{page.name} lacks a '{heading}' section"
        assert page.name in (DOCS / "README.md").read_text(encoding="utf-8"), f"agent-docs/README.md does not link {page.name}"


def exported_functions(module_path):
    module = module_path.read_text(encoding="ascii")
    defined = set(re.findall(r"^function ([\w-]+)", module, re.MULTILINE))
    exported = set(re.findall(r"'([A-Z][a-z]+-Clone[\w]+)'", module[module.index("Export-ModuleMember"):]))
    assert exported <= defined, f"{rel(module_path)}: exported but not defined: {sorted(exported - defined)}"
    return exported


def test_every_module_function_a_payload_calls_is_exported():
    for path in PAYLOADS:
        exported = exported_functions(module_for(path))
        used = set(re.findall(r"\b([A-Z][a-z]+-Clone[A-Za-z0-9]+)\b", text_of(path)))
        assert used <= exported, f"{rel(path)} calls functions the module does not export: {sorted(used - exported)}"
    for loader in LOADERS:
        exported = exported_functions(PS / "agent" / loader.parent.name / "CloneAgent.psm1")
        used = set(re.findall(r"\b([A-Z][a-z]+-Clone[A-Za-z0-9]+)\b", text_of(loader)))
        assert used <= exported, f"{rel(loader)} calls functions the module does not export: {sorted(used - exported)}"


@pytest.mark.parametrize("loader", LOADERS, ids=rel)
def test_the_loader_template(loader):
    text = text_of(loader)
    for ph in ("PAYLOAD", "VERSION", "NONCE", "MODULE_SHA256", "PAYLOAD_SHA256", "MODULE_B64", "SCRIPT_B64", "PARAMS_B64"):
        assert f"'__CLONECTL_{ph}__'" in text, f"loader lacks the single-quoted placeholder __CLONECTL_{ph}__"
    assert "{{" not in text, "SSM reads {{ as a parameter reference"
    assert "exit 2" in text and "exit $LASTEXITCODE" in text and "GZipStream" in text
    assert "Set-CloneAgentContext -Nonce $c.Nonce -PayloadSha256 $c.PayloadSha256" in text
    assert len(text) < 3000, "the loader travels in every command: keep it short"


@pytest.mark.parametrize("module", MODULES, ids=rel)
def test_module_sets_its_own_preferences(module):
    # Script modules do not inherit the caller's preference variables: the module must say 'Stop' itself.
    head = module.read_text(encoding="ascii").split("function ", 1)[0]
    for line in ("Set-StrictMode -Version Latest", "$ErrorActionPreference = 'Stop'", "$WarningPreference = 'SilentlyContinue'",
                 "$ProgressPreference = 'SilentlyContinue'"):
        assert line in head


@pytest.mark.parametrize("module_path", MODULES, ids=rel)
def test_only_the_module_writes_standard_output(module_path):
    module = module_path.read_text(encoding="ascii")
    assert module.count("[Console]::Out.Write(") == 1
    assert '"`r`n-----END CLONECTL RESULT sha256="' in module and "-----BEGIN CLONECTL RESULT v1-----`r`n" in module
