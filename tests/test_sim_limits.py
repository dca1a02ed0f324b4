"""What a fleet-scale benchmark leans on: added call latency, AWS-like rate limits per account and API, their
settings, and a call log whose counters stay exact and can be cleared on their own."""
import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from simfixtures import aws, client, control, outcome, sim  # noqa: F401

from localaws import faults, ratelimits


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def post_config_error(aws, body):
    """POSTs a settings body the simulator must refuse; returns the 400's error text."""
    req = urllib.request.Request(aws.info["controlEndpoint"] + "/config", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400
    return json.loads(err.value.read())["error"]


def timed(call):
    start = time.monotonic()
    call()
    return time.monotonic() - start


# --- latency ---------------------------------------------------------------------------------------------------

def test_latency_is_added_to_every_aws_call_but_not_to_the_control_api(sim):
    ssm, ec2, sts = client(sim, "ssm"), client(sim, "ec2"), client(sim, "sts")
    ssm.list_commands(), ec2.describe_vpcs(), sts.get_caller_identity()  # connections open, first-call costs paid
    control(sim, "POST", "/config", {"callLatencySeconds": 0.3})
    assert timed(ssm.list_commands) >= 0.3                 # served by the simulator
    assert timed(ec2.describe_vpcs) >= 0.3                 # EC2 through the front
    assert timed(sts.get_caller_identity) >= 0.3           # forwarded to moto as is
    assert timed(lambda: control(sim, "GET", "/health")) < 0.3
    control(sim, "POST", "/config", {"callLatencySeconds": 0})
    assert timed(ssm.list_commands) < 0.3


def test_latency_sleeps_overlap_across_concurrent_calls(sim):
    clients = [client(sim, "ssm") for _ in range(4)]
    for ssm in clients:
        ssm.list_commands()
    control(sim, "POST", "/config", {"callLatencySeconds": 0.5})
    threads = [threading.Thread(target=ssm.list_commands) for ssm in clients]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    elapsed = time.monotonic() - start
    # One after the other would take 2 s; overlapping sleeps take one latency and some.
    assert 0.5 <= elapsed < 1.5, elapsed


# --- rate limits -----------------------------------------------------------------------------------------------

def test_a_burst_beyond_the_bucket_is_throttled_as_ssm_throttles(sim):
    control(sim, "POST", "/config", {"rateLimits": {"ssm:ListCommands": {"burst": 3, "refill": 0}}})
    ssm = client(sim, "ssm")  # retries off: every throttled answer reaches the test
    assert [outcome(ssm.list_commands) for _ in range(3)] == ["ok"] * 3
    with pytest.raises(ClientError) as err:
        ssm.list_commands()
    assert code_of(err) == "ThrottlingException" and err.value.response["Error"]["Message"] == "Rate exceeded"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert outcome(ssm.list_commands) == "ThrottlingException"
    assert outcome(ssm.list_command_invocations) == "ok"  # another API: another bucket
    log = control(sim, "GET", "/calls?api=ssm:ListCommands")
    assert [(c["status"], c["by"], c["fault"]) for c in log["calls"]] == \
        [(200, "sim", None)] * 3 + [(400, "ratelimit", "throttle")] * 2
    assert log["counts"]["ssm:ListCommands"] == 5
    assert log["throttles"] == {"ssm:ListCommands": 2} and log["rateLimited"] == {"ssm:ListCommands": 2}


def test_ec2_buckets_are_per_action_and_answer_request_limit_exceeded(sim):
    control(sim, "POST", "/config", {"rateLimits": {"ec2:Describe*": {"burst": 2, "refill": 0}}})
    ec2 = client(sim, "ec2")
    assert [outcome(ec2.describe_vpcs) for _ in range(2)] == ["ok", "ok"]
    with pytest.raises(ClientError) as err:
        ec2.describe_vpcs()
    assert code_of(err) == "RequestLimitExceeded"
    assert err.value.response["Error"]["Message"] == "Request limit exceeded."
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    # The group's size applies to each Describe action separately; other actions keep the ec2:* bucket.
    assert [outcome(ec2.describe_subnets) for _ in range(3)] == ["ok", "ok", "RequestLimitExceeded"]
    assert outcome(lambda: ec2.create_tags(Resources=[sim.info["vpcId"]], Tags=[{"Key": "k", "Value": "v"}])) == "ok"
    counts = control(sim, "GET", "/calls?log=0")
    assert counts["calls"] == [] and counts["rateLimited"] == {"ec2:DescribeVpcs": 1, "ec2:DescribeSubnets": 1}


def test_the_bucket_refills_and_throttled_calls_take_no_token(sim):
    control(sim, "POST", "/config", {"rateLimits": {"ssm:ListCommands": {"burst": 1, "refill": 2}}})
    ssm = client(sim, "ssm")
    assert outcome(ssm.list_commands) == "ok"
    first = time.monotonic()
    refused = [outcome(ssm.list_commands) for _ in range(3)]
    assert refused == ["ThrottlingException"] * 3 and time.monotonic() - first < 0.45
    time.sleep(max(0.0, first + 0.6 - time.monotonic()))  # 0.6 s at 2/s: 1.2 tokens, had the refusals cost none
    assert outcome(ssm.list_commands) == "ok"
    assert outcome(ssm.list_commands) == "ThrottlingException"


def test_limits_are_on_by_default_and_can_be_switched_off(sim):
    ssm = client(sim, "ssm")
    seen = []  # the default bucket: 20, refill 10/s; calls far quicker than 0.1 s drain it
    while "ThrottlingException" not in seen and len(seen) < 200:
        seen.append(outcome(ssm.describe_instance_information))
    assert "ThrottlingException" in seen and seen.index("ThrottlingException") >= 20, seen
    control(sim, "POST", "/config", {"rateLimitsEnabled": 0,
                                     "rateLimits": {"ssm:ListCommands": {"burst": 1, "refill": 0}}})
    assert [outcome(ssm.list_commands) for _ in range(5)] == ["ok"] * 5
    control(sim, "POST", "/config", {"rateLimitsEnabled": 1})
    assert [outcome(ssm.list_commands) for _ in range(2)] == ["ok", "ThrottlingException"]
    control(sim, "POST", "/config", {"rateLimits": {"ssm:ListCommands": None}})  # null: not limited
    assert [outcome(ssm.list_commands) for _ in range(3)] == ["ok"] * 3
    buckets = control(sim, "GET", "/ratelimits")
    assert buckets["enabled"] == 1 and any(b["api"] == "ssm:DescribeInstanceInformation" for b in buckets["buckets"])


def test_reset_restores_the_default_limits_and_refills(sim):
    control(sim, "POST", "/config", {"rateLimits": {"ssm:ListCommands": {"burst": 1, "refill": 0}}})
    ssm = client(sim, "ssm")
    assert [outcome(ssm.list_commands) for _ in range(2)] == ["ok", "ThrottlingException"]
    control(sim, "POST", "/reset", {})
    assert control(sim, "GET", "/config")["rateLimits"] == ratelimits.DEFAULT_LIMITS
    assert [outcome(ssm.list_commands) for _ in range(2)] == ["ok", "ok"]


def test_rate_limit_settings_merge_entry_by_entry(sim):
    got = control(sim, "POST", "/config", {"rateLimits": {"ssm:SendCommand": {"burst": 3},
                                                          "sts:*": {"burst": 5, "refill": 1}}})
    assert got["rateLimits"]["ssm:SendCommand"] == {"burst": 3, "refill": 5}  # refill kept from the default
    assert got["rateLimits"]["sts:*"] == {"burst": 5, "refill": 1}
    assert got["rateLimits"]["ec2:Describe*"] == ratelimits.DEFAULT_LIMITS["ec2:Describe*"]
    sts = client(sim, "sts")
    assert [outcome(sts.get_caller_identity) for _ in range(6)] == ["ok"] * 5 + ["Throttling"]


@pytest.mark.parametrize("body,words", [
    ({"rateLimits": [1]}, "rateLimits must be a JSON object of API -> "),
    ({"rateLimits": {"SendCommand": {"burst": 1, "refill": 1}}}, "must name an API as service:Action"),
    ({"rateLimits": {"ssm:SendCommand": 5}}, "must be {\"burst\": n, \"refill\": r} or null"),
    ({"rateLimits": {"ssm:SendCommand": {"rate": 5}}}, "unknown field 'rate'; the fields are burst"),
    ({"rateLimits": {"ssm:SendCommand": {"burst": 0}}}, "burst must be a whole number of at least 1"),
    ({"rateLimits": {"ssm:SendCommand": {"burst": 2.5}}}, "burst must be a whole number of at least 1"),
    ({"rateLimits": {"ssm:SendCommand": {"refill": -1}}}, "refill must be a non-negative number"),
    ({"rateLimits": {"ssm:GetParameter": {"burst": 5}}}, "has no entry yet: give both burst and refill (missing refill)"),
    ({"rateLimitsEnabled": 2}, "rateLimitsEnabled must be 1 (on) or 0 (off)"),
    ({"callLatencySeconds": -1}, "callLatencySeconds must be a non-negative number"),
    ({"maxReruns": 2.5}, "maxReruns must be a whole number"),
])
def test_bad_settings_are_refused_with_what_to_fix_and_change_nothing(sim, body, words):
    before = control(sim, "GET", "/config")
    error = post_config_error(sim, dict(body, pendingSeconds=7))
    assert words in error, error
    assert control(sim, "GET", "/config") == before


def test_limiter_buckets_are_per_account_and_longest_group_wins():
    now = [0.0]
    limiter = ratelimits.RateLimiter(clock=lambda: now[0])
    table = ratelimits.merge(ratelimits.DEFAULT_LIMITS, {"ssm:SendCommand": {"burst": 2, "refill": 1},
                                                        "ec2:DescribeInstances": None})
    takes = lambda account: [limiter.allow(table, account, "ssm:SendCommand") for _ in range(3)]  # noqa: E731
    assert takes("111111111111") == [True, True, False]
    assert takes("222222222222") == [True, True, False]  # its own bucket
    now[0] = 1.0
    assert takes("111111111111") == [True, False, False]
    assert ratelimits.spec_for(table, "ec2:DescribeImages") == (100, 20)
    assert ratelimits.spec_for(table, "ec2:RunInstances") == (200, 5)
    assert ratelimits.spec_for(table, "ec2:DescribeInstances") is None
    assert ratelimits.spec_for(table, "sts:GetCallerIdentity") is None


# --- the call log ----------------------------------------------------------------------------------------------

def test_calls_reset_clears_the_log_and_counts_but_keeps_config_and_faults(sim):
    control(sim, "POST", "/config", {"pendingSeconds": 2.5})
    rule = {"fault": "throttle", "api": "ssm:ListCommands", "count": 1}
    control(sim, "POST", "/faults", {"rules": [rule]})
    ssm = client(sim, "ssm")
    assert [outcome(ssm.list_commands) for _ in range(2)] == ["ThrottlingException", "ok"]
    before = control(sim, "GET", "/calls")
    assert before["counts"] == {"ssm:ListCommands": 2} and before["throttles"] == {"ssm:ListCommands": 1}
    assert before["rateLimited"] == {}  # a throttle fault is not the rate limiter
    assert control(sim, "POST", "/calls/reset", {}) == {"ok": True}
    after = control(sim, "GET", "/calls")
    assert (after["calls"], after["counts"], after["throttles"], after["total"]) == ([], {}, {}, 0)
    assert control(sim, "GET", "/config")["pendingSeconds"] == 2.5
    [kept] = control(sim, "GET", "/faults")["rules"]
    assert (kept["api"], kept["fired"]) == ("ssm:ListCommands", 1)
    ssm.list_commands()
    [call] = control(sim, "GET", "/calls")["calls"]
    assert call["seq"] > before["calls"][-1]["seq"]  # sequence numbers go on


def test_counts_stay_exact_beyond_the_log_cap(sim):
    sim.sim.faults.limit_log(5)
    try:
        control(sim, "POST", "/config", {"rateLimits": {"ssm:ListCommands": {"burst": 4, "refill": 0}}})
        ssm = client(sim, "ssm")
        seen = [outcome(ssm.list_commands) for _ in range(9)]
        assert seen == ["ok"] * 4 + ["ThrottlingException"] * 5
        log = control(sim, "GET", "/calls")
        assert len(log["calls"]) == 5 and log["maxLog"] == 5
        assert (log["counts"], log["total"], log["dropped"]) == ({"ssm:ListCommands": 9}, 9, 4)
        assert log["throttles"] == {"ssm:ListCommands": 5} and log["rateLimited"] == {"ssm:ListCommands": 5}
    finally:
        sim.sim.faults.limit_log(faults.MAX_LOG)
