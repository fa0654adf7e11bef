"""Sample values that a JSON Schema (the subset genai_core.schema supports) accepts.

Used by `make smoke` to build a request for a route without an example, by the tests' fake Bedrock to answer a
forced tool call with an object of the tool's own schema, and by tests/test_schema.py, which checks against the
reference validator that every schema the satisfiability analysis accepts gets valid samples from here (as many
distinct ones as an array with ``uniqueItems`` needs).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

from genai_core.schema import canonical

# The order in which an untyped schema's values are tried: an object first (its properties say what it holds).
_ANY_TYPE = ("object", "string", "number", "boolean", "null", "array")
_ABSENT = object()  # an optional property left out
# Digits of the suffix that makes strings distinct: code points from "0" upward, the surrogates skipped.
_DIGIT_BASE = 0x110000 - 0x800 - 0x30


def sample(schema: dict[str, Any], *, text: str = "x", min_items: int = 0) -> Any:
    """The first enum value, or the simplest value of the schema's type: required properties only, ``text`` for a
    string (cut or padded to its length bounds), the minimum for a number, and max(minItems, ``min_items``) items
    (distinct ones when the array has ``uniqueItems``). ValueError when no value satisfies the schema."""
    found = samples(schema, 1, text=text, min_items=min_items)
    if not found:
        raise ValueError("no value satisfies this schema")
    return found[0]


def samples(schema: dict[str, Any], count: int, *, text: str = "x", min_items: int = 0) -> list[Any]:
    """Up to ``count`` distinct values (JSON Schema equality) that ``schema`` accepts, the simplest first."""
    return list(itertools.islice(_values(schema, count, text or "x", min_items), count))


def _values(schema: dict[str, Any], count: int, text: str, min_items: int) -> Iterator[Any]:
    if "enum" in schema:  # as ints where they are integral: 2 is valid wherever 2.0 is, and for "integer" too
        yield from (canonical(value) for value in schema["enum"])
        return
    declared = schema.get("type", _ANY_TYPE)
    kinds = [declared] if isinstance(declared, str) else list(declared)
    if "number" in kinds and "integer" in kinds:
        kinds.remove("integer")  # the numbers start with the integers
    for kind in kinds:
        if kind == "object":
            yield from _objects(schema, count, text, min_items)
        elif kind == "array":
            yield from _arrays(schema, count, text, min_items)
        elif kind == "string":
            yield from _strings(schema.get("minLength", 0), schema.get("maxLength"), text)
        elif kind == "integer":
            yield from _integers(schema.get("minimum"), schema.get("maximum"))
        elif kind == "number":
            yield from _numbers(schema.get("minimum"), schema.get("maximum"))
        elif kind == "boolean":
            yield from (False, True)
        else:
            yield None


def _objects(schema: dict[str, Any], count: int, text: str, min_items: int) -> Iterator[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = schema.get("required", [])
    additional = schema.get("additionalProperties", True)
    extra_schema = additional if isinstance(additional, dict) else {"type": "string"}
    names = [*required, *(name for name in properties if name not in required)]
    choices: list[list[Any]] = []
    for name in names:
        if name not in properties and additional is False:
            return  # a required property that may not be there: no object at all
        sub = properties.get(name, extra_schema)
        found = samples(sub, count, text=text, min_items=min_items)
        if name in required:
            if not found:
                return
            choices.append(found)
        else:
            choices.append([_ABSENT, *found[: count - 1]])
    made = 0
    for picked in itertools.product(*choices):
        yield {name: value for name, value in zip(names, picked, strict=True) if value is not _ABSENT}
        made += 1
    if additional is False or not samples(extra_schema, 1, text=text):
        return
    # Open objects: more distinct ones, each with one more extra property.
    base = {name: found[0] for name, found in zip(names, choices, strict=True) if found[0] is not _ABSENT}
    extra = sample(extra_schema, text=text)
    free = (f"extra{index}" for index in itertools.count(1) if f"extra{index}" not in properties)
    for name in itertools.islice(free, max(0, count - made)):
        base = {**base, name: extra}
        yield base


def _arrays(schema: dict[str, Any], count: int, text: str, min_items: int) -> Iterator[list[Any]]:
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    if high is not None and low > high:
        return
    preferred = max(low, min_items if high is None else min(min_items, high))
    unique = bool(schema.get("uniqueItems"))
    items = schema.get("items", {"type": "string"})
    pool = samples(items, max(preferred, 1) + count, text=text, min_items=min_items)
    if not pool:
        if low == 0:
            yield []
        return
    longer: Iterator[int] = itertools.count(preferred + 1) if high is None else iter(range(preferred + 1, high + 1))
    if unique:
        longer = itertools.takewhile(lambda length: length <= len(pool), longer)
    for length in itertools.chain([preferred], longer, range(preferred - 1, low - 1, -1)):
        arrays = itertools.permutations(pool, length) if unique else itertools.product(pool, repeat=length)
        yield from (list(array) for array in arrays)


def _strings(low: int, high: int | None, text: str) -> Iterator[str]:
    if high is not None and low > high:
        return
    preferred = max(low, len(text)) if high is None else min(max(low, len(text)), high)
    longer = itertools.count(preferred + 1) if high is None else iter(range(preferred + 1, high + 1))
    seen: set[str] = set()
    for length in itertools.chain([preferred], longer, range(preferred - 1, low - 1, -1)):
        for index in itertools.count():
            suffix = _digits(index) if index else ""
            if len(suffix) > length:
                break
            value = _fit(text, length - len(suffix)) + suffix
            if value not in seen:
                seen.add(value)
                yield value


def _fit(text: str, length: int) -> str:
    return (text * (length // len(text) + 1))[:length]


def _digits(number: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, _DIGIT_BASE)
        code = 0x30 + digit
        digits.append(chr(code + 0x800 if code >= 0xD800 else code))
    return "".join(reversed(digits))


def _integers(minimum: float | None, maximum: float | None) -> Iterator[int]:
    if minimum is not None:
        first = math.ceil(minimum)
        yield from (itertools.count(first) if maximum is None else range(first, math.floor(maximum) + 1))
    elif maximum is not None:
        yield from itertools.count(min(0, math.floor(maximum)), -1)
    else:
        yield from itertools.count(0)


def _numbers(minimum: float | None, maximum: float | None) -> Iterator[float]:
    """The bounds as given, the integers between them, then the doubles between them (distinct as numbers)."""
    if minimum is not None and maximum is not None and minimum > maximum:
        return
    seen: set[float] = set()  # 1 == 1.0 and -0.0 == 0 in a set, as in JSON Schema
    bounds = [bound for bound in (minimum, maximum) if bound is not None]
    for value in itertools.chain(bounds, _integers(minimum, maximum), _doubles(minimum, maximum)):
        if value not in seen:
            seen.add(value)
            yield value


def _doubles(minimum: float | None, maximum: float | None) -> Iterator[float]:
    """The doubles from the minimum up to the maximum, or from the maximum down when there is no minimum."""
    if minimum is not None:
        start, toward = minimum, math.inf
    elif maximum is not None:
        start, toward = maximum, -math.inf
    else:
        return
    try:
        value = float(start)
    except OverflowError:  # an integer bound beyond the doubles
        return
    if (value < start) if toward > 0 else (value > start):  # an integer bound that rounded the wrong way
        value = math.nextafter(value, toward)
    while math.isfinite(value) and (maximum is None or value <= maximum) and (minimum is None or value >= minimum):
        yield value
        value = math.nextafter(value, toward)
