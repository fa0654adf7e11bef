"""Run a text use case as a stream: the same validation, prompt, guardrail and fault map as ``service.py``, with
ConverseStream, giving the text as it is written and then a summary.

A module of its own so that the buffered API's function does not load it at cold start; the streaming entry point
(``stream_app.py``) and ``make local`` do. It knows nothing about HTTP or Server-Sent Events (``sse.py`` frames them).

A remembered conversation (a task with ``memory``, a request with ``conversationId``) is loaded before the stream
starts and stored after its end, before the summary: a write that fails is the stream's error (its last event,
after the deltas), a stream that fails or that the client leaves stores nothing, and the summary says whether the
turn was stored (``remembered``).
"""

from __future__ import annotations

import time
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genai_core.bedrock import converse_stream
from genai_core.catalog import UseCase
from genai_core.errors import NotFound
from genai_core.service import GUARDRAIL_INTERVENED, Caller, Memory, UseCaseService, token_usage

if TYPE_CHECKING:
    from genai_core.conversations import RememberedTurn


@dataclass(frozen=True)
class TextDelta:
    """A piece of the model's answer, in order, as it is written."""

    text: str


@dataclass(frozen=True)
class StreamSummary:
    """The end of a streamed answer: what the final event of a stream carries."""

    use_case: str
    model: str
    usage: dict[str, int]
    stop_reason: str
    latency_ms: int  # from the request to Bedrock until the end of the stream
    first_token_ms: int | None  # from the request to Bedrock until the first text; None when there was none
    guardrail_action: str | None = None
    memory: Memory | None = None  # a remembered turn: its conversation, and whether the turn was stored

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "useCase": self.use_case,
            "model": self.model,
            "usage": self.usage,
            "stopReason": self.stop_reason,
            "latencyMs": self.latency_ms,
            "firstTokenMs": self.first_token_ms,
        }
        if self.guardrail_action is not None:
            body["guardrail"] = {"action": self.guardrail_action}
        if self.memory is not None:
            body.update(self.memory.to_body())
        return body


StreamEvent = TextDelta | StreamSummary


def open_stream(
    service: UseCaseService, use_case_id: str, body: bytes, *, caller: Caller = None
) -> Generator[StreamEvent, None, None]:
    """Validate, prompt and start a ConverseStream for a streaming text task, for ``caller`` (as in
    ``UseCaseService.run``); return its events: the text deltas in order, then one ``StreamSummary``.

    Everything that can fail before the model answers (an unknown or non-streaming use case, a bad request, a Bedrock
    error on the call) raises an ``ApiError`` here, before any event. A failure during the stream raises an
    ``ApiError`` from the iterator, after the deltas already given. Closing the iterator early closes the Bedrock
    stream (its connection is dropped rather than read to the end).
    """
    use_case = service.catalog.get(use_case_id)
    if use_case is None or not use_case.streaming:
        raise NotFound(f"There is no streaming use case {use_case_id!r}.")
    request = service.validate(use_case, body)
    # No catalog task streams and takes files today; one that did would read its uploads here (with no deadline:
    # the streaming function has minutes), which is why its function may only read the uploads prefix.
    attachments = service.attach(use_case, request, caller=caller)
    turn = service.remembered_turn(use_case, request, caller)
    if turn is None:
        converse_request = service.build_request(use_case, request, attachments=attachments)
    else:
        converse_request = service.cached(
            service.build_request(use_case, service.with_history(use_case, request, turn), attachments=attachments),
            turn,
        )
    if "guardrailConfig" in converse_request:
        # "sync": the guardrail checks each chunk before it is sent, so nothing it would block reaches the caller.
        converse_request["guardrailConfig"] = {**converse_request["guardrailConfig"], "streamProcessingMode": "sync"}
    started = time.perf_counter()
    with service.around_model_call(use_case, converse_request["modelId"]):
        events = converse_stream(service.client, converse_request)
    return _events(service, use_case, converse_request["modelId"], events, started, turn)


def _events(
    service: UseCaseService,
    use_case: UseCase,
    model: str,
    events: Generator[dict[str, Any], None, None],
    started: float,
    turn: RememberedTurn | None = None,
) -> Generator[StreamEvent, None, None]:
    first_token_ms: int | None = None
    stop_reason = ""
    reported: dict[str, Any] = {}
    pieces: list[str] = []  # the reply, kept only for a remembered turn
    with closing(events):
        for event in events:
            if "contentBlockDelta" in event:
                text = event["contentBlockDelta"].get("delta", {}).get("text")
                if text:
                    if first_token_ms is None:
                        first_token_ms = round((time.perf_counter() - started) * 1000)
                    if turn is not None:
                        pieces.append(text)
                    yield TextDelta(text)
            elif "messageStop" in event:
                stop_reason = str(event["messageStop"].get("stopReason", ""))
            elif "metadata" in event:
                reported = dict(event["metadata"].get("usage", {}))
    latency_ms = round((time.perf_counter() - started) * 1000)
    intervened = stop_reason == GUARDRAIL_INTERVENED
    usage = token_usage([reported])
    memory = None
    if turn is not None:  # after the stream's end, before its summary: the summary says whether it was stored
        reply = "".join(pieces).strip()
        memory = service.remember(turn, reply, store=bool(reply) and not intervened, usage=usage)
    yield StreamSummary(
        use_case=use_case.id,
        model=model,
        usage=usage,
        stop_reason=stop_reason,
        latency_ms=latency_ms,
        first_token_ms=first_token_ms,
        guardrail_action=("INTERVENED" if intervened else "NONE") if service.guarded(use_case) else None,
        memory=memory,
    )
