"""The SSM Run Command operations the simulator serves itself (AWS JSON 1.1), with AWS's limits and errors.

Every request is first checked against the operation's input shape in AWS's own service model (model.py):
SerializationException for a member of the wrong JSON type, one ValidationException listing every violated
constraint. Then each operation's own checks, with the error codes the API reference gives them.
"""
import json
import re
import time

from . import cmdfilters, customdocs, documents, model, outputcut, worker
from .commands import TERMINAL, aggregate, counts_as_error
from .pagetokens import TokenError

SERVED = ("SendCommand", "GetCommandInvocation", "ListCommandInvocations", "ListCommands", "CancelCommand",
          "DescribeInstanceInformation")
DOCUMENT = documents.NAME
PLUGIN = documents.PLUGIN
STDOUT_MAX, STDERR_MAX, DETAILS_MAX = outputcut.STDOUT_MAX, outputcut.STDERR_MAX, outputcut.DETAILS_MAX
# SendCommand's patterns, as the API reference gives them (the model checks them; kept for the tests' messages).
MAX_CONCURRENCY = r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$"
MAX_ERRORS = r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$"
# S3's bucket naming rules; an IAM role ARN; an SNS topic ARN.
_BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")
_LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]+$")
# DescribeInstanceInformation's filter keys and the values some of them allow (API reference).
_INFO_KEYS = ("ActivationIds", "AgentVersion", "AssociationStatus", "IamRole", "InstanceIds", "PingStatus",
              "PlatformTypes", "ResourceType", "SourceIds", "SourceTypes")
_INFO_VALUES = {"PingStatus": ("Online", "ConnectionLost", "Inactive"), "PlatformTypes": ("Windows", "Linux", "MacOS"),
                "ResourceType": ("EC2Instance", "ManagedInstance"), "AssociationStatus": ("Success", "Pending", "Failed"),
                "SourceTypes": ("AWS::EC2::Instance", "AWS::SSM::ManagedInstance", "AWS::IoT::Thing",
                                "Microsoft.Compute/virtualMachines", "compute.googleapis.com/Instance")}
_INSTANCE_ID = re.compile(r"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)")


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


def _page(sim, operation, items, body, default):
    """One page of `items`: MaxResults (default `default`; its bounds are the model's) from the offset the
    NextToken stands for. A token is good only for the same listing (pagetokens.py)."""
    max_results = body.get("MaxResults", default)
    start = 0
    if body.get("NextToken") is not None:
        try:
            start = sim.page_tokens.offset(operation, body, body["NextToken"])
        except TokenError as exc:
            raise SsmError("InvalidNextToken", str(exc)) from None
    page = items[start:start + max_results]
    end = start + max_results
    token = sim.page_tokens.make(operation, body, end) if end < len(items) else None
    return page, token


def _output_checks(sim, body):
    """The outputs and notifications SendCommand names, refused as SSM refuses them."""
    bucket = body.get("OutputS3BucketName")
    if bucket is not None and (not _BUCKET.match(bucket) or not sim.bucket_exists(bucket)):
        raise SsmError("InvalidOutputFolder", f"The S3 bucket {bucket} doesn't exist")
    if body.get("OutputS3KeyPrefix") is not None and bucket is None:
        raise SsmError("InvalidOutputFolder", "OutputS3KeyPrefix was given without OutputS3BucketName")
    logs = body.get("CloudWatchOutputConfig") or {}
    group = logs.get("CloudWatchLogGroupName")
    if group is not None and not _LOG_GROUP.match(group):
        raise _validation("cloudWatchOutputConfig.cloudWatchLogGroupName", group,
                          f"Member must satisfy regular expression pattern: {_LOG_GROUP.pattern}")
    role = body.get("ServiceRoleArn")
    if role is not None and not _ROLE_ARN.match(role):
        raise SsmError("InvalidRole", f"{role} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    note = body.get("NotificationConfig") or {}
    if note.get("NotificationArn") is not None:
        if not _TOPIC_ARN.match(note["NotificationArn"]):
            raise SsmError("InvalidNotificationConfig",
                           f"{note['NotificationArn']} is not an Amazon SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        if role is None:
            raise SsmError("InvalidRole", "NotificationConfig needs ServiceRoleArn, a role that may publish to the "
                                          "topic")


def send_command(sim, body):
    if body.get("Targets"):
        raise SsmError("ValidationException", "the simulator serves InstanceIds only; Targets are not supported")
    ids = body.get("InstanceIds") or []
    if not ids:
        raise SsmError("ValidationException", "InstanceIds or Targets must be given")
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SsmError("DuplicateInstanceId", f"Instance ids are named more than once: {', '.join(dupes)}")
    custom = None
    try:
        if documents.is_aws_document(body.get("DocumentName", "")):
            params = documents.check(body)
        else:  # the account's own Command document, read from moto (customdocs.py)
            custom = customdocs.resolve(sim, body)
            params = custom["parameters"]
    except documents.DocumentError as exc:
        raise SsmError(exc.code, exc.message) from None
    _output_checks(sim, body)
    bad = sim.invalid_targets(ids)
    if bad:
        raise SsmError("InvalidInstanceId", f"Instances [[{', '.join(bad)}]] not in a valid state for account "
                                            f"{sim.account_id}")
    max_concurrency, max_errors = body.get("MaxConcurrency", "50"), body.get("MaxErrors", "0")
    cmd = sim.commands.add(custom["document"] if custom else DOCUMENT, params, ids, body.get("Comment", ""), body.get("TimeoutSeconds", 3600),
                           sim.config["invocationVisibleSeconds"], max_concurrency, max_errors,
                           _resolve_rate(max_concurrency, len(ids), True), _resolve_rate(max_errors, len(ids), False))
    cmd.document_version = custom["version"] if custom else body.get("DocumentVersion", "$DEFAULT")
    if custom:
        cmd.plugin, cmd.script, cmd.step_timeout = custom["plugin"], custom["script"], custom["timeout"]
    cmd.outputs = {k: body[k] for k in ("OutputS3BucketName", "OutputS3KeyPrefix", "ServiceRoleArn",
                                        "NotificationConfig", "CloudWatchOutputConfig") if k in body}
    worker.start_command(sim, cmd)
    return {"Command": _command(cmd)}


def _command(cmd):
    status, details = aggregate(cmd)
    invs = list(cmd.invocations.values())
    done = [i for i in invs if i.status in TERMINAL]
    outputs = cmd.outputs
    note = outputs.get("NotificationConfig") or {}
    logs = outputs.get("CloudWatchOutputConfig") or {}
    return {
        "CommandId": cmd.command_id, "DocumentName": cmd.document, "DocumentVersion": cmd.document_version,
        "Comment": cmd.comment, "ExpiresAfter": cmd.expires, "Parameters": cmd.parameters,
        "InstanceIds": cmd.instance_ids, "Targets": [], "RequestedDateTime": cmd.requested, "Status": status,
        "StatusDetails": details, "OutputS3Region": sim_region(),
        "OutputS3BucketName": outputs.get("OutputS3BucketName", ""),
        "OutputS3KeyPrefix": outputs.get("OutputS3KeyPrefix", ""), "MaxConcurrency": cmd.max_concurrency,
        "MaxErrors": cmd.max_errors, "TargetCount": len(invs), "CompletedCount": len(done),
        "ErrorCount": sum(1 for i in done if counts_as_error(i)),
        "DeliveryTimedOutCount": sum(1 for i in invs if i.details == "DeliveryTimedOut"),
        "ServiceRole": outputs.get("ServiceRoleArn", ""),
        "NotificationConfig": {"NotificationArn": note.get("NotificationArn", ""),
                               "NotificationEvents": note.get("NotificationEvents", []),
                               "NotificationType": note.get("NotificationType", "")},
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": logs.get("CloudWatchLogGroupName", ""),
                                   "CloudWatchOutputEnabled": bool(logs.get("CloudWatchOutputEnabled", False))},
        "TimeoutSeconds": cmd.timeout_seconds,
    }


def sim_region():
    return "us-east-1"


def _iso(ts):
    return "" if ts is None else time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % int(ts % 1 * 1000)


def get_command_invocation(sim, body):
    cid, iid = body["CommandId"], body["InstanceId"]
    plugin = body.get("PluginName")
    inv = sim.commands.visible_invocation(cid, iid)
    cmd = sim.commands.get(cid)
    if inv is None or (plugin and plugin != cmd.plugin):
        raise SsmError("InvocationDoesNotExist", "")
    with sim.commands.lock:
        elapsed = ((inv.ended or time.time()) - inv.started) if inv.started else 0
        return {
            "CommandId": cid, "InstanceId": iid, "Comment": cmd.comment, "DocumentName": cmd.document,
            "DocumentVersion": cmd.document_version, "PluginName": cmd.plugin, "ResponseCode": inv.code,
            "ExecutionStartDateTime": _iso(inv.started), "ExecutionElapsedTime": "PT%.3fS" % elapsed,
            "ExecutionEndDateTime": _iso(inv.ended), "Status": inv.status,
            "StatusDetails": inv.details,
            "StandardOutputContent": outputcut.stdout_content(inv.stdout), "StandardOutputUrl": "",
            "StandardErrorContent": outputcut.stderr_content(inv.stderr), "StandardErrorUrl": "",
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
    page, token = _page(sim, "ListCommandInvocations", pairs, body, 50)
    out = {"CommandInvocations": [_invocation_row(sim, cmd, inv, details) for cmd, inv in page]}
    if token:
        out["NextToken"] = token
    return out


def _invocation_row(sim, cmd, inv, details):
    with sim.commands.lock:
        row = {"CommandId": cmd.command_id, "InstanceId": inv.instance_id, "InstanceName": "",
               "Comment": cmd.comment, "DocumentName": cmd.document, "DocumentVersion": cmd.document_version,
               "RequestedDateTime": cmd.requested, "Status": inv.status, "StatusDetails": inv.details,
               "TraceOutput": "", "StandardOutputUrl": "", "StandardErrorUrl": "", "CommandPlugins": [],
               "ServiceRole": "",
               "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""},
               "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False}}
        if details:
            # A plugin has no Delayed or Cancelling of its own (CommandPluginStatus): not yet run, or still running.
            status = {"Delayed": "Pending", "Cancelling": "InProgress"}.get(inv.status, inv.status)
            plugin = {"Name": cmd.plugin, "Status": status, "StatusDetails": inv.details, "ResponseCode": inv.code,
                      "Output": outputcut.details_output(inv.stdout, inv.stderr), "StandardOutputUrl": "",
                      "StandardErrorUrl": "", "OutputS3Region": sim_region(), "OutputS3BucketName": "",
                      "OutputS3KeyPrefix": ""}
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
    page, token = _page(sim, "ListCommands", commands, body, 50)
    with sim.commands.lock:
        out = {"Commands": [_command(c) for c in page]}
    if token:
        out["NextToken"] = token
    return out


def cancel_command(sim, body):
    ids = body.get("InstanceIds") or None
    if ids:
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise SsmError("DuplicateInstanceId", f"Instance ids are named more than once: {', '.join(dupes)}")
    cmd = sim.commands.get(body["CommandId"])
    if cmd is None:
        raise SsmError("InvalidCommandId", "")
    if ids:
        strangers = [i for i in ids if i not in cmd.invocations]
        if strangers:
            raise SsmError("InvalidInstanceId", f"Instances [[{', '.join(strangers)}]] are not targets of command "
                                                f"{cmd.command_id}")
    sim.commands.cancel(cmd.command_id, ids, sim.config["cancelSeconds"])
    return {}


def _info_filters(body):
    """{key: values} from Filters and the deprecated InstanceInformationFilterList, refused as SSM refuses them."""
    given = [(f["Key"], f["Values"]) for f in body.get("Filters") or []]
    given += [(f["key"], f["valueSet"]) for f in body.get("InstanceInformationFilterList") or []]
    filters = {}
    for key, values in given:
        if key not in _INFO_KEYS and key != "tag-key" and not key.startswith("tag:"):
            raise SsmError("InvalidFilterKey", f"The filter key {key} is not valid; valid keys: "
                                               f"{', '.join(_INFO_KEYS)}, tag-key, tag:NAME")
        allowed = _INFO_VALUES.get(key)
        wrong = [v for v in values if (allowed and v not in allowed)
                 or (key == "InstanceIds" and not _INSTANCE_ID.search(v))]
        if wrong:
            raise SsmError("InvalidInstanceInformationFilterValue",
                           f"The filter value {wrong[0]} is not valid for {key}"
                           + (f"; valid values: {', '.join(allowed)}" if allowed else ""))
        filters[key] = list(values)
    return filters


def describe_instance_information(sim, body):
    filters = _info_filters(body)
    tags = {k: v for k, v in filters.items() if k == "tag-key" or k.startswith("tag:")}
    rows = []
    for r in sim.instance_information(filters.get("InstanceIds")):
        if tags and not sim.instance_tags_match(r["InstanceId"], tags):
            continue
        if all(r.get(field) in filters[key] for key, field in (
                ("PingStatus", "PingStatus"), ("PlatformTypes", "PlatformType"), ("ResourceType", "ResourceType"),
                ("AgentVersion", "AgentVersion"), ("AssociationStatus", "AssociationStatus")) if key in filters) \
                and not any(k in filters for k in ("ActivationIds", "IamRole", "SourceIds", "SourceTypes")):
            rows.append(r)
    page, token = _page(sim, "DescribeInstanceInformation", rows, body, 10)
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
    try:
        violations = model.json_violations(model.operation("ssm", operation).input_shape, body)
    except model.SerializationError as exc:
        raise SsmError("SerializationException", str(exc)) from None
    if violations:
        raise _validations(violations)
    return HANDLERS[operation](sim, body)
