"""Differential check: clonectl resolves region and the STS endpoint from the same ~/.aws files and environment as
botocore (the AWS CLI's library, pinned in the venv) does. Each scenario runs `clonectl doctor` (which prints the
region and endpoints before it needs credentials) and botocore's session, and compares what both chose.
Where clonectl deliberately differs (README, "Compatible with the AWS CLI"), the scenario says so."""
import os
import re
import subprocess
import tempfile
from pathlib import Path

import botocore.session
import pytest

ROOT = Path(__file__).resolve().parent.parent


def clonectl_binary():
    for c in [os.environ.get("CLONECTL_BIN", ""), ROOT / ".build" / "debug" / "clonectl"]:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


SCENARIOS = {
    "default-then-profile-default": ("[default]\nregion = eu-west-1\n[profile default]\nregion = us-east-2\n", {}),
    "profile-default-then-default": ("[profile default]\nregion = us-east-2\n[default]\nregion = eu-west-1\n", {}),
    "env-region-beats-profile": ("[default]\nregion = eu-west-1\n", {"AWS_REGION": "ap-south-1"}),
    "default-region-variable": ("[default]\n", {"AWS_DEFAULT_REGION": "ca-central-1"}),
    "sts-legacy-global": ("[default]\nregion = us-west-2\nsts_regional_endpoints = legacy\n", {}),
    "sts-legacy-newer-region": ("[default]\nregion = af-south-1\nsts_regional_endpoints = legacy\n", {}),
    "sts-legacy-from-environment": ("[default]\nregion = eu-west-1\n", {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}),
    "endpoint-path-trailing-slash": ("[default]\nregion = eu-west-1\nendpoint_url = https://proxy.example/aws/\n", {}),
    "services-section": ("[default]\nregion = eu-west-1\nservices = vpc\n[services vpc]\nsts =\n  endpoint_url = https://vpce-1.sts.example\n", {}),
    "service-variable-beats-section": ("[default]\nregion = eu-west-1\nservices = vpc\n[services vpc]\nsts =\n  endpoint_url = https://vpce-1.sts.example\n",
                                       {"AWS_ENDPOINT_URL_STS": "https://sts-env.example"}),
    "both-region-variables": ("[default]\n", {"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "ca-central-1"}),
    "named-profile": ("[profile dev]\nregion = eu-north-1\n", {"AWS_PROFILE": "dev"}),
    "fips": ("[default]\nregion = us-east-1\nuse_fips_endpoint = true\n", {}),
}


# Deliberate differences (README): clonectl reads AWS_REGION first, as AWS CLI v2 and the SDKs do; the pinned
# botocore (AWS CLI v1) reads only AWS_DEFAULT_REGION.
DIFFERENT = {
    "env-region-beats-profile": ("ap-south-1", "https://sts.ap-south-1.amazonaws.com"),
    "both-region-variables": ("ap-south-1", "https://sts.ap-south-1.amazonaws.com"),
}


def clonectl_view(home, env):
    out = subprocess.run([clonectl_binary(), "doctor", "--payloads", str(ROOT / "ps-scripts")], capture_output=True,
                         text=True, env=env, timeout=60)
    region = re.search(r"^ok\s+region\s+(\S+)", out.stdout, re.M)
    sts = re.search(r"^ok\s+endpoint sts\s+(\S+)", out.stdout, re.M)
    assert region and sts, out.stdout + out.stderr
    return region.group(1), sts.group(1)


def botocore_view(env):
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        session = botocore.session.Session()
        region = session.get_config_variable("region")
        client = session.create_client("sts", region_name=region, aws_access_key_id="AK", aws_secret_access_key="SK")
        return region, client.meta.endpoint_url
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.skipif(clonectl_binary() is None, reason="no clonectl binary built (set CLONECTL_BIN)")
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_clonectl_resolves_like_botocore(name):
    config, extra = SCENARIOS[name]
    with tempfile.TemporaryDirectory() as home:
        aws = Path(home) / ".aws"
        aws.mkdir()
        (aws / "config").write_text(config)
        env = {"HOME": home, "PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true", **extra}
        ours = clonectl_view(home, env)
        theirs = botocore_view(env)
        if name in DIFFERENT:
            assert ours == DIFFERENT[name] and theirs != ours, f"{name}: clonectl {ours}, botocore {theirs}"
        else:
            assert ours == theirs, f"{name}: clonectl {ours}, botocore {theirs}"


IAM_SCENARIOS = {
    "iam-commercial": "[default]\nregion = eu-west-1\n",
    "iam-fips": "[default]\nregion = us-west-2\nuse_fips_endpoint = true\n",
    "iam-china": "[default]\nregion = cn-northwest-1\n",
    "iam-govcloud": "[default]\nregion = us-gov-east-1\n",
}


@pytest.mark.skipif(clonectl_binary() is None, reason="no clonectl binary built (set CLONECTL_BIN)")
@pytest.mark.parametrize("name", sorted(IAM_SCENARIOS))
def test_the_global_iam_endpoint_is_botocores(name):
    """IAM (which doctor asks about SendCommand) has one endpoint per partition: the same host as botocore's."""
    with tempfile.TemporaryDirectory() as home:
        aws = Path(home) / ".aws"
        aws.mkdir()
        (aws / "config").write_text(IAM_SCENARIOS[name])
        env = {"HOME": home, "PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true"}
        out = subprocess.run([clonectl_binary(), "doctor", "--payloads", str(ROOT / "ps-scripts")], capture_output=True,
                             text=True, env=env, timeout=60)
        ours = re.search(r"^ok\s+endpoint iam\s+(\S+)", out.stdout, re.M)
        assert ours, out.stdout + out.stderr
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(env)
            session = botocore.session.Session()
            theirs = session.create_client("iam", region_name=session.get_config_variable("region"),
                                           aws_access_key_id="AK", aws_secret_access_key="SK").meta.endpoint_url
        finally:
            os.environ.clear()
            os.environ.update(saved)
        assert ours.group(1) == theirs, f"{name}: clonectl {ours.group(1)}, botocore {theirs}"
