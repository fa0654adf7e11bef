"""A sample value that a JSON Schema (the subset genai_core.schema supports) accepts.

Used by `make smoke` to build a request for a route without an example, and by the fake Bedrock
(``tools/fake_bedrock.py``: the tests' and ``make local --fake-bedrock``'s) to answer a forced tool call with an
object of the tool's own schema.
"""

from __future__ import annotations

import math
from typing import Any


def sample(schema: dict[str, Any], *, text: str = "x", min_items: int = 0) -> Any:
    """The first enum value, or the simplest value of the schema's type: required properties only, ``text`` for a
    string (cut or padded to its length bounds), the minimum for a number, and max(minItems, ``min_items``) items
    (distinct ones when the array has ``uniqueItems``)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: sample(properties.get(name, {"type": "string"}), text=text, min_items=min_items)
            for name in schema.get("required", [])
        }
    if kind == "array":
        # Bounds may come as 2.0 (JSON has one number type): counts are integers.
        count = int(max(schema.get("minItems", 0), min(min_items, schema.get("maxItems", min_items))))
        items = schema.get("items", {"type": "string"})
        if schema.get("uniqueItems"):
            return _distinct(items, count, text)
        return [sample(items, text=text, min_items=min_items) for _ in range(count)]
    if kind == "string":
        return _string(schema, text)
    if kind in ("integer", "number"):
        low = schema.get("minimum", 0)
        value = min(low, schema["maximum"]) if "maximum" in schema else low
        return math.ceil(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    return None


def _string(schema: dict[str, Any], text: str) -> str:
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", max(len(text), 1)))
    return (text * (low // max(len(text), 1) + 1))[: max(low, min(len(text), high))]


def _distinct(items: dict[str, Any], count: int, text: str) -> list[Any]:
    """``count`` distinct values of ``items`` (enum values, numbered strings, consecutive numbers, both booleans)."""
    if "enum" in items:
        return list(items["enum"][:count])
    kind = items.get("type", "string")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "string":
        width = len(str(count))
        base = _string({**items, "maxLength": max(0, int(items.get("maxLength", len(text) + width)) - width)}, text)
        return [f"{base}{index + 1:0{width}d}" for index in range(count)]
    if kind in ("integer", "number"):
        start = sample(items)
        return [start + index for index in range(count)]
    if kind == "boolean":
        return [False, True][:count]
    return [sample(items, text=f"{text}{index + 1}") for index in range(count)]
