"""The one document the simulator runs, AWS-RunPowerShellScript, and SendCommand's document checks.

Its parameters as AWS defines them (DescribeDocument on AWS-RunPowerShellScript): `commands` (StringList,
required), `workingDirectory` (String, default ""), `executionTimeout` (String, default "3600", allowedPattern below:
1 .. 172800 seconds). A String parameter takes exactly one value. The document has one version, "1" (also reached as
$DEFAULT and $LATEST); its hash is the SHA-256 of the content the simulator stands in for it (DOCUMENT_CONTENT),
since clients compare a hash they read from DescribeDocument, not a known constant.
"""
import hashlib
import json
import re

NAME = "AWS-RunPowerShellScript"
PLUGIN = "aws:runPowerShellScript"
VERSIONS = ("$DEFAULT", "$LATEST", "1")
EXECUTION_TIMEOUT = r"([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"
PARAMETERS = {"commands": "StringList", "workingDirectory": "String", "executionTimeout": "String"}
DOCUMENT_CONTENT = ('{"schemaVersion":"2.2","description":"Run a PowerShell script (simulator stand-in)",'
                    '"mainSteps":[{"action":"aws:runPowerShellScript","name":"runPowerShellScript"}]}')
HASHES = {"Sha256": hashlib.sha256(DOCUMENT_CONTENT.encode()).hexdigest(),
          "Sha1": hashlib.sha1(DOCUMENT_CONTENT.encode()).hexdigest()}
_PARAM_REF = re.compile(r"\{\{.*?\}\}", re.S)


MAX_CONTENT_BYTES = 64 * 1024  # "The size limit of a document is 64 KB" (MaxDocumentSizeExceeded)


def size_refusal(operation: str, raw: bytes):
    """SSM's message when CreateDocument / UpdateDocument carries content over 64 KB; None otherwise."""
    if operation not in ("CreateDocument", "UpdateDocument"):
        return None
    try:
        content = json.loads(raw or b"{}").get("Content")
    except (ValueError, AttributeError):
        return None
    if isinstance(content, str) and len(content.encode("utf-8")) > MAX_CONTENT_BYTES:
        return (f"The content of the document is {len(content.encode('utf-8'))} bytes; the size limit of a document "
                f"is {MAX_CONTENT_BYTES} bytes (64 KB).")
    return None


class DocumentError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def is_aws_document(name: str) -> bool:
    """AWS-RunPowerShellScript by name or ARN; anything else is an account's own document (customdocs.py)."""
    return name == NAME or name.endswith(":document/" + NAME)


def check(body: dict) -> dict:
    """The parameters SendCommand will run with (defaults filled in); DocumentError as SSM refuses them."""
    name = body.get("DocumentName", "")
    if name != NAME and not name.endswith(":document/" + NAME):
        raise DocumentError("InvalidDocument", f"Document with name {name} does not exist (the simulator serves {NAME})")
    version = body.get("DocumentVersion")
    if version is not None and version not in VERSIONS:
        raise DocumentError("InvalidDocumentVersion", f"Document {NAME} has no version {version}; it has version 1 "
                            "($DEFAULT, $LATEST)")
    digest = body.get("DocumentHash")
    if digest is not None:
        kind = body.get("DocumentHashType", "Sha256")
        if digest != HASHES.get(kind):
            raise DocumentError("InvalidDocument", f"The {kind} hash {digest} does not match document {NAME}")
    params = body.get("Parameters") or {}
    unknown = [k for k in params if k not in PARAMETERS]
    if unknown:
        raise DocumentError("InvalidParameters", f"Parameters {unknown} are not defined in document {NAME}")
    if not params.get("commands"):
        raise DocumentError("InvalidParameters", f'Parameter "commands" is required by document {NAME}')
    for key, kind in PARAMETERS.items():
        if kind == "String" and key in params and len(params[key]) != 1:
            raise DocumentError("InvalidParameters", f'Parameter "{key}" is a String: it takes exactly one value, '
                                f"got {len(params[key])}")
    timeout = (params.get("executionTimeout") or ["3600"])[0]
    if not re.fullmatch(EXECUTION_TIMEOUT, timeout):
        raise DocumentError("InvalidParameters", f'Parameter "executionTimeout" "{timeout}" does not match the '
                            f"allowed pattern {EXECUTION_TIMEOUT}")
    for value in sum((list(v) for v in params.values()), []):
        if _PARAM_REF.search(value):
            raise DocumentError("InvalidParameters", "Parameters contain a {{ }} reference that is not a parameter of "
                                f"{NAME}")
    return params
