"""A small, interpretive validator for the subset of JSON Schema (draft-04) that this project speaks.

Why not a library: callers send schemas of their own (``fields`` for extraction, ``schema`` for synthetic data).
Code-generating validators compile a schema into Python source and ``exec`` it, which is the wrong tool for
untrusted input, and the interpretive ``jsonschema`` package pulls a native dependency (rpds-py) into a Lambda
asset that ships no dependencies. The subset below is what API Gateway request models (draft-04) and Bedrock tool
input schemas both accept, so one definition of "valid" holds at the edge, in the function and at the model. It is
compiled into closures (no generated source, no ``exec``), and it is tested against the reference,
``jsonschema.Draft4Validator`` (a dev dependency only), by a differential property test (tests/test_schema.py):
generated schemas of the subset and instances, on which both must agree.

Supported keywords: type, properties, required, additionalProperties, items (one schema, not the tuple form), enum,
minLength, maxLength, minimum, maximum, minItems, maxItems, uniqueItems; annotations title, description, format,
default, examples and $schema are accepted and ignored. ``pattern`` is deliberately absent: a caller-supplied
regular expression is a denial-of-service vector (catastrophic backtracking). ``schema_error`` accepts only valid
Draft 4 schemas, and refuses two things Draft 4 allows: a keyword outside the subset (Draft 4 ignores unknown
keywords, so a misspelt or unsupported constraint would be dropped silently) and the tuple form of ``items``.

Semantics, as Draft 4 defines them (and as the reference agrees):
- ``integer`` is a number written without a fraction or exponent: ``2`` is an integer, ``2.0`` is not (later
  drafts accept it; API Gateway's request models speak Draft 4). The same holds for the keywords that take an
  integer (``minLength``, ``maxItems``...), so a ``2.0`` never reaches a tool schema.
- ``enum`` and ``uniqueItems`` use JSON Schema equality: ``1`` and ``1.0`` are equal, ``true`` and ``1`` are not,
  objects are equal whatever the order of their keys.
One documented difference from the reference remains, where the reference is wrong: its ``uniqueItems`` sorts the
items first and misses duplicates that hold booleans inside arrays (``[[true], [1], [true]]`` passes it); we
report them.

A caller's schema is an untrusted program, so ``schema_error`` (the subset, and the Draft 4 meta-schema's rules
for its keywords) is not enough: ``satisfiability.satisfiability_error`` (its own module, loaded on a caller schema's first request) refuses a schema with a part that no JSON value can
satisfy (``minLength`` above ``maxLength``, an integer range with no integer in it, an enum value its own node
refuses, a required property that ``additionalProperties: false`` forbids, ``uniqueItems`` with fewer distinct
values than ``minItems``...). The model would be asked, twice and billed, for an answer that cannot exist.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

ASSERTIONS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "uniqueItems",
    }
)
ANNOTATIONS = frozenset({"title", "description", "format", "default", "examples", "$schema"})
TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})

# Limits on a schema a caller sends (its size is also bounded by the request body limit, and its depth as JSON,
# annotations included, by genai_core.jsonbody.MAX_JSON_DEPTH).
MAX_SCHEMA_DEPTH = 8
MAX_SCHEMA_NODES = 300
MAX_ENUM_VALUES = 500


def _is_type(value: Any, type_name: str) -> bool:
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "null":
        return value is None
    if type_name == "object":
        return isinstance(value, dict)
    if type_name == "array":
        return isinstance(value, list)
    if isinstance(value, bool):
        return False
    if type_name == "integer":  # Draft 4: no fraction, no exponent (json.loads makes those floats)
        return isinstance(value, int)
    if type_name == "number":
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    return False


def _describe(path: str) -> str:
    return path or "the body"


def canonical(value: Any) -> Any:
    """``value`` with every integral float made an int: the member of its class of equal values (JSON Schema's
    equality: ``1 == 1.0``) that every keyword accepts whenever it accepts any member (only ``integer`` tells them
    apart, and it takes the int)."""
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is list:
        return [canonical(item) for item in value]
    if kind is dict:
        return {key: canonical(item) for key, item in value.items()}
    return value


def equality_key(value: Any) -> str:
    """A key that two JSON values share exactly when JSON Schema calls them equal (``enum``, ``uniqueItems``):
    ``1`` and ``1.0`` are equal, ``true`` and ``1`` are not, and objects are compared whatever their key order."""
    return json.dumps(canonical(value), sort_keys=True, ensure_ascii=False)


Check = Callable[[Any, str], "str | None"]


def compile_schema(schema: Mapping[str, Any]) -> Check:
    """Compile ``schema`` once into a check: ``check(instance, path)`` returns a message for the first way
    ``instance`` breaks the schema (with a JSON path), or None when it is valid.

    Compiling walks the schema once and keeps only the keywords it has, as closures (no generated source, no
    ``exec``): the catalog's schemas are compiled when the container starts, a caller's schema once per request.
    """
    checks: list[Check] = []
    expected = schema.get("type")
    if expected is not None:
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(names)

        def check_type(instance: Any, path: str) -> str | None:
            if not any(_is_type(instance, name) for name in names):
                return f"{_describe(path)} must be of type {wanted}"
            return None

        checks.append(check_type)

    if "enum" in schema:
        allowed = schema["enum"]
        keys = frozenset(equality_key(option) for option in allowed)
        shown = ", ".join(json.dumps(option, ensure_ascii=False) for option in allowed[:20])
        shown += ", ..." if len(allowed) > 20 else ""

        def check_enum(instance: Any, path: str) -> str | None:
            if equality_key(instance) not in keys:
                return f"{_describe(path)} must be one of: {shown}"
            return None

        checks.append(check_enum)

    if "minLength" in schema or "maxLength" in schema:
        min_length, max_length = schema.get("minLength"), schema.get("maxLength")

        def check_length(instance: Any, path: str) -> str | None:
            if not isinstance(instance, str):
                return None
            if min_length is not None and len(instance) < min_length:
                if min_length == 1:
                    return f"{_describe(path)} must not be empty"
                return f"{_describe(path)} must have at least {min_length} characters"
            if max_length is not None and len(instance) > max_length:
                return f"{_describe(path)} must have at most {max_length} characters"
            return None

        checks.append(check_length)

    if "minimum" in schema or "maximum" in schema:
        minimum, maximum = schema.get("minimum"), schema.get("maximum")

        def check_range(instance: Any, path: str) -> str | None:
            if not _is_type(instance, "number"):
                return None
            if minimum is not None and instance < minimum:
                return f"{_describe(path)} must be at least {minimum}"
            if maximum is not None and instance > maximum:
                return f"{_describe(path)} must be at most {maximum}"
            return None

        checks.append(check_range)

    if any(keyword in schema for keyword in ("minItems", "maxItems", "uniqueItems", "items")):
        min_items, max_items = schema.get("minItems"), schema.get("maxItems")
        unique = bool(schema.get("uniqueItems"))
        item_schema = schema.get("items")
        check_item = compile_schema(item_schema) if isinstance(item_schema, Mapping) else None

        def check_array(instance: Any, path: str) -> str | None:
            if not isinstance(instance, list):
                return None
            if min_items is not None and len(instance) < min_items:
                return f"{_describe(path)} must have at least {min_items} item(s)"
            if max_items is not None and len(instance) > max_items:
                return f"{_describe(path)} must have at most {max_items} item(s)"
            if unique:
                seen: set[str] = set()
                for item in instance:
                    key = equality_key(item)
                    if key in seen:
                        return f"{_describe(path)} must not contain duplicate items"
                    seen.add(key)
            if check_item is not None:
                for index, item in enumerate(instance):
                    error = check_item(item, f"{path}[{index}]")
                    if error:
                        return error
            return None

        checks.append(check_array)

    if any(keyword in schema for keyword in ("required", "properties", "additionalProperties")):
        required = tuple(schema.get("required", ()))
        properties = {name: compile_schema(sub) for name, sub in schema.get("properties", {}).items()}
        additional = schema.get("additionalProperties", True)
        closed = additional is False
        check_additional = compile_schema(additional) if isinstance(additional, Mapping) else None
        allowed_names = ", ".join(sorted(properties)) or "none"

        def check_object(instance: Any, path: str) -> str | None:
            if not isinstance(instance, dict):
                return None
            for name in required:
                if name not in instance:
                    return f"{_join(path, name)} is required"
            for name, value in instance.items():
                check_property = properties.get(name)
                if check_property is not None:
                    error = check_property(value, _join(path, name))
                elif closed:
                    return f"{_join(path, name)} is not allowed (allowed: {allowed_names})"
                elif check_additional is not None:
                    error = check_additional(value, _join(path, name))
                else:
                    continue
                if error:
                    return error
            return None

        checks.append(check_object)

    def check(instance: Any, path: str = "") -> str | None:
        for one in checks:
            error = one(instance, path)
            if error:
                return error
        return None

    return check


def first_error(instance: Any, schema: Mapping[str, Any], path: str = "") -> str | None:
    """Compile ``schema`` and check ``instance`` against it (for a schema used once, such as a caller's)."""
    return compile_schema(schema)(instance, path)


def _join(path: str, name: str) -> str:
    if name.isidentifier():
        return f"{path}.{name}" if path else name
    return f"{path}[{json.dumps(name, ensure_ascii=False)}]"


def _distinct(values: list[Any]) -> bool:
    return len({equality_key(value) for value in values}) == len(values)


def schema_error(schema: Any, path: str = "schema", *, _depth: int = 0, _count: list[int] | None = None) -> str | None:
    """Check that ``schema`` is a schema of the supported subset. Returns the first problem, or None.

    Every schema it accepts is a valid Draft 4 schema (the meta-schema's rules for these keywords: ``type`` names
    and ``required`` names are distinct, ``enum`` values too...). Used on schemas that callers send and, in tests,
    on every schema of the catalog.
    """
    count = _count if _count is not None else [0]
    count[0] += 1
    if count[0] > MAX_SCHEMA_NODES:
        return f"{path}: the schema is too large (at most {MAX_SCHEMA_NODES} sub-schemas)"
    if _depth > MAX_SCHEMA_DEPTH:
        return f"{path}: the schema is nested too deeply (at most {MAX_SCHEMA_DEPTH} levels)"
    if not isinstance(schema, dict):
        return f"{path} must be an object"
    for keyword in schema:
        if keyword not in ASSERTIONS and keyword not in ANNOTATIONS:
            supported = ", ".join(sorted(ASSERTIONS))
            return f"{path}: the keyword {json.dumps(keyword)} is not supported (supported: {supported})"

    if "type" in schema:
        declared = schema["type"]
        names = [declared] if isinstance(declared, str) else declared
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n in TYPES for n in names):
            return f"{path}.type must be one of {', '.join(sorted(TYPES))} (or a list of them)"
        if len(set(names)) != len(names):
            return f"{path}.type must not name a type twice"
    for keyword in ("minLength", "maxLength", "minItems", "maxItems"):
        if keyword in schema and not (_is_type(schema[keyword], "integer") and schema[keyword] >= 0):
            return f"{path}.{keyword} must be a non-negative integer (written without a fraction: 2, not 2.0)"
    for keyword in ("minimum", "maximum"):
        if keyword in schema and not _is_type(schema[keyword], "number"):
            return f"{path}.{keyword} must be a number"
    if "uniqueItems" in schema and not isinstance(schema["uniqueItems"], bool):
        return f"{path}.uniqueItems must be a boolean"
    for annotation in ("title", "description", "format", "$schema"):
        if annotation in schema and not isinstance(schema[annotation], str):
            return f"{path}.{annotation} must be a string"
    if "enum" in schema:
        enum = schema["enum"]
        if not isinstance(enum, list) or not enum or len(enum) > MAX_ENUM_VALUES:
            return f"{path}.enum must be a list of 1 to {MAX_ENUM_VALUES} values"
        if not _distinct(enum):
            return f"{path}.enum must not list a value twice (1 and 1.0 are the same value)"
    if "required" in schema:
        required = schema["required"]
        if not isinstance(required, list) or not required or not all(isinstance(name, str) for name in required):
            return f"{path}.required must be a non-empty list of property names"
        if len(set(required)) != len(required):
            return f"{path}.required must not name a property twice"
    if "properties" in schema:
        properties = schema["properties"]
        if not isinstance(properties, dict):
            return f"{path}.properties must be an object"
        for name, sub in properties.items():
            error = schema_error(sub, _join(f"{path}.properties", name), _depth=_depth + 1, _count=count)
            if error:
                return error
    if "additionalProperties" in schema and not isinstance(schema["additionalProperties"], bool):
        error = schema_error(
            schema["additionalProperties"], f"{path}.additionalProperties", _depth=_depth + 1, _count=count
        )
        if error:
            return error
    if "items" in schema:
        error = schema_error(schema["items"], f"{path}.items", _depth=_depth + 1, _count=count)
        if error:
            return error
    return None


def object_schema_error(schema: Any, path: str) -> str | None:
    """The check for a caller's schema of an object (``callerSchemas``): ``schema_error``, the schema describes a
    JSON object with at least one property, and ``satisfiability_error``."""
    error = schema_error(schema, path)
    if error:
        return error
    if schema.get("type") != "object":
        return f'{path} must be a JSON Schema with "type": "object"'
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return f'{path} must declare at least one property under "properties"'
    # The analysis is its own module: only a task that takes a caller's schema loads it, on its first request.
    from genai_core.satisfiability import satisfiability_error

    return satisfiability_error(schema, path)
