"""Helpers for tests: real-shaped API Gateway events and Bedrock Converse responses. No fixtures here."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
MODEL_ID = CDK_CONTEXT["models"]["customer-experience"]
API_STACK = f"{CDK_CONTEXT['stackName']}Api"
MONITORING_STACK = f"{CDK_CONTEXT['stackName']}Monitoring"


def cdk_context(**overrides: Any) -> dict[str, Any]:
    """cdk.json's context (App() in a test does not read cdk.json), with overrides."""
    return {**copy.deepcopy(CDK_CONTEXT), **overrides}


def api_event(
    path: str,
    body: Any = None,
    *,
    method: str = "POST",
    raw: str | bytes | None = None,
    base64_encoded: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST proxy event as API Gateway sends it (from a SAM-generated sample), for ``path`` on our stage.

    ``body`` is JSON-encoded (and base64-encoded if ``base64_encoded``); ``raw`` is sent as is, and raw bytes are
    base64-encoded as API Gateway does for binary payloads.
    """
    event = json.loads((EVENTS / "apigw-rest-proxy.json").read_text())
    text: str | None
    if isinstance(raw, bytes):
        text, base64_encoded = base64.b64encode(raw).decode("ascii"), True
    elif raw is not None:
        text = raw
    elif body is None:
        text = None
    else:
        text = json.dumps(body, ensure_ascii=False)
        if base64_encoded:
            text = base64.b64encode(text.encode("utf-8")).decode("ascii")
    event.update(
        {
            "path": path,
            "resource": path,
            "httpMethod": method,
            "body": text,
            "isBase64Encoded": base64_encoded,
            "pathParameters": None,
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "stageVariables": None,
        }
    )
    event["headers"] = {**event["headers"], "Content-Type": "application/json", **(headers or {})}
    event["multiValueHeaders"] = {key: [value] for key, value in event["headers"].items()}
    event["requestContext"].update({"path": f"/v1{path}", "resourcePath": path, "httpMethod": method, "stage": "v1"})
    return event


def usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens}


def converse_text_response(text: str, *, stop_reason: str = "end_turn", tokens: tuple[int, int] = (31, 12)) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop_reason,
        "usage": usage(*tokens),
        "metrics": {"latencyMs": 420},
    }


def converse_tool_response(name: str, tool_input: Any, *, tokens: tuple[int, int] = (210, 48)) -> dict[str, Any]:
    return {
        "output": {
            "message": {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": "tooluse_0001", "name": name, "input": tool_input}}],
            }
        },
        "stopReason": "tool_use",
        "usage": usage(*tokens),
        "metrics": {"latencyMs": 880},
    }
