"""A fake Bedrock for tests that need a model to answer anything it is asked (fuzzing, end-to-end runs).

It answers a forced tool call with a small object valid against the tool's own input schema (arrays get one item
where the schema allows it, so that enums of the caller's values and index bounds are exercised), and a plain
request with a short text. Tests that check the exact Converse request use botocore's Stubber instead.
"""

from __future__ import annotations

from typing import Any

from tools.schema_samples import sample


def instance_from_schema(schema: dict[str, Any]) -> Any:
    """The smallest JSON value valid against ``schema``."""
    return sample(schema)


def fake_converse(**request: Any) -> dict[str, Any]:
    tools = request.get("toolConfig", {}).get("tools", [])
    if tools:
        spec = tools[0]["toolSpec"]
        content = [
            {
                "toolUse": {
                    "toolUseId": "tooluse_fake",
                    "name": spec["name"],
                    "input": sample(spec["inputSchema"]["json"], text="ok", min_items=1),
                }
            }
        ]
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
