#!/usr/bin/env python3
"""The bundled local AWS: moto (EC2, STS, IAM, Parameter Store) behind the project's Run Command simulator.

    python scripts/localaws.py --port 5000 --out /tmp/localaws.json [--exit-with-parent] [--config JSON]

moto runs on an internal port with SigV4 checking ON; the simulator's front server listens on 127.0.0.1:--port,
serves SSM Run Command itself (SendCommand, GetCommandInvocation, ListCommandInvocations, ListCommands,
CancelCommand, DescribeInstanceInformation), plays each instance as a Windows guest, adds what moto's EC2 lacks
(ClientToken, state phases) and forwards everything else to moto unchanged. See localaws/ for the pieces and
localaws/control.py for the control API under /__sim/ (faults, call log, timings, guest models).

--out is written atomically (mode 0600) only when everything is ready, so callers wait for the file, not the
port. Its JSON: endpoint, region, accessKeyId, secretAccessKey, sourceInstanceId, sourceImageId, vpcId,
subnetId, secureParameter, roleArn, motoEndpoint (moto itself, for tests that must bypass the simulator) and
controlEndpoint (endpoint + "/__sim"); every value is a string (the Swift harness reads [String: String]).
Serves until SIGTERM/SIGINT (or the parent goes away with
--exit-with-parent).
"""
import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from localaws.server import LocalAws  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True, help="where to write the JSON description once ready")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started this one goes away (tests use it)")
    parser.add_argument("--config", default=os.environ.get("LOCALAWS_CONFIG", "{}"),
                        help='simulator timings as JSON, e.g. \'{"pendingSeconds": 2}\' (see localaws/sim.py); '
                             'default: $LOCALAWS_CONFIG, so a harness that cannot pass flags can still tune them')
    args = parser.parse_args()
    try:
        config = json.loads(args.config)
        if not isinstance(config, dict):
            raise ValueError("must be a JSON object")
    except ValueError as exc:
        print(f"localaws: --config is not a JSON object of settings: {exc}", file=sys.stderr)
        return 2
    parent = os.getppid()
    # A parent may start us with SIGTERM blocked (Foundation's Process does): unblock it, or stopping hangs.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    aws = LocalAws(args.port, config)
    try:
        aws.start()
    except Exception as exc:  # report, stop, and let the caller see why
        print(f"localaws: start failed: {exc}", file=sys.stderr)
        return 1
    tmp = args.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(aws.info, fh)
    os.chmod(tmp, 0o600)
    os.replace(tmp, args.out)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
        if args.exit_with_parent and os.getppid() != parent:
            break
    aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
