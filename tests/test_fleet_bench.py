"""The fleet benchmark driver's pure parts (scripts/fleet_bench.py): plans, figures from call counts, target checks
and tables. Nothing here is timed; the benchmark itself is scripts/fleet-bench.sh."""
import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("fleet_bench", ROOT / "scripts" / "fleet_bench.py")
fb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fb)

INFO = {"sourceInstanceId": "i-0123456789abcdef0", "subnetId": "subnet-0aaaaaaaaaaaaaaaa",
        "securityGroupId": "sg-0bbbbbbbbbbbbbbbb", "instanceProfile": "clonectl-instance"}


def clonectl_binary():
    candidates = [os.environ.get("CLONECTL_BIN", ""), ROOT / ".build" / "release" / "clonectl",
                  ROOT / ".build" / "debug" / "clonectl"]
    return next((str(c) for c in candidates if c and os.access(str(c), os.X_OK)), None)


# --- plans ----------------------------------------------------------------------------------------------------------
def test_clones_go_to_the_fleet_subnet_when_there_is_one():
    info = dict(INFO, fleetSubnetId="subnet-0f1ee7f1ee7f1ee70")
    text = fb.make_plan("bench-mem-5000", info, 3)
    assert re.findall(r"subnetId: (\S+), hostName", text) == ["subnet-0f1ee7f1ee7f1ee70"] * 3
    # The work copy stays in the bootstrap's subnet.
    assert re.search(r"^workCopy:\n  subnetId: " + re.escape(INFO["subnetId"]) + "$", text, re.M)


def test_plan_has_every_clone_once_and_no_prep():
    text = fb.make_plan("bench-ctl-500", INFO, 500)
    clones = re.findall(r"^  - \{name: (c\d{4}), subnetId: (\S+), hostName: (C\d{4}), timeZone: (.+)\}$", text, re.M)
    assert len(clones) == 500
    assert len({c[0] for c in clones}) == 500 and len({c[2] for c in clones}) == 500
    assert clones[0][:3] == ("c0001", INFO["subnetId"], "C0001") and clones[-1][2] == "C0500"
    assert all(c[3] == "Tokyo Standard Time" for c in clones)
    assert not re.search(r"^(prep|postClone):", text, re.M)
    assert "privateIp" not in text and "workUser" not in text and "firewall" not in text
    assert re.search(r"^name: bench-ctl-500$", text, re.M)
    assert f"instanceId: {INFO['sourceInstanceId']}" in text


def test_host_names_fit_netbios_up_to_the_largest_size():
    assert fb.host_name(9999) == "C9999" and len(fb.host_name(9999)) <= 15
    assert fb.clone_name(42) == "c0042"


@pytest.mark.skipif(clonectl_binary() is None, reason="no clonectl binary built (set CLONECTL_BIN)")
@pytest.mark.parametrize("n", [1, 10, 5000])
def test_plan_validates_with_clonectl(tmp_path, n):
    plan = tmp_path / "plan.yaml"
    plan.write_text(fb.make_plan(f"bench-ctl-{n}", INFO, n))
    done = subprocess.run([clonectl_binary(), "plan", "validate", str(plan)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{n} clone(s)" in done.stdout


def test_step_parameters_are_what_post_clone_and_verify_send():
    assert fb.step_params("hostname", "C0007") == [("NewName", "C0007")]
    assert fb.step_params("time-zone", "C0007") == [("TimeZoneId", "Tokyo Standard Time")]
    assert fb.step_params("verify", "C0007") == [("ExpectedHostName", "C0007"),
                                                 ("ExpectedTimeZoneId", "Tokyo Standard Time")]
    with pytest.raises(ValueError):
        fb.step_params("firewall-restore", "C0007")


# --- call log -------------------------------------------------------------------------------------------------------
def call(api, status=200, by="sim", fault=None, **extra):
    return {"seq": 0, "api": api, "time": 0.0, "status": status, "by": by, "fault": fault, **extra}


def test_throttles_are_told_apart_from_other_errors_and_slow_answers():
    assert fb.is_throttle(call("ssm:SendCommand", 400, "fault", "throttle"))
    assert fb.is_throttle(call("ssm:ListCommandInvocations", 400, "ratelimit"))
    assert fb.is_throttle(call("ec2:DescribeInstances", 503, "moto+sim"))
    assert fb.is_throttle(call("ssm:GetCommandInvocation", 400, "sim", code="ThrottlingException"))
    assert not fb.is_throttle(call("ssm:GetCommandInvocation", 400))          # InvocationDoesNotExist
    assert not fb.is_throttle(call("ssm:SendCommand", 200, "sim", "slow"))    # the added latency
    assert not fb.is_throttle(call("ssm:SendCommand", 500, "fault", "error5xx"))


def test_summary_counts_by_api_and_only_answered_sends():
    calls = ([call("ssm:SendCommand")] * 3 + [call("ssm:SendCommand", 400, "fault", "throttle")]
             + [call("ssm:ListCommandInvocations")] * 5 + [call("ec2:DescribeInstances", 503)])
    s = fb.summarize_calls(calls)
    assert s["counts"] == {"ec2:DescribeInstances": 1, "ssm:ListCommandInvocations": 5, "ssm:SendCommand": 4}
    assert s["commandsSent"] == 3
    assert s["throttles"] == 2
    assert s["throttlesByApi"] == {"ec2:DescribeInstances": 1, "ssm:SendCommand": 1}


# --- figures --------------------------------------------------------------------------------------------------------
def summary(counts, sent=None, throttles=0):
    return {"counts": counts, "commandsSent": counts.get("ssm:SendCommand", 0) if sent is None else sent,
            "throttles": throttles, "throttlesByApi": {}}


def test_controller_figures_one_command_per_step():
    # 10 clones, 3 steps, one command each polled 5 rounds with one ListCommandInvocations page.
    f = fb.compute_figures(10, summary({"ssm:SendCommand": 3, "ssm:ListCommandInvocations": 15}), 3.5, 30720, 0.25)
    assert f["pollRounds"] == 5.0
    assert f["pollCallsPerInstancePerRound"] == pytest.approx(0.1)
    assert f["runCommandCallsPerInstancePerStep"] == pytest.approx(0.6)
    assert f["callsPerInstance"] == {"ssm:SendCommand": 0.3, "ssm:ListCommandInvocations": 1.5}
    assert f["peakRssMB"] == 30.0 and f["wallSeconds"] == 3.5 and f["cpuSeconds"] == 0.25
    assert f["totalCalls"] == 18 and f["pollCalls"] == 15


def test_controller_figures_batched_with_output_fetches():
    # 500 clones: 10 commands of 50 per step, 8 rounds each, plus 20 GetCommandInvocation for long outputs.
    counts = {"ssm:SendCommand": 30, "ssm:ListCommandInvocations": 240, "ssm:GetCommandInvocation": 20,
              "ssm:DescribeInstanceInformation": 10, "ec2:DescribeInstances": 4}
    f = fb.compute_figures(500, summary(counts), 20.0, 50000, 2.0)
    assert f["pollRounds"] == 8.0
    assert f["pollCallsPerInstancePerRound"] == pytest.approx(260 / 1500 / 8, abs=1e-4)
    assert f["runCommandCallsPerInstancePerStep"] == pytest.approx(300 / 1500, abs=1e-3)  # EC2 is not Run Command
    assert f["totalCalls"] == 304


def test_cli_loop_figures_poll_one_instance_per_call():
    # 10 clones, 3 steps: a send per invocation and 1.5 GetCommandInvocation on average.
    f = fb.compute_figures(10, summary({"ssm:SendCommand": 30, "ssm:GetCommandInvocation": 45}), 60.0, 60000, 40.0)
    assert f["pollRounds"] == 1.5
    assert f["pollCallsPerInstancePerRound"] == pytest.approx(1.0)
    assert f["runCommandCallsPerInstancePerStep"] == pytest.approx(2.5)


def test_throttled_sends_do_not_count_as_commands():
    f = fb.compute_figures(10, summary({"ssm:SendCommand": 6, "ssm:ListCommandInvocations": 12}, sent=3,
                                       throttles=3), 1.0, 1024, 0.1)
    assert f["commandsSent"] == 3 and f["pollRounds"] == 4.0 and f["throttles"] == 3


def test_no_polls_at_all_gives_zero_not_a_division_error():
    f = fb.compute_figures(5, summary({}), 0.1, 1024, 0.0)
    assert f["pollRounds"] == 0.0 and f["pollCallsPerInstancePerRound"] == 0.0


def test_ratios_are_cli_over_controller():
    ctl = {"wallSeconds": 10.0, "totalCalls": 100, "cpuSeconds": 0.5, "peakRssMB": 40.0}
    cli = {"wallSeconds": 250.0, "totalCalls": 3000, "cpuSeconds": 100.0, "peakRssMB": 60.0}
    assert fb.ratios(ctl, cli) == {"wall": 25.0, "calls": 30.0, "cpu": 200.0, "peakRss": 1.5}
    assert fb.ratios(dict(ctl, wallSeconds=0.0), cli)["wall"] is None


# --- targets --------------------------------------------------------------------------------------------------------
def size_result(n, poll=0.02, per_step=0.3, wall_ratio=None):
    size = {"instances": n, "latencySeconds": 0.05,
            "controller": {"pollCallsPerInstancePerRound": poll, "runCommandCallsPerInstancePerStep": per_step}}
    if wall_ratio is not None:
        size["ratio"] = {"wall": wall_ratio}
    return size


def by_target(rows):
    return {r["target"]: r for r in rows}


def test_targets_pass_and_miss_at_their_bounds():
    rows = by_target(fb.check_targets([size_result(10, poll=0.1, per_step=3.0), size_result(100, 0.1001, 3.01)],
                                      {"instances": 5000, "controller": {"peakRssMB": 63.9}}))
    assert rows["poll calls per instance per round <= 0.1 (10 clones)"]["result"] == "PASS"
    assert rows["Run Command calls per instance per step <= 3 (10 clones)"]["result"] == "PASS"
    assert rows["poll calls per instance per round <= 0.1 (100 clones)"]["result"] == "MISS"
    assert rows["Run Command calls per instance per step <= 3 (100 clones)"]["result"] == "MISS"
    rss = rows["peak RSS < 64 MB with 5,000 invocations in flight"]
    assert rss["result"] == "PASS" and "note" not in rss
    ratio = rows["CLI loop wall / clonectl wall >= 20 at 500 clones"]
    assert ratio["result"] == "n/a" and ratio["value"] is None


def test_ratio_target_only_at_500_clones():
    rows = by_target(fb.check_targets([size_result(100, wall_ratio=50.0), size_result(500, wall_ratio=19.9)], None))
    assert rows["CLI loop wall / clonectl wall >= 20 at 500 clones"]["result"] == "MISS"
    rows = by_target(fb.check_targets([size_result(500, wall_ratio=20.0)], None))
    assert rows["CLI loop wall / clonectl wall >= 20 at 500 clones"]["result"] == "PASS"


def test_memory_target_misses_at_64_mb_and_says_when_the_size_differs():
    rows = by_target(fb.check_targets([], {"instances": 800, "controller": {"peakRssMB": 64.0}}))
    rss = rows["peak RSS < 64 MB with 5,000 invocations in flight"]
    assert rss["result"] == "MISS" and "800" in rss["note"]
    rows = by_target(fb.check_targets([], None))
    assert rows["peak RSS < 64 MB with 5,000 invocations in flight"]["result"] == "n/a"


# --- tables ---------------------------------------------------------------------------------------------------------
def full_size():
    ctl = fb.compute_figures(10, summary({"ssm:SendCommand": 3, "ssm:ListCommandInvocations": 15}), 3.2, 30720, 0.16)
    cli = fb.compute_figures(10, summary({"ssm:SendCommand": 30, "ssm:GetCommandInvocation": 30}, throttles=2),
                             62.6, 61440, 48.9)
    return {"instances": 10, "latencySeconds": 0.05, "controller": ctl, "baseline": cli,
            "ratio": fb.ratios(ctl, cli), "stepSeconds": {"post-clone": "2s", "verify": "0s"}}


def test_table_puts_both_tools_side_by_side_with_the_ratio():
    size = full_size()
    memory = {"instances": 5000, "controller": size["controller"]}
    text = fb.format_table([size], memory)
    wall = next(line for line in text.splitlines() if line.startswith("wall s"))
    assert wall.split() == ["wall", "s", "3.20", "62.60", "19.56x"]
    throttles = next(line for line in text.splitlines() if line.startswith("throttles met"))
    assert throttles.split() == ["throttles", "met", "0", "2", "-"]
    assert "ssm:GetCommandInvocation / instance" in text
    assert "10 clones (latency 0.05 s per call), clonectl steps: post-clone 2s, verify 0s" in text
    assert "memory phase: clonectl alone on 5,000 clones" in text


def test_table_without_baseline_has_one_column():
    size = full_size()
    del size["baseline"], size["ratio"]
    wall = next(line for line in fb.format_table([size], None).splitlines() if line.startswith("wall s"))
    assert wall.split() == ["wall", "s", "3.20"]


def test_markdown_rows_have_the_readme_columns():
    size = full_size()
    md = fb.format_markdown([size], {"instances": 5000, "controller": size["controller"]}, 0.05).splitlines()
    assert md[0] == "| what | figure (latest run) | target | reproduce |"
    assert len(md) == 4 and all(line.count("|") == 5 for line in md)
    assert "**19.6x** the wall time" in md[2] and "`scripts/fleet-bench.sh --sizes 10 --memory-clones 0`" in md[2]
    assert "`scripts/fleet-bench.sh --sizes none --memory-clones 5000`" in md[3] and "under 64 MB" in md[3]
    md = fb.format_markdown([size], None, 0.2).splitlines()
    assert "`scripts/fleet-bench.sh --sizes 10 --memory-clones 0 --latency 0.2`" in md[2] and len(md) == 3


def test_format_targets_lines():
    text = fb.format_targets(fb.check_targets([size_result(10)], None))
    assert text.splitlines()[0] == "PASS  poll calls per instance per round <= 0.1 (10 clones): 0.0200"
    assert "n/a   CLI loop wall / clonectl wall >= 20 at 500 clones: - (no 500-clone run with the baseline)" in text


def test_step_seconds_from_run_output():
    out = ("2026-12-01T20:00:50Z launch-clones: skipped: already done in this run\n"
           "2026-12-01T20:00:54Z post-clone: done in 3s\n2026-12-01T20:00:54Z verify: done in 0s\n"
           + json.dumps({"run": "r"}) + "\n")
    assert fb.parse_step_seconds(out) == {"post-clone": "3s", "verify": "0s"}


def test_arguments():
    args = fb.parse_args(["--sizes", "10,20", "--memory-clones", "0", "--skip-baseline"])
    assert args.sizes == [10, 20] and args.memory_clones == 0 and args.skip_baseline and args.latency == 0.05
    assert fb.parse_args([]).sizes == [10, 100, 500]
    with pytest.raises(SystemExit):
        fb.parse_args(["--sizes", "ten"])
    with pytest.raises(SystemExit):
        fb.parse_args(["--sizes", "0"])
    assert fb.parse_args(["--sizes", "none"]).sizes == []
    with pytest.raises(SystemExit):
        fb.parse_args(["--sizes", "none", "--memory-clones", "0"])


def test_summary_prefers_the_simulators_exact_counters():
    logged = [call("ssm:SendCommand")] * 2 + [call("ssm:ListCommandInvocations")] * 3
    server = {"counts": {"ssm:SendCommand": 2, "ssm:ListCommandInvocations": 3}, "throttles": {}, "total": 5}
    s = fb.summarize_calls(logged, server)
    assert s["logComplete"] and s["commandsSent"] == 2 and s["throttles"] == 0
    # More calls than the log kept: the counters win, commands sent = sends - throttled sends.
    server = {"counts": {"ssm:SendCommand": 40, "ssm:ListCommandInvocations": 30000},
              "throttles": {"ssm:SendCommand": 4, "ssm:ListCommandInvocations": 1}, "total": 30040}
    s = fb.summarize_calls(logged, server)
    assert not s["logComplete"]
    assert s["counts"] == {"ssm:ListCommandInvocations": 30000, "ssm:SendCommand": 40}
    assert s["commandsSent"] == 36 and s["throttles"] == 5
    # An older simulator without counters: the entries count.
    assert fb.summarize_calls(logged, {"calls": [], "counts": {"x": 1}})["counts"] == {
        "ssm:ListCommandInvocations": 3, "ssm:SendCommand": 2}


def test_clone_instances_come_from_the_setup_runs_state(tmp_path):
    import sqlite3
    ledger = tmp_path / "l.sqlite"
    db = sqlite3.connect(ledger)
    db.execute("CREATE TABLE runs (id TEXT, plan_name TEXT, created_at TEXT, state_json TEXT)")
    db.execute("INSERT INTO runs VALUES ('r1', 'bench-ctl-2', '2026-01-01T00:00:00.000Z', ?)",
               ('{"clones": {"c0001": "i-old"}}',))
    db.execute("INSERT INTO runs VALUES ('r2', 'bench-ctl-2', '2026-01-02T00:00:00.000Z', ?)",
               ('{"clones": {"c0001": "i-0aaa", "c0002": "i-0bbb"}, "masterImageId": "ami-1"}',))
    db.execute("INSERT INTO runs VALUES ('r3', 'other', '2026-01-03T00:00:00.000Z', '{\"clones\": {}}')")
    db.commit()
    db.close()
    assert fb.clone_instances(str(ledger), "bench-ctl-2") == {"c0001": "i-0aaa", "c0002": "i-0bbb"}
    with pytest.raises(RuntimeError, match="no run state"):
        fb.clone_instances(str(ledger), "bench-cli-2")
