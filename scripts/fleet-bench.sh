#!/usr/bin/env bash
# The fleet benchmark (issue 6): clonectl's post-clone + verify against an AWS CLI loop, side by side, on the bundled
# local AWS with a fixed added latency per call; then clonectl alone on 5,000 clones for its peak memory.
#   scripts/fleet-bench.sh [--sizes 10,100,500] [--latency 0.05] [--memory-clones 5000] [--skip-baseline]
#                          [--out results.json] [--keep] [--phase-timeout 7200]
# Installs what is missing, builds clonectl (release) unless CLONECTL_BIN names a binary, then runs
# scripts/fleet_bench.py (see it for what is measured and how). Everything listens on 127.0.0.1 and stops with it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${CLONECTL_BIN:-}" ]; then
    echo "Building clonectl (release)..."
    swift build -c release --product clonectl >.build-bench.log 2>&1 || { cat .build-bench.log >&2; exit 1; }
    export CLONECTL_BIN=$PWD/.build/release/clonectl
fi
exec .venv/bin/python scripts/fleet_bench.py "$@"
