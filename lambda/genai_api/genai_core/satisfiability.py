"""Whether a caller's schema can be satisfied at all: the analysis behind ``schema.object_schema_error``.

A module of its own so that the function's init does not compile it: only a task whose request carries a caller's
schema (``callerSchemas`` in the catalog: ``extract``'s ``fields``, ``augment``'s ``schema``) imports it, on its first
such request. Standard library only, like ``schema.py``.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from genai_core.schema import TYPES, Check, _join, canonical, compile_schema

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
