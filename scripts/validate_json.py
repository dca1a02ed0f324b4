#!/usr/bin/env python3
"""Checks that a clonectl `--output json` answer is exactly one JSON document valid against its schema in
controller/schemas/ (chosen by the document's `command`: "payloads verify" -> payloads-verify.schema.json; a
document whose arguments did not parse, command "clonectl", against document.schema.json).

    clonectl status --output json 2>/dev/null | scripts/validate_json.py      # or: validate_json.py FILE

Exit 0 when valid; 1 with every violation (JSON path and message) on standard error."""
import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parent.parent / "controller" / "schemas"


def registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def schema_for(document) -> dict:
    command = document.get("command") if isinstance(document, dict) else None
    name = "document" if command in (None, "clonectl") else command.replace(" ", "-")
    path = SCHEMAS / f"{name}.schema.json"
    if not path.exists():
        raise SystemExit(f"no schema {path.name} for command {command!r}: add one to controller/schemas/")
    return json.loads(path.read_text())


def problems(text: str) -> list[str]:
    """Every reason `text` is not one valid document (empty when it is)."""
    try:
        document = json.loads(text)  # refuses a second document or any text around the first
    except json.JSONDecodeError as e:
        return [f"not exactly one JSON document: {e}"]
    validator = Draft202012Validator(schema_for(document), registry=registry())
    return [f"{e.json_path}: {e.message}" for e in sorted(validator.iter_errors(document), key=lambda e: list(e.path))]


def main(argv) -> int:
    text = Path(argv[1]).read_text() if len(argv) > 1 else sys.stdin.read()
    found = problems(text)
    for p in found:
        print(p, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
