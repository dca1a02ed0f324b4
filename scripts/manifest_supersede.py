#!/usr/bin/env python3
"""Marks released versions as superseded in ps-scripts/manifest.json (the reason travels with the entry).

    python scripts/manifest_supersede.py 1.0.0 "superseded by 1.1.0: ..."

Only the optional `superseded` member of loader, module and payload entries of that version is set; hashes, paths
and every other member stay as released (scripts/manifest.py --check still compares the bytes). The controller
lists the reason (`payloads list`) and warns when a plan pins such a version; the files stay runnable.
"""
import json
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / "ps-scripts" / "manifest.json"


def main(argv):
    if len(argv) != 2 or not argv[1].strip():
        print(__doc__, file=sys.stderr)
        return 2
    version, reason = argv
    data = json.loads(PATH.read_text(encoding="utf-8"))
    marked = 0
    for group in ("loaders", "modules", "payloads"):
        for entry in data.get(group, []):
            if entry["version"] == version:
                entry["superseded"] = reason
                marked += 1
    if data.get("loader", {}).get("version") == version:
        data["loader"]["superseded"] = reason
    if not marked:
        print(f"no entry has version {version}", file=sys.stderr)
        return 1
    PATH.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"marked {marked} entries of {version} superseded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
