"""The authorization requests AWS makes for a call: what IAM is asked, so a policy can be checked against a real run.

For each call the front receives, `requests(...)` returns the list of requests IAM evaluates before the service acts:
one per action and resource, as {"action", "resource", "context"}, where the context holds the condition keys AWS
fills for that resource (ec2:ResourceTag/K and ssm:resourceTag/K from the resource's tags as moto has them at call
time, aws:RequestTag/K and aws:TagKeys from the request's tag specifications, ec2:CreateAction for the tags written
by RunInstances and CreateImage, iam:PassedToService for the instance profile's role). Every request must be allowed
for the call to be. Which resources and keys each action involves follows the Service Authorization Reference
(controller/README.md, section Security, lists them); a call not mapped here is asked on "*" with no context.

Computed before the call is carried out (tags as they were when AWS would have checked), in the simulator's process,
reading moto's backends directly. Values are never secrets: only ids, names and tags are read, never a parameter's
value or a command's parameters.
"""
import json
import re
from urllib.parse import parse_qsl

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/")
# Calls IAM does not authorize at all (AWS: "No permissions are required to perform this operation").
UNAUTHORIZED = {"sts:GetCallerIdentity"}
# SSM operations whose resource is the document named in the request.
_DOCUMENT_OPS = {"CreateDocument", "UpdateDocument", "UpdateDocumentDefaultVersion", "DescribeDocument", "GetDocument",
                 "ListDocumentVersions", "DeleteDocument", "UpdateDocumentMetadata", "DescribeDocumentPermission"}


def region_of(authorization: str, default: str) -> str:
    m = _SCOPE.search(authorization or "")
    return m.group(1) if m else default


def _indexed(params: dict, prefix: str) -> list[str]:
    """Values of a query list `Prefix.1`, `Prefix.2`, ... in their order."""
    found = []
    for key, value in params.items():
        m = re.fullmatch(re.escape(prefix) + r"\.(\d+)", key)
        if m:
            found.append((int(m.group(1)), value))
    return [v for _, v in sorted(found)]


def _tag_specs(params: dict) -> dict[str, dict[str, str]]:
    """TagSpecification.N.ResourceType -> {key: value} of TagSpecification.N.Tag.M.Key/Value."""
    out: dict[str, dict[str, str]] = {}
    n = 1
    while f"TagSpecification.{n}.ResourceType" in params:
        tags, m = {}, 1
        while f"TagSpecification.{n}.Tag.{m}.Key" in params:
            tags[params[f"TagSpecification.{n}.Tag.{m}.Key"]] = params.get(f"TagSpecification.{n}.Tag.{m}.Value", "")
            m += 1
        out.setdefault(params[f"TagSpecification.{n}.ResourceType"], {}).update(tags)
        n += 1
    return out


def _request_tags(tags: dict[str, str]) -> dict:
    ctx = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        ctx["aws:TagKeys"] = sorted(tags)
    return ctx


class World:
    """Where the resources named by a call are looked up: moto's backends for one account and region."""

    def __init__(self, account: str, region: str):
        self.account, self.region = account, region

    def _ec2(self):
        from moto.ec2.models import ec2_backends
        return ec2_backends[self.account][self.region]

    def ec2_tags(self, resource_id: str) -> dict[str, str]:
        try:
            return dict(self._ec2().tags.get(resource_id, {}))
        except Exception:  # moto's internals moved: no tags is the answer that can only make a check stricter
            return {}

    def profile_roles(self, profile: str) -> list[str]:
        try:
            from moto.iam.models import iam_backends
            backend = iam_backends[self.account]["global"]
            found = backend.get_instance_profile_by_arn(profile) if profile.startswith("arn:") \
                else backend.get_instance_profile(profile)
            return [r.arn for r in found.roles]
        except Exception:
            return []

    def arn(self, resource_id: str) -> str:
        """The ARN of an EC2 resource by its id's prefix; images and snapshots carry no account."""
        kind = {"i": "instance", "ami": "image", "snap": "snapshot", "subnet": "subnet", "sg": "security-group",
                "vol": "volume", "eni": "network-interface", "vpc": "vpc"}.get(resource_id.split("-")[0], "resource")
        account = "" if kind in ("image", "snapshot") else self.account
        return f"arn:aws:ec2:{self.region}:{account}:{kind}/{resource_id}"

    def new(self, kind: str) -> str:
        """The ARN AWS authorizes for a resource the call creates (its id is not known yet)."""
        account = "" if kind in ("image", "snapshot") else self.account
        return f"arn:aws:ec2:{self.region}:{account}:{kind}/*"

    def existing(self, resource_id: str, service: str = "ec2") -> dict:
        """The resource-tag keys of an existing EC2 resource: the global aws:ResourceTag/K and the service's own
        (ec2:ResourceTag/K for EC2 actions, ssm:resourceTag/K when SSM authorizes SendCommand on an instance)."""
        own = "ec2:ResourceTag" if service == "ec2" else "ssm:resourceTag"
        ctx = {}
        for k, v in self.ec2_tags(resource_id).items():
            ctx[f"aws:ResourceTag/{k}"] = v
            ctx[f"{own}/{k}"] = v
        return ctx


def _req(action: str, resource: str, context: dict | None = None) -> dict:
    return {"action": action, "resource": resource, "context": context or {}}


def ec2_requests(world: World, op: str, params: dict) -> list[dict]:
    action = f"ec2:{op}"
    if op in ("StopInstances", "StartInstances", "TerminateInstances", "RebootInstances"):
        return [_req(action, world.arn(i), world.existing(i)) for i in _indexed(params, "InstanceId")]
    if op == "CreateImage":
        specs = _tag_specs(params)
        instance = params.get("InstanceId", "")
        out = [_req(action, world.arn(instance), world.existing(instance)),
               _req(action, world.new("image"), _request_tags(specs.get("image", {}))),
               _req(action, world.new("snapshot"), _request_tags(specs.get("snapshot", {})))]
        for kind in ("image", "snapshot"):
            if specs.get(kind):
                out.append(_req("ec2:CreateTags", world.new(kind),
                                {"ec2:CreateAction": "CreateImage", **_request_tags(specs[kind])}))
        return out
    if op == "RunInstances":
        specs = _tag_specs(params)
        out = [_req(action, world.new("instance"), _request_tags(specs.get("instance", {}))),
               _req(action, world.new("network-interface"), _request_tags(specs.get("network-interface", {}))),
               _req(action, world.new("volume"), _request_tags(specs.get("volume", {})))]
        if params.get("ImageId"):
            out.append(_req(action, world.arn(params["ImageId"]), world.existing(params["ImageId"])))
        if params.get("SubnetId"):
            out.append(_req(action, world.arn(params["SubnetId"]), world.existing(params["SubnetId"])))
        for group in _indexed(params, "SecurityGroupId"):
            out.append(_req(action, world.arn(group), world.existing(group)))
        for kind, tags in specs.items():
            if tags:
                out.append(_req("ec2:CreateTags", world.new(kind), {"ec2:CreateAction": "RunInstances", **_request_tags(tags)}))
        profile = params.get("IamInstanceProfile.Arn") or params.get("IamInstanceProfile.Name")
        if profile:
            roles = world.profile_roles(profile) or [f"arn:aws:iam::{world.account}:role/unknown-profile-{profile}"]
            out += [_req("iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"}) for role in roles]
        return out
    if op in ("CreateTags", "DeleteTags"):
        tags, m = {}, 1
        while f"Tag.{m}.Key" in params:
            tags[params[f"Tag.{m}.Key"]] = params.get(f"Tag.{m}.Value", "")
            m += 1
        return [_req(action, world.arn(r), {**world.existing(r), **_request_tags(tags)})
                for r in _indexed(params, "ResourceId")]
    if op == "DeregisterImage":
        return [_req(action, world.arn(params.get("ImageId", "")), world.existing(params.get("ImageId", "")))]
    if op == "DeleteSnapshot":
        return [_req(action, world.arn(params.get("SnapshotId", "")), world.existing(params.get("SnapshotId", "")))]
    return [_req(action, "*")]  # Describe*: no resource-level permissions


def ssm_requests(world: World, op: str, body: bytes) -> list[dict]:
    action = f"ssm:{op}"
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        request = {}
    if not isinstance(request, dict):
        request = {}
    if op == "SendCommand":
        name = str(request.get("DocumentName", ""))
        if name.startswith("arn:"):
            document = name
        elif name.startswith(("AWS-", "AWSEC2-", "AWSSupport-", "AmazonCloudWatch-")):  # AWS-owned: no account
            document = f"arn:aws:ssm:{world.region}::document/{name}"
        else:
            document = f"arn:aws:ssm:{world.region}:{world.account}:document/{name}"
        out = [_req(action, document)]
        for instance in request.get("InstanceIds") or []:
            out.append(_req(action, world.arn(str(instance)), world.existing(str(instance), "ssm")))
        return out
    if op in _DOCUMENT_OPS:
        name = str(request.get("Name", ""))
        return [_req(action, f"arn:aws:ssm:{world.region}:{world.account}:document/{name}")]
    if op in ("GetParameter", "GetParameters", "PutParameter", "DeleteParameter"):
        names = request.get("Names") or [request.get("Name", "")]
        return [_req(action, f"arn:aws:ssm:{world.region}:{world.account}:parameter/{str(n).lstrip('/')}") for n in names]
    return [_req(action, "*")]


def requests(world: World, service: str, op: str, params: list, body: bytes, method: str = "POST", host: str = "",
             path: str = "/", query: str = "") -> list[dict]:
    """The authorization requests for one call (empty for a call IAM does not authorize)."""
    api = f"{service}:{op}"
    if api in UNAUTHORIZED:
        return []
    if service == "s3":
        return s3_requests(method, host, path, query)
    if service == "ec2":
        return ec2_requests(world, op, dict(params))
    if service == "ssm":
        return ssm_requests(world, op, body)
    query = dict(params) if params else dict(parse_qsl(body.decode("utf-8", "replace")))
    if service == "iam" and op == "SimulatePrincipalPolicy":  # on the simulated entity (Service Authorization Ref.)
        return [_req("iam:SimulatePrincipalPolicy", query.get("PolicySourceArn", "*"))]
    if service == "iam" and op == "GetInstanceProfile":
        return [_req("iam:GetInstanceProfile",
                     f"arn:aws:iam::{world.account}:instance-profile/{query.get('InstanceProfileName', '')}")]
    if service == "iam" and op == "GetRole":
        return [_req("iam:GetRole", f"arn:aws:iam::{world.account}:role/{query.get('RoleName', '')}")]
    return [_req(f"{service}:{query.get('Action', op)}", "*")]


_S3_VIRTUAL = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.(?:s3[.-]|localhost$)")


def s3_requests(method: str, host: str, path: str, query: str) -> list[dict]:
    """S3's REST calls by method and path (path style /bucket/key, or virtual-hosted bucket.s3.REGION... /key):
    the object calls on arn:aws:s3:::bucket/key, the bucket calls on arn:aws:s3:::bucket (Service Authorization
    Reference: HeadObject is authorized as s3:GetObject, HeadBucket and ListObjectsV2 as s3:ListBucket)."""
    from urllib.parse import parse_qs, unquote
    name = (host or "").split(":")[0]
    m = _S3_VIRTUAL.match(name)
    raw = unquote(path or "/")
    if m:
        bucket, key = m.group("bucket"), raw.lstrip("/")
    else:
        bucket, _, key = raw.lstrip("/").partition("/")
    if not bucket:
        return [_req("s3:ListAllMyBuckets", "*")]
    params = parse_qs(query or "", keep_blank_values=True)
    if key:
        action = {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject", "POST": "s3:PutObject",
                  "DELETE": "s3:DeleteObject"}.get(method, f"s3:{method}")
        return [_req(action, f"arn:aws:s3:::{bucket}/{key}")]
    if method in ("GET", "HEAD") and not (set(params) - {"list-type", "prefix", "max-keys", "continuation-token",
                                                           "delimiter", "start-after", "encoding-type"}):
        context = {"s3:prefix": params["prefix"][0]} if "prefix" in params else {}
        return [_req("s3:ListBucket", f"arn:aws:s3:::{bucket}", context)]
    return [_req(f"s3:{method}Bucket?{'&'.join(sorted(params))}", f"arn:aws:s3:::{bucket}")]
