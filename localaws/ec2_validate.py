"""EC2 requests checked as EC2 checks them, before moto sees them (moto checks little): the model's constraints
(model.ec2_check: MissingParameter, InvalidParameterValue) for the actions clonectl uses, plus the limits EC2
documents outside the model: a ClientToken of at most 64 ASCII characters, and an AMI name of 3 to 128 characters
from EC2's set (InvalidAMIName.Malformed). Other actions go to moto as they are."""
import re

from . import model

# The EC2 actions clonectl calls (DOMAIN.md); the front adjusts several of them.
SERVED = ("DescribeInstances", "StopInstances", "StartInstances", "CreateImage", "DescribeImages", "RunInstances",
          "CreateTags", "TerminateInstances", "DeregisterImage", "DeleteSnapshot", "DescribeNetworkInterfaces")
_AMI_NAME = re.compile(r"^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$")


def check(action: str, params: dict):
    """None, or (code, message) as EC2 answers the first problem of the request."""
    if action not in SERVED:
        return None
    if action == "CreateImage" and "Name" in params and not _AMI_NAME.match(params["Name"]):
        return ("InvalidAMIName.Malformed", f"AMI name {params['Name']} is invalid: it must be 3 to 128 "
                "characters: letters, digits, ( ) [ ] . / - ' @ _ and spaces.")
    try:
        model.ec2_check(action, params)
    except model.Ec2Invalid as exc:
        return exc.code, exc.message
    token = params.get("ClientToken")
    if token is not None and (len(token) > 64 or not token.isascii()):
        return ("InvalidParameterValue", f"Value ({token}) for parameter clientToken is invalid. "
                "The client token must be at most 64 ASCII characters.")
    return None
