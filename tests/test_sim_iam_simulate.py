"""IAM SimulatePrincipalPolicy on the local AWS (localaws/iamsim.py; moto does not serve it), asked through boto3 as
`clonectl doctor` asks it: the shipped controller policy on a role, the decisions the project's evaluator gives,
the context keys IAM needs for a tag condition, the caller's own right to ask, IAM's errors and its paging."""
import json
import os
import uuid

import pytest
from botocore.exceptions import ClientError

from simfixtures import ROOT, aws, client, sim  # noqa: F401
from localaws.iampolicy import decide, without

INLINE_SID = "InlineModeOnlySendAWSRunPowerShellScript"
ACCOUNT = "123456789012"
DOC = f"arn:aws:ssm:us-east-1:{ACCOUNT}:document/clonectl-preflight"
INLINE_DOC = "arn:aws:ssm:us-east-1::document/AWS-RunPowerShellScript"
INSTANCE = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0123456789abcdef0"
OPT_IN = [{"ContextKeyName": "ssm:resourceTag/clonectl:source", "ContextKeyValues": ["allowed"],
           "ContextKeyType": "string"}]


def policy(name):
    with open(os.path.join(ROOT, "controller", "iam", name), encoding="utf-8") as f:
        return json.load(f)


def role_with(aws, document: dict, path: str = "/") -> str:
    iam = client(aws, "iam")
    name = "clonectl-sim-" + uuid.uuid4().hex[:8]
    arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="run", PolicyDocument=json.dumps(document))
    return arn


def results(aws, source, actions, resources, context=(), **kwargs):
    answer = client(aws, "iam").simulate_principal_policy(
        PolicySourceArn=source, ActionNames=list(actions), ResourceArns=list(resources),
        ContextEntries=list(context), **kwargs)
    return answer, {(r["EvalActionName"], r["EvalResourceName"]): r for r in answer["EvaluationResults"]}


def test_the_documents_mode_policy_lets_a_role_send_clonectl_documents_to_the_opted_in_source(sim):
    run = without(policy("controller-policy.json"), [INLINE_SID])
    role = role_with(sim, run)
    _, got = results(sim, role, ["ssm:SendCommand"], [DOC, INLINE_DOC, INSTANCE], OPT_IN)
    assert got[("ssm:SendCommand", DOC)]["EvalDecision"] == "allowed"
    assert got[("ssm:SendCommand", DOC)]["MatchedStatements"][0]["SourcePolicyId"] == "run"
    assert got[("ssm:SendCommand", INSTANCE)]["EvalDecision"] == "allowed"
    # Documents mode leaves the inline statement out: AWS-RunPowerShellScript is not allowed.
    assert got[("ssm:SendCommand", INLINE_DOC)]["EvalDecision"] == "implicitDeny"
    assert got[("ssm:SendCommand", INLINE_DOC)]["MatchedStatements"] == []
    # Each verdict is the evaluator's own on the same request.
    for (action, resource), r in got.items():
        context = {"ssm:resourceTag/clonectl:source": "allowed"}
        expected, _ = decide([run], {"action": action, "resource": resource, "context": context})
        assert r["EvalDecision"] == {"Allow": "allowed", "ImplicitDeny": "implicitDeny",
                                     "ExplicitDeny": "explicitDeny"}[expected]


def test_without_the_instance_tags_as_context_the_instance_is_denied_and_the_missing_key_named(sim):
    role = role_with(sim, policy("controller-policy.json"))
    _, got = results(sim, role, ["ssm:SendCommand"], [INLINE_DOC, INSTANCE])
    assert got[("ssm:SendCommand", INLINE_DOC)]["EvalDecision"] == "allowed"
    denied = got[("ssm:SendCommand", INSTANCE)]
    assert denied["EvalDecision"] == "implicitDeny"
    assert "ssm:resourceTag/clonectl:source" in denied["MissingContextValues"]
    assert "ssm:resourceTag/clonectl:role" in denied["MissingContextValues"]
    # A clone's role tag is the other way in.
    clone = [{"ContextKeyName": "ssm:resourceTag/clonectl:role", "ContextKeyValues": ["clone"],
              "ContextKeyType": "string"}]
    _, got = results(sim, role, ["ssm:SendCommand"], [INSTANCE], clone)
    assert got[("ssm:SendCommand", INSTANCE)]["EvalDecision"] == "allowed"


def test_an_explicit_deny_wins_and_is_named(sim):
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoClonectl", "Effect": "Deny", "Action": "ssm:SendCommand", "Resource": "arn:aws:ssm:*:*:document/clonectl-*"}]}
    role = role_with(sim, doc)
    _, got = results(sim, role, ["ssm:SendCommand", "ssm:ListCommands"], [DOC])
    assert got[("ssm:SendCommand", DOC)]["EvalDecision"] == "explicitDeny"
    assert got[("ssm:SendCommand", DOC)]["MatchedStatements"][0]["SourcePolicyId"] == "run"
    assert got[("ssm:ListCommands", DOC)]["EvalDecision"] == "allowed"


def test_a_role_with_a_path_is_found_only_by_its_whole_arn(sim):
    role = role_with(sim, {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]},
                     path="/team/")
    assert ":role/team/clonectl-sim-" in role
    _, got = results(sim, role, ["ssm:SendCommand"], [DOC])
    assert got[("ssm:SendCommand", DOC)]["EvalDecision"] == "allowed"
    with pytest.raises(ClientError) as err:
        results(sim, role.replace("/team/", "/"), ["ssm:SendCommand"], [DOC])
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"


def test_the_caller_needs_the_right_to_ask(sim):
    info = sim.info
    readonly = client(sim, "iam", aws_access_key_id=info["readOnlyAccessKeyId"],
                      aws_secret_access_key=info["readOnlySecretAccessKey"])
    role = role_with(sim, policy("controller-policy.json"))
    with pytest.raises(ClientError) as err:
        readonly.simulate_principal_policy(PolicySourceArn=role, ActionNames=["ssm:SendCommand"])
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "iam:SimulatePrincipalPolicy" in err.value.response["Error"]["Message"]
    assert role in err.value.response["Error"]["Message"]


@pytest.mark.parametrize("source,code", [
    ("arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0", "InvalidInput"),
    ("arn:aws:iam::123456789012:role/no-such-role", "NoSuchEntity"),
    ("arn:aws:iam::123456789012:user/no-such-user", "NoSuchEntity"),
])
def test_a_source_that_is_not_an_existing_entity_is_refused(sim, source, code):
    with pytest.raises(ClientError) as err:
        client(sim, "iam").simulate_principal_policy(PolicySourceArn=source, ActionNames=["ssm:SendCommand"])
    assert err.value.response["Error"]["Code"] == code


def test_results_are_paged_with_max_items_and_marker(sim):
    role = role_with(sim, policy("controller-policy.json"))
    first, _ = results(sim, role, ["ssm:SendCommand"], [DOC, INLINE_DOC, INSTANCE], MaxItems=2)
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 2
    rest, _ = results(sim, role, ["ssm:SendCommand"], [DOC, INLINE_DOC, INSTANCE], MaxItems=2, Marker=first["Marker"])
    assert rest["IsTruncated"] is False
    names = [r["EvalResourceName"] for r in first["EvaluationResults"] + rest["EvaluationResults"]]
    assert names == [DOC, INLINE_DOC, INSTANCE]


def test_the_user_that_may_do_everything_is_allowed_and_its_asking_is_logged_on_the_simulated_entity(sim):
    user = client(sim, "sts").get_caller_identity()["Arn"]
    _, got = results(sim, user, ["ssm:SendCommand"], [DOC])
    assert got[("ssm:SendCommand", DOC)]["EvalDecision"] == "allowed"
    import urllib.request
    with urllib.request.urlopen(sim.info["controlEndpoint"] + "/calls", timeout=10) as resp:
        calls = json.loads(resp.read())["calls"]
    asked = [c for c in calls if c.get("api") == "iam:SimulatePrincipalPolicy"]
    assert asked and asked[-1]["authz"] == [{"action": "iam:SimulatePrincipalPolicy", "resource": user, "context": {}}]
