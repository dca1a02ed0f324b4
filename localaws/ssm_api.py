"""The SSM Run Command operations the simulator serves itself (AWS JSON 1.1), with AWS's limits and errors."""
import base64
import json
import re
import time

from . import worker
from .commands import aggregate

SERVED = ("SendCommand", "GetCommandInvocation", "ListCommandInvocations", "ListCommands", "CancelCommand",
          "DescribeInstanceInformation")
DOCUMENT = "AWS-RunPowerShellScript"
PLUGIN = "aws:runPowerShellScript"
STDOUT_MAX, STDERR_MAX, DETAILS_MAX = 24000, 8000, 2500
_PARAM_REF = re.compile(r"\{\{.*?\}\}", re.S)


class SsmError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _validation(field, value, constraint):
    return SsmError("ValidationException", f"1 validation error detected: Value '{value}' at '{field}' failed to "
                                           f"satisfy constraint: {constraint}")


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
    comment = body.get("Comment", "")
    if len(comment) > 100:
        raise _validation("comment", comment, "Member must have length less than or equal to 100")
    timeout = body.get("TimeoutSeconds", 3600)
    if not isinstance(timeout, int) or not 30 <= timeout <= 2592000:
        raise _validation("timeoutSeconds", timeout, "Member must have value between 30 and 2592000")
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
    bad = [i for i in ids if not sim.is_online(i)]
    if bad:
        raise SsmError("InvalidInstanceId", f"Instances [[{', '.join(bad)}]] not in a valid state for account "
                                            f"{sim.account_id}")
    cmd = sim.commands.add(DOCUMENT, params, ids, comment, timeout, sim.config["invocationVisibleSeconds"])
    for inv in cmd.invocations.values():
        worker.start(sim, cmd, inv)
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
        "OutputS3KeyPrefix": "", "MaxConcurrency": "50", "MaxErrors": "0", "TargetCount": len(invs),
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


def list_command_invocations(sim, body):
    cid, iid, details = body.get("CommandId"), body.get("InstanceId"), bool(body.get("Details"))
    rows = []
    for cmd in sim.commands.commands_newest_first():
        if cid and cmd.command_id != cid:
            continue
        for inv in cmd.invocations.values():
            if (iid and inv.instance_id != iid) or sim.commands.visible_invocation(cmd.command_id,
                                                                                   inv.instance_id) is None:
                continue
            rows.append(_invocation_row(sim, cmd, inv, details))
    page, token = _page(rows, body, 1, 50, 50)
    out = {"CommandInvocations": page}
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
    rows = [_command(c) for c in sim.commands.commands_newest_first()
            if (not cid or c.command_id == cid) and (not iid or iid in c.invocations)]
    if cid and not rows:
        raise SsmError("InvalidCommandId", "")
    page, token = _page(rows, body, 1, 50, 50)
    out = {"Commands": page}
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
