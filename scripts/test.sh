#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds, then `swift test` (unit tests, the SigV4 vectors,
# and the integration tests, which start their own moto_server and fault servers on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CLONECTL_PYTHON="$PWD/.venv/bin/python"
swift build --build-tests
swift test
