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
for its keywords) is not enough: ``satisfiability_error`` refuses a schema with a part that no JSON value can
satisfy (``minLength`` above ``maxLength``, an integer range with no integer in it, an enum value its own node
refuses, a required property that ``additionalProperties: false`` forbids, ``uniqueItems`` with fewer distinct
values than ``minItems``...). The model would be asked, twice and billed, for an answer that cannot exist.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
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
    return satisfiability_error(schema, path)


# --- satisfiability ------------------------------------------------------------------------------------------
#
# For each node of a schema, the number of distinct JSON values it accepts, counted up to a cap (the largest
# ``minItems`` of the schema, at least 2): a node whose count is 0 can never be satisfied, and an array with
# ``uniqueItems`` needs at least ``minItems`` distinct values of its items. Counting, rather than listing rules,
# makes every combination of the subset's keywords follow from a few exact facts per type. Counts saturate at the
# cap, so the arithmetic stays small whatever the bounds say (``maxLength: 10**300``).

# Code points a JSON string can hold once parsed: all of Unicode but the lone surrogates (jsonbody refuses those).
_STRING_ALPHABET = 0x110000 - 0x800
_MAX_DOUBLE = sys.float_info.max
_ALL_TYPES = sorted(TYPES)


Step = tuple[str, "str | None"]  # ("properties", name), ("additionalProperties", None) or ("items", None)


def _subschemas(node: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], Step]]:
    for name, sub in node.get("properties", {}).items():
        yield sub, ("properties", name)
    for keyword in ("additionalProperties", "items"):
        sub = node.get(keyword)
        if type(sub) is dict:
            yield sub, (keyword, None)


def _nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for sub, _ in _subschemas(node):
        yield from _nodes(sub)


def _path(base: str, steps: list[Step]) -> str:
    for keyword, name in steps:
        base = f"{base}.{keyword}" if name is None else _join(f"{base}.{keyword}", name)
    return base


def _capped_power(base: int, exponent: int, cap: int) -> int:
    if base <= 1 or exponent == 0:
        return 1 if exponent == 0 else base
    result = 1
    for _ in range(exponent):  # each step at least doubles: at most cap.bit_length() steps before saturating
        result *= base
        if result >= cap:
            return cap
    return result


def _capped_permutations(n: int, length: int, cap: int) -> int:
    """n! / (n - length)!, capped: the arrays of ``length`` distinct values out of ``n``."""
    if length > n:
        return 0
    result = 1
    for factor in range(n, n - length, -1):
        result *= factor
        if result >= cap:
            return cap
    return result


def _capped_sum(terms: Iterable[int], cap: int) -> int:
    total = 0
    for term in terms:
        total += term
        if total >= cap:
            return cap
    return total


def _lengths(low: int, high: int | None) -> Iterator[int]:
    return itertools.count(low) if high is None else iter(range(low, high + 1))


def _ordinal(value: float) -> int:
    """The position of a double among all doubles, in order (0.0 and -0.0 share 0)."""
    bits: int = struct.unpack("<q", struct.pack("<d", value))[0]
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def _double_at_or_above(bound: float) -> float | None:
    """The smallest finite double that is >= ``bound`` (an int or a float), or None."""
    try:
        value = float(bound)
    except OverflowError:  # an integer beyond the doubles' range
        return None if bound > 0 else -_MAX_DOUBLE
    if value < bound:  # an integer that rounded down
        value = math.nextafter(value, math.inf)
    return value if value != math.inf else None


def _doubles_between(low: float, high: float) -> int:
    """How many doubles lie in [low, high] (bounds that are ints or floats)."""
    first, last = _double_at_or_above(low), _double_at_or_above(-high)
    if first is None or last is None or first > -last:
        return 0
    return _ordinal(-last) - _ordinal(first) + 1


class _Analysis:
    """The counts of one schema's nodes, each computed once (a node is met again as a parent's item)."""

    def __init__(self, schema: Mapping[str, Any], cap: int = 2) -> None:
        self.cap = max([cap, *(node.get("minItems", 0) for node in _nodes(schema))])
        self.counts: dict[int, tuple[int, str]] = {}
        # For a node with an enum: its check without the enum, and the index of its first value that breaks it.
        self.enums: dict[int, tuple[Check, int | None]] = {}

    def count(self, node: Mapping[str, Any]) -> int:
        return self.counted(node)[0]

    def counted(self, node: Mapping[str, Any]) -> tuple[int, str]:
        """The number of distinct values ``node`` accepts (capped), and why it accepts none."""
        known = self.counts.get(id(node))
        if known is None:
            known = self.counts[id(node)] = self._count(node)
        return known

    def _count(self, node: Mapping[str, Any]) -> tuple[int, str]:
        if "enum" in node:
            check = compile_schema({key: value for key, value in node.items() if key != "enum"})
            broken = [index for index, value in enumerate(node["enum"]) if check(canonical(value), "") is not None]
            self.enums[id(node)] = (check, broken[0] if broken else None)
            valid = len(node["enum"]) - len(broken)
            return min(valid, self.cap), "none of its enum values satisfies its other keywords"
        declared = node.get("type", _ALL_TYPES)
        names = [declared] if isinstance(declared, str) else list(declared)
        if "number" in names and "integer" in names:
            names.remove("integer")  # every integer is a number: count it once
        counters = {
            "null": self._null,
            "boolean": self._boolean,
            "string": self._string,
            "integer": self._integer,
            "number": self._number,
            "object": self._object,
            "array": self._array,
        }
        total, reasons = 0, []
        for name in names:
            found, reason = counters[name](node)
            total += found
            if not found:
                reasons.append(reason)
        if total:
            return min(total, self.cap), ""
        return 0, reasons[0] if len(reasons) == 1 else "no type it allows can be satisfied (" + "; ".join(reasons) + ")"

    def _null(self, node: Mapping[str, Any]) -> tuple[int, str]:
        return 1, ""

    def _boolean(self, node: Mapping[str, Any]) -> tuple[int, str]:
        return 2, ""

    def _string(self, node: Mapping[str, Any]) -> tuple[int, str]:
        low, high = node.get("minLength", 0), node.get("maxLength")
        if high is not None and low > high:
            return 0, f"minLength {low} is greater than maxLength {high}"
        return _capped_sum((_capped_power(_STRING_ALPHABET, n, self.cap) for n in _lengths(low, high)), self.cap), ""

    def _integer(self, node: Mapping[str, Any]) -> tuple[int, str]:
        return self._range(node, integral=True)

    def _number(self, node: Mapping[str, Any]) -> tuple[int, str]:
        return self._range(node, integral=False)

    def _range(self, node: Mapping[str, Any], *, integral: bool) -> tuple[int, str]:
        low, high = node.get("minimum"), node.get("maximum")
        if low is None or high is None:
            return self.cap, ""
        if low > high:
            return 0, f"minimum {low} is greater than maximum {high}"
        integers = max(0, math.floor(high) - math.ceil(low) + 1)
        if integral:
            if not integers:
                return 0, f"no integer lies between minimum {low} and maximum {high}"
            return min(integers, self.cap), ""
        # Numbers: the bound itself, or at least both bounds, the integers and the doubles between them.
        return min(1 if low == high else max(2, integers, _doubles_between(low, high)), self.cap), ""

    def _object(self, node: Mapping[str, Any]) -> tuple[int, str]:
        properties: Mapping[str, Any] = node.get("properties", {})
        required = node.get("required", [])
        additional = node.get("additionalProperties", True)
        closed = additional is False or (isinstance(additional, dict) and not self.count(additional))
        for name in required:
            if name in properties:
                if not self.count(properties[name]):
                    return 0, f"its required property {json.dumps(name, ensure_ascii=False)} can never be satisfied"
            elif closed:
                because = (
                    "additionalProperties is false"
                    if additional is False
                    else "no value satisfies additionalProperties"
                )
                return (
                    0,
                    f"its required property {json.dumps(name, ensure_ascii=False)} is not in properties and {because}",
                )
        if not closed:
            return self.cap, ""  # infinitely many names for an extra property
        found = 1
        for name, sub in properties.items():
            found *= self.count(sub) + (0 if name in required else 1)  # an optional property may be absent
            if found >= self.cap:
                return self.cap, ""
        return found, ""

    def _array(self, node: Mapping[str, Any]) -> tuple[int, str]:
        low, high = node.get("minItems", 0), node.get("maxItems")
        if high is not None and low > high:
            return 0, f"minItems {low} is greater than maxItems {high}"
        items = node.get("items")
        choices = self.count(items) if isinstance(items, dict) else self.cap
        if not choices:
            if low == 0:
                return 1, ""  # the empty array
            return 0, f"minItems is {low} and no value satisfies its items"
        if node.get("uniqueItems"):
            if choices < low:
                return (
                    0,
                    f"uniqueItems with minItems {low} needs {low} distinct items, and its items allow only {choices}",
                )
            top = choices if high is None else min(high, choices)
            lengths: Iterable[int] = range(low, top + 1)
            return _capped_sum((_capped_permutations(choices, n, self.cap) for n in lengths), self.cap), ""
        if choices == 1:
            return (self.cap if high is None else min(high - low + 1, self.cap)), ""
        return _capped_sum((_capped_power(choices, n, self.cap) for n in _lengths(low, high)), self.cap), ""


def count_values(schema: Mapping[str, Any], cap: int) -> int:
    """How many distinct JSON values ``schema`` (a schema that ``schema_error`` accepts) is valid for, counted up
    to ``cap`` (a lower bound where exact counting would not pay: numbers between two bounds count as the larger
    of the integers and the doubles between them)."""
    analysis = _Analysis(schema, cap)
    return min(analysis.count(schema), cap)


def satisfiable(schema: Mapping[str, Any]) -> bool:
    """Whether some JSON value is valid against ``schema`` (a schema that ``schema_error`` accepts)."""
    return _Analysis(schema).count(schema) > 0


def satisfiability_error(schema: Mapping[str, Any], path: str = "schema") -> str | None:
    """The first part of ``schema`` (a schema that ``schema_error`` accepts) that no JSON value satisfies, or None.

    Every part counts, not only those an answer must use: an optional property or the items of an array that may
    be empty, when no value satisfies them, are a mistake in the schema that would steer the model to an answer
    that is then refused. Parts are checked innermost first, so the message names the cause. Enum values must each
    satisfy the other keywords of their node."""
    return _first_unsatisfiable(_Analysis(schema), schema, path, [])


def _first_unsatisfiable(analysis: _Analysis, node: Mapping[str, Any], base: str, steps: list[Step]) -> str | None:
    for sub, step in _subschemas(node):
        steps.append(step)
        error = _first_unsatisfiable(analysis, sub, base, steps)
        steps.pop()
        if error:
            return error
    found, reason = analysis.counted(node)
    if "enum" in node:
        check, broken = analysis.enums[id(node)]
        if broken is not None:
            at = f"{_path(base, steps)}.enum[{broken}]"
            error = check(canonical(node["enum"][broken]), at)
            return f"{error} (each enum value must satisfy the other keywords of its schema)"
    if not found:
        return f"{_path(base, steps)} can never be satisfied: {reason}"
    return None
