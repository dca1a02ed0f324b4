"""Violating requests and response checks generated from AWS's service models (botocore's SSM and EC2 models).

Written apart from localaws/model.py on purpose: the cases come from the model's constraints, not from the
simulator's reading of them. Each case is (description, request, expected error code, words the message must
hold): a request that breaks exactly one constraint of one member (required, length, range, pattern, enum, list
size), with the members around it valid where the protocol reports only the first problem (EC2).
"""
import datetime
import re
import xml.etree.ElementTree as ET

import botocore.session

_SESSION = botocore.session.get_session()


def service(name):
    return _SESSION.get_service_model(name)


def wire(name):
    return name[:1].lower() + name[1:]


def _violating_string(shape):
    """A string that breaks the shape's pattern but keeps within its length bounds (None if none is found)."""
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 10 ** 6)
    pattern = shape.metadata.get("pattern")
    for candidate in ("!", "?!", "!!!!", " ", "x y !", "-1", "~" * max(low, 1), "!" * max(low, 1)):
        if low <= len(candidate) <= high and not _matches(pattern, candidate):
            return candidate
    return None


def _matches(pattern, value):
    try:
        import regex
        return regex.search(pattern, value) is not None
    except ImportError:
        return re.search(pattern.replace(r"\p{L}", "a-zA-Z").replace(r"\p{Z}", " ").replace(r"\p{N}", "0-9"),
                         value) is not None


def string_cases(shape):
    """(value, constraint words) breaking each constraint of a string shape."""
    out = []
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low:
        out.append(("a" * (low - 1), f"Member must have length greater than or equal to {low}"))
    if high is not None:
        out.append(("a" * (high + 1), f"Member must have length less than or equal to {high}"))
    if shape.metadata.get("enum"):
        out.append(("NotAValue", "Member must satisfy enum value set: ["))
    if shape.metadata.get("pattern"):
        bad = _violating_string(shape)
        if bad is not None:
            out.append((bad, "Member must satisfy regular expression pattern: "))
    return out


def number_cases(shape):
    out = []
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None:
        out.append((low - 1, f"Member must have value greater than or equal to {low}"))
    if high is not None:
        out.append((high + 1, f"Member must have value less than or equal to {high}"))
    return out


def _filler(shape):
    """A value of the shape's type for list items (their own constraints are not what the case is about)."""
    kind = shape.type_name
    if kind == "structure":
        return {}
    if kind == "list":
        return []
    if kind in ("integer", "long"):
        return shape.metadata.get("min", 1)
    if kind == "boolean":
        return True
    enum = shape.metadata.get("enum")
    return enum[0] if enum else "a" * max(1, shape.metadata.get("min", 1))


def member_cases(shape, path="", depth=0, seen=()):
    """(path, builder, constraint words, top member): every constraint below `shape`; the builder wraps the bad
    value (found again by _values_for) into the nested request that carries it; None for a required member."""
    if depth > 6 or shape.name in seen:
        return []
    seen = seen + (shape.name,)
    out = []
    for name, member in shape.members.items():
        sub = f"{path}.{wire(name)}" if path else wire(name)
        wrap = (lambda n: lambda v: {n: v})(name)
        if name in shape.required_members:
            out.append((sub, None, "Member must not be null", name))
        kind = member.type_name
        if kind == "string":
            out += [(sub, wrap, words, name) for _, words in string_cases(member)]
        elif kind in ("integer", "long"):
            out += [(sub, wrap, words, name) for _, words in number_cases(member)]
        elif kind == "list":
            low, high = member.metadata.get("min"), member.metadata.get("max")
            if low:
                out.append((sub, wrap, f"Member must have length greater than or equal to {low}", name))
            if high is not None:
                out.append((sub, wrap, f"Member must have length less than or equal to {high}", name))
            inner = member.member
            if inner.type_name == "string":
                listed = (lambda w: lambda v: w([v]))(wrap)
                out += [(f"{sub}.1.member", listed, words, name) for _, words in string_cases(inner)]
            elif inner.type_name == "structure":
                for p, build, words, _ in member_cases(inner, f"{sub}.1.member", depth + 1, seen):
                    out.append((p, (lambda w, b: lambda v: w([b(v) if b else {}]))(wrap, build), words, name))
        elif kind == "structure":
            for p, build, words, _ in member_cases(member, sub, depth + 1, seen):
                out.append((p, (lambda w, b: lambda v: w(b(v) if b else {}))(wrap, build), words, name))
    return out


def ssm_requests(operation):
    """Every violating request of an operation: (description, body, path, words)."""
    op = service("ssm").operation_model(operation)
    out = []
    for path, build, words, top in member_cases(op.input_shape):
        if build is None:
            if "." in path:
                continue
            out.append((f"{operation}: {path} left out", {}, path, words))
            continue
        for value in _values_for(op.input_shape, path, words):
            out.append((f"{operation}: {path} {words[:40]}", build(value), path, words))
    return out + _nested_required(op.input_shape, operation)


def _values_for(shape, path, words):
    """The bad value of a case, found again from the path (member_cases keeps only the words)."""
    target = _shape_at(shape, path)
    kind = target.type_name
    if kind == "string":
        return [v for v, w in string_cases(target) if w == words][:1]
    if kind in ("integer", "long"):
        return [v for v, w in number_cases(target) if w == words][:1]
    if kind == "list":
        low, high = target.metadata.get("min"), target.metadata.get("max")
        item = _filler(target.member)
        if words.startswith("Member must have length greater"):
            return [[item] * (low - 1)]
        return [[item] * (high + 1)]
    return []


def _shape_at(shape, path):
    for part in path.split("."):
        if part.isdigit() or part == "member":
            if shape.type_name == "list" and part == "member":
                shape = shape.member
            continue
        shape = next(m for n, m in shape.members.items() if wire(n) == part)
    return shape


def _nested_required(shape, operation, path="", wrap=lambda v: v, depth=0):
    """A nested structure sent without one of its required members."""
    out = []
    if depth > 4:
        return out
    for name, member in shape.members.items():
        sub = f"{path}.{wire(name)}" if path else wire(name)
        if member.type_name == "structure":
            inner_wrap = (lambda w, n: lambda v: w({n: v}))(wrap, name)
            for req in member.required_members:
                body = inner_wrap({})
                out.append((f"{operation}: {sub}.{wire(req)} left out", body, f"{sub}.{wire(req)}",
                            "Member must not be null"))
            out += _nested_required(member, operation, sub, inner_wrap, depth + 1)
        elif member.type_name == "list" and member.member.type_name == "structure":
            inner_wrap = (lambda w, n: lambda v: w({n: [v]}))(wrap, name)
            for req in member.member.required_members:
                out.append((f"{operation}: {sub}.1.member.{wire(req)} left out", inner_wrap({}),
                            f"{sub}.1.member.{wire(req)}", "Member must not be null"))
    return out


# --- EC2 ------------------------------------------------------------------------------------------------------------

def ec2_valid(shape, depth=0):
    """The smallest request that satisfies the shape's required members (EC2 reports only its first problem)."""
    out = {}
    for name in shape.required_members:
        member = shape.members[name]
        out[name] = _valid_value(member, depth)
    return out


def _valid_value(member, depth):
    kind = member.type_name
    if kind == "structure":
        return ec2_valid(member, depth + 1)
    if kind == "list":
        return [_valid_value(member.member, depth + 1)]
    if kind in ("integer", "long"):
        return member.metadata.get("min", 1)
    if kind == "boolean":
        return True
    enum = member.metadata.get("enum")
    if enum:
        return enum[0]
    return "a" * max(3, member.metadata.get("min", 1))


def ec2_requests(action):
    """(description, params, expected code): EC2 requests with exactly one broken constraint."""
    op = service("ec2").operation_model(action)
    base = ec2_valid(op.input_shape)
    out = []
    for name in op.input_shape.required_members:
        params = dict(base)
        del params[name]
        out.append((f"{action}: {name} left out", params, "MissingParameter"))
    for path, build, words, top in member_cases(op.input_shape):
        if build is None:
            continue
        for value in _values_for(op.input_shape, path, words):
            params = dict(base)
            params.update(build(value))
            if top in base and op.input_shape.members[top].type_name == "structure":
                params[top] = dict(base[top], **params[top])
            out.append((f"{action}: {path} {words[:40]}", _fill(op.input_shape, params), "InvalidParameterValue"))
    return out


def _fill(shape, value):
    """`value` with every required member of every structure in it given a valid value (EC2 reports the first
    problem only, so the one broken constraint must be the only one)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        out = {k: _fill(shape.members[k], v) for k, v in value.items()}
        for name in shape.required_members:
            out.setdefault(name, _valid_value(shape.members[name], 0))
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [_fill(shape.member, v) for v in value]
    return value


# --- responses ------------------------------------------------------------------------------------------------------

_JSON_TYPES = {"string": str, "integer": int, "long": int, "boolean": bool, "double": (int, float),
               "float": (int, float), "timestamp": (int, float), "blob": str}


def json_problems(shape, value, path="$"):
    """What in a JSON response does not fit the output shape: unknown members, wrong types, enum values outside
    the set (the empty string AWS sends for an unset enum, e.g. NotificationType, is allowed)."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        out = [f"{path}.{k}: not a member of {shape.name}" for k in value if k not in shape.members]
        for k, v in value.items():
            if k in shape.members and v is not None:
                out += json_problems(shape.members[k], v, f"{path}.{k}")
        return out
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [p for i, v in enumerate(value) for p in json_problems(shape.member, v, f"{path}[{i}]")]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map"]
        return [p for k, v in value.items() for p in json_problems(shape.value, v, f"{path}.{k}")]
    expected = _JSON_TYPES[kind]
    if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
        return [f"{path}: expected {kind}, got {value!r}"]
    enum = shape.metadata.get("enum")
    if enum and value not in enum and value != "":
        return [f"{path}: {value!r} is not one of {enum}"]
    return []


def _local(tag):
    return tag.split("}", 1)[-1]


def xml_problems(shape, element, path=None):
    """The same for an EC2 XML response element against its output shape."""
    path = path or _local(element.tag)
    kind = shape.type_name
    if kind == "structure":
        names = {}
        for name, member in shape.members.items():
            names[member.serialization.get("name", name)] = member
        out = []
        for child in element:
            tag = _local(child.tag)
            if tag == "requestId" and path.endswith("Response"):
                continue
            member = names.get(tag)
            if member is None:
                out.append(f"{path}/{tag}: not a member of {shape.name}")
                continue
            out += xml_problems(member, child, f"{path}/{tag}")
        return out
    if kind == "list":
        item = shape.member.serialization.get("name", "member")
        out = []
        for child in element:
            if _local(child.tag) != item:
                out.append(f"{path}/{_local(child.tag)}: a list of {shape.name} holds <{item}> elements")
            else:
                out += xml_problems(shape.member, child, f"{path}/{item}")
        return out
    text = element.text or ""
    if kind in ("integer", "long"):
        return [] if re.fullmatch(r"-?\d+", text) else [f"{path}: {text!r} is not an integer"]
    if kind == "boolean":
        return [] if text in ("true", "false") else [f"{path}: {text!r} is not a boolean"]
    if kind == "timestamp":
        try:
            datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return []
        except ValueError:
            return [f"{path}: {text!r} is not an ISO 8601 timestamp"]
    enum = shape.metadata.get("enum")
    if enum and text not in enum and (shape.name, text) not in DOCUMENTED_OUTSIDE_ENUM:
        return [f"{path}: {text!r} is not one of {enum[:10]}"]
    return []


# Values EC2 documents and sends although the model's enum spells them otherwise: Instance.platform and
# Image.platform are "windows" ("This value is windows for Windows instances; otherwise blank", EC2 API reference).
DOCUMENTED_OUTSIDE_ENUM = {("PlatformValues", "windows")}


def ec2_response_problems(operation_model, body: bytes):
    root = ET.fromstring(body)
    return xml_problems(operation_model.output_shape, root, _local(root.tag)) if operation_model.output_shape else []
