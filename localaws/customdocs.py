"""SendCommand with an account's own Command document, read from moto as SSM reads it from its store.

Checks in the order the service applies them, each with the error code SendCommand documents:
  - the document must exist (InvalidDocument), and the version named by DocumentVersion ($DEFAULT, $LATEST or a
    number) must exist (InvalidDocumentVersion);
  - DocumentHash, when given, must equal the version's hash of DocumentHashType (Sha256 default; Sha1 deprecated)
    (InvalidDocument): a version altered behind the sender's back is refused, never run;
  - the document must be a Command document (InvalidDocument);
  - Parameters: only those the document defines, every one without a default given, a String exactly one value,
    each value matching the parameter's allowedPattern (InvalidParameters).
Then the agent's part: `{{ name }}` references in the step's inputs are replaced by the values, and the
aws:runPowerShellScript lines are joined with newlines into the script the guest runs. The simulator runs only
documents of aws:runPowerShellScript steps (its guests are Windows); anything else is refused as a simulator limit.

allowedPattern is applied as a search (Python `re.search`, like Java's Matcher.find): a pattern must anchor itself
(`^...$`) to constrain the whole value, so a document that relies on full-match semantics is caught here rather than
trusted. Like Java's `$`, Python's matches before one final newline.
"""
import hashlib
import json
import re

from botocore.exceptions import ClientError

from .documents import DocumentError

_REF = re.compile(r"\{\{\s*([A-Za-z0-9_.:/-]+)\s*\}\}")
ACTION = "aws:runPowerShellScript"


def document_name(name: str) -> str:
    """A document may be named by its ARN (arn:aws:ssm:REGION:ACCOUNT:document/NAME)."""
    return name.split(":document/", 1)[1] if ":document/" in name else name


def _moto(call, **kwargs):
    try:
        return call(**kwargs)
    except ClientError as exc:
        return exc


def resolve(sim, body: dict) -> dict:
    """What SendCommand runs for a custom document: {document, version, plugin, script, timeout, parameters}."""
    name = document_name(body.get("DocumentName", ""))
    described = _moto(sim._ssm.describe_document, Name=name)
    if isinstance(described, ClientError):
        raise DocumentError("InvalidDocument", f"Document with name {name} does not exist.")
    requested = body.get("DocumentVersion") or "$DEFAULT"
    version = described["Document"]["DefaultVersion"] if requested == "$DEFAULT" else requested
    one = _moto(sim._ssm.describe_document, Name=name, DocumentVersion=version)
    if isinstance(one, ClientError):
        raise DocumentError("InvalidDocumentVersion", f"Document {name} has no version {requested}.")
    doc = one["Document"]
    number = doc["DocumentVersion"]
    content = sim._ssm.get_document(Name=name, DocumentVersion=number, DocumentFormat="JSON")["Content"]
    digest = body.get("DocumentHash")
    if digest is not None:
        kind = body.get("DocumentHashType", "Sha256")
        actual = doc.get("Hash") if kind == "Sha256" else hashlib.sha1(content.encode()).hexdigest()
        if digest != actual:
            raise DocumentError("InvalidDocument", f"The {kind} hash {digest} does not match version {number} of "
                                f"document {name}.")
    if doc.get("DocumentType") != "Command":
        raise DocumentError("InvalidDocument", f"Document {name} is a {doc.get('DocumentType')} document; SendCommand "
                            "runs only Command documents.")
    if doc.get("Status", "Active") != "Active":
        raise DocumentError("InvalidDocument", f"Document {name} version {number} is {doc.get('Status')}, not Active.")
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        raise DocumentError("InvalidDocument", f"Document {name} version {number} is not JSON content "
                            "(the simulator reads JSON documents only)") from None
    values = check_parameters(name, data.get("parameters") or {}, body.get("Parameters") or {})
    steps = data.get("mainSteps") or []
    if data.get("schemaVersion") != "2.2" or len(steps) != 1 or steps[0].get("action") != ACTION:
        raise DocumentError("ValidationException", f"the simulator runs only schemaVersion 2.2 documents of one "
                            f"{ACTION} step; {name} is not one (a simulator limit, not an SSM answer)")
    step = steps[0]
    inputs = step.get("inputs") or {}
    lines = inputs.get("runCommand") or []
    if isinstance(lines, str):
        lines = [lines]
    script = "\n".join(_substitute(line, values) for line in lines)
    timeout = inputs.get("timeoutSeconds", 3600)
    try:
        timeout = int(timeout)
    except (TypeError, ValueError):
        timeout = 3600
    return {"document": name, "version": number, "plugin": step.get("name", ACTION), "script": script,
            "timeout": timeout, "parameters": body.get("Parameters") or {}}


def check_parameters(name: str, defined: dict, given: dict) -> dict:
    """The values each parameter takes (defaults filled in), refused as SSM refuses them."""
    unknown = sorted(k for k in given if k not in defined)
    if unknown:
        raise DocumentError("InvalidParameters", f"Parameters {unknown} are not defined in document {name}.")
    values = {}
    for key, spec in defined.items():
        kind = spec.get("type", "String")
        if key in given:
            value = given[key]
        elif "default" in spec:
            default = spec["default"]
            value = default if isinstance(default, list) else [str(default)]
        else:
            raise DocumentError("InvalidParameters", f'Parameter "{key}" is required by document {name}.')
        if kind == "String" and len(value) != 1:
            raise DocumentError("InvalidParameters", f'Parameter "{key}" is a String: it takes exactly one value, '
                                f"got {len(value)}.")
        pattern = spec.get("allowedPattern")
        if pattern is not None:
            for item in value:
                if not re.search(pattern, item):
                    shown = item if len(item) <= 80 else item[:80] + "..."
                    raise DocumentError("InvalidParameters", f'Parameter "{key}" value "{shown}" failed to satisfy '
                                        f"constraint: allowedPattern {pattern}")
        allowed = spec.get("allowedValues")
        if allowed is not None and any(item not in allowed for item in value):
            raise DocumentError("InvalidParameters", f'Parameter "{key}" must be one of {allowed}.')
        values[key] = value
    return values


def _substitute(line: str, values: dict) -> str:
    def one(match):
        key = match.group(1)
        if key not in values:
            return match.group(0)  # not a parameter: left as written (ssm: references are not resolved here)
        return "\n".join(values[key])
    return _REF.sub(one, line)
