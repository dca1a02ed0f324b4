#!/usr/bin/env bash
# The main job on the bundled local AWS: installs what is missing, builds clonectl, starts moto_server on 127.0.0.1
# (signature checking on), and drives every AWS call clonectl makes through the real CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "Building clonectl (release)..."
swift build -c release --product clonectl >.build-demo.log 2>&1 || { cat .build-demo.log >&2; exit 1; }

work=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/python scripts/localaws.py --port "$port" --out "$work/localaws.json" >"$work/localaws.log" 2>&1 &
aws_pid=$!
trap 'kill $aws_pid 2>/dev/null; wait $aws_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do
    [ -f "$work/localaws.json" ] && break
    kill -0 $aws_pid 2>/dev/null || { cat "$work/localaws.log" >&2; exit 1; }
    sleep 0.2
done
[ -f "$work/localaws.json" ] || { echo "demo: local AWS did not start; log:" >&2; cat "$work/localaws.log" >&2; exit 1; }

field() { .venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/localaws.json" "$1"; }
# Credentials go through the ordinary AWS variables, as an operator's would.
export AWS_ACCESS_KEY_ID=$(field accessKeyId) AWS_SECRET_ACCESS_KEY=$(field secretAccessKey)
export AWS_REGION=$(field region) AWS_ENDPOINT_URL=$(field endpoint) AWS_EC2_METADATA_DISABLED=true
echo "Local AWS (moto, signature checking on) at $AWS_ENDPOINT_URL"
.build/release/clonectl debug aws-smoke --instance "$(field sourceInstanceId)" \
    --subnet "$(field subnetId)" --secure-parameter "$(field secureParameter)" --yes
