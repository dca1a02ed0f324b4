"""The six-stage procedure end to end against the simulator, as the controller will drive it (DOMAIN.md):
prep the source, image it, Sysprep a work copy, image the master, launch and reconfigure clones, verify them,
and put the source back. Proves the guest models, the journal and guest-follows-image agree with each other."""
from simfixtures import aws, client, launch, online, parse_envelope, run_payload, sim, wait_for  # noqa: F401


def ok(aws, iid, payload, params=None, statuses=("ok", "changed")):
    inv = run_payload(aws, iid, payload, params)
    doc = parse_envelope(inv["StandardOutputContent"])[0]
    assert doc["status"] in statuses and inv["Status"] == "Success", (payload, doc["errors"], inv["StandardErrorContent"])
    return doc


def state(ec2, iid):
    return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]


def image_available(ec2, image):
    return ec2.describe_images(ImageIds=[image])["Images"][0]["State"] == "available"


def test_whole_workflow_on_the_simulated_source(sim):
    ec2 = client(sim, "ec2")
    info = sim.info
    source = info["sourceInstanceId"]
    # 1. Prep the source.
    assert ok(sim, source, "preflight")["facts"]["ready"] is True
    ok(sim, source, "work-user", {"UserName": "clonework", "PasswordParameter": info["secureParameter"]})
    ok(sim, source, "firewall-off")
    ok(sim, source, "jobs-stop", {"Tasks": ["\\App\\*"], "Services": ["AppSvc"]})
    # 2. Stop it and image it; 3. the work copy.
    ec2.stop_instances(InstanceIds=[source])
    wait_for(lambda: state(ec2, source) == "stopped", "the source to stop")
    prod_ami = ec2.create_image(InstanceId=source, Name="prod-ami")["ImageId"]
    wait_for(lambda: image_available(ec2, prod_ami), "the production AMI")
    ec2.start_instances(InstanceIds=[source])
    [work] = launch(sim, prod_ami)
    online(sim, work)
    # 4. Sysprep shuts the work copy down after reporting; 5. the master image.
    ok(sim, work, "sysprep")
    wait_for(lambda: state(ec2, work) == "stopped", "Sysprep to stop the work copy")
    master = ec2.create_image(InstanceId=work, Name="master-ami")["ImageId"]
    wait_for(lambda: image_available(ec2, master), "the master AMI")
    # 6. Clones, one command for both with per-instance names.
    clones = launch(sim, master, count=2)
    names = {clones[0]: "APP02", clones[1]: "APP03"}
    for iid in clones:
        online(sim, iid)
    for iid in clones:
        ok(sim, iid, "hostname", {"common": {}, "byInstance": {i: {"NewName": n} for i, n in names.items()}})
        ok(sim, iid, "time-zone", {"TimeZoneId": "Tokyo Standard Time"})
        ok(sim, iid, "firewall-restore")
        ok(sim, iid, "work-user-disable")
        restored = ok(sim, iid, "jobs-restore")
        assert {"item": "service/AppSvc/startType", "from": "Disabled", "to": "Automatic"} in restored["changed"]
        facts = ok(sim, iid, "verify", {"ExpectedHostName": names[iid],
                                        "ExpectedTimeZoneId": "Tokyo Standard Time"}, ("ok",))["facts"]
        assert facts["sidChanged"] is True and facts["jobsDiffering"] == 0 and facts["notChecked"] == []
        assert facts["workUser"] == {"name": "clonework", "exists": True, "enabled": False, "inAdministrators": True}
    # The source goes back to its pre-prep state once its AMI exists.
    online(sim, source)
    back = ok(sim, source, "source-restore")
    assert back["facts"]["restored"] == ["firewall", "jobs", "workUser"]
    assert {"item": "user/clonework", "from": "present", "to": "removed"} in back["changed"]
    assert ok(sim, source, "source-restore")["status"] == "ok"  # a second run changes nothing
