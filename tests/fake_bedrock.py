"""A fake Bedrock for tests that need a model to answer anything it is asked (fuzzing, end-to-end runs).

It answers a forced tool call with the smallest object valid against the tool's own input schema, and a plain
request with a short text. Tests that check the exact Converse request use botocore's Stubber instead.
"""

from __future__ import annotations

from typing import Any


def instance_from_schema(schema: dict[str, Any]) -> Any:
    """The smallest JSON value valid against ``schema`` (the subset genai_core.schema supports)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: instance_from_schema(properties.get(name, {"type": "string"})) for name in schema.get("required", [])}
    if kind == "array":
        return [instance_from_schema(schema.get("items", {"type": "string"})) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "x" * max(schema.get("minLength", 1), 1) if schema.get("maxLength", 1) >= 1 else ""
    if kind in ("integer", "number"):
        low = schema.get("minimum", 0)
        high = schema.get("maximum", low)
        value = low if low <= high else high
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    return None


def fake_converse(**request: Any) -> dict[str, Any]:
    tools = request.get("toolConfig", {}).get("tools", [])
    if tools:
        spec = tools[0]["toolSpec"]
        content = [{"toolUse": {"toolUseId": "tooluse_fake", "name": spec["name"], "input": instance_from_schema(spec["inputSchema"]["json"])}}]
        stop_reason = "tool_use"
    else:
        content = [{"text": "A fake answer."}]
        stop_reason = "end_turn"
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 1},
    }
