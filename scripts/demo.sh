#!/usr/bin/env bash
# The main job on the bundled local AWS: installs what is missing, builds clonectl, starts moto (EC2, STS, IAM,
# Parameter Store; signature checking on) behind the project's Run Command simulator on 127.0.0.1, and runs the whole
# clone workflow on a simulated Windows source: prep, image, Sysprep on a work copy, master image, two clones,
# post-clone settings, verification, cleanup, in documents mode (clonectl's own SSM documents, published first).
# Ends with a summary and where the ledger is.
set -euo pipefail
cd "$(dirname "$0")/.."
# CLONECTL_BIN runs an installed clonectl (a release, say) instead of building one: no Swift toolchain needed then.
if [ -n "${CLONECTL_BIN:-}" ]; then
    CLONECTL_SETUP_NO_SWIFT=1 bash scripts/setup.sh
    bin=$CLONECTL_BIN
    [ -x "$bin" ] || { echo "demo: CLONECTL_BIN=$bin is not an executable" >&2; exit 64; }
else
    bash scripts/setup.sh
    echo "Building clonectl (release)..."
    swift build -c release --product clonectl >.build-demo.log 2>&1 || { cat .build-demo.log >&2; exit 1; }
    bin=.build/release/clonectl
fi

work=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Phases (pending, stopping, image creation, reboots) last about a second, so the waits are real but short.
timings='{"pendingSeconds": 1, "stoppingSeconds": 1, "shuttingDownSeconds": 1, "imagePendingSeconds": 2, "rebootSeconds": 1, "bootSeconds": 0.5, "sysprepSeconds": 1}'
.venv/bin/python scripts/localaws.py --port "$port" --out "$work/localaws.json" --config "$timings" >"$work/localaws.log" 2>&1 &
aws_pid=$!
trap 'kill $aws_pid 2>/dev/null; wait $aws_pid 2>/dev/null || true' EXIT
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
export CLONECTL_POLL_SECONDS=0.5
ledger="$work/ledger.sqlite"
plan="$work/demo-plan.yaml"
cat >"$plan" <<PLAN
# A plan for the simulated source APP01 (see controller/plans/ for commented examples).
version: 1
name: demo
source:
  instanceId: $(field sourceInstanceId)
prep:
  workUser: {name: clonework, passwordParameter: $(field secureParameter)}
  firewall: {profiles: [Domain, Private, Public]}
  jobs: {tasks: ['\\App\\Nightly'], services: [AppSvc]}
workCopy:
  subnetId: $(field subnetId)
  securityGroupIds: [$(field securityGroupId)]
  instanceProfile: $(field instanceProfile)
  instanceType: m5.large
sysprep: {shutdownTimeoutMinutes: 10}
masterImage: {name: "{plan}-master-{date}-{runId}", tags: {Owner: demo}}
clones:
  - {name: app02, subnetId: $(field subnetId), privateIp: 10.20.1.12, hostName: APP02, timeZone: Tokyo Standard Time}
  - {name: app03, subnetId: $(field subnetId), privateIp: 10.20.1.13, hostName: APP03, timeZone: Tokyo Standard Time}
# clonectl's own SSM documents, pinned by version and hash (controller/README.md, "Security: inline or documents").
documents: {mode: documents}
PLAN

echo "Local AWS at $AWS_ENDPOINT_URL (moto with signature checking, plus the Run Command simulator)"
$bin plan validate "$plan"
# Documents mode: each payload version registered once as a version of its clonectl-NAME document (idempotent).
$bin documents publish --plan "$plan" | tail -1
$bin run "$plan" --ledger "$ledger"
echo
echo "Guest steps as recorded in the ledger:"
$bin history --ledger "$ledger" | head -40
echo
echo "Ledger: $ledger (kept in $work; inspect it with: $bin status --ledger $ledger)"
# The run report: one self-contained HTML page (timeline, lineage, per-instance recap) to open in a browser.
$bin report --ledger "$ledger" --out "$work/report.html" 2>/dev/null
echo "Report: $work/report.html"
trap - EXIT
kill $aws_pid 2>/dev/null; wait $aws_pid 2>/dev/null || true
