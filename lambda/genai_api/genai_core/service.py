"""Run a use case: validate the request, render the prompt, call Converse, check and shape the answer.

This is the whole core behind every entry point. It takes the request as bytes and returns a ``Result``; it knows
nothing about API Gateway, HTTP or Lambda.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genai_core import schema
from genai_core.bedrock import converse
from genai_core.catalog import Catalog, UseCase
from genai_core.errors import GuardrailIntervened, ModelOutputInvalid, NotFound, ValidationFailed
from genai_core.jsonbody import parse_object
from genai_core.prompts import render
from genai_core.settings import GuardrailSettings

GUARDRAIL_INTERVENED = "guardrail_intervened"  # Converse stopReason when the guardrail blocked input or output

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient


# Entered around each Bedrock call with the use case and the model id: how an entry point traces the call (an X-Ray
# subsegment, for the API adapter) without the core knowing about tracing.
ModelCallContext = Callable[[UseCase, str], AbstractContextManager[None]]


def _no_context(use_case: UseCase, model: str) -> AbstractContextManager[None]:
    return nullcontext()


@dataclass(frozen=True)
class Result:
    use_case: str
    output: dict[str, Any]
    model: str
    usage: dict[str, int]
    stop_reason: str
    latency_ms: int
    guardrail_action: str | None = None  # "INTERVENED" or "NONE" when the use case runs under the guardrail
    debug: dict[str, Any] | None = None  # prompt and response text, only when prompt logging is switched on

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "useCase": self.use_case,
            "output": self.output,
            "model": self.model,
            "usage": self.usage,
            "stopReason": self.stop_reason,
        }
        if self.guardrail_action is not None:
            body["guardrail"] = {"action": self.guardrail_action}
        return body


class UseCaseService:
    def __init__(
        self,
        catalog: Catalog,
        models: Mapping[str, str],
        client: BedrockRuntimeClient,
        *,
        guardrail: GuardrailSettings | None = None,
        log_prompts: bool = False,
        around_model_call: ModelCallContext = _no_context,
    ) -> None:
        missing = sorted({use_case.family for use_case in catalog} - set(models))
        if missing:
            raise ValueError(f"no model configured for: {', '.join(missing)}")
        self.catalog = catalog
        self.models = dict(models)
        self.client = client
        self.guardrail = guardrail
        self.log_prompts = log_prompts
        self.around_model_call = around_model_call

    def model_for(self, use_case: UseCase) -> str:
        return self.models[use_case.family]

    def guarded(self, use_case: UseCase) -> bool:
        return self.guardrail is not None and use_case.family in self.guardrail.families

    def validate(self, use_case: UseCase, body: bytes) -> dict[str, Any]:
        request = parse_object(body)
        error = schema.first_error(request, use_case.input_schema)
        if error:
            raise ValidationFailed(error + ".")
        for name in use_case.caller_schemas:
            error = schema.object_schema_error(request[name], name)
            if error:
                raise ValidationFailed(error + ".")
        return request

    def build_request(self, use_case: UseCase, request: Mapping[str, Any]) -> dict[str, Any]:
        """The Converse request for a validated request: model, system prompt, messages, inference and tools."""
        prompt = render(use_case, request)
        converse_request: dict[str, Any] = {
            "modelId": self.model_for(use_case),
            "system": [{"text": prompt.system}],
            "messages": prompt.messages,
            "inferenceConfig": {
                "maxTokens": int(use_case.inference["maxTokens"]),
                "temperature": float(use_case.inference["temperature"]),
            },
        }
        if use_case.structured:
            tool = use_case.output["tool"]
            converse_request["toolConfig"] = {
                "tools": [
                    {
                        "toolSpec": {
                            "name": tool["name"],
                            "description": tool["description"],
                            "inputSchema": {"json": use_case.output_schema(request)},
                        }
                    }
                ],
                "toolChoice": {"tool": {"name": tool["name"]}},
            }
        if self.guardrail is not None and self.guarded(use_case):
            converse_request["guardrailConfig"] = {
                "guardrailIdentifier": self.guardrail.identifier,
                "guardrailVersion": self.guardrail.version,
                "trace": "disabled",
            }
        return converse_request

    def run(self, use_case_id: str, body: bytes) -> Result:
        use_case = self.catalog.get(use_case_id)
        if use_case is None:
            raise NotFound(f"There is no use case {use_case_id!r}.")
        request = self.validate(use_case, body)
        converse_request = self.build_request(use_case, request)
        started = time.perf_counter()
        with self.around_model_call(use_case, converse_request["modelId"]):
            response = converse(self.client, converse_request)
        latency_ms = round((time.perf_counter() - started) * 1000)
        stop_reason = str(response.get("stopReason", ""))
        intervened = stop_reason == GUARDRAIL_INTERVENED
        if intervened and use_case.structured:
            raise GuardrailIntervened(_text(response) or "The guardrail blocked this request.")
        output = self._output(use_case, request, response)
        usage = response.get("usage", {})
        return Result(
            use_case=use_case.id,
            output=output,
            model=converse_request["modelId"],
            usage={key: int(usage.get(key, 0)) for key in ("inputTokens", "outputTokens", "totalTokens")},
            stop_reason=stop_reason,
            latency_ms=latency_ms,
            guardrail_action=("INTERVENED" if intervened else "NONE") if self.guarded(use_case) else None,
            debug={"request": converse_request, "output": output} if self.log_prompts else None,
        )

    def _output(self, use_case: UseCase, request: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
        content = response.get("output", {}).get("message", {}).get("content", [])
        if not use_case.structured:
            text = _text(response)
            if not text:
                raise ModelOutputInvalid(
                    f"The model returned no text (stop reason: {response.get('stopReason', 'unknown')})."
                )
            return {use_case.output["text"]: text}
        for block in content:
            tool_use = block.get("toolUse")
            if tool_use and tool_use.get("name") == use_case.tool_name:
                answer = tool_use.get("input")
                if not isinstance(answer, dict):
                    break
                error = schema.first_error(answer, use_case.output_schema(request))
                if error:
                    raise ModelOutputInvalid(f"The model's answer does not match the output schema: {error}.")
                return answer
        raise ModelOutputInvalid(
            f"The model did not return a structured answer (stop reason: {response.get('stopReason', 'unknown')})."
        )


def _text(response: Mapping[str, Any]) -> str:
    content = response.get("output", {}).get("message", {}).get("content", [])
    return "".join(block["text"] for block in content if "text" in block).strip()
