"""ListCommands / ListCommandInvocations `Filters`, validated and applied as AWS documents them.

From the SSM API reference (CommandFilter, checked against botocore's ssm service model): at most 5 filters, each
{"key", "value"} (lower-case member names), key one of InvokedAfter, InvokedBefore, Status, ExecutionStage,
DocumentName, value 1 to 128 characters. A shape violation is a ValidationException in AWS's wording. The rest:
  InvokedAfter   a timestamp such as 2021-07-07T00:00:00Z: commands requested at that time and later
  InvokedBefore  a timestamp: commands requested before it
  Status         ListCommands: Pending, InProgress, Success, Cancelled, Failed, TimedOut (delivery and execution
                 time-outs), AccessDenied, DeliveryTimedOut, ExecutionTimedOut, Incomplete, NoInstancesInTag,
                 LimitExceeded. ListCommandInvocations: Pending, InProgress, Delayed, Success, Cancelled, Failed,
                 TimedOut, AccessDenied, DeliveryTimedOut, ExecutionTimedOut, Undeliverable, InvalidPlatform,
                 Terminated
  ExecutionStage ListCommands only (documented): Executing (still running) or Complete
  DocumentName   the document's name
Several filters all apply (AND). ExecutionStage on ListCommandInvocations answers InvalidFilterKey (the operation's
documented filter error). A value outside these lists, or a timestamp that does not parse, answers
InvalidFilterValue: the API reference lists only InvalidFilterKey for these operations, so the code for a bad value
is our guess (unverified).
"""
import datetime
import re

KEYS = ("InvokedAfter", "InvokedBefore", "Status", "ExecutionStage", "DocumentName")
COMMAND_STATUSES = ("Pending", "InProgress", "Success", "Cancelled", "Failed", "TimedOut", "AccessDenied",
                    "DeliveryTimedOut", "ExecutionTimedOut", "Incomplete", "NoInstancesInTag", "LimitExceeded")
INVOCATION_STATUSES = ("Pending", "InProgress", "Delayed", "Success", "Cancelled", "Failed", "TimedOut",
                       "AccessDenied", "DeliveryTimedOut", "ExecutionTimedOut", "Undeliverable", "InvalidPlatform",
                       "Terminated")
STAGES = ("Executing", "Complete")
_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")


def parse_timestamp(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 date-time with a zone (Z or +hh:mm); None if it is not one."""
    m = _TIMESTAMP.match(text)
    if not m:
        return None
    try:
        zone = datetime.timezone.utc
        if m.group(8) != "Z":
            sign = 1 if m.group(8)[0] == "+" else -1
            zone = datetime.timezone(sign * datetime.timedelta(hours=int(m.group(8)[1:3]), minutes=int(m.group(8)[4:6])))
        moment = datetime.datetime(*(int(m.group(i)) for i in range(1, 7)), tzinfo=zone)
    except ValueError:
        return None
    return moment.timestamp() + (float(m.group(7)) if m.group(7) else 0.0)


def parse(body: dict, operation: str, error, validations, violation) -> list:
    """The request's filters as (key, value) pairs, checked; raises the caller's SsmError on a bad filter.
    `error(code, message)`, `validations([...])` and `violation(field, value, constraint)` build the errors."""
    raw = body.get("Filters")
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(f, dict) for f in raw):
        raise error("SerializationException", "Filters must be a list of {\"key\": ..., \"value\": ...} objects")
    problems = []
    if len(raw) > 5:
        problems.append(violation("filters", raw, "Member must have length less than or equal to 5"))
    if not raw:
        problems.append(violation("filters", raw, "Member must have length greater than or equal to 1"))
    for n, item in enumerate(raw, 1):
        key, value = item.get("key"), item.get("value")
        if key is None:
            problems.append(f"Value null at 'filters.{n}.member.key' failed to satisfy constraint: Member must not be null")
        elif key not in KEYS:
            problems.append(violation(f"filters.{n}.member.key", key,
                                      "Member must satisfy enum value set: [" + ", ".join(KEYS) + "]"))
        if value is None:
            problems.append(f"Value null at 'filters.{n}.member.value' failed to satisfy constraint: Member must not be null")
        elif not isinstance(value, str) or not 1 <= len(value) <= 128:
            problems.append(violation(f"filters.{n}.member.value", value,
                                      "Member must have length less than or equal to 128" if isinstance(value, str)
                                      and value else "Member must have length greater than or equal to 1"))
    if problems:
        raise validations(problems)
    pairs = []
    for item in raw:
        key, value = item["key"], item["value"]
        if key == "ExecutionStage" and operation == "ListCommandInvocations":
            raise error("InvalidFilterKey", "The ExecutionStage filter can't be used with ListCommandInvocations.")
        if key in ("InvokedAfter", "InvokedBefore") and parse_timestamp(value) is None:
            raise error("InvalidFilterValue", f"{value} is not a valid timestamp for {key} (e.g. 2021-07-07T00:00:00Z)")
        allowed = {"Status": COMMAND_STATUSES if operation == "ListCommands" else INVOCATION_STATUSES,
                   "ExecutionStage": STAGES}.get(key)
        if allowed is not None and value not in allowed:
            raise error("InvalidFilterValue", f"{value} is not a valid value for the {key} filter of {operation}")
        pairs.append((key, value))
    return pairs


def _status_matches(value: str, status: str, details: str) -> bool:
    if value == "TimedOut":
        return status == "TimedOut"
    if value == "DeliveryTimedOut":
        return status == "TimedOut" and details in ("DeliveryTimedOut", "Delivery Timed Out")
    if value == "ExecutionTimedOut":
        return status == "TimedOut" and details not in ("DeliveryTimedOut", "Delivery Timed Out")
    if value in ("Pending", "InProgress", "Delayed", "Success", "Cancelled", "Failed"):
        return status == value
    return details == value  # AccessDenied, Undeliverable, InvalidPlatform, Terminated, Incomplete, ...


def command_matches(pairs: list, cmd, status: str, details: str) -> bool:
    """Every filter holds for the command (its aggregate status and details)."""
    for key, value in pairs:
        if key == "InvokedAfter" and cmd.requested < parse_timestamp(value):
            return False
        if key == "InvokedBefore" and cmd.requested >= parse_timestamp(value):
            return False
        if key == "DocumentName" and cmd.document != value:
            return False
        if key == "Status" and not _status_matches(value, status, details):
            return False
        if key == "ExecutionStage" and (status in TERMINAL) != (value == "Complete"):
            return False
    return True


def invocation_matches(pairs: list, cmd, inv) -> bool:
    """Every filter holds for the invocation (its own status and details; time and document of its command)."""
    for key, value in pairs:
        if key == "InvokedAfter" and cmd.requested < parse_timestamp(value):
            return False
        if key == "InvokedBefore" and cmd.requested >= parse_timestamp(value):
            return False
        if key == "DocumentName" and cmd.document != value:
            return False
        if key == "Status" and not _status_matches(value, inv.status, inv.details):
            return False
    return True
