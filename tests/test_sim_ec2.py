"""EC2 through the front: ClientToken idempotency, state phases, pass-through of everything else."""
import pytest
from botocore.exceptions import ClientError

from simfixtures import aws, client, control, sim, wait_for  # noqa: F401


def states(ec2, ids, **filters):
    kwargs = {"InstanceIds": ids}
    if filters:
        kwargs["Filters"] = [{"Name": k, "Values": v} for k, v in filters.items()]
    return {i["InstanceId"]: i["State"]["Name"]
            for r in ec2.describe_instances(**kwargs)["Reservations"] for i in r["Instances"]}


def test_run_instances_honours_client_token(sim):
    ec2 = client(sim, "ec2")
    args = dict(ImageId=sim.info["sourceImageId"], MinCount=2, MaxCount=2, InstanceType="m5.large",
                SubnetId=sim.info["subnetId"], ClientToken="clone-batch-1")
    count_before = sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"])
    first = [i["InstanceId"] for i in ec2.run_instances(**args)["Instances"]]
    second = [i["InstanceId"] for i in ec2.run_instances(**args)["Instances"]]
    assert first == second and len(first) == 2
    assert sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"]) == count_before + 2
    with pytest.raises(ClientError) as err:
        ec2.run_instances(**dict(args, InstanceType="m5.xlarge"))
    assert err.value.response["Error"]["Code"] == "IdempotentParameterMismatch"
    # A replay is answered by the front alone: it must still check the signature, as EC2 does.
    with pytest.raises(ClientError) as err:
        client(sim, "ec2", aws_secret_access_key="wrong-secret").run_instances(**args)
    assert err.value.response["Error"]["Code"] == "AuthFailure"


def test_instances_and_images_pass_through_phases(sim):
    control(sim, "POST", "/config", {"pendingSeconds": 3, "stoppingSeconds": 3, "imagePendingSeconds": 3})
    ec2 = client(sim, "ec2")
    [iid] = [i["InstanceId"] for i in ec2.run_instances(ImageId=sim.info["sourceImageId"], MinCount=1,
                                                        MaxCount=1, InstanceType="m5.large")["Instances"]]
    assert states(ec2, [iid]) == {iid: "pending"}
    wait_for(lambda: states(ec2, [iid]) == {iid: "running"}, "running after pending")
    ec2.stop_instances(InstanceIds=[iid])
    assert states(ec2, [iid]) == {iid: "stopping"}
    # A state filter sees what the client is shown, not moto's instant flip.
    assert states(ec2, [iid], **{"instance-state-name": ["stopped"]}) == {}
    with pytest.raises(ClientError) as err:
        ec2.start_instances(InstanceIds=[iid])
    assert err.value.response["Error"]["Code"] == "IncorrectInstanceState"
    wait_for(lambda: states(ec2, [iid]) == {iid: "stopped"}, "stopped after stopping")
    image = ec2.create_image(InstanceId=iid, Name="phase-test")["ImageId"]
    assert ec2.describe_images(ImageIds=[image])["Images"][0]["State"] == "pending"
    assert ec2.describe_images(ImageIds=[image], Filters=[{"Name": "state", "Values": ["available"]}])["Images"] == []
    wait_for(lambda: ec2.describe_images(ImageIds=[image])["Images"][0]["State"] == "available", "image available")
    ec2.terminate_instances(InstanceIds=[iid])
    assert states(ec2, [iid]) == {iid: "shutting-down"}
    wait_for(lambda: states(ec2, [iid]) == {iid: "terminated"}, "terminated after shutting-down")


def test_create_image_tags_its_snapshots_from_the_snapshot_tag_specification(sim):
    """EC2's CreateImage takes TagSpecifications of ResourceType image and snapshot, each applied at creation (the
    snapshot one to every snapshot the call makes); moto raises NotImplementedError on `snapshot`. The simulator
    applies it, so DescribeSnapshots and DescribeTags show the tags as soon as the image id is known, and the call's
    authorization requests ask for the snapshot with those request tags."""
    ec2 = client(sim, "ec2")
    source = sim.info["sourceInstanceId"]
    run = [{"Key": "clonectl:run", "Value": "r-snaptags"}, {"Key": "clonectl:plan", "Value": "demo"},
           {"Key": "clonectl:role", "Value": "source"}]
    before = control(sim, "GET", "/calls")["total"]
    image = ec2.create_image(InstanceId=source, Name="snapshot-tags-test", TagSpecifications=[
        {"ResourceType": "image", "Tags": run + [{"Key": "Name", "Value": "the image only"}]},
        {"ResourceType": "snapshot", "Tags": run}])["ImageId"]
    wait_for(lambda: ec2.describe_images(ImageIds=[image])["Images"][0]["State"] == "available", "image available")
    found = ec2.describe_images(ImageIds=[image])["Images"][0]
    snapshots = [m["Ebs"]["SnapshotId"] for m in found["BlockDeviceMappings"] if "Ebs" in m]
    assert snapshots
    assert {t["Key"]: t["Value"] for t in found["Tags"]}["Name"] == "the image only"
    for snap in ec2.describe_snapshots(SnapshotIds=snapshots)["Snapshots"]:
        assert {t["Key"]: t["Value"] for t in snap.get("Tags", [])} == {t["Key"]: t["Value"] for t in run}
    tagged = ec2.describe_snapshots(Filters=[{"Name": "tag:clonectl:run", "Values": ["r-snaptags"]}])["Snapshots"]
    assert {s["SnapshotId"] for s in tagged} == set(snapshots)
    # The image's tag specification stays the image's: the snapshots did not get its Name.
    assert not ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": snapshots},
                                          {"Name": "key", "Values": ["Name"]}])["Tags"]
    # Without a snapshot specification the snapshots carry nothing (what an older clonectl's image looks like).
    bare = ec2.create_image(InstanceId=source, Name="snapshot-tags-none",
                            TagSpecifications=[{"ResourceType": "image", "Tags": run}])["ImageId"]
    bare_snaps = [m["Ebs"]["SnapshotId"] for m in ec2.describe_images(ImageIds=[bare])["Images"][0]["BlockDeviceMappings"]]
    assert all(not s.get("Tags") for s in ec2.describe_snapshots(SnapshotIds=bare_snaps)["Snapshots"])
    # What IAM is asked for the first call: the new snapshots with the request tags, and their tagging on create.
    call = next(c for c in control(sim, "GET", "/calls")["calls"] if c["seq"] > before and c["api"] == "ec2:CreateImage")
    snap_rq = [rq for rq in call["authz"] if rq["resource"].endswith(":snapshot/*")]
    create = next(rq for rq in snap_rq if rq["action"] == "ec2:CreateImage")
    assert create["context"]["aws:RequestTag/clonectl:role"] == "source"
    assert create["context"]["aws:TagKeys"] == ["clonectl:plan", "clonectl:role", "clonectl:run"]
    tag = next(rq for rq in snap_rq if rq["action"] == "ec2:CreateTags")
    assert tag["context"]["ec2:CreateAction"] == "CreateImage"
    assert tag["resource"] == f"arn:aws:ec2:{sim.info['region']}::snapshot/*"


def test_other_services_pass_through_to_moto(sim):
    info = sim.info
    sts = client(sim, "sts")
    assert sts.get_caller_identity()["Arn"].endswith(":user/clonectl")
    ssm = client(sim, "ssm")
    assert ssm.get_parameter(Name=info["secureParameter"], WithDecryption=True)["Parameter"]["Value"].startswith("Demo")
    counts = control(sim, "GET", "/calls")["counts"]
    assert counts.get("sts:GetCallerIdentity") == 1 and counts.get("ssm:GetParameter") == 1
