"""A small IAM policy evaluator for the tests: identity policies only, the parts clonectl's policies use.

    decide(policies, request) -> ("Allow" | "ExplicitDeny" | "ImplicitDeny", [Sids that decided])
    python -m localaws.iampolicy POLICY.json CALLS.json [--without SID ...]   (the replay, JSON verdicts on stdout)

A request is {"action": "ec2:StopInstances", "resource": ARN, "context": {condition key: value or list}} as
authz.py derives them from the simulator's call log. The rules, from the IAM User Guide's policy evaluation logic
and condition element reference:
  - an explicit Deny in any matching statement wins; else an Allow in any matching statement; else implicit deny;
  - a statement matches when its Action (or NotAction) matches the action (case-insensitive, * and ? wildcards),
    its Resource (or NotResource) matches the ARN (case-sensitive; wildcards within each of the first five colon
    segments, the resource part matched as a whole), and every condition operator holds (AND across operators
    and keys, OR across one key's values);
  - condition keys are case-insensitive; a key missing from the context makes a positive operator false and a
    negated one (StringNotEquals, StringNotLike, ArnNotLike, ...) true; ...IfExists makes a missing key true;
  - ForAllValues: every context value matches some policy value (true when the key is missing or empty);
    ForAnyValue: some context value matches some policy value (false when missing); without a qualifier a
    multi-valued context key matches when any of its values does;
  - Null: "true" holds when the key is absent, "false" when present; Bool compares "true"/"false".
Not implemented (clonectl's policies do not use them; a statement using one raises, never silently matches):
numeric and date operators, IpAddress, policy variables, Principal, resource-based and boundary policies, SCPs.
"""
import json
import re
import sys

_STRING_OPS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
               "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Bool"}
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


class Unsupported(ValueError):
    """A policy element this evaluator does not implement."""


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcards: * any run of characters (empty too), ? one character; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.S | (re.I if ignore_case else 0)) is not None


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def action_matches(pattern: str, action: str) -> bool:
    return pattern == "*" or _glob(pattern, action, ignore_case=True)


def arn_matches(pattern: str, arn: str) -> bool:
    """Wildcards stay within the ARN's first five segments (arn:partition:service:region:account:) each; the
    resource part (after the fifth colon, which may hold colons itself) is matched as a whole."""
    if pattern == "*":
        return True
    p, a = pattern.split(":", 5), arn.split(":", 5)
    if len(p) != 6 or len(a) != 6:
        return _glob(pattern, arn)
    return all(_glob(x, y) for x, y in zip(p, a))


def _one(op: str, policy_value: str, value: str) -> bool:
    """A positive operator on one context value and one policy value."""
    base = op.replace("Not", "", 1) if op in _NEGATED else op
    policy_value, value = str(policy_value), str(value)
    if base == "StringEquals":
        return policy_value == value
    if base == "StringEqualsIgnoreCase":
        return policy_value.lower() == value.lower()
    if base == "StringLike":
        return _glob(policy_value, value)
    if base == "ArnEquals":
        return policy_value == value
    if base == "ArnLike":
        return arn_matches(policy_value, value)
    if base == "Bool":
        return policy_value.lower() == value.lower()
    raise Unsupported(f"condition operator {op}")


def _context_value(context: dict, key: str):
    lowered = key.lower()
    for k, v in context.items():
        if k.lower() == lowered:
            return v
    return None


def condition_holds(operator: str, key: str, policy_values, context: dict) -> bool:
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op[: -len("IfExists")] if if_exists else op
    found = _context_value(context, key)
    if op == "Null":
        wants_absent = str(_list(policy_values)[0]).lower() == "true"
        return (found is None or found == []) == wants_absent
    if op not in _STRING_OPS:
        raise Unsupported(f"condition operator {operator}")
    negated = op in _NEGATED
    values = [str(v) for v in _list(policy_values)]
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise Unsupported(f"condition qualifier {qualifier}")
    if found is None or found == []:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return True if (if_exists or negated) else False
    context_values = [str(v) for v in _list(found)]

    def element(value: str) -> bool:
        hit = any(_one(op, pv, value) for pv in values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(element(v) for v in context_values)
    return any(element(v) for v in context_values)


def statement_matches(statement: dict, request: dict) -> bool:
    for forbidden in ("Principal", "NotPrincipal"):
        if forbidden in statement:
            raise Unsupported(f"{forbidden} (identity policies only)")
    if "Action" in statement:
        if not any(action_matches(p, request["action"]) for p in _list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(action_matches(p, request["action"]) for p in _list(statement["NotAction"])):
            return False
    else:
        raise Unsupported("a statement without Action or NotAction")
    if "Resource" in statement:
        if not any(arn_matches(p, request["resource"]) for p in _list(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(arn_matches(p, request["resource"]) for p in _list(statement["NotResource"])):
            return False
    else:
        raise Unsupported("a statement without Resource or NotResource")
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, policy_values in keys.items():
            if not condition_holds(operator, key, policy_values, request.get("context") or {}):
                return False
    return True


def decide(policies: list, request: dict) -> tuple[str, list]:
    allows, denies = [], []
    for policy in policies:
        for i, statement in enumerate(_list(policy.get("Statement", []))):
            if statement_matches(statement, request):
                (denies if statement["Effect"] == "Deny" else allows).append(statement.get("Sid", f"#{i}"))
    if denies:
        return "ExplicitDeny", denies
    if allows:
        return "Allow", allows
    return "ImplicitDeny", []


def without(policy: dict, sids) -> dict:
    """The policy with the named statements left out (an operator leaving out an optional statement)."""
    kept = [s for s in _list(policy["Statement"]) if s.get("Sid") not in set(sids)]
    return {**policy, "Statement": kept}


def replay(policies: list, calls: list) -> dict:
    """Every logged call with its authorization requests, judged. A call is allowed when all its requests are; a
    call whose requests are unknown (logged without them, or the mapping failed) is reported as such."""
    allowed, denied, unknown = [], [], []
    for call in calls:
        if "authz" not in call:
            unknown.append({"seq": call.get("seq"), "api": call.get("api"), "why": "no authorization requests logged"})
            continue
        verdicts = []
        for req in call["authz"]:
            if "error" in req:
                unknown.append({"seq": call.get("seq"), "api": call.get("api"), "why": req["error"]})
                break
            decision, sids = decide(policies, req)
            verdicts.append({**req, "decision": decision, "statements": sids})
        else:
            refused = [v for v in verdicts if v["decision"] != "Allow"]
            (denied if refused else allowed).append({"seq": call.get("seq"), "api": call.get("api"),
                                                     "requests": verdicts if refused else len(verdicts),
                                                     **({"refused": refused} if refused else {})})
    return {"allowed": allowed, "denied": denied, "unknown": unknown}


def main(argv: list[str]) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m localaws.iampolicy", description=__doc__.split("\n")[0])
    parser.add_argument("policy", help="the policy JSON file")
    parser.add_argument("calls", help="the simulator's call log (GET /__sim/calls, whole answer or its calls)")
    parser.add_argument("--without", action="append", default=[], help="leave out the statement with this Sid")
    parser.add_argument("--sub", action="append", default=[], help="NAME=VALUE: replace <NAME> in the policy")
    args = parser.parse_args(argv)
    text = open(args.policy, encoding="utf-8").read()
    for sub in args.sub:
        name, _, value = sub.partition("=")
        text = text.replace(f"<{name}>", value)
    policy = without(json.loads(text), args.without)
    log = json.load(open(args.calls, encoding="utf-8"))
    calls = log["calls"] if isinstance(log, dict) else log
    result = replay([policy], calls)
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0 if not result["denied"] and not result["unknown"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
