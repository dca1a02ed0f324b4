"""The three policies in controller/iam/ against real calls on the local AWS: what a run, a publish and the guest
do is allowed; the same calls mutated (another document, an untagged instance, missing or foreign tags, another
role, another parameter path or prefix) are denied, so a policy too wide or too narrow fails here.

The calls are made with boto3 the way the controller makes them (same operations, parameters and tags); the
simulator logs each with the authorization requests AWS makes for it (localaws/authz.py), and those are evaluated
(localaws/iampolicy.py). The replay of a whole run of the real controller is in the Swift end-to-end suite
(EndToEndTests.theWholeWorkflowThenOneStepAgain), which calls the same evaluator on that run's call log.
"""
import json
import os

import pytest
from botocore.exceptions import ClientError

from simfixtures import ROOT, aws, client, control, online, sim, wait_for  # noqa: F401
from localaws.iampolicy import decide, replay, without

INLINE_SID = "InlineModeOnlySendAWSRunPowerShellScript"
RUN_TAGS = [{"Key": "clonectl:run", "Value": "r-20260101-000000-abcd"}, {"Key": "clonectl:plan", "Value": "demo"}]


def load(name, **subs):
    text = open(os.path.join(ROOT, "controller", "iam", name), encoding="utf-8").read()
    for key, value in subs.items():
        text = text.replace(f"<{key}>", value)
    return json.loads(text)


RUN = load("controller-policy.json")
DOCUMENTS_MODE = without(RUN, [INLINE_SID])
PUBLISHER = load("publisher-policy.json")


def calls_of(aws, fn, strict=False):
    """The logged calls (with their authorization requests) that `fn` makes; errors of the calls themselves are
    ignored here: IAM is asked before the service acts, so a call the service then refuses was still authorized."""
    before = control(aws, "GET", "/calls")["total"]
    try:
        fn()
    except ClientError:
        if strict:
            raise
    return [c for c in control(aws, "GET", "/calls")["calls"] if c["seq"] > before]


def verdict(policy, calls):
    out = replay([policy], calls)
    assert not out["unknown"], out["unknown"]
    return out


def assert_allowed(policy, calls):
    out = verdict(policy, calls)
    assert calls and not out["denied"], json.dumps(out["denied"], indent=1)


def assert_denied(policy, calls, action, resource_part):
    out = verdict(policy, calls)
    refused = [rq for c in out["denied"] for rq in c["refused"]]
    assert any(rq["action"] == action and resource_part in rq["resource"] for rq in refused), json.dumps(out, indent=1)


@pytest.fixture(scope="module")
def world(aws):
    """The seeded source (operator opt-in tag on), an untagged bystander, an image and a work copy as a run makes
    them: CreateImage (image and snapshots) and RunInstances with the run's tags."""
    ec2 = client(aws, "ec2")
    info = aws.info
    bystander = ec2.run_instances(ImageId=info["sourceImageId"], MinCount=1, MaxCount=1, InstanceType="m5.large",
                                  SubnetId=info["subnetId"])["Instances"][0]["InstanceId"]
    return {"ec2": ec2, "ssm": client(aws, "ssm"), "source": info["sourceInstanceId"], "bystander": bystander,
            "info": info}


def state(ec2, instance, wanted):
    wait_for(lambda: ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]["Name"]
             == wanted, f"{instance} to be {wanted}")


def run_flow(aws, w):
    """The run's calls on EC2 and SSM, in the workflow's order, as the controller sends them."""
    ec2, ssm, source, info = w["ec2"], w["ssm"], w["source"], w["info"]
    made = {}

    def flow():
        ec2.create_tags(Resources=[source], Tags=[RUN_TAGS[0], {"Key": "clonectl:state", "Value": "held by test"}])
        ssm.send_command(DocumentName="AWS-RunPowerShellScript", InstanceIds=[source],
                         Parameters={"commands": ["'preflight'"]})
        ec2.stop_instances(InstanceIds=[source])
        state(ec2, source, "stopped")
        role = RUN_TAGS + [{"Key": "clonectl:role", "Value": "source"}]
        made["image"] = ec2.create_image(InstanceId=source, Name=f"clonectl-iam-{os.getpid()}-{len(made)}",
                                         TagSpecifications=[{"ResourceType": "image", "Tags": role},
                                                            {"ResourceType": "snapshot", "Tags": role}])["ImageId"]
        wait_for(lambda: ec2.describe_images(ImageIds=[made["image"]])["Images"][0]["State"] == "available",
                 "the image to be available")
        image = ec2.describe_images(ImageIds=[made["image"]])["Images"][0]
        snaps = [b["Ebs"]["SnapshotId"] for b in image.get("BlockDeviceMappings", []) if "Ebs" in b]
        made["snapshots"] = snaps  # tagged by CreateImage itself: no CreateTags on them afterwards
        ec2.start_instances(InstanceIds=[source])
        state(ec2, source, "running")
        made["work"] = ec2.run_instances(
            ImageId=made["image"], MinCount=1, MaxCount=1, InstanceType="m5.large", SubnetId=info["subnetId"],
            SecurityGroupIds=[info["securityGroupId"]], IamInstanceProfile={"Name": info["instanceProfile"]},
            TagSpecifications=[{"ResourceType": "instance", "Tags": RUN_TAGS + [
                {"Key": "clonectl:role", "Value": "work-copy"}, {"Key": "Name", "Value": "clonectl-demo-work-copy"}]}],
        )["Instances"][0]["InstanceId"]
        online(aws, made["work"])
        ssm.send_command(DocumentName="AWS-RunPowerShellScript", InstanceIds=[made["work"]],
                         Parameters={"commands": ["'prep'"]})
        ssm.list_commands(MaxResults=1)
        ec2.describe_instances(InstanceIds=[source])
        ec2.terminate_instances(InstanceIds=[made["work"]])
        ec2.deregister_image(ImageId=made["image"])
        for s in snaps:
            ec2.delete_snapshot(SnapshotId=s)

    return calls_of(aws, flow, strict=True), made


def test_the_runs_calls_are_all_allowed_and_only_by_the_statements_meant_for_them(aws, world):
    calls, made = run_flow(aws, world)
    apis = {c["api"] for c in calls}
    assert {"ec2:CreateTags", "ssm:SendCommand", "ec2:StopInstances", "ec2:CreateImage", "ec2:RunInstances",
            "ec2:TerminateInstances", "ec2:DeregisterImage", "ec2:DeleteSnapshot"} <= apis, apis
    assert made["snapshots"]
    assert_allowed(RUN, calls)
    # The requests carry what AWS would check: the source's opt-in tag at call time, the new instance's request
    # tags, the role passed, the AWS-owned document's account-less ARN.
    requests = [rq for c in calls for rq in c["authz"]]
    stop = next(rq for rq in requests if rq["action"] == "ec2:StopInstances")
    assert stop["context"]["ec2:ResourceTag/clonectl:source"] == "allowed"
    assert stop["resource"] == f"arn:aws:ec2:{aws.info['region']}:123456789012:instance/{world['source']}"
    launch = next(rq for rq in requests if rq["action"] == "ec2:RunInstances" and rq["resource"].endswith(":instance/*"))
    assert launch["context"]["aws:RequestTag/clonectl:role"] == "work-copy"
    assert "clonectl:run" in launch["context"]["aws:TagKeys"]
    passed = next(rq for rq in requests if rq["action"] == "iam:PassRole")
    assert passed["resource"].endswith(":role/clonectl-instance")
    assert passed["context"] == {"iam:PassedToService": "ec2.amazonaws.com"}
    document = next(rq for rq in requests if rq["action"] == "ssm:SendCommand" and ":document/" in rq["resource"])
    assert document["resource"] == f"arn:aws:ssm:{aws.info['region']}::document/AWS-RunPowerShellScript"
    # Which statement allowed what: the inline-mode statement only the AWS document.
    decided = {(rq["action"], rq["resource"].split(":")[-1].split("/")[0]): decide([RUN], rq)[1] for rq in requests}
    assert decided[("ssm:SendCommand", "document")] == [INLINE_SID]
    assert decided[("ec2:StopInstances", "instance")] == ["StopStartAndImageTheOptedInSource"]
    snapshot_rqs = [rq for rq in requests if ":snapshot/" in rq["resource"]]
    assert {rq["action"] for rq in snapshot_rqs} == {"ec2:CreateImage", "ec2:CreateTags", "ec2:DeleteSnapshot"}
    assert decided[("ec2:CreateImage", "snapshot")] == ["NewSnapshotsCarryTheRunTags"]
    assert decided[("ec2:CreateTags", "snapshot")] == ["TagTheNewImagesSnapshots"]
    deleted = next(rq for rq in snapshot_rqs if rq["action"] == "ec2:DeleteSnapshot")
    assert deleted["context"]["ec2:ResourceTag/clonectl:role"] == "source"  # the tags CreateImage put on it


def test_documents_mode_denies_aws_run_powershell_script_and_allows_clonectl_documents(aws, world):
    ssm = world["ssm"]
    inline = calls_of(aws, lambda: ssm.send_command(DocumentName="AWS-RunPowerShellScript", InstanceIds=[world["source"]],
                                                    Parameters={"commands": ["whoami"]}))
    assert_denied(DOCUMENTS_MODE, inline, "ssm:SendCommand", "document/AWS-RunPowerShellScript")
    assert_allowed(RUN, inline)  # the same call, with the inline statement kept
    own = calls_of(aws, lambda: ssm.send_command(DocumentName="clonectl-preflight", DocumentVersion="1",
                                                 InstanceIds=[world["source"]]))
    assert own[0]["authz"][0]["resource"] == f"arn:aws:ssm:{aws.info['region']}:123456789012:document/clonectl-preflight"
    assert_allowed(DOCUMENTS_MODE, own)
    other = calls_of(aws, lambda: ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[world["source"]],
                                                   Parameters={"commands": ["id"]}))
    assert_denied(RUN, other, "ssm:SendCommand", "document/AWS-RunShellScript")


def test_send_command_to_an_instance_without_the_opt_in_or_a_clonectl_role_is_denied(aws, world):
    ssm = world["ssm"]
    calls = calls_of(aws, lambda: ssm.send_command(DocumentName="clonectl-preflight", InstanceIds=[world["bystander"]]))
    assert_denied(DOCUMENTS_MODE, calls, "ssm:SendCommand", world["bystander"])
    assert_denied(RUN, calls, "ssm:SendCommand", world["bystander"])
    # One bad target spoils the whole call, as with AWS.
    both = calls_of(aws, lambda: ssm.send_command(DocumentName="clonectl-preflight",
                                                  InstanceIds=[world["source"], world["bystander"]]))
    assert_denied(RUN, both, "ssm:SendCommand", world["bystander"])


def test_stop_start_image_and_terminate_need_the_tags(aws, world):
    ec2 = world["ec2"]
    by = world["bystander"]
    for fn, action in ((lambda: ec2.stop_instances(InstanceIds=[by]), "ec2:StopInstances"),
                       (lambda: ec2.start_instances(InstanceIds=[by]), "ec2:StartInstances"),
                       (lambda: ec2.create_image(InstanceId=by, Name=f"stolen-{os.getpid()}", TagSpecifications=[
                           {"ResourceType": "image", "Tags": RUN_TAGS + [{"Key": "clonectl:role", "Value": "master"}]}]),
                        "ec2:CreateImage")):
        assert_denied(RUN, calls_of(aws, fn), action, by)
    # The source is opted in, but it is never clonectl's to terminate (it has no clonectl:role).
    assert_denied(RUN, calls_of(aws, lambda: ec2.terminate_instances(InstanceIds=[world["source"]], DryRun=True)),
                  "ec2:TerminateInstances", world["source"])
    assert_denied(RUN, calls_of(aws, lambda: ec2.terminate_instances(InstanceIds=[by], DryRun=True)),
                  "ec2:TerminateInstances", by)


def test_an_image_without_the_run_tags_is_denied(aws, world):
    ec2 = world["ec2"]
    calls = calls_of(aws, lambda: ec2.create_image(InstanceId=world["source"], Name=f"untagged-{os.getpid()}", DryRun=True))
    assert_denied(RUN, calls, "ec2:CreateImage", "image/*")


def test_snapshots_are_tagged_only_by_create_image_and_deleted_only_with_the_tags(aws, world):
    """The snapshot gap closed: CreateImage must carry the run's tags for its snapshots, CreateTags may write a
    snapshot's tags only as part of CreateImage, so no existing snapshot can be given `clonectl:role`, and
    DeleteSnapshot needs the tags only CreateImage writes."""
    ec2 = world["ec2"]
    role = RUN_TAGS + [{"Key": "clonectl:role", "Value": "master"}]
    # CreateImage with the image's tags but none for its snapshots.
    no_snapshot_tags = calls_of(aws, lambda: ec2.create_image(
        InstanceId=world["source"], Name=f"clonectl-nosnaptags-{os.getpid()}", DryRun=True,
        TagSpecifications=[{"ResourceType": "image", "Tags": role}]))
    assert_denied(RUN, no_snapshot_tags, "ec2:CreateImage", "snapshot/*")
    # ... or with snapshot tags of another role, or without the run.
    for wrong in ([{"Key": "clonectl:role", "Value": "clone"}] + RUN_TAGS, [{"Key": "clonectl:role", "Value": "master"}]):
        calls = calls_of(aws, lambda: ec2.create_image(
            InstanceId=world["source"], Name=f"clonectl-wrongsnaptags-{os.getpid()}", DryRun=True,
            TagSpecifications=[{"ResourceType": "image", "Tags": role}, {"ResourceType": "snapshot", "Tags": wrong}]))
        assert_denied(RUN, calls, "ec2:CreateImage", "snapshot/*")
    both = calls_of(aws, lambda: ec2.create_image(
        InstanceId=world["source"], Name=f"clonectl-snaptags-{os.getpid()}", DryRun=True,
        TagSpecifications=[{"ResourceType": "image", "Tags": role}, {"ResourceType": "snapshot", "Tags": role}]))
    assert_allowed(RUN, both)
    # A snapshot that is not clonectl's: made by someone else, untagged.
    foreign_image = ec2.create_image(InstanceId=world["bystander"], Name=f"not-clonectls-{os.getpid()}")["ImageId"]
    foreign = [m["Ebs"]["SnapshotId"] for m in ec2.describe_images(ImageIds=[foreign_image])["Images"][0]["BlockDeviceMappings"]
               if "Ebs" in m]
    assert foreign
    tag_it = calls_of(aws, lambda: ec2.create_tags(Resources=foreign, DryRun=True, Tags=role))
    assert_denied(RUN, tag_it, "ec2:CreateTags", foreign[0])  # the old TagTheNewImagesSnapshots allowed this
    only_role = calls_of(aws, lambda: ec2.create_tags(Resources=foreign, DryRun=True,
                                                      Tags=[{"Key": "clonectl:role", "Value": "source"}]))
    assert_denied(RUN, only_role, "ec2:CreateTags", foreign[0])
    delete_it = calls_of(aws, lambda: ec2.delete_snapshot(SnapshotId=foreign[0], DryRun=True))
    assert_denied(RUN, delete_it, "ec2:DeleteSnapshot", foreign[0])
    # A snapshot with a role but no run (someone else's tags) is not deletable either.
    ec2.create_tags(Resources=foreign, Tags=[{"Key": "clonectl:role", "Value": "source"}])
    assert_denied(RUN, calls_of(aws, lambda: ec2.delete_snapshot(SnapshotId=foreign[0], DryRun=True)),
                  "ec2:DeleteSnapshot", foreign[0])


def test_run_instances_without_the_tags_or_with_another_role_is_denied(aws, world):
    ec2, info = world["ec2"], world["info"]
    base = dict(MinCount=1, MaxCount=1, InstanceType="m5.large", SubnetId=info["subnetId"], DryRun=True)
    image = ec2.create_image(InstanceId=world["source"], Name=f"clonectl-launch-{os.getpid()}", TagSpecifications=[
        {"ResourceType": "image", "Tags": RUN_TAGS + [{"Key": "clonectl:role", "Value": "master"}]}])["ImageId"]
    tagged = [{"ResourceType": "instance", "Tags": RUN_TAGS + [{"Key": "clonectl:role", "Value": "clone"}]}]
    assert_allowed(RUN, calls_of(aws, lambda: ec2.run_instances(ImageId=image, TagSpecifications=tagged, **base)))
    untagged = calls_of(aws, lambda: ec2.run_instances(ImageId=image, **base))
    assert_denied(RUN, untagged, "ec2:RunInstances", "instance/*")
    no_run = [{"ResourceType": "instance", "Tags": [{"Key": "clonectl:role", "Value": "clone"}]}]
    assert_denied(RUN, calls_of(aws, lambda: ec2.run_instances(ImageId=image, TagSpecifications=no_run, **base)),
                  "ec2:RunInstances", "instance/*")
    other_role = calls_of(aws, lambda: ec2.run_instances(
        ImageId=image, TagSpecifications=tagged, IamInstanceProfile={"Arn": "arn:aws:iam::123456789012:instance-profile/admin"},
        **base))
    assert_denied(RUN, other_role, "iam:PassRole", "role/")
    opted = [{"ResourceType": "instance", "Tags": tagged[0]["Tags"] + [{"Key": "clonectl:source", "Value": "allowed"}]}]
    out = verdict(RUN, calls_of(aws, lambda: ec2.run_instances(ImageId=image, TagSpecifications=opted, **base)))
    assert any(rq["decision"] == "ExplicitDeny" for c in out["denied"] for rq in c["refused"]), out


def test_create_tags_only_the_claim_on_the_source_and_never_the_opt_in(aws, world):
    ec2 = world["ec2"]
    claim = calls_of(aws, lambda: ec2.create_tags(Resources=[world["source"]], DryRun=True,
                                                  Tags=[{"Key": "clonectl:state", "Value": "done"}]))
    assert_allowed(RUN, claim)
    foreign_key = calls_of(aws, lambda: ec2.create_tags(Resources=[world["source"]], DryRun=True,
                                                        Tags=[{"Key": "Owner", "Value": "me"}]))
    assert_denied(RUN, foreign_key, "ec2:CreateTags", world["source"])
    role = calls_of(aws, lambda: ec2.create_tags(Resources=[world["source"]], DryRun=True,
                                                 Tags=[{"Key": "clonectl:role", "Value": "clone"}]))
    assert_denied(RUN, role, "ec2:CreateTags", world["source"])  # would make the source terminable
    unopted = calls_of(aws, lambda: ec2.create_tags(Resources=[world["bystander"]], DryRun=True,
                                                    Tags=[{"Key": "clonectl:run", "Value": "r-x"}]))
    assert_denied(RUN, unopted, "ec2:CreateTags", world["bystander"])
    opt_in = calls_of(aws, lambda: ec2.create_tags(Resources=[world["bystander"]], DryRun=True,
                                                   Tags=[{"Key": "clonectl:source", "Value": "allowed"}]))
    out = verdict(RUN, opt_in)
    assert out["denied"] and out["denied"][0]["refused"][0]["decision"] == "ExplicitDeny"


def test_publishing_is_allowed_on_clonectl_documents_only(aws):
    ssm = client(aws, "ssm")
    content = json.dumps({"schemaVersion": "2.2", "description": "t", "mainSteps": [
        {"action": "aws:runPowerShellScript", "name": "run", "inputs": {"runCommand": ["'x'"]}}]})
    name = f"clonectl-iamtest{os.getpid()}"

    def publish():
        ssm.create_document(Name=name, Content=content, DocumentType="Command", DocumentFormat="JSON", VersionName="1.0.0")
        ssm.describe_document(Name=name)
        ssm.get_document(Name=name, DocumentVersion="1")
        try:  # moto 5.2.1 answers 500 here for a document with a VersionName; the call is logged all the same
            ssm.list_document_versions(Name=name)
        except ClientError:
            pass
        ssm.update_document(Name=name, Content=content.replace("'x'", "'y'"), DocumentVersion="$LATEST",
                            DocumentFormat="JSON", VersionName="1.0.1")
        ssm.update_document_default_version(Name=name, DocumentVersion="2")

    calls = calls_of(aws, publish, strict=True)
    assert {c["api"] for c in calls} >= {"ssm:CreateDocument", "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion",
                                          "ssm:DescribeDocument", "ssm:GetDocument", "ssm:ListDocumentVersions"}
    assert_allowed(PUBLISHER, calls)
    # The run policy may not publish; the publisher may not send, nor touch another document.
    assert_denied(RUN, [c for c in calls if c["api"] == "ssm:CreateDocument"], "ssm:CreateDocument", name)
    foreign = calls_of(aws, lambda: ssm.update_document(Name="AWS-RunPowerShellScript", Content=content,
                                                        DocumentVersion="$LATEST"))
    assert_denied(PUBLISHER, foreign, "ssm:UpdateDocument", "document/AWS-RunPowerShellScript")
    other = calls_of(aws, lambda: ssm.create_document(Name=f"ops-{os.getpid()}", Content=content, DocumentType="Command"))
    assert_denied(PUBLISHER, other, "ssm:CreateDocument", "document/ops-")
    send = calls_of(aws, lambda: ssm.send_command(DocumentName=name, InstanceIds=[aws.info["sourceInstanceId"]]))
    assert_denied(PUBLISHER, send, "ssm:SendCommand", name)


def test_the_instance_profile_reads_one_path_writes_one_prefix_decrypts_with_one_key(aws):
    region, account = aws.info["region"], "123456789012"
    key = f"arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    p = load("instance-policy.json", region=region, account=account, **{"kms-key-arn": key, "output-bucket": "clonectl-out",
             "output-prefix": "runs", "log-group": "/clonectl/runs"})
    assert "<" not in json.dumps(p), "every placeholder is documented and filled"

    def ok(action, resource, **context):
        return decide([p], {"action": action, "resource": resource, "context": context})[0]

    param = f"arn:aws:ssm:{region}:{account}:parameter{aws.info['secureParameter']}"
    assert ok("ssm:GetParameter", param) == "Allow"
    assert ok("ssm:GetParameter", f"arn:aws:ssm:{region}:{account}:parameter/prod/db-password") == "ImplicitDeny"
    assert ok("ssm:GetParametersByPath", param) == "ImplicitDeny"
    assert ok("kms:Decrypt", key, **{"kms:ViaService": f"ssm.{region}.amazonaws.com"}) == "Allow"
    assert ok("kms:Decrypt", key) == "ImplicitDeny"  # not through Parameter Store
    assert ok("kms:Decrypt", key.replace("1234abcd", "ffffffff"), **{"kms:ViaService": f"ssm.{region}.amazonaws.com"}) == "ImplicitDeny"
    assert ok("s3:PutObject", "arn:aws:s3:::clonectl-out/runs/cmd-1/i-1/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout") == "Allow"
    assert ok("s3:PutObject", "arn:aws:s3:::clonectl-out/other/x") == "ImplicitDeny"
    assert ok("s3:GetObject", "arn:aws:s3:::clonectl-out/runs/x") == "ImplicitDeny"
    assert ok("ssm:UpdateInstanceInformation", "*") == "Allow"
    assert ok("ssm:SendCommand", "*") == "ImplicitDeny"
    assert ok("logs:PutLogEvents", f"arn:aws:logs:{region}:{account}:log-group:/clonectl/runs:log-stream:i-1") == "Allow"
    assert ok("logs:PutLogEvents", f"arn:aws:logs:{region}:{account}:log-group:/other:log-stream:i-1") == "ImplicitDeny"


def test_the_run_policy_reads_the_output_prefix_only():
    """With a plan `output:`, the controller reads the agent's uploads (GetObject, as s3_requests maps a GET) and
    checks the bucket (HeadBucket is s3:ListBucket), under the one prefix; nothing else of the bucket or the account."""
    run = load("controller-policy.json", **{"output-bucket": "clonectl-out", "output-prefix": "runs"})
    stdout = "arn:aws:s3:::clonectl-out/runs/cmd-1/i-1/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout"

    def ok(action, resource):
        return decide([run], {"action": action, "resource": resource, "context": {}})[0]

    assert ok("s3:GetObject", stdout) == "Allow"
    assert ok("s3:ListBucket", "arn:aws:s3:::clonectl-out") == "Allow"
    assert ok("s3:GetObject", "arn:aws:s3:::clonectl-out/other/x") == "ImplicitDeny"
    assert ok("s3:GetObject", "arn:aws:s3:::someone-elses/runs/x") == "ImplicitDeny"
    assert ok("s3:PutObject", stdout) == "ImplicitDeny"
    assert ok("s3:DeleteObject", stdout) == "ImplicitDeny"
    assert "<output-bucket>" in json.dumps(RUN), "unfilled, the statements match no bucket"


def test_the_docs_name_every_statement_with_its_resources():
    """controller/README.md's security section lists each statement of the three policies by Sid, and the controller
    and publisher statements' resources as they are in the files (a statement changed in one place only fails)."""
    text = open(os.path.join(ROOT, "controller", "README.md"), encoding="utf-8").read()
    section = text[text.index("## Security: the IAM policies"):]
    section = section[:section.index("\n## ", 5)]
    for name in ("controller-policy.json", "publisher-policy.json", "instance-policy.json"):
        for statement in load(name)["Statement"]:
            assert statement["Sid"] in section, f"{name}: {statement['Sid']} is not in controller/README.md"
            if name == "instance-policy.json":
                continue
            for resource in [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]:
                assert f"`{resource}`" in section, f"{statement['Sid']}: {resource} is not in controller/README.md"
    assert INLINE_SID in section and "leave this statement out in documents mode" in section
