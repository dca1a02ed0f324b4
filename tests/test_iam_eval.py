"""The test IAM evaluator (localaws/iampolicy.py) against the evaluation rules the IAM User Guide documents.

Each case names the rule it checks; the examples are the guide's own where it gives one (policy evaluation logic,
condition operators, multivalued context keys, the Null operator).
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from localaws.iampolicy import Unsupported, arn_matches, decide, replay, without  # noqa: E402


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", condition=None, sid=None, effect="Allow"):
    s = {"Effect": effect, "Action": action, "Resource": resource}
    if condition:
        s["Condition"] = condition
    if sid:
        s["Sid"] = sid
    return s


def r(action, resource="*", context=None):
    return {"action": action, "resource": resource, "context": context or {}}


def test_nothing_allowed_is_an_implicit_deny():
    assert decide([policy()], r("ec2:StopInstances"))[0] == "ImplicitDeny"


def test_an_explicit_deny_overrides_any_allow():
    p = policy(allow("ec2:*", sid="A"), allow("ec2:TerminateInstances", effect="Deny", sid="D"))
    assert decide([p], r("ec2:TerminateInstances")) == ("ExplicitDeny", ["D"])
    assert decide([p], r("ec2:StopInstances")) == ("Allow", ["A"])


def test_deny_in_one_policy_overrides_allow_in_another():
    assert decide([policy(allow("s3:*")), policy(allow("s3:DeleteObject", effect="Deny"))],
                  r("s3:DeleteObject"))[0] == "ExplicitDeny"


def test_action_names_are_case_insensitive_and_take_wildcards():
    p = policy(allow("ec2:describe*"), allow("iam:Get?ser"))
    assert decide([p], r("ec2:DescribeInstances"))[0] == "Allow"
    assert decide([p], r("iam:GetUser"))[0] == "Allow"
    assert decide([p], r("iam:GetUsers"))[0] == "ImplicitDeny"  # ? is exactly one character
    assert decide([p], r("ec2:StopInstances"))[0] == "ImplicitDeny"


def test_not_action_allows_everything_else():
    p = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide([p], r("ec2:RunInstances"))[0] == "Allow"
    assert decide([p], r("iam:PassRole"))[0] == "ImplicitDeny"


def test_resource_arns_match_per_segment_and_case_sensitively():
    assert arn_matches("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc")
    assert arn_matches("arn:aws:ec2:*::image/*", "arn:aws:ec2:us-east-1::image/ami-1")
    # A wildcard stays in its segment: the account segment of an AWS-owned document is empty, and * matches empty.
    assert arn_matches("arn:aws:ssm:*:*:document/clonectl-*", "arn:aws:ssm:eu-west-1:123456789012:document/clonectl-prep")
    assert not arn_matches("arn:aws:ssm:*:*:document/clonectl-*", "arn:aws:ssm:eu-west-1::document/AWS-RunPowerShellScript")
    assert not arn_matches("arn:aws:ssm:*::document/AWS-RunPowerShellScript",
                           "arn:aws:ssm:eu-west-1:123456789012:document/AWS-RunPowerShellScript")
    assert not arn_matches("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:us-east-1:123456789012:volume/vol-1")
    assert not arn_matches("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/key")
    # The resource part is matched whole: * there crosses / and :.
    assert arn_matches("arn:aws:logs:*:*:log-group:g:*", "arn:aws:logs:r:1:log-group:g:log-stream:s")


def test_not_resource():
    p = policy({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})
    assert decide([p], r("s3:GetObject", "arn:aws:s3:::open/a"))[0] == "Allow"
    assert decide([p], r("s3:GetObject", "arn:aws:s3:::secret/a"))[0] == "ImplicitDeny"


def test_condition_keys_and_values_and_or():
    # The guide: several keys (and operators) are ANDed, several values for one key are ORed.
    p = policy(allow("ec2:StopInstances", condition={"StringEquals": {
        "ec2:ResourceTag/env": ["dev", "test"], "ec2:ResourceTag/team": "a"}}))
    assert decide([p], r("ec2:StopInstances", context={"ec2:ResourceTag/env": "test", "ec2:ResourceTag/team": "a"}))[0] == "Allow"
    assert decide([p], r("ec2:StopInstances", context={"ec2:ResourceTag/env": "prod", "ec2:ResourceTag/team": "a"}))[0] == "ImplicitDeny"
    assert decide([p], r("ec2:StopInstances", context={"ec2:ResourceTag/env": "dev"}))[0] == "ImplicitDeny"


def test_condition_key_names_are_case_insensitive_values_are_not():
    p = policy(allow("ssm:SendCommand", condition={"StringEquals": {"ssm:resourceTag/Finance": "WebServers"}}))
    assert decide([p], r("ssm:SendCommand", context={"SSM:ResourceTag/finance": "WebServers"}))[0] == "Allow"
    assert decide([p], r("ssm:SendCommand", context={"ssm:resourceTag/Finance": "webservers"}))[0] == "ImplicitDeny"
    ci = policy(allow("ssm:SendCommand", condition={"StringEqualsIgnoreCase": {"ssm:resourceTag/Finance": "WebServers"}}))
    assert decide([ci], r("ssm:SendCommand", context={"ssm:resourceTag/Finance": "webservers"}))[0] == "Allow"


def test_string_like_wildcards():
    p = policy(allow("ssm:SendCommand", condition={"StringLike": {"ssm:resourceTag/Finance": ["Web*", "D?"]}}))
    for value, decision in (("WebServers", "Allow"), ("Web", "Allow"), ("DB", "Allow"), ("DBX", "ImplicitDeny"),
                            ("web", "ImplicitDeny")):
        assert decide([p], r("ssm:SendCommand", context={"ssm:resourceTag/Finance": value}))[0] == decision, value


def test_a_missing_key_fails_a_positive_operator_and_passes_a_negated_one():
    # The guide: "If the key that you specify in a policy condition is not present in the request context, the
    # values do not match" -- except for negated operators, which then evaluate to true.
    positive = policy(allow("ec2:StopInstances", condition={"StringEquals": {"ec2:ResourceTag/env": "dev"}}))
    negated = policy(allow("ec2:StopInstances", condition={"StringNotEquals": {"ec2:ResourceTag/env": "prod"}}))
    assert decide([positive], r("ec2:StopInstances"))[0] == "ImplicitDeny"
    assert decide([negated], r("ec2:StopInstances"))[0] == "Allow"
    assert decide([negated], r("ec2:StopInstances", context={"ec2:ResourceTag/env": "prod"}))[0] == "ImplicitDeny"


def test_if_exists_passes_a_missing_key():
    p = policy(allow("ec2:RunInstances", condition={"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}}))
    assert decide([p], r("ec2:RunInstances"))[0] == "Allow"
    assert decide([p], r("ec2:RunInstances", context={"ec2:InstanceType": "m5.large"}))[0] == "ImplicitDeny"


def test_null_checks_presence():
    p = policy(allow("ec2:RunInstances", condition={"Null": {"aws:RequestTag/clonectl:run": "false"}}))
    assert decide([p], r("ec2:RunInstances", context={"aws:RequestTag/clonectl:run": "r-1"}))[0] == "Allow"
    assert decide([p], r("ec2:RunInstances"))[0] == "ImplicitDeny"
    absent = policy(allow("ec2:RunInstances", condition={"Null": {"aws:TagKeys": "true"}}))
    assert decide([absent], r("ec2:RunInstances"))[0] == "Allow"
    assert decide([absent], r("ec2:RunInstances", context={"aws:TagKeys": ["a"]}))[0] == "ImplicitDeny"


def test_for_all_values_is_true_for_a_missing_key_and_checks_every_value():
    # The guide's example: ForAllValues:StringEquals aws:TagKeys [environment, cost-center].
    p = policy(allow("ec2:CreateTags", condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
    assert decide([p], r("ec2:CreateTags", context={"aws:TagKeys": ["environment"]}))[0] == "Allow"
    assert decide([p], r("ec2:CreateTags", context={"aws:TagKeys": ["environment", "cost-center"]}))[0] == "Allow"
    assert decide([p], r("ec2:CreateTags", context={"aws:TagKeys": ["environment", "owner"]}))[0] == "ImplicitDeny"
    # ...and, as the guide warns, it also holds when the key is not in the request at all.
    assert decide([p], r("ec2:CreateTags"))[0] == "Allow"


def test_for_any_value_needs_one_match_and_is_false_for_a_missing_key():
    p = policy(allow("ec2:CreateTags", effect="Deny", condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "clonectl:source"}}),
               allow("ec2:CreateTags"))
    assert decide([p], r("ec2:CreateTags", context={"aws:TagKeys": ["a", "clonectl:source"]}))[0] == "ExplicitDeny"
    assert decide([p], r("ec2:CreateTags", context={"aws:TagKeys": ["a"]}))[0] == "Allow"
    assert decide([p], r("ec2:CreateTags"))[0] == "Allow"


def test_arn_like_and_bool():
    p = policy(allow("iam:PassRole", condition={"ArnLike": {"iam:AssociatedResourceArn": "arn:aws:ec2:*:*:instance/*"},
                                                "Bool": {"aws:SecureTransport": "true"}}))
    good = {"iam:AssociatedResourceArn": "arn:aws:ec2:us-east-1:123456789012:instance/i-1", "aws:SecureTransport": "true"}
    assert decide([p], r("iam:PassRole", context=good))[0] == "Allow"
    assert decide([p], r("iam:PassRole", context={**good, "aws:SecureTransport": "false"}))[0] == "ImplicitDeny"
    assert decide([p], r("iam:PassRole", context={**good, "iam:AssociatedResourceArn": "arn:aws:lambda:r:1:function:f"}))[0] == "ImplicitDeny"


def test_an_unimplemented_operator_raises_rather_than_matching():
    p = policy(allow("ec2:RunInstances", condition={"NumericLessThan": {"ec2:VolumeSize": "100"}}))
    with pytest.raises(Unsupported):
        decide([p], r("ec2:RunInstances", context={"ec2:VolumeSize": "8"}))


def test_replay_needs_every_request_of_a_call_allowed():
    p = policy(allow("ec2:RunInstances", "arn:aws:ec2:*:*:instance/*"))
    calls = [{"seq": 1, "api": "ec2:RunInstances", "authz": [r("ec2:RunInstances", "arn:aws:ec2:r:1:instance/*"),
                                                             r("ec2:RunInstances", "arn:aws:ec2:r:1:subnet/subnet-1")]},
             {"seq": 2, "api": "sts:GetCallerIdentity", "authz": []},
             {"seq": 3, "api": "ec2:StopInstances"}]
    out = replay([p], calls)
    assert [c["seq"] for c in out["denied"]] == [1]
    assert out["denied"][0]["refused"][0]["resource"].endswith("subnet/subnet-1")
    assert [c["seq"] for c in out["allowed"]] == [2]
    assert [c["seq"] for c in out["unknown"]] == [3]


def test_without_leaves_out_a_statement_by_sid():
    p = policy(allow("a:B", sid="Keep"), allow("a:C", sid="Drop"))
    assert [s["Sid"] for s in without(p, ["Drop"])["Statement"]] == ["Keep"]


def test_s3_calls_map_to_the_object_and_bucket_arns():
    from localaws.authz import s3_requests
    assert s3_requests("GET", "127.0.0.1:4566", "/out/runs/cmd/i-1/stdout", "") == [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::out/runs/cmd/i-1/stdout", "context": {}}]
    assert s3_requests("HEAD", "out.s3.us-east-1.amazonaws.com", "/runs/a", "")[0]["resource"] == "arn:aws:s3:::out/runs/a"
    assert s3_requests("PUT", "localhost", "/out/k", "")[0]["action"] == "s3:PutObject"
    assert s3_requests("HEAD", "localhost:9", "/out", "") == [{"action": "s3:ListBucket", "resource": "arn:aws:s3:::out", "context": {}}]
    listed = s3_requests("GET", "localhost", "/out", "list-type=2&prefix=runs%2F")
    assert listed == [{"action": "s3:ListBucket", "resource": "arn:aws:s3:::out", "context": {"s3:prefix": "runs/"}}]
