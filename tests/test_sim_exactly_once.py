"""What issue 11 needs from the simulator: faults after the call is carried out, AMI names unique per account and
region, ListCommands / ListCommandInvocations Filters as AWS validates and applies them, and a SID per clone."""
import threading
import time

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from botocore.config import Config

from simfixtures import LOOSE, aws, client, control, launch, make_loader, online, send, sim, wait_for  # noqa: F401

from localaws import cmdfilters


def _code(call):
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_a_lost_answer_comes_after_the_call_is_carried_out(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    control(sim, "POST", "/faults", {"rules": [{"fault": "lostAnswer", "api": "ssm:SendCommand", "count": 1}]})
    before = len(ssm.list_commands(InstanceId=source)["Commands"])
    text, _ = make_loader("preflight")
    with pytest.raises(ConnectionClosedError):
        send(ssm, [source], text, Comment="lost #0123456789abcdef")
    commands = ssm.list_commands(InstanceId=source)["Commands"]
    assert len(commands) == before + 1, "the command exists although its answer never came"
    assert commands[0]["Comment"] == "lost #0123456789abcdef"
    log = control(sim, "GET", "/calls?api=ssm:SendCommand")
    assert [c["fault"] for c in log["calls"]] == ["lostAnswer"]


def test_a_late_answer_lands_before_the_client_gives_up(sim):
    ec2 = client(sim, "ec2", config=Config(read_timeout=0.5, retries={"total_max_attempts": 1}))
    control(sim, "POST", "/faults", {"rules": [{"fault": "lateAnswer", "api": "ec2:CreateTags", "seconds": 2,
                                                "count": 1}]})
    source = sim.info["sourceInstanceId"]
    with pytest.raises(ReadTimeoutError):
        ec2.create_tags(Resources=[source], Tags=[{"Key": "late", "Value": "1"}])
    plain = client(sim, "ec2")
    probe = lambda: [t["Value"] for t in plain.describe_tags(  # noqa: E731
        Filters=[{"Name": "resource-id", "Values": [source]}, {"Name": "key", "Values": ["late"]}])["Tags"]]
    # Carried out although the client gave up; polled, since on a loaded machine the client's 0.5 s can pass
    # before the front has even read the request.
    wait_for(lambda: probe() == ["1"], "the late call to have been carried out")
    # The call is logged once its held answer has gone out.
    wait_for(lambda: [c["fault"] for c in control(sim, "GET", "/calls?api=ec2:CreateTags")["calls"]] == ["lateAnswer"],
             "the late answer to be logged")


def test_a_slow_call_lands_after_the_client_has_gone(sim):
    ec2 = client(sim, "ec2", config=Config(read_timeout=0.3, retries={"total_max_attempts": 1}))
    control(sim, "POST", "/faults", {"rules": [{"fault": "slow", "api": "ec2:CreateTags", "seconds": 1.5,
                                                "count": 1}]})
    source = sim.info["sourceInstanceId"]
    with pytest.raises(ReadTimeoutError):
        ec2.create_tags(Resources=[source], Tags=[{"Key": "slow", "Value": "1"}])
    plain = client(sim, "ec2")
    probe = lambda: plain.describe_tags(Filters=[{"Name": "resource-id", "Values": [source]},  # noqa: E731
                                                 {"Name": "key", "Values": ["slow"]}])["Tags"]
    assert probe() == [], "not carried out yet when the client gave up"
    wait_for(lambda: probe(), "the held call to land")


def test_ami_names_are_unique_per_account_and_region(sim):
    ec2 = client(sim, "ec2")
    source = sim.info["sourceInstanceId"]
    first = ec2.create_image(InstanceId=source, Name="exactly-once-name", NoReboot=True)["ImageId"]
    code, message = _code(lambda: ec2.create_image(InstanceId=source, Name="exactly-once-name", NoReboot=True))
    assert code == "InvalidAMIName.Duplicate"
    assert message == f"AMI name exactly-once-name is already in use by AMI {first}"
    names = [i for i in ec2.describe_images(Owners=["self"])["Images"] if i["Name"] == "exactly-once-name"]
    assert len(names) == 1
    ec2.deregister_image(ImageId=first)  # a deregistered image frees its name
    again = ec2.create_image(InstanceId=source, Name="exactly-once-name", NoReboot=True)["ImageId"]
    assert again != first
    ec2.deregister_image(ImageId=again)


def test_racing_create_images_of_one_name_make_one_image(sim):
    source = sim.info["sourceInstanceId"]
    results = []

    def create():
        try:
            results.append(client(sim, "ec2").create_image(InstanceId=source, Name="race-name", NoReboot=True)["ImageId"])
        except ClientError as exc:
            results.append(exc.response["Error"]["Code"])
    threads = [threading.Thread(target=create) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    made = [r for r in results if r.startswith("ami-")]
    assert len(made) == 1 and results.count("InvalidAMIName.Duplicate") == 3
    client(sim, "ec2").deregister_image(ImageId=made[0])


def _commands_filtered(ssm, **kwargs):
    return [c["CommandId"] for c in ssm.list_commands(**kwargs)["Commands"]]


def test_list_commands_filters_apply_as_documented(sim):
    ssm = client(sim, "ssm")
    source = sim.info["sourceInstanceId"]
    text, _ = make_loader("preflight")
    early = send(ssm, [source], text)
    time.sleep(1.1)
    middle = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    time.sleep(1.1)
    late = send(ssm, [source], text)
    after = _commands_filtered(ssm, InstanceId=source, Filters=[{"key": "InvokedAfter", "value": middle}])
    assert late in after and early not in after
    before = _commands_filtered(ssm, Filters=[{"key": "InvokedBefore", "value": middle}])
    assert early in before and late not in before
    both = _commands_filtered(ssm, Filters=[{"key": "InvokedAfter", "value": middle},
                                            {"key": "DocumentName", "value": "AWS-RunPowerShellScript"}])
    assert late in both
    assert _commands_filtered(ssm, Filters=[{"key": "DocumentName", "value": "AWS-RunShellScript"}]) == []
    wait_for(lambda: ssm.list_commands(CommandId=late)["Commands"][0]["Status"] == "Success", "the command to end")
    assert late in _commands_filtered(ssm, Filters=[{"key": "ExecutionStage", "value": "Complete"}])
    assert late not in _commands_filtered(ssm, Filters=[{"key": "ExecutionStage", "value": "Executing"}])
    assert late in _commands_filtered(ssm, Filters=[{"key": "Status", "value": "Success"}])
    assert late not in _commands_filtered(ssm, Filters=[{"key": "Status", "value": "Failed"}])
    # An offset is the same moment as its UTC form.
    assert _commands_filtered(ssm, Filters=[{"key": "InvokedAfter", "value": middle[:-1] + "+00:00"}]) == \
        _commands_filtered(ssm, Filters=[{"key": "InvokedAfter", "value": middle}])
    # Invocations are listed invocationVisibleSeconds after the send (eventual consistency), however fast they ran.
    wait_for(lambda: ssm.list_command_invocations(CommandId=late)["CommandInvocations"], "the invocation to be listed")
    invocations = ssm.list_command_invocations(Filters=[{"key": "InvokedAfter", "value": middle},
                                                        {"key": "Status", "value": "Success"}])["CommandInvocations"]
    assert {i["CommandId"] for i in invocations} == {late}


def test_list_commands_filters_are_validated_as_aws_does(sim):
    ssm = client(sim, "ssm", config=LOOSE)
    code, message = _code(lambda: ssm.list_commands(Filters=[{"key": "Owner", "value": "x"}]))
    assert code == "ValidationException"
    assert message == ("1 validation error detected: Value 'Owner' at 'filters.1.member.key' failed to satisfy "
                       "constraint: Member must satisfy enum value set: [InvokedAfter, InvokedBefore, Status, "
                       "ExecutionStage, DocumentName]")
    code, message = _code(lambda: ssm.list_commands(Filters=[{"key": "Status", "value": "x"}] * 6))
    assert code == "ValidationException" and "Member must have length less than or equal to 5" in message
    code, message = _code(lambda: ssm.list_commands(Filters=[{"key": "DocumentName", "value": "d" * 129}]))
    assert code == "ValidationException" and "'filters.1.member.value'" in message
    assert _code(lambda: ssm.list_command_invocations(Filters=[{"key": "ExecutionStage", "value": "Complete"}]))[0] \
        == "InvalidFilterKey"
    assert _code(lambda: ssm.list_commands(Filters=[{"key": "InvokedAfter", "value": "yesterday"}]))[0] \
        == "InvalidFilterValue"
    assert _code(lambda: ssm.list_commands(Filters=[{"key": "Status", "value": "Undeliverable"}]))[0] \
        == "InvalidFilterValue", "Undeliverable is an invocation status, not a command status"
    assert _code(lambda: ssm.list_commands(Filters=[{"key": "ExecutionStage", "value": "Done"}]))[0] \
        == "InvalidFilterValue"


def test_filter_timestamps():
    assert cmdfilters.parse_timestamp("2021-07-07T00:00:00Z") == 1625616000
    assert cmdfilters.parse_timestamp("2021-07-07T09:00:00+09:00") == 1625616000
    assert cmdfilters.parse_timestamp("2021-07-07T00:00:00.250Z") == 1625616000.25
    for bad in ("2021-07-07", "2021-07-07T00:00:00", "2021-13-07T00:00:00Z", "yesterday"):
        assert cmdfilters.parse_timestamp(bad) is None, bad


def test_each_clone_of_one_master_gets_its_own_sid(sim):
    ec2 = client(sim, "ec2")
    source = sim.info["sourceInstanceId"]
    # A generalized image: what sysprep leaves (the guest model's state at shutdown).
    work = launch(sim, sim.info["sourceImageId"])[0]
    control(sim, "POST", f"/guests/{work}", {"imageState": "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"})
    master = ec2.create_image(InstanceId=work, Name="sid-master", NoReboot=True)["ImageId"]
    clones = launch(sim, master, count=3)
    sids = {control(sim, "GET", f"/guests/{c}")["machineSid"] for c in clones}
    source_sid = control(sim, "GET", f"/guests/{source}")["machineSid"]
    assert len(sids) == 3 and source_sid not in sids
    assert all(control(sim, "GET", f"/guests/{c}")["imageState"] == "IMAGE_STATE_COMPLETE" for c in clones)
