"""Faults on demand, the call log, and the signature check, as clients see them."""
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from simfixtures import aws, client, control, launch, make_loader, online, outcome, run_payload, sim  # noqa: F401

from localaws import envelope


def test_throttling_share_is_visible_to_boto3_and_counted(sim):
    control(sim, "POST", "/faults", {"rules": [{"fault": "throttle", "api": "ssm:DescribeInstanceInformation",
                                                "share": 0.5}, {"fault": "throttle", "api": "ec2:*", "count": 1}]})
    ssm, ec2 = client(sim, "ssm"), client(sim, "ec2")
    seen = [outcome(ssm.describe_instance_information) for _ in range(6)]
    assert seen == ["ok", "ThrottlingException"] * 3
    with pytest.raises(ClientError) as err:
        ec2.describe_instances()
    assert err.value.response["Error"]["Code"] == "RequestLimitExceeded"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    ec2.describe_instances()  # count 1: the rule is spent
    log = control(sim, "GET", "/calls?api=ssm:DescribeInstanceInformation")
    assert log["counts"]["ssm:DescribeInstanceInformation"] == 6
    assert [c["status"] for c in log["calls"]] == [200, 400] * 3
    assert [c["fault"] for c in log["calls"]][:2] == [None, "throttle"]


def test_server_errors_and_dropped_connections(sim):
    control(sim, "POST", "/faults", {"rules": [{"fault": "error5xx", "api": "ssm:ListCommands", "count": 1},
                                               {"fault": "drop", "api": "sts:GetCallerIdentity", "count": 1}]})
    ssm, sts = client(sim, "ssm"), client(sim, "sts")
    with pytest.raises(ClientError) as err:
        ssm.list_commands()
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        sts.get_caller_identity()
    assert sts.get_caller_identity()["Account"] == "123456789012"


@pytest.mark.parametrize("fault,status,details", [("undeliverable", "Failed", "Undeliverable"),
                                                  ("deliveryTimedOut", "TimedOut", "DeliveryTimedOut")])
def test_undelivered_invocations(sim, fault, status, details):
    source = sim.info["sourceInstanceId"]
    control(sim, "POST", "/faults", {"rules": [{"fault": fault, "instanceId": source}]})
    inv = run_payload(sim, source, "preflight")
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"], inv["StandardOutputContent"]) == (
        status, details, -1, "")


def test_truncated_and_tampered_output(sim):
    source = sim.info["sourceInstanceId"]
    nonce = "0123456789abcdef0123456789abcdef"
    _, script_sha = make_loader("preflight")
    control(sim, "POST", "/faults", {"rules": [{"fault": "truncateOutput", "chars": 200, "count": 1}]})
    cut = run_payload(sim, source, "preflight", nonce=nonce)["StandardOutputContent"]
    assert len(cut) == 200 and envelope.verdict(cut, nonce, script_sha) == "truncated"
    control(sim, "POST", "/faults", {"rules": [{"fault": "tamperEnvelope", "count": 1}]})
    text = run_payload(sim, source, "preflight", nonce=nonce)["StandardOutputContent"]
    assert envelope.verdict(text, nonce, script_sha) == "tampered"
    clean = run_payload(sim, source, "preflight", nonce=nonce)["StandardOutputContent"]
    assert envelope.verdict(clean, nonce, script_sha) == "verified"


def test_slow_answers_still_arrive_and_are_logged(sim):
    control(sim, "POST", "/faults", {"rules": [{"fault": "slow", "api": "ssm:ListCommands", "seconds": 0.3}]})
    client(sim, "ssm").list_commands()
    calls = control(sim, "GET", "/calls?api=ssm:ListCommands")["calls"]
    assert [(c["status"], c["fault"]) for c in calls] == [(200, "slow")]


def test_agent_not_back_after_reboot_times_out(sim):
    [iid] = launch(sim)
    online(sim, iid)
    control(sim, "POST", "/faults", {"rules": [{"fault": "agentNotBack", "instanceId": iid}]})
    control(sim, "POST", "/config", {"timeScale": 0.0002})  # executionTimeout 3600 s -> 0.72 s
    inv = run_payload(sim, iid, "hostname", {"NewName": "LOSTONE"})
    assert (inv["Status"], inv["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")
    rows = client(sim, "ssm").describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [iid]}])["InstanceInformationList"]
    assert rows[0]["PingStatus"] == "ConnectionLost"


def test_signature_is_checked_for_calls_the_simulator_serves(sim):
    wrong = client(sim, "ssm", aws_secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as err:
        wrong.describe_instance_information()
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    unknown = client(sim, "ssm", aws_access_key_id="AKIAUNKNOWNUNKNOWN00")
    with pytest.raises(ClientError) as err:
        unknown.list_commands()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"
    req = urllib.request.Request(sim.info["endpoint"] + "/", data=b"{}", method="POST", headers={
        "X-Amz-Target": "AmazonSSM.ListCommands", "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as http_err:
        urllib.request.urlopen(req, timeout=10)
    assert http_err.value.code == 400 and b"MissingAuthenticationTokenException" in http_err.value.read()


def test_keys_created_on_moto_directly_are_known(sim):
    import boto3
    info = sim.info
    iam = boto3.client("iam", endpoint_url=info["motoEndpoint"], region_name=info["region"],
                       aws_access_key_id=info["accessKeyId"], aws_secret_access_key=info["secretAccessKey"])
    key = iam.create_access_key(UserName="clonectl")["AccessKey"]
    try:
        fresh = client(sim, "ssm", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        assert fresh.list_commands()["Commands"] is not None
        iam.update_access_key(UserName="clonectl", AccessKeyId=key["AccessKeyId"], Status="Inactive")
        with pytest.raises(ClientError) as err:
            fresh.list_commands()
        assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"
    finally:
        iam.delete_access_key(UserName="clonectl", AccessKeyId=key["AccessKeyId"])


def test_assumed_role_credentials_sign_run_command_calls(sim):
    sts = client(sim, "sts")
    creds = sts.assume_role(RoleArn=sim.info["roleArn"], RoleSessionName="sim-test")["Credentials"]
    ssm = client(sim, "ssm", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                 aws_session_token=creds["SessionToken"])
    assert ssm.describe_instance_information()["InstanceInformationList"]
    no_token = client(sim, "ssm", aws_access_key_id=creds["AccessKeyId"],
                      aws_secret_access_key=creds["SecretAccessKey"])
    with pytest.raises(ClientError) as err:
        no_token.list_commands()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_control_api_refuses_bad_rules(sim):
    req = urllib.request.Request(sim.info["controlEndpoint"] + "/faults", data=b'{"rules": [{"fault": "bogus"}]}',
                                 method="POST", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400 and b"bogus" in err.value.read()
