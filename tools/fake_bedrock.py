"""A fake Amazon Bedrock that answers from the request's own schemas: for ``make local LOCAL_ARGS=--fake-bedrock``
(no AWS account, no credentials, no network) and for the tests that need a model to answer anything (fuzzing,
every route end to end). Tests that check the exact Converse request use botocore's Stubber instead.

What it answers:

- Converse with a tool (a structured task forces one): a call of that tool whose input is a value of the tool's
  input schema, which the core resolved against the request, so the caller's enums, counts and bounds hold
  (``tools.schema_samples.sample``; arrays get one item where the schema allows it, so that the constraints on
  items are exercised, and exactly ``minItems`` where it asks for more);
- Converse without a tool (a text task): ``FAKE_TEXT``;
- ConverseStream: ``FAKE_TEXT`` word by word as text deltas, then the stop reason and the usage;
- a request whose document or image blocks break Converse's documented rules (more than five documents or twenty
  images, a document without a text block beside it, a document name outside Converse's characters, two documents
  of one name): a ``ValidationException`` in Bedrock's own words, as the service would answer (``file_rules``). The
  function checks all of these before calling; the fake makes ``make local`` prove it.

``FakeBedrock.install`` plugs it into a ``UseCaseService``'s real bedrock-runtime client at botocore's
``before-call`` event, as botocore's Stubber does: botocore has validated the parameters against the service model
and serialized the request; nothing is signed or sent, and the handler, the core and the fault map above the
client run unchanged. The service's models are renamed ``fake-bedrock/<model>``, so every answer says it is fake.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

from tools.schema_samples import sample

FAKE_TEXT = "This is a fake answer from the fake Bedrock of make local: no model was called."
MODEL_PREFIX = "fake-bedrock/"
HEADER = ("X-Fake-Bedrock", "true")  # on every response of make local --fake-bedrock


def fake_model(model_id: str) -> str:
    return f"{MODEL_PREFIX}{model_id}"


def instance_from_schema(schema: dict[str, Any]) -> Any:
    """The smallest JSON value valid against ``schema``."""
    return sample(schema)


def _usage(request: Mapping[str, Any], answer: Any) -> dict[str, int]:
    """Roughly four characters a token, as a model's tokenizer would count them."""
    tokens_in = max(1, len(json.dumps(request, ensure_ascii=False)) // 4)
    tokens_out = max(1, len(json.dumps(answer, ensure_ascii=False)) // 4)
    return {"inputTokens": tokens_in, "outputTokens": tokens_out, "totalTokens": tokens_in + tokens_out}


# Converse's documented rules for files (the Message and DocumentBlock shapes of bedrock-runtime's service model), and
# Bedrock's words when a request breaks one (as quoted in public reports of its answers: research notes of issue 14).
MAX_DOCUMENTS, MAX_IMAGES = 5, 20
DOCUMENT_NAME = re.compile(r"[A-Za-z0-9()\[\]-]+(?: [A-Za-z0-9()\[\]-]+)*")
TOO_MANY_DOCUMENTS = "You can't include more than 5 documents in a request."
NO_TEXT_BLOCK = "A text block must be included when using documents. Add a text block and retry your request."
BAD_NAME = (
    "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, "
    "and square brackets. The name can't contain more than one consecutive whitespace character. Check that the file "
    "name conforms to these restrictions and retry your request."
)
DUPLICATE_NAMES = "Messages can't contain duplicate document names. Rename the document and retry your request."


class FakeValidationError(Exception):
    """The fake's ValidationException, with Bedrock's message."""


def file_rules(messages: list[dict[str, Any]]) -> str | None:
    """The first of Converse's rules for document and image blocks that ``messages`` break, in Bedrock's words."""
    names: list[str] = []
    images = 0
    for message in messages:
        content = message.get("content", [])
        documents = [block["document"] for block in content if "document" in block]
        images += sum(1 for block in content if "image" in block)
        if documents and not any(str(block.get("text", "")).strip() for block in content):
            return NO_TEXT_BLOCK
        for document in documents:
            name = str(document.get("name", ""))
            if not DOCUMENT_NAME.fullmatch(name) or len(name) > 200:
                return BAD_NAME
            names.append(name)
    if len(names) > MAX_DOCUMENTS:
        return TOO_MANY_DOCUMENTS
    if images > MAX_IMAGES:
        return f"The model returned the following errors: messages: too many images: image_count > {MAX_IMAGES}"
    if len(set(names)) != len(names):
        return DUPLICATE_NAMES
    return None


def fake_converse(**request: Any) -> dict[str, Any]:
    """A Converse response to ``request`` (the parameters of ``client.converse``)."""
    problem = file_rules(request.get("messages", []))
    if problem is not None:
        raise FakeValidationError(problem)
    tools = request.get("toolConfig", {}).get("tools", [])
    if tools:
        spec = tools[0]["toolSpec"]
        answer = sample(spec["inputSchema"]["json"], text="fake", min_items=1)
        content: list[dict[str, Any]] = [
            {"toolUse": {"toolUseId": "tooluse_fake", "name": spec["name"], "input": answer}}
        ]
        stop_reason = "tool_use"
    else:
        answer = FAKE_TEXT
        content = [{"text": FAKE_TEXT}]
        stop_reason = "end_turn"
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": _usage(request, answer),
        "metrics": {"latencyMs": 1},
    }


def fake_converse_stream(request: Mapping[str, Any], *, delay_seconds: float = 0.0) -> Iterator[dict[str, Any]]:
    """The events of a ConverseStream answer to ``request``: ``FAKE_TEXT`` in several deltas, ``delay_seconds``
    apart (so that a reader sees them come), then the stop and the usage."""
    words = FAKE_TEXT.split(" ")
    yield {"messageStart": {"role": "assistant"}}
    for index, word in enumerate(words):
        if index and delay_seconds:
            time.sleep(delay_seconds)
        text = word if index == len(words) - 1 else f"{word} "
        yield {"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}}
    yield {"contentBlockStop": {"contentBlockIndex": 0}}
    yield {"messageStop": {"stopReason": "end_turn"}}
    yield {"metadata": {"usage": _usage(request, FAKE_TEXT), "metrics": {"latencyMs": 1}}}


class FakeBedrock:
    """Answers the Converse and ConverseStream calls of the services it is installed on; ``close`` undoes it."""

    def __init__(self, *, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.unique_id = f"fake-bedrock-{id(self)}"
        self._undo: list[Callable[[], None]] = []

    def install(self, service: Any) -> None:
        """Fake ``service``'s client (a ``genai_core.service.UseCaseService``): its models become
        ``fake-bedrock/<model>``, and its single-attempt client (when the time left allows one attempt only) is the
        same faked client."""
        client, models, single_attempt_client = service.client, service.models, service.single_attempt_client
        service.models = {family: fake_model(model) for family, model in models.items()}
        service.single_attempt_client = lambda: client
        client.meta.events.register_first("before-call.bedrock-runtime", self._answer, unique_id=self.unique_id)

        def undo() -> None:
            client.meta.events.unregister("before-call.bedrock-runtime", unique_id=self.unique_id)
            service.models, service.single_attempt_client = models, single_attempt_client

        self._undo.append(undo)

    def close(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _answer(self, model: Any, params: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        """botocore's ``before-call`` handler: ``params`` is the serialized request (its JSON body; the model id
        is in the URL); the answer is the HTTP response and the parsed response, as from the service."""
        request = json.loads(params.get("body") or b"{}")
        metadata = {"RequestId": f"fake-{uuid.uuid4()}", "HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}
        if model.name == "Converse":
            try:
                parsed = fake_converse(**request)
            except FakeValidationError as problem:
                return self._refusal(metadata, str(problem))
            validate_parameters(parsed, model.output_shape)  # as the Stubber validates its responses
            return AWSResponse(None, 200, {}, None), {**parsed, "ResponseMetadata": metadata}
        if model.name == "ConverseStream":
            problem = file_rules(request.get("messages", []))
            if problem is not None:
                return self._refusal(metadata, problem)
            stream = fake_converse_stream(request, delay_seconds=self.delay_seconds)
            return AWSResponse(None, 200, {}, None), {"stream": stream, "ResponseMetadata": metadata}
        return self._refusal(metadata, f"The fake Bedrock does not answer {model.name}.")

    @staticmethod
    def _refusal(metadata: dict[str, Any], message: str) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "ValidationException", "Message": message}
        return AWSResponse(None, 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {**metadata, "HTTPStatusCode": 400},
        }
