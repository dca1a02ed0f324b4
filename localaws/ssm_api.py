"""The SSM Run Command operations the simulator serves itself (AWS JSON 1.1), with AWS's limits and errors."""
import base64
import json
import re
import time

from . import cmdfilters, worker
from .commands import aggregate

SERVED = ("SendCommand", "GetCommandInvocation", "ListCommandInvocations", "ListCommands", "CancelCommand",
          "DescribeInstanceInformation")
DOCUMENT = "AWS-RunPowerShellScript"
PLUGIN = "aws:runPowerShellScript"
STDOUT_MAX, STDERR_MAX, DETAILS_MAX = 24000, 8000, 2500
_PARAM_REF = re.compile(r"\{\{.*?\}\}", re.S)
# SendCommand's patterns, as the API reference gives them.
MAX_CONCURRENCY = r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$"
MAX_ERRORS = r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$"


class SsmError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _violation(field, value, constraint):
    return f"Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"


def _validation(field, value, constraint):
    return _validations([_violation(field, value, constraint)])


def _validations(violations):
    """AWS's wording: "1 validation error detected: ..." or "2 validation errors detected: A; B"."""
    n = len(violations)
    return SsmError("ValidationException", f"{n} validation error{'s' if n > 1 else ''} detected: "
                                           + "; ".join(violations))


def _resolve_rate(value: str, targets: int, at_least_one: bool) -> int:
    """MaxConcurrency / MaxErrors as a number of targets: a percentage of the target count rounded down (at least
    1 for MaxConcurrency)."""
    if value.endswith("%"):
        count = int(value[:-1]) * targets // 100
        return max(1, count) if at_least_one else count
    return int(value)


def _page(items, body, low, high, default):
    max_results = body.get("MaxResults", default)
    if not isinstance(max_results, int) or not low <= max_results <= high:
        raise _validation("maxResults", max_results, f"Member must have value between {low} and {high}")
    start = 0
    if body.get("NextToken"):
        try:
            start = int(base64.b64decode(body["NextToken"]).decode())
        except Exception:
            raise SsmError("InvalidNextToken", "The specified token isn't valid.") from None
    page = items[start:start + max_results]
    token = base64.b64encode(str(start + max_results).encode()).decode() if start + max_results < len(items) else None
    return page, token


def send_command(sim, body):
    if body.get("Targets"):
        raise SsmError("ValidationException", "the simulator serves InstanceIds only; Targets are not supported")
    ids = body.get("InstanceIds") or []
    if not ids:
        raise SsmError("ValidationException", "InstanceIds or Targets must be given")
    if len(ids) > 50:
        raise SsmError("InvalidInstanceId", f"at most 50 InstanceIds per SendCommand; got {len(ids)}")
    doc = body.get("DocumentName", "")
    if doc != DOCUMENT:
        raise SsmError("InvalidDocument", f"Document with name {doc} does not exist (the simulator serves {DOCUMENT})")
    violations = []
    comment = body.get("Comment", "")
    if len(comment) > 100:
        violations.append(_violation("comment", comment, "Member must have length less than or equal to 100"))
    timeout = body.get("TimeoutSeconds", 3600)
    if not isinstance(timeout, int) or not 30 <= timeout <= 2592000:
        violations.append(_violation("timeoutSeconds", timeout, "Member must have value between 30 and 2592000"))
    max_concurrency = body.get("MaxConcurrency", "50")
    if not isinstance(max_concurrency, str) or not re.match(MAX_CONCURRENCY, max_concurrency):
        violations.append(_violation("maxConcurrency", max_concurrency,
                                     f"Member must satisfy regular expression pattern: {MAX_CONCURRENCY}"))
    max_errors = body.get("MaxErrors", "0")
    if not isinstance(max_errors, str) or not re.match(MAX_ERRORS, max_errors):
        violations.append(_violation("maxErrors", max_errors,
                                     f"Member must satisfy regular expression pattern: {MAX_ERRORS}"))
    if violations:
        raise _validations(violations)
    params = body.get("Parameters") or {}
    unknown = [k for k in params if k not in ("commands", "workingDirectory", "executionTimeout")]
    if unknown:
        raise SsmError("InvalidParameters", f"Parameters {unknown} are not defined in document {DOCUMENT}")
    if not params.get("commands"):
        raise SsmError("InvalidParameters", "Parameter \"commands\" is required by document " + DOCUMENT)
    for value in sum((v for v in params.values()), []):
        if _PARAM_REF.search(value):
            raise SsmError("InvalidParameters", "Parameters contain a {{ }} reference that is not a parameter of "
                                                f"{DOCUMENT}")
    bad = sim.offline_ids(ids)
    if bad:
        raise SsmError("InvalidInstanceId", f"Instances [[{', '.join(bad)}]] not in a valid state for account "
                                            f"{sim.account_id}")
    cmd = sim.commands.add(DOCUMENT, params, ids, comment, timeout, sim.config["invocationVisibleSeconds"],
                           max_concurrency, max_errors, _resolve_rate(max_concurrency, len(ids), True),
                           _resolve_rate(max_errors, len(ids), False))
    worker.start_command(sim, cmd)
    return {"Command": _command(cmd)}


def _command(cmd):
    status, details = aggregate(cmd)
    invs = list(cmd.invocations.values())
    done = [i for i in invs if i.status in ("Success", "Failed", "TimedOut", "Cancelled")]
    return {
        "CommandId": cmd.command_id, "DocumentName": cmd.document, "DocumentVersion": "$DEFAULT",
        "Comment": cmd.comment, "ExpiresAfter": cmd.expires, "Parameters": cmd.parameters,
        "InstanceIds": cmd.instance_ids, "Targets": [], "RequestedDateTime": cmd.requested, "Status": status,
        "StatusDetails": details, "OutputS3Region": sim_region(), "OutputS3BucketName": "",
        "OutputS3KeyPrefix": "", "MaxConcurrency": cmd.max_concurrency, "MaxErrors": cmd.max_errors,
        "TargetCount": len(invs),
        "CompletedCount": len(done), "ErrorCount": sum(1 for i in done if i.status in ("Failed", "TimedOut")),
        "DeliveryTimedOutCount": sum(1 for i in invs if i.details == "DeliveryTimedOut"), "ServiceRole": "",
        "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""},
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
        "TimeoutSeconds": cmd.timeout_seconds,
    }


def sim_region():
    return "us-east-1"


def _iso(ts):
    return "" if ts is None else time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % int(ts % 1 * 1000)


def get_command_invocation(sim, body):
    cid, iid = body.get("CommandId", ""), body.get("InstanceId", "")
    if not re.fullmatch(r"[0-9a-f-]{36}", cid):
        raise _validation("commandId", cid, "Member must have length greater than or equal to 36")
    plugin = body.get("PluginName")
    inv = sim.commands.visible_invocation(cid, iid)
    if inv is None or (plugin and plugin != PLUGIN):
        raise SsmError("InvocationDoesNotExist", "")
    cmd = sim.commands.get(cid)
    with sim.commands.lock:
        elapsed = ((inv.ended or time.time()) - inv.started) if inv.started else 0
        return {
            "CommandId": cid, "InstanceId": iid, "Comment": cmd.comment, "DocumentName": cmd.document,
            "DocumentVersion": "$DEFAULT", "PluginName": PLUGIN, "ResponseCode": inv.code,
            "ExecutionStartDateTime": _iso(inv.started), "ExecutionElapsedTime": "PT%.3fS" % elapsed,
            "ExecutionEndDateTime": _iso(inv.ended), "Status": inv.status, "StatusDetails": inv.details,
            "StandardOutputContent": inv.stdout[:STDOUT_MAX], "StandardOutputUrl": "",
            "StandardErrorContent": inv.stderr[:STDERR_MAX], "StandardErrorUrl": "",
            "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
        }


def _filters(body, operation):
    return cmdfilters.parse(body, operation, SsmError, _validations, _violation)


def list_command_invocations(sim, body):
    cid, iid, details = body.get("CommandId"), body.get("InstanceId"), bool(body.get("Details"))
    filters = _filters(body, "ListCommandInvocations")
    if cid:  # by id, not a scan of every command
        one = sim.commands.get(cid)
        commands = [one] if one is not None else []
    else:
        commands = sim.commands.commands_newest_first()
    now = time.time()
    pairs = []
    with sim.commands.lock:
        for cmd in commands:
            for inv in cmd.invocations.values():
                if (not iid or inv.instance_id == iid) and now >= inv.visible_at \
                        and cmdfilters.invocation_matches(filters, cmd, inv):
                    pairs.append((cmd, inv))
    page, token = _page(pairs, body, 1, 50, 50)
    out = {"CommandInvocations": [_invocation_row(sim, cmd, inv, details) for cmd, inv in page]}
    if token:
        out["NextToken"] = token
    return out


def _invocation_row(sim, cmd, inv, details):
    with sim.commands.lock:
        row = {"CommandId": cmd.command_id, "InstanceId": inv.instance_id, "InstanceName": "",
               "Comment": cmd.comment, "DocumentName": cmd.document, "DocumentVersion": "$DEFAULT",
               "RequestedDateTime": cmd.requested, "Status": inv.status, "StatusDetails": inv.details,
               "TraceOutput": "", "StandardOutputUrl": "", "StandardErrorUrl": "", "CommandPlugins": [],
               "ServiceRole": "",
               "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""},
               "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False}}
        if details:
            output = inv.stdout + ("\n----------ERROR-------\n" + inv.stderr if inv.stderr else "")
            plugin = {"Name": PLUGIN, "Status": inv.status, "StatusDetails": inv.details, "ResponseCode": inv.code,
                      "Output": output[:DETAILS_MAX], "StandardOutputUrl": "", "StandardErrorUrl": "",
                      "OutputS3Region": sim_region(), "OutputS3BucketName": "", "OutputS3KeyPrefix": ""}
            if inv.started:
                plugin["ResponseStartDateTime"] = inv.started
            if inv.ended:
                plugin["ResponseFinishDateTime"] = inv.ended
            row["CommandPlugins"] = [plugin]
        return row


def list_commands(sim, body):
    cid, iid = body.get("CommandId"), body.get("InstanceId")
    filters = _filters(body, "ListCommands")
    if cid:
        one = sim.commands.get(cid)
        commands = [one] if one is not None else []
    else:
        commands = sim.commands.commands_newest_first()
    commands = [c for c in commands if not iid or iid in c.invocations]
    if cid and not commands:
        raise SsmError("InvalidCommandId", "")
    if filters:
        with sim.commands.lock:
            commands = [c for c in commands if cmdfilters.command_matches(filters, c, *aggregate(c))]
    page, token = _page(commands, body, 1, 50, 50)
    with sim.commands.lock:
        out = {"Commands": [_command(c) for c in page]}
    if token:
        out["NextToken"] = token
    return out


def cancel_command(sim, body):
    cmd = sim.commands.cancel(body.get("CommandId", ""), body.get("InstanceIds"))
    if cmd is None:
        raise SsmError("InvalidCommandId", "")
    return {}


def describe_instance_information(sim, body):
    filters = {}
    for f in body.get("Filters") or []:
        filters[f.get("Key")] = f.get("Values") or []
    for f in body.get("InstanceInformationFilterList") or []:
        filters[{"InstanceIds": "InstanceIds"}.get(f.get("key"), f.get("key"))] = f.get("valueSet") or []
    for key in filters:
        if key not in ("InstanceIds", "PingStatus", "PlatformTypes"):
            raise SsmError("InvalidInstanceInformationFilterValue",
                           f"filter key {key} is not served by the simulator (InstanceIds, PingStatus, PlatformTypes)")
    rows = [r for r in sim.instance_information(filters.get("InstanceIds"))
            if r["PingStatus"] in filters.get("PingStatus", [r["PingStatus"]])
            and r["PlatformType"] in filters.get("PlatformTypes", [r["PlatformType"]])]
    page, token = _page(rows, body, 5, 50, 50)
    out = {"InstanceInformationList": page}
    if token:
        out["NextToken"] = token
    return out


HANDLERS = {"SendCommand": send_command, "GetCommandInvocation": get_command_invocation,
            "ListCommandInvocations": list_command_invocations, "ListCommands": list_commands,
            "CancelCommand": cancel_command, "DescribeInstanceInformation": describe_instance_information}


def handle(sim, operation: str, raw: bytes) -> dict:
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError:
        raise SsmError("SerializationException", "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise SsmError("SerializationException", "the request body must be a JSON object")
    return HANDLERS[operation](sim, body)
