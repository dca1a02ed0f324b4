#!/usr/bin/env bash
# The fleet benchmark's baseline: post-clone settings done the way operators do them today with the AWS CLI.
#
#     scripts/bench/cli-loop.sh DIR
#
# DIR/steps lists the steps in order (one name a line); DIR/<step>/<instance id>.json holds that instance's
# AWS-RunPowerShellScript parameters ({"commands": [loader text]}), rendered beforehand with `clonectl payloads
# render` (an operator has the script ready). For each step: one `aws ssm send-command` per instance, then for each
# instance one `aws ssm get-command-invocation` every second until the invocation is finished; the next step starts
# when every instance has finished this one. InvocationDoesNotExist right after the send (and a throttled poll) only
# means "not yet". Prints "STEP INSTANCE STATUS" per invocation; exits 1 if one did not succeed.
#
# Uses whatever `aws` is on PATH and the usual AWS_* variables (region: AWS_DEFAULT_REGION for the CLI v1).
# CLI_LOOP_TIMEOUT (seconds, default 3600) bounds the polling of each step.
set -euo pipefail
dir=${1:?usage: cli-loop.sh DIR}
timeout=${CLI_LOOP_TIMEOUT:-3600}
err=$(mktemp)
trap 'rm -f "$err"' EXIT
failed=0

while read -r step; do
    [ -n "$step" ] || continue
    ids=() commands=()
    for file in "$dir/$step"/*.json; do
        id=$(basename "$file" .json)
        command_id=$(aws ssm send-command --instance-ids "$id" --document-name AWS-RunPowerShellScript \
            --parameters "file://$file" --query Command.CommandId --output text)
        ids+=("$id") commands+=("$command_id")
    done
    deadline=$((SECONDS + timeout))
    for i in "${!ids[@]}"; do
        while :; do
            if status=$(aws ssm get-command-invocation --command-id "${commands[$i]}" --instance-id "${ids[$i]}" \
                    --query Status --output text 2>"$err"); then
                case $status in Success | Failed | TimedOut | Cancelled) break ;; esac
            elif ! grep -q -e InvocationDoesNotExist -e ThrottlingException "$err"; then
                cat "$err" >&2
                exit 1
            fi
            if ((SECONDS > deadline)); then
                echo "cli-loop: $step on ${ids[$i]} not finished after ${timeout}s" >&2
                exit 1
            fi
            sleep 1
        done
        echo "$step ${ids[$i]} $status"
        [ "$status" = Success ] || failed=1
    done
done <"$dir/steps"
exit $failed
