#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds, then
#   - `swift test`: unit tests, AWS's SigV4 vectors, and integration tests that start their own moto_server and
#     fault servers on 127.0.0.1;
#   - `pytest tests/`: the payload checks (tree-sitter-pwsh parse, contracts) and the local AWS simulator's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CLONECTL_PYTHON="$PWD/.venv/bin/python"
# Tests talk to loopback only: never let the credential chain probe the instance metadata address.
export AWS_EC2_METADATA_DISABLED=true
swift build --build-tests
# The end-to-end suites start many servers and controllers; they run in a process of their own, so their load does
# not starve the timing-sensitive transport and retry tests of the first run.
e2e='EndToEndTests|ResumeEndToEndTests|FaultEndToEndTests|FleetEndToEndTests'
swift test --skip "$e2e"
swift test --filter "$e2e" --skip ExactlyOnceEndToEndTests
# The kill-in-flight cases watch the simulator from async code while a controller runs; alone in their process, other
# suites' blocking waits (a whole run of the binary each) cannot starve that watch of the cooperative pool's threads.
swift test --filter ExactlyOnceEndToEndTests
if compgen -G "tests/test_*.py" >/dev/null; then
    .venv/bin/python -m pytest -q tests
fi
