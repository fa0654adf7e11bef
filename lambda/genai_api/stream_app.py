"""The streaming entry point: ``POST /<family>/<task>/stream`` answers with Server-Sent Events, a thin adapter over
the same core (catalog, validation, prompts, Bedrock fault map) as ``handler.py``.

API Gateway streams a REST response only from a Lambda function that streams its response, which the Python
managed runtime does not do by itself; the AWS Lambda Web Adapter layer does it for a web server in the function.
``stream_server.py`` is that server; this module is free of any server, so ``make local`` serves it too.

``handle`` decides everything before the first byte: a request with more than one request context (400), an unknown
route (404), a wrong method (405), a Content-Type that is not JSON (415, the rule of ``media_type.py``), an invalid
request, a failure to load a remembered conversation or a Bedrock error on the call get the usual status and JSON
envelope. After that the answer is a 200 ``text/event-stream``: ``delta`` events, then ``done`` with usage, stop
reason, model, latencies, the guardrail action and, for a remembered conversation, its id and whether the turn was
stored; or ``error`` with ``{"error": {"code", "message"}}`` if Bedrock fails mid-stream or the turn cannot be stored
after it (a remembered turn is stored before ``done``).

Each request leaves one log line (no prompt or reply text) and one EMF metrics document with the same metrics as the
buffered routes, plus ``TimeToFirstToken``; the metrics are flushed here, since no Lambda handler decorator runs.
A client that goes away mid-stream leaves the line "client disconnected" (the server closes the stream's iterator,
which closes the Bedrock stream too), and a request the server refuses before it reaches ``handle`` (malformed HTTP)
leaves "request refused".

The request context (API Gateway's ``requestContext``, with the request id and the caller's identity) arrives as the
JSON ``x-amzn-request-context`` header, which the Lambda Web Adapter sets on each request it forwards. A client can
send a header of that name too; the adapter is believed to replace it with its own (not verified against a live
deployment), and a request that arrives with two of them is refused, since either could be the client's.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Generator, Iterable, Mapping, Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

import telemetry
from caller import auth_mode_from, owner
from genai_core import sse
from genai_core.bedrock import make_client
from genai_core.catalog import UseCase, load_catalog
from genai_core.errors import ApiError, BadRequest, MethodNotAllowed, NotFound
from genai_core.service import UseCaseService
from genai_core.settings import Settings
from genai_core.streaming import StreamEvent, TextDelta, open_stream
from http_io import Response
from media_type import check_content_types

if TYPE_CHECKING:  # loaded on the first request that names an upload (no streaming task takes files today)
    from genai_core.uploads import Uploads

logger = Logger()
metrics = Metrics()
settings = Settings.from_env(os.environ)
auth_mode = auth_mode_from(os.environ)  # which identity field of the request context names the caller (caller.py)
catalog = load_catalog()
bedrock_client = make_client(settings.client)


@functools.cache
def upload_store() -> Uploads | None:
    """The uploads store, read-only here (the stack grants this function GetObject on the uploads prefix only when a
    streaming task takes files; without UPLOADS_BUCKET: None)."""
    from genai_core import uploads

    return uploads.from_env(os.environ)


# A remembered conversation is loaded before the stream and stored after it (its store made on first use).
service = UseCaseService(
    catalog,
    settings.models,
    bedrock_client,
    guardrail=settings.guardrail,
    uploads=upload_store,
    conversations=settings.conversations,
)
ROUTES: dict[str, UseCase] = {use_case.stream_path: use_case for use_case in catalog if use_case.stream_path}
REQUEST_CONTEXT_HEADER = "x-amzn-request-context"  # set by the Lambda Web Adapter: API Gateway's requestContext


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    payload = json.dumps(body, ensure_ascii=False).encode()
    return Response(status, {"Content-Type": "application/json", **(headers or {})}, iter([payload]))


def _error(error: ApiError) -> Response:
    logger.warning("request failed", status=error.status, error_code=error.code)
    return _json(error.status, error.to_body(), error.headers)


def request_context_from(values: Sequence[str]) -> Mapping[str, Any] | None:
    """API Gateway's request context, from the values of the request's ``x-amzn-request-context`` headers (parsed
    once: the request id and the caller both come from it). None when there is none or it is not a JSON object.
    More than one is a ``BadRequest``: the adapter sets one, so a second is a client's, and which is which is unknown."""
    if len(values) > 1:
        raise BadRequest(f"The request has {len(values)} {REQUEST_CONTEXT_HEADER} headers; at most one is allowed.")
    try:
        parsed = json.loads(values[0]) if values else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def request_id_from(request_context: Mapping[str, Any] | None) -> str | None:
    """API Gateway's request id, from the request context."""
    value = (request_context or {}).get("requestId")
    return value if isinstance(value, str) else None


def handle(
    method: str,
    path: str,
    body: bytes,
    *,
    request_contexts: Sequence[str] = (),
    content_types: Iterable[str] = (),
) -> Response:
    """Answer one request. ``request_contexts``: every ``x-amzn-request-context`` header value the request has;
    ``content_types``: every Content-Type header value (none: absent)."""
    logger.clear_state()
    try:
        request_context = request_context_from(request_contexts)
    except ApiError as error:
        return _error(error)
    request_id = request_id_from(request_context)
    if request_id:
        logger.set_correlation_id(request_id)
    use_case = ROUTES.get(path)
    if use_case is None:
        return _error(NotFound(f"There is no streaming route {path}. Routes: {', '.join(sorted(ROUTES))}."))
    if method != "POST":
        return _error(MethodNotAllowed(f"{method} is not allowed on {path}; use POST."))
    logger.append_keys(use_case=use_case.id, model=service.model_for(use_case), streamed=True)
    telemetry.start(metrics, use_case)
    try:
        check_content_types(content_types)  # the same rule as the buffered routes (media_type.py)
        events = open_stream(service, use_case.id, body, caller=owner(request_context, auth_mode))
    except ApiError as error:
        telemetry.record_failure(metrics, error)
        metrics.flush_metrics()
        return _error(error)
    headers = {"Content-Type": sse.CONTENT_TYPE, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(200, headers, _frames(events), streamed=True)


def _frames(events: Generator[StreamEvent, None, None]) -> Generator[bytes, None, None]:
    started = time.perf_counter()
    deltas = 0
    try:
        with closing(events):
            for event in events:
                if isinstance(event, TextDelta):
                    deltas += 1
                    yield sse.frame(sse.DELTA, {"text": event.text})
                else:
                    logger.info("use case completed", **telemetry.record_stream(metrics, event))
                    yield sse.frame(sse.DONE, event.to_body())
    except GeneratorExit:  # the server closed the stream: the client went away before the end
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        logger.warning("client disconnected", deltas_sent=deltas, elapsed_ms=elapsed_ms)
        raise
    except ApiError as error:  # after the first byte: the status is sent, so the error is the stream's last event
        telemetry.record_failure(metrics, error)
        logger.warning("stream failed", error_code=error.code, upstream_error=getattr(error, "upstream", None))
        yield sse.frame(sse.ERROR, error.to_body())
    except Exception as error:
        logger.exception("unexpected error", error_type=type(error).__name__)
        yield sse.frame(sse.ERROR, ApiError("An unexpected error occurred.").to_body())
    finally:
        metrics.flush_metrics()


def log_refusal(status: int, code: str) -> None:
    """The log line of a request that the server refused as malformed HTTP (it never reached ``handle``)."""
    logger.clear_state()
    logger.warning("request refused", status=status, error_code=code)


def log_crash(error: Exception) -> None:
    """The log line (with the traceback, which holds no request text) of a failure outside ``handle``'s care."""
    logger.exception("unexpected error", error_type=type(error).__name__)
