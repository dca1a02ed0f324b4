"""The simulator answers as AWS does, checked against AWS's own service models (botocore's SSM and EC2 models).

Generated: for every SSM operation the simulator serves (ssm_api.SERVED) and every EC2 action it checks
(ec2_validate.SERVED), and every member constraint of the model (required, length, range, pattern, enum, list
size), a request that breaks it is sent with botocore's client-side validation off, and AWS's answer is expected
(SSM: ValidationException naming the member and the constraint; EC2: MissingParameter / InvalidParameterValue,
InvalidAMIName.Malformed for an AMI name). A member or operation added to what the simulator serves is covered
without a new case here. Then the documented refusals beyond the model, and every response of a full run checked
against the output shapes. One local AWS for the module.
"""
import json
import urllib.request

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

import modelcases
from simfixtures import (FAST, LOOSE, client, control, finished, launch, make_loader, online, patient,  # noqa: F401
                         send, wait_for)
from localaws import ec2_validate, ssm_api
from localaws.server import LocalAws

SSM_CASES = [c for op in ssm_api.SERVED for c in modelcases.ssm_requests(op)]
EC2_CASES = [c for action in ec2_validate.SERVED for c in modelcases.ec2_requests(action)]
# Where the API reference gives an operation's own error for a member instead of the generic one.
EC2_SPECIFIC = {("CreateImage", "Name"): "InvalidAMIName.Malformed"}


@pytest.fixture(scope="module")
def aws():
    server = LocalAws(config=dict(FAST, rateLimitsEnabled=0)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ssm(aws):
    return client(aws, "ssm", config=LOOSE)


@pytest.fixture(scope="module")
def ec2(aws):
    return client(aws, "ec2", config=LOOSE)


def raw_ssm(aws, operation, body):
    """An SSM call with exactly this JSON body (botocore would drop or reshape some bad values), signed."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    info = aws.info
    req = botocore.awsrequest.AWSRequest(method="POST", url=info["endpoint"] + "/", data=json.dumps(body).encode(),
                                         headers={"X-Amz-Target": f"AmazonSSM.{operation}",
                                                  "Content-Type": "application/x-amz-json-1.1"})
    creds = botocore.credentials.Credentials(info["accessKeyId"], info["secretAccessKey"])
    botocore.auth.SigV4Auth(creds, "ssm", info["region"]).add_auth(req)
    prepared = req.prepare()
    http = urllib.request.Request(prepared.url, data=prepared.body, method="POST", headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(http, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_the_generated_cases_cover_every_served_operation():
    covered = {c[0].split(":")[0] for c in SSM_CASES}
    assert covered == set(ssm_api.SERVED)  # each served SSM operation has constraints, so cases
    assert {c[0].split(":")[0] for c in EC2_CASES} >= {"RunInstances", "CreateImage", "StopInstances"}
    assert len(SSM_CASES) > 80 and len(EC2_CASES) > 30


@pytest.mark.parametrize("description,body,path,words", SSM_CASES, ids=[c[0] for c in SSM_CASES])
def test_ssm_model_constraint_is_a_validation_exception(aws, description, body, path, words):
    operation = description.split(":")[0]
    status, answer = raw_ssm(aws, operation, body)
    assert status == 400 and answer["__type"] == "ValidationException", answer
    assert f"at '{path}' failed to satisfy constraint: {words}" in answer["message"], answer["message"]
    assert answer["message"].split(" ")[1] in ("validation", ) and " detected: " in answer["message"]


@pytest.mark.parametrize("description,params,code", EC2_CASES, ids=[c[0] for c in EC2_CASES])
def test_ec2_model_constraint_is_refused_as_ec2_refuses_it(ec2, description, params, code):
    action = description.split(":")[0]
    member = description.split(": ")[1].split(" ")[0].split(".")[0]
    expected = code if code == "MissingParameter" else \
        EC2_SPECIFIC.get((action, member[:1].upper() + member[1:]), code)
    with pytest.raises(ClientError) as err:
        getattr(ec2, xform_name(action))(**params)
    assert err.value.response["Error"]["Code"] == expected, err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_wrong_json_type_is_a_serialization_exception(aws):
    status, answer = raw_ssm(aws, "SendCommand", {"DocumentName": "AWS-RunPowerShellScript", "TimeoutSeconds": "60"})
    assert (status, answer["__type"]) == (400, "SerializationException")
    status, answer = raw_ssm(aws, "ListCommands", {"MaxResults": 2, "CommandId": 7})
    assert (status, answer["__type"]) == (400, "SerializationException")


def code(call):
    try:
        call()
        return "ok"
    except ClientError as exc:
        return exc.response["Error"]["Code"]


def test_send_command_refuses_what_ssm_refuses_beyond_the_model(aws, ssm):
    source = aws.info["sourceInstanceId"]
    text, _ = make_loader("preflight")

    def sent(**overrides):
        kwargs = dict(InstanceIds=[source], DocumentName="AWS-RunPowerShellScript", Parameters={"commands": [text]})
        kwargs.update(overrides)
        return code(lambda: ssm.send_command(**kwargs))
    with_params = lambda **p: sent(Parameters=dict({"commands": [text]}, **p))  # noqa: E731
    assert sent(DocumentVersion="7") == "InvalidDocumentVersion"
    assert sent(DocumentVersion="$LATEST") == "ok" and sent(DocumentVersion="1") == "ok"
    assert [with_params(executionTimeout=[v]) for v in ("0", "abc", "999999", "172801")] == ["InvalidParameters"] * 4
    assert with_params(executionTimeout=["172800"]) == "ok"
    assert with_params(workingDirectory=["C:\\", "D:\\"]) == "InvalidParameters"  # a String takes one value
    assert sent(InstanceIds=[source, source]) == "DuplicateInstanceId"
    assert sent(MaxConcurrency="10000000") == "ValidationException"  # fits the pattern, longer than 7
    assert sent(MaxErrors="10000000") == "ValidationException"
    assert sent(OutputS3BucketName="no-such-bucket-here") == "InvalidOutputFolder"
    assert sent(OutputS3BucketName="Bad_Bucket") == "InvalidOutputFolder"
    assert sent(OutputS3KeyPrefix="out/") == "InvalidOutputFolder"  # a prefix needs a bucket
    assert sent(CloudWatchOutputConfig={"CloudWatchLogGroupName": "bad group!", "CloudWatchOutputEnabled": True}) \
        == "ValidationException"
    assert sent(DocumentHashType="Md5") == "ValidationException"
    assert sent(DocumentHash="0" * 64, DocumentHashType="Sha256") == "InvalidDocument"
    assert sent(ServiceRoleArn="not-an-arn") == "InvalidRole"
    assert sent(NotificationConfig={"NotificationArn": "arn:aws:sns:us-east-1:123456789012:topic"}) == "InvalidRole"
    assert sent(ServiceRoleArn="arn:aws:iam::123456789012:role/notify",
                NotificationConfig={"NotificationArn": "not-a-topic"}) == "InvalidNotificationConfig"
    client(aws, "s3").create_bucket(Bucket="clonectl-output")
    ok = ssm.send_command(InstanceIds=[source], DocumentName="AWS-RunPowerShellScript",
                          Parameters={"commands": [text]}, OutputS3BucketName="clonectl-output",
                          OutputS3KeyPrefix="runs/", DocumentVersion="$DEFAULT")["Command"]
    assert (ok["OutputS3BucketName"], ok["OutputS3KeyPrefix"], ok["DocumentVersion"]) == \
        ("clonectl-output", "runs/", "$DEFAULT")


def test_cancel_command_refuses_strangers_duplicates_and_more_than_50(aws, ssm):
    source = aws.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    command_id = send(ssm, [source], text)
    assert code(lambda: ssm.cancel_command(CommandId=command_id, InstanceIds=["i-0123456789abcdef0"])) \
        == "InvalidInstanceId"
    assert code(lambda: ssm.cancel_command(CommandId=command_id, InstanceIds=[source, source])) \
        == "DuplicateInstanceId"
    many = [f"i-{n:017x}" for n in range(51)]
    assert code(lambda: ssm.cancel_command(CommandId=command_id, InstanceIds=many)) == "ValidationException"
    assert code(lambda: ssm.cancel_command(CommandId="00000000-0000-0000-0000-000000000000")) == "InvalidCommandId"
    assert code(lambda: ssm.cancel_command(CommandId=command_id, InstanceIds=[source])) == "ok"


def test_describe_instance_information_refuses_bad_filters_instead_of_answering_empty(aws, ssm):
    bad_value = lambda key, values: code(lambda: ssm.describe_instance_information(  # noqa: E731
        Filters=[{"Key": key, "Values": values}]))
    assert bad_value("PingStatus", ["online"]) == "InvalidInstanceInformationFilterValue"
    assert bad_value("PlatformTypes", ["windows"]) == "InvalidInstanceInformationFilterValue"
    assert bad_value("InstanceIds", ["web01"]) == "InvalidInstanceInformationFilterValue"
    assert bad_value("Colour", ["blue"]) == "InvalidFilterKey"
    assert code(lambda: ssm.describe_instance_information(
        InstanceInformationFilterList=[{"key": "PingStatus", "valueSet": ["online"]}])) \
        == "InvalidInstanceInformationFilterValue"
    rows = ssm.describe_instance_information(Filters=[{"Key": "PingStatus", "Values": ["Online"]},
                                                      {"Key": "ResourceType", "Values": ["EC2Instance"]}])
    assert aws.info["sourceInstanceId"] in [r["InstanceId"] for r in rows["InstanceInformationList"]]


def test_page_tokens_cannot_be_forged_edited_or_moved_to_another_listing(aws, ssm):
    source = aws.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    for _ in range(3):
        send(ssm, [source], text)
    first = ssm.list_commands(MaxResults=1)
    token = first["NextToken"]
    second = ssm.list_commands(MaxResults=1, NextToken=token)
    assert second["Commands"][0]["CommandId"] != first["Commands"][0]["CommandId"]
    import base64
    forged = [base64.b64encode(b"1").decode(), "1", token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
              base64.urlsafe_b64encode(base64.urlsafe_b64decode(token).replace(b'"o":1', b'"o":2')).decode()]
    for bad in forged:
        assert code(lambda: ssm.list_commands(MaxResults=1, NextToken=bad)) == "InvalidNextToken", bad
    # A token belongs to its listing: not to another operation, nor to the same one asked something else.
    assert code(lambda: ssm.list_command_invocations(MaxResults=1, NextToken=token)) == "InvalidNextToken"
    assert code(lambda: ssm.list_commands(MaxResults=1, InstanceId=source, NextToken=token)) == "InvalidNextToken"
    assert ssm.list_commands(MaxResults=2, NextToken=token)["Commands"]  # a new page size is still the same listing


def test_ec2_client_token_of_more_than_64_characters_is_refused(aws, ec2):
    args = dict(ImageId=aws.info["sourceImageId"], MinCount=1, MaxCount=1, InstanceType="m5.large")
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ClientToken="t" * 65, **args)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "64" in err.value.response["Error"]["Message"]
    assert len(ec2.run_instances(ClientToken="t" * 64, **args)["Instances"]) == 1


def test_every_response_of_a_full_run_fits_the_output_shapes(aws):
    """The six-stage workflow (test_sim_workflow) and a tour of the statuses, every SSM and EC2 answer recorded
    as the client received it and checked against the model's output shape: members, types, enums."""
    import boto3
    import test_sim_workflow
    from test_sim_statuses import watch
    seen = []

    def record(http_response, model, **_):
        if http_response.status_code == 200:
            seen.append((model, http_response.content))
    session = boto3._get_default_session()._session
    session.register("after-call.ssm", record)
    session.register("after-call.ec2", record)
    try:
        test_sim_workflow.test_whole_workflow_on_the_simulated_source(aws)
        ssm = client(aws, "ssm")
        source = aws.info["sourceInstanceId"]
        text, _ = make_loader("preflight")
        control(aws, "POST", "/faults", {"rules": [{"fault": "delayed", "seconds": 0.5, "count": 1},
                                                   {"fault": "cancelling", "seconds": 0.5, "count": 1}]})
        for until in (("Cancelled", "Cancelled"), ("Success", "Success")):
            command_id = send(ssm, [source], text)
            watch(ssm, command_id, source, until)
            ssm.list_command_invocations(CommandId=command_id, Details=True)
            ssm.list_commands(CommandId=command_id)
        ssm.describe_instance_information(MaxResults=5)
    finally:
        session.unregister("after-call.ssm", record)
        session.unregister("after-call.ec2", record)
        control(aws, "POST", "/faults", {"rules": []})
    operations = {m.name for m, _ in seen}
    assert set(ssm_api.SERVED) - {"CancelCommand", "SendCommand"} <= operations | {"CancelCommand"}
    assert {"SendCommand", "GetCommandInvocation", "DescribeInstances", "CreateImage", "RunInstances"} <= operations
    problems = []
    for model, body in seen:
        if model.service_model.service_name == "ssm":
            problems += [f"{model.name}: {p}" for p in modelcases.json_problems(model.output_shape, json.loads(body))]
        else:
            problems += [f"{model.name}: {p}" for p in modelcases.ec2_response_problems(model, body)]
    assert problems == [], "\n".join(sorted(set(problems))[:40])
