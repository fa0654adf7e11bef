"""A sample value that a JSON Schema (the subset genai_core.schema supports) accepts.

Used by `make smoke` to build a request for a route without an example, and by the tests' fake Bedrock to answer a
forced tool call with an object of the tool's own schema.
"""

from __future__ import annotations

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
        count = max(schema.get("minItems", 0), min(min_items, schema.get("maxItems", min_items)))
        items = schema.get("items", {"type": "string"})
        if schema.get("uniqueItems") and items.get("type") == "string" and "enum" not in items:
            return [sample(items, text=f"{text}{index + 1}") for index in range(count)]  # distinct strings
        if schema.get("uniqueItems") and "enum" in items:
            return items["enum"][:count]
        return [sample(items, text=text, min_items=min_items) for _ in range(count)]
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", max(len(text), 1))
        return (text * (low // max(len(text), 1) + 1))[: max(low, min(len(text), high))]
    if kind in ("integer", "number"):
        low = schema.get("minimum", 0)
        value = min(low, schema["maximum"]) if "maximum" in schema else low
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    return None
