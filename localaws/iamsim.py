"""IAM's SimulatePrincipalPolicy, which moto (5.2.1) does not serve, answered with the project's evaluator.

    answer(sim, moto_endpoint, access_key, params) -> (status, headers, body)

What IAM does (IAM API Reference, SimulatePrincipalPolicy; IAM User Guide, "Testing IAM policies with the IAM
policy simulator"), and so what this does:
  - the caller needs iam:SimulatePrincipalPolicy on the PolicySourceArn (a user, group or role ARN); without it,
    403 AccessDenied "User: CALLER is not authorized to perform: iam:SimulatePrincipalPolicy on resource: ARN";
  - a PolicySourceArn that is not an IAM entity's ARN is 400 InvalidInput; an entity that does not exist is
    404 NoSuchEntity;
  - the policies simulated are the entity's identity policies: inline and attached, and for a user those of its
    groups; each ActionNames x ResourceArns pair (ResourceArns defaults to "*") is one EvaluationResult with
    EvalDecision allowed | explicitDeny | implicitDeny, the MatchedStatements that decided (SourcePolicyId: the
    inline policy's name or the managed policy's ARN) and MissingContextValues: condition keys of a statement that
    matched action and resource but that ContextEntries did not give (IAM does not read a resource's tags: the
    caller passes them as context, e.g. ssm:resourceTag/KEY);
  - MaxItems / Marker page the results (IsTruncated).
The callers' own policies, and the simulated ones, are read from moto through boto3. Not simulated (the evaluator
does not implement them, localaws/iampolicy.py): permissions boundaries, SCPs, resource policies, policy
variables; a policy that uses one is answered 500 with what is missing, never with a guess.
"""
import json
import re
import uuid
from xml.sax.saxutils import escape

import boto3
from botocore.exceptions import ClientError

from . import iampolicy

_ENTITY = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):(user|group|role)/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$")
_ASSUMED = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/")
XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"


class IamError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(exc: IamError):
    body = (f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type><Code>{exc.code}</Code>'
            f"<Message>{escape(exc.message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return exc.status, [("Content-Type", "text/xml")], body.encode()


def _members(params: dict, name: str) -> list[str]:
    found = sorted(((int(k.rsplit(".", 1)[1]), v) for k, v in params.items()
                    if re.fullmatch(re.escape(name) + r"\.member\.\d+", k)))
    return [v for _, v in found]


def context_entries(params: dict) -> dict:
    """ContextEntries.member.N.{ContextKeyName, ContextKeyValues.member.M, ContextKeyType} -> {key: value(s)}."""
    context = {}
    indexes = sorted({int(m.group(1)) for k in params if (m := re.match(r"ContextEntries\.member\.(\d+)\.", k))})
    for n in indexes:
        base = f"ContextEntries.member.{n}."
        key = params.get(base + "ContextKeyName")
        if not key:
            raise IamError(400, "InvalidInput", f"ContextEntries.member.{n}.ContextKeyName is missing")
        values = _members({k[len(base):]: v for k, v in params.items() if k.startswith(base)}, "ContextKeyValues")
        kind = params.get(base + "ContextKeyType", "string")
        context[key] = values if kind.endswith("List") else (values[0] if values else None)
    return context


def _policy_doc(doc):
    return doc if isinstance(doc, dict) else json.loads(doc)


def _managed(iam, attached: list) -> list[tuple[str, str, dict]]:
    out = []
    for a in attached:
        arn = a["PolicyArn"]
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        out.append((arn, "aws-managed" if ":aws:policy/" in arn else "user-managed", _policy_doc(doc)))
    return out


def entity_policies(iam, arn: str) -> list[tuple[str, str, dict]]:
    """(SourcePolicyId, SourcePolicyType, document) of every identity policy of the user, group or role `arn`."""
    m = _ENTITY.match(arn)
    if not m:
        raise IamError(400, "InvalidInput", f"Invalid ARN: {arn} is not the ARN of an IAM user, group or role")
    kind, name = m.group(3), m.group(4)
    try:
        if kind == "user":
            found = iam.get_user(UserName=name)["User"]["Arn"]
            policies = [(p, "user", _policy_doc(iam.get_user_policy(UserName=name, PolicyName=p)["PolicyDocument"]))
                        for p in iam.list_user_policies(UserName=name)["PolicyNames"]]
            policies += _managed(iam, iam.list_attached_user_policies(UserName=name)["AttachedPolicies"])
            for group in iam.list_groups_for_user(UserName=name)["Groups"]:
                policies += entity_policies(iam, group["Arn"])
        elif kind == "group":
            found = iam.get_group(GroupName=name)["Group"]["Arn"]
            policies = [(p, "group", _policy_doc(iam.get_group_policy(GroupName=name, PolicyName=p)["PolicyDocument"]))
                        for p in iam.list_group_policies(GroupName=name)["PolicyNames"]]
            policies += _managed(iam, iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"])
        else:
            found = iam.get_role(RoleName=name)["Role"]["Arn"]
            policies = [(p, "role", _policy_doc(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]))
                        for p in iam.list_role_policies(RoleName=name)["PolicyNames"]]
            policies += _managed(iam, iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchEntity":
            raise IamError(404, "NoSuchEntity", f"The {kind} with name {name} cannot be found.") from None
        raise
    if found != arn:  # the path is part of the ARN: role/NAME is not role/team/NAME
        raise IamError(404, "NoSuchEntity", f"The {kind} {arn} cannot be found (it is {found}).")
    return policies


def caller_entity(arn: str) -> str:
    """The IAM entity behind a caller's ARN (GetCallerIdentity): a user as is, an assumed role's role."""
    m = _ASSUMED.match(arn)
    if m:
        return f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}"
    return arn


def _decide(policies, request) -> tuple[str, list, list]:
    """(decision, [(policy id, type)], missing context keys)."""
    allows, denies, missing = [], [], set()
    for pid, ptype, doc in policies:
        for statement in iampolicy._list(doc.get("Statement", [])):
            bare = {k: v for k, v in statement.items() if k != "Condition"}
            if not iampolicy.statement_matches(bare, request):
                continue
            for keys in (statement.get("Condition") or {}).values():
                for key in keys:
                    if iampolicy._context_value(request["context"], key) is None:
                        missing.add(key)
            if iampolicy.statement_matches(statement, request):
                (denies if statement["Effect"] == "Deny" else allows).append((pid, ptype))
    if denies:
        return "explicitDeny", denies, sorted(missing)
    if allows:
        return "allowed", allows, sorted(missing)
    return "implicitDeny", [], sorted(missing)


def simulate(policies, actions: list[str], resources: list[str], context: dict) -> list[dict]:
    results = []
    for action in actions:
        for resource in resources:
            decision, matched, missing = _decide(policies, {"action": action, "resource": resource,
                                                            "context": context})
            results.append({"action": action, "resource": resource, "decision": decision,
                            "matched": list(dict.fromkeys(matched)), "missing": missing})
    return results


def _render(results: list[dict], truncated: bool, marker: str | None) -> bytes:
    members = []
    for r in results:
        matched = "".join(f"<member><SourcePolicyId>{escape(pid)}</SourcePolicyId><SourcePolicyType>{ptype}"
                          f"</SourcePolicyType></member>" for pid, ptype in r["matched"])
        missing = "".join(f"<member>{escape(k)}</member>" for k in r["missing"])
        members.append(f"<member><EvalActionName>{escape(r['action'])}</EvalActionName><EvalResourceName>"
                       f"{escape(r['resource'])}</EvalResourceName><EvalDecision>{r['decision']}</EvalDecision>"
                       f"<MatchedStatements>{matched}</MatchedStatements><MissingContextValues>{missing}"
                       f"</MissingContextValues></member>")
    more = f"<Marker>{marker}</Marker>" if truncated else ""
    return (f'<SimulatePrincipalPolicyResponse xmlns="{XMLNS}"><SimulatePrincipalPolicyResult>'
            f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{more}"
            f"<EvaluationResults>{''.join(members)}</EvaluationResults></SimulatePrincipalPolicyResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</SimulatePrincipalPolicyResponse>").encode()


def answer(sim, moto_endpoint: str, access_key: str, params: dict):
    try:
        return _answer(sim, moto_endpoint, access_key, params)
    except IamError as exc:
        return _error(exc)
    except iampolicy.Unsupported as exc:
        return _error(IamError(500, "ServiceFailure", f"the local IAM simulator cannot evaluate {exc}: "
                                                      "localaws/iampolicy.py does not implement it"))


def _answer(sim, moto_endpoint: str, access_key: str, params: dict):
    source = params.get("PolicySourceArn", "")
    actions = _members(params, "ActionNames")
    if not source or not actions:
        raise IamError(400, "ValidationError", "PolicySourceArn and ActionNames are required")
    secret, token = sim.keys.get(access_key) or (None, None)
    if secret is None:
        raise IamError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    sts = boto3.client("sts", endpoint_url=moto_endpoint, region_name=sim.region, aws_access_key_id=access_key,
                       aws_secret_access_key=secret, aws_session_token=token)
    caller = sts.get_caller_identity()["Arn"]
    iam = sim._iam
    mine = entity_policies(iam, caller_entity(caller)) if _ENTITY.match(caller_entity(caller)) else []
    asked, _, _ = _decide(mine, {"action": "iam:SimulatePrincipalPolicy", "resource": source, "context": {}})
    if asked != "allowed":
        raise IamError(403, "AccessDenied", f"User: {caller} is not authorized to perform: "
                                            f"iam:SimulatePrincipalPolicy on resource: {source}")
    resources = _members(params, "ResourceArns") or ["*"]
    results = simulate(entity_policies(iam, source), actions, resources, context_entries(params))
    try:
        start = int(params.get("Marker") or 0)
        size = int(params.get("MaxItems") or 100)
    except ValueError:
        raise IamError(400, "ValidationError", "Marker and MaxItems must be whole numbers") from None
    if not 1 <= size <= 1000:
        raise IamError(400, "ValidationError", "MaxItems must be between 1 and 1000")
    page = results[start:start + size]
    truncated = start + size < len(results)
    return 200, [("Content-Type", "text/xml")], _render(page, truncated, str(start + size) if truncated else None)
