"""Request validation from AWS's own service models (the SSM and EC2 models botocore ships).

AWS checks every request against the operation's input shape before the operation runs: required members, string
and list lengths, number ranges, patterns and enums. SSM (JSON 1.1) answers one ValidationException listing every
violation ("2 validation errors detected: Value 'x' at 'maxErrors' failed to satisfy constraint: ...; ..."); a
member of the wrong JSON type is a SerializationException. EC2 (Query) answers the first problem only:
MissingParameter for an absent required parameter, InvalidParameterValue for a value outside its enum or bounds.
The simulator applies the same model, so a member or an operation added to what it serves is checked too.

Patterns follow the Smithy rule (not implicitly anchored: a search, the pattern brings its own ^ and $).
"""
import functools
import re

import botocore.session

try:  # the models use Java's \p{L} classes; the regex module knows them, re does not
    import regex as _regex
except ImportError:  # pragma: no cover - the pinned moto[server] brings regex (through cfn-lint)
    _regex = None


class SerializationError(ValueError):
    """A member of the wrong JSON type: AWS answers SerializationException before any constraint is looked at."""


@functools.lru_cache(maxsize=None)
def service(name: str):
    return botocore.session.get_session().get_service_model(name)


def operation(service_name: str, op: str):
    return service(service_name).operation_model(op)


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str):
    if _regex is not None:
        return _regex.compile(pattern)
    # Without the regex module: the classes spelt as ranges that work inside [...] too (an approximation).
    crude = pattern.replace(r"\p{L}", "a-zA-Z\u00aa-\uffff").replace(r"\p{Z}", " \u00a0\u2000-\u200a\u3000") \
        .replace(r"\p{N}", "0-9")
    return re.compile(crude)


def pattern_matches(pattern: str, value: str) -> bool:
    return _compiled(pattern).search(value) is not None


def wire_name(member: str) -> str:
    """AWS names a member in a validation message by its name with a lower-case first letter."""
    return member[:1].lower() + member[1:]


def _render(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_render(v)}" for k, v in value.items()) + "}"
    return str(value)


def _violation(path: str, value, shape, constraint: str) -> str:
    if value is None:
        return f"Value null at '{path}' failed to satisfy constraint: {constraint}"
    if shape.metadata.get("sensitive"):  # AWS leaves a sensitive member's value out of the message
        return f"Value at '{path}' failed to satisfy constraint: {constraint}"
    return f"Value '{_render(value)}' at '{path}' failed to satisfy constraint: {constraint}"


_JSON_TYPES = {"string": str, "integer": int, "long": int, "boolean": bool, "double": (int, float),
               "float": (int, float), "timestamp": (int, float, str), "blob": str}


def json_violations(shape, value, path: str = "") -> list[str]:
    """Every model constraint `value` breaks, in AWS's wording, in member order. Raises SerializationError for a
    value of the wrong JSON type."""
    out: list[str] = []
    _check(shape, value, path, out)
    return out


def _check(shape, value, path, out):
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise SerializationError(f"{path or 'the request'} must be a JSON object")
        required = set(shape.required_members)
        for name, member in shape.members.items():
            sub = f"{path}.{wire_name(name)}" if path else wire_name(name)
            if value.get(name) is None:
                if name in required:
                    out.append(_violation(sub, None, member, "Member must not be null"))
                continue
            _check(member, value[name], sub, out)
        return
    if kind == "list":
        if not isinstance(value, list):
            raise SerializationError(f"{path} must be a JSON array")
        _length(shape, value, len(value), path, out)
        for i, item in enumerate(value):
            if item is None:
                continue
            _check(shape.member, item, f"{path}.{i + 1}.member", out)
        return
    if kind == "map":
        if not isinstance(value, dict):
            raise SerializationError(f"{path} must be a JSON object")
        _length(shape, value, len(value), path, out)
        for key, item in value.items():
            _check(shape.key, key, f"{path}.{key}.key", out)
            if item is not None:
                _check(shape.value, item, f"{path}.{key}.member", out)
        return
    expected = _JSON_TYPES.get(kind)
    if expected is not None and (not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool))):
        raise SerializationError(f"{path} must be a JSON {kind}")
    if kind == "string":
        _length(shape, value, len(value), path, out)
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            out.append(_violation(path, value, shape, f"Member must satisfy enum value set: [{', '.join(enum)}]"))
        pattern = shape.metadata.get("pattern")
        if pattern and not pattern_matches(pattern, value):
            out.append(_violation(path, value, shape, f"Member must satisfy regular expression pattern: {pattern}"))
    elif kind in ("integer", "long", "double", "float"):
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            out.append(_violation(path, value, shape, f"Member must have value greater than or equal to {low}"))
        if high is not None and value > high:
            out.append(_violation(path, value, shape, f"Member must have value less than or equal to {high}"))


def _length(shape, value, n, path, out):
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and n < low:
        out.append(_violation(path, value, shape, f"Member must have length greater than or equal to {low}"))
    if high is not None and n > high:
        out.append(_violation(path, value, shape, f"Member must have length less than or equal to {high}"))


# --- EC2 (Query protocol) ----------------------------------------------------------------------------------------

def ec2_name(name: str, member) -> str:
    """The query key of a member, as EC2's serializer writes it: queryName, else locationName capitalised, else the
    member's name."""
    ser = member.serialization
    if ser.get("queryName"):
        return ser["queryName"]
    if ser.get("name"):
        return ser["name"][:1].upper() + ser["name"][1:]
    return name


def ec2_unflatten(shape, params: dict, prefix: str = ""):
    """The request's flat query keys (InstanceId.1, Filter.1.Name) read back into the shape's nesting; None when no
    key of the member was sent."""
    kind = shape.type_name
    if kind == "structure":
        found = {}
        for name, member in shape.members.items():
            key = prefix + ec2_name(name, member)
            value = ec2_unflatten(member, params, key + "." if member.type_name == "structure" else key)
            if value is not None:
                found[name] = value
        return found if (found or not prefix) else None
    if kind == "list":
        items, i = [], 1
        while True:
            key = f"{prefix}.{i}"
            value = ec2_unflatten(shape.member, params, key if shape.member.type_name != "structure" else key + ".")
            if value is None:
                break
            items.append(value)
            i += 1
        return items or None
    if prefix.endswith("."):
        prefix = prefix[:-1]
    return params.get(prefix)


class Ec2Invalid(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def ec2_check(action: str, params: dict) -> None:
    """Raises Ec2Invalid with EC2's answer to the first model constraint the request breaks."""
    op = operation("ec2", action)
    _ec2_check(op.input_shape, ec2_unflatten(op.input_shape, params), "")


def _ec2_check(shape, value, path):
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            key = (path + "." if path else "") + ec2_name(name, member)
            if value.get(name) is None:
                if name in shape.required_members:
                    raise Ec2Invalid("MissingParameter", f"The request must contain the parameter {key}")
                continue
            _ec2_check(member, value[name], key)
        return
    if kind == "list":
        _ec2_length(shape, value, len(value), path)
        for i, item in enumerate(value):
            _ec2_check(shape.member, item, f"{path}.{i + 1}")
        return
    if kind == "string":
        _ec2_length(shape, value, len(value), path)
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            raise Ec2Invalid("InvalidParameterValue",
                             f"Value ({value}) for parameter {wire_name(path)} is invalid. "
                             f"Valid values: {', '.join(enum[:20])}{', ...' if len(enum) > 20 else ''}")
        pattern = shape.metadata.get("pattern")
        if pattern and not pattern_matches(pattern, value):
            raise Ec2Invalid("InvalidParameterValue", f"Value ({value}) for parameter {wire_name(path)} is invalid.")
    elif kind in ("integer", "long"):
        try:
            number = int(value)
        except ValueError:
            raise Ec2Invalid("InvalidParameterValue", f"Value ({value}) for parameter {wire_name(path)} is invalid. "
                             "It must be a whole number.") from None
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if (low is not None and number < low) or (high is not None and number > high):
            raise Ec2Invalid("InvalidParameterValue", f"Value ({value}) for parameter {wire_name(path)} is invalid. "
                             f"It must be between {low if low is not None else '-'} and "
                             f"{high if high is not None else '-'}.")
    elif kind == "boolean" and value not in ("true", "false"):
        raise Ec2Invalid("InvalidParameterValue", f"Value ({value}) for parameter {wire_name(path)} is invalid. "
                         "It must be true or false.")


def _ec2_length(shape, value, n, path):
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and n < low) or (high is not None and n > high):
        shown = value if isinstance(value, str) else f"{n} items"
        raise Ec2Invalid("InvalidParameterValue",
                         f"Value ({shown}) for parameter {wire_name(path)} is invalid. Its length must be between "
                         f"{low if low is not None else 0} and {high if high is not None else 'any'}.")
