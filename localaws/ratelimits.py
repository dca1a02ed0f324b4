"""Request rate limits as AWS applies them: one token bucket per account and API.

A bucket holds at most `burst` tokens and gains `refill` tokens per second. A call takes one token; a call that
finds less than one token is throttled (the front answers it as AWS does: SSM 400 ThrottlingException
"Rate exceeded", EC2 503 RequestLimitExceeded) and takes nothing, so a client that backs off gets through again.

The table (sim.config["rateLimits"]) maps an API, or a group of APIs, to {"burst": n, "refill": r}:
  "ssm:SendCommand"   that API
  "ec2:Describe*"     every API of the service whose action starts with the prefix (the longest prefix wins)
  "ec2:*", "*"        every other API of the service, every other API at all
  a value of null     that API or group is not limited
A group's numbers apply to each of its APIs separately: ec2:DescribeInstances and ec2:DescribeImages each have
their own bucket of the "ec2:Describe*" size (EC2 documents its buckets per action). An API no entry matches is not
limited (STS, IAM and Parameter Store are not, by default).

AWS publishes no rates for SSM Run Command: the SSM numbers below are stated guesses (unverified). The EC2 ones
follow EC2's "Request throttling for the Amazon EC2 API" page as far as we know it (non-mutating actions 100/20,
mutating 200/5; check against the current page). Not modelled: EC2's smaller bucket for unfiltered and unpaginated
Describe calls, and its resource-rate buckets (e.g. instances launched by RunInstances).
"""
import re
import threading
import time

DEFAULT_LIMITS = {
    # SSM Run Command: guesses, unverified (AWS publishes no TPS for these calls).
    "ssm:SendCommand": {"burst": 10, "refill": 5},
    "ssm:ListCommandInvocations": {"burst": 20, "refill": 10},
    "ssm:GetCommandInvocation": {"burst": 40, "refill": 20},
    "ssm:ListCommands": {"burst": 20, "refill": 10},
    "ssm:CancelCommand": {"burst": 10, "refill": 5},
    "ssm:DescribeInstanceInformation": {"burst": 20, "refill": 10},
    # EC2: as documented by EC2 (request token buckets); check against the current doc page.
    "ec2:Describe*": {"burst": 100, "refill": 20},
    "ec2:Get*": {"burst": 100, "refill": 20},
    "ec2:List*": {"burst": 100, "refill": 20},
    "ec2:Search*": {"burst": 100, "refill": 20},
    "ec2:*": {"burst": 200, "refill": 5},  # mutating actions (RunInstances, StopInstances, CreateImage, ...)
}

_KEY = re.compile(r"^(\*|[a-z0-9-]+:(\*|[A-Za-z0-9]+\*?))$")
FIELDS = ("burst", "refill")


class LimitError(ValueError):
    """A malformed rateLimits setting; the text says what to fix."""


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def merge(current: dict, changes) -> dict:
    """A new table: `changes` laid over `current` entry by entry. A changed entry may give only burst or only
    refill when the API already has an entry of its own; null removes the limit. Raises LimitError."""
    example = '{"ssm:SendCommand": {"burst": 10, "refill": 5}}'
    if not isinstance(changes, dict):
        raise LimitError(f"rateLimits must be a JSON object of API -> {{\"burst\": n, \"refill\": r}}, e.g. "
                         f"{example}; got {changes!r}")
    table = {k: (dict(v) if v is not None else None) for k, v in current.items()}
    for key, value in changes.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise LimitError(f"rateLimits key {key!r} must name an API as service:Action ('ssm:SendCommand'), "
                             "a group as service:Prefix* ('ec2:Describe*') or service:* ('ec2:*'), or be '*'")
        if value is None:
            table[key] = None
            continue
        if not isinstance(value, dict):
            raise LimitError(f"rateLimits[{key!r}] must be {{\"burst\": n, \"refill\": r}} or null (not limited); "
                             f"got {value!r}")
        unknown = [f for f in value if f not in FIELDS]
        if unknown:
            raise LimitError(f"rateLimits[{key!r}] has unknown field {unknown[0]!r}; the fields are burst (bucket "
                             "capacity, calls) and refill (tokens added per second)")
        entry = dict(table.get(key) or {})
        missing = [f for f in FIELDS if f not in value and f not in entry]
        if missing:
            raise LimitError(f"rateLimits[{key!r}] has no entry yet: give both burst and refill (missing "
                             f"{' and '.join(missing)})")
        if "burst" in value:
            burst = value["burst"]
            if not _number(burst) or burst < 1 or burst != int(burst):
                raise LimitError(f"rateLimits[{key!r}].burst must be a whole number of at least 1 (the bucket's "
                                 f"capacity in calls); got {burst!r}")
            entry["burst"] = int(burst)
        if "refill" in value:
            refill = value["refill"]
            if not _number(refill) or refill < 0:
                raise LimitError(f"rateLimits[{key!r}].refill must be a non-negative number of tokens per second "
                                 f"(0: the bucket never refills); got {refill!r}")
            entry["refill"] = refill
        table[key] = entry
    return table


def spec_for(table: dict, api: str):
    """The (burst, refill) that limits `api`, or None when it is not limited."""
    if api in table:
        entry = table[api]
    else:
        service, _, action = api.partition(":")
        best, entry = -1, None
        for key, value in table.items():
            if key == "*":
                matched = 0
            elif key.endswith("*") and key.startswith(service + ":") and action.startswith(key[len(service) + 1:-1]):
                matched = len(key)
            else:
                continue
            if matched > best:
                best, entry = matched, value
    if entry is None:
        return None
    return entry["burst"], entry["refill"]


class Bucket:
    __slots__ = ("burst", "refill", "tokens", "stamp")

    def __init__(self, burst: int, refill: float, now: float):
        self.burst, self.refill, self.tokens, self.stamp = burst, refill, float(burst), now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class RateLimiter:
    """Buckets by (account, api), created full on first use and made afresh when their entry changes."""

    def __init__(self, clock=time.monotonic):
        self.lock = threading.Lock()
        self.clock = clock
        self.buckets: dict[tuple[str, str], Bucket] = {}

    def allow(self, table: dict, account: str, api: str) -> bool:
        spec = spec_for(table, api)
        if spec is None:
            return True
        with self.lock:
            now = self.clock()
            bucket = self.buckets.get((account, api))
            if bucket is None or (bucket.burst, bucket.refill) != spec:
                bucket = self.buckets[(account, api)] = Bucket(spec[0], spec[1], now)
            return bucket.take(now)

    def reset(self) -> None:
        with self.lock:
            self.buckets.clear()

    def describe(self) -> list[dict]:
        with self.lock:
            now = self.clock()
            return [{"account": a, "api": api, "burst": b.burst, "refill": b.refill,
                     "tokens": round(min(b.burst, b.tokens + (now - b.stamp) * b.refill), 3)}
                    for (a, api), b in sorted(self.buckets.items())]
