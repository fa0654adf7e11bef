"""Streaming chat (``POST /customer-experience/chat/stream``): the core's stream (genai_core/streaming.py), the
adapter over it (stream_app.py), and the web server that the Lambda Web Adapter runs (stream_server.py). The SSE
framing itself is test_sse.py's.

Stubber cannot fake an event stream, so ``converse_stream`` is patched on the adapter's real client: the fake
records each request and yields the events that ConverseStream would (the shapes of botocore's service model),
or raises the error events it would raise. Failures of the connection itself (a stall, a reset, a corrupt message)
come from a real local endpoint instead: a TCP server on 127.0.0.1 that answers ConverseStream with real AWS
event-stream messages, then fails, and a real bedrock-runtime client pointed at it.
"""

from __future__ import annotations

import http.client
import importlib
import io
import json
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError, EventStreamError, ReadTimeoutError

import endpoints
from genai_core import settings
from genai_core.limits import longest_call_seconds
from tests.support import API_KEY_IDENTITY, IAM_IDENTITY, MODEL_ID, api_event
from tools.templates import render

STREAM = "/customer-experience/chat/stream"
BODY = {"messages": [{"role": "user", "content": "Olá! Meu pedido 48213 não chegou."}]}
SECRET = "CANARY-7f3a"  # must never reach a log line


@pytest.fixture(scope="session")
def app() -> ModuleType:
    return importlib.import_module("stream_app")


def events(*texts: str, stop_reason: str = "end_turn", tokens: tuple[int, int] = (40, 12)) -> list[dict[str, Any]]:
    """The events of a ConverseStream answer with ``texts`` as its deltas."""
    stream: list[dict[str, Any]] = [{"messageStart": {"role": "assistant"}}]
    stream += [{"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}} for text in texts]
    stream += [
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": stop_reason}},
        {
            "metadata": {
                "usage": {"inputTokens": tokens[0], "outputTokens": tokens[1], "totalTokens": sum(tokens)},
                "metrics": {"latencyMs": 420},
            }
        },
    ]
    return stream


class FakeStream:
    """Stands in for ``client.converse_stream``: records requests, answers with events or raises."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer: list[Any] = []
        self.fail_on_call: Exception | None = None

    def __call__(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.fail_on_call is not None:
            raise self.fail_on_call
        return {"stream": self._events()}

    def _events(self) -> Iterator[dict[str, Any]]:
        for item in self.answer:
            if isinstance(item, Exception):
                raise item
            yield item


@pytest.fixture
def bedrock_stream(app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> FakeStream:
    fake = FakeStream()
    monkeypatch.setattr(app.bedrock_client, "converse_stream", fake)
    return fake


def run(
    app: ModuleType, body: Any = BODY, *, path: str = STREAM, method: str = "POST"
) -> tuple[int, dict[str, str], bytes, bool]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = app.handle(method, path, raw, request_contexts=[json.dumps({"requestId": "req-123"})])
    return response.status, response.headers, b"".join(response.chunks), response.streamed


def stream_error(code: str, message: str = "upstream said no") -> EventStreamError:
    return EventStreamError({"Error": {"Code": code, "Message": message}}, "ConverseStream")


# --- the core's stream, directly ------------------------------------------------------------------------------------


def test_open_stream_gives_the_text_deltas_in_order_then_one_summary(app, bedrock_stream):
    from genai_core.streaming import StreamSummary, TextDelta, open_stream

    bedrock_stream.answer = events("Olá", "", " mundo", tokens=(9, 2))  # an empty delta is no event

    given = list(open_stream(app.service, "customer-experience/chat", json.dumps(BODY).encode()))

    assert given[:-1] == [TextDelta("Olá"), TextDelta(" mundo")]
    (summary,) = given[-1:]
    assert isinstance(summary, StreamSummary) and summary.usage == {
        "inputTokens": 9,
        "outputTokens": 2,
        "totalTokens": 11,
    }
    assert summary.to_body()["useCase"] == "customer-experience/chat" and summary.stop_reason == "end_turn"
    (request,) = bedrock_stream.requests
    assert request["modelId"] == app.service.model_for(app.catalog.get("customer-experience/chat"))


@pytest.mark.parametrize("use_case_id", ["productivity/summarize", "no/such-task"])
def test_open_stream_refuses_a_task_that_does_not_stream_before_any_call(app, bedrock_stream, use_case_id):
    from genai_core.errors import NotFound
    from genai_core.streaming import open_stream

    with pytest.raises(NotFound, match="There is no streaming use case"):
        open_stream(app.service, use_case_id, json.dumps({"text": "x"}).encode())
    assert bedrock_stream.requests == []


def test_a_streaming_task_that_took_files_would_read_the_callers_uploads_before_the_stream(
    app, bedrock_stream, tmp_path
):
    """No catalog task streams and takes files today; the core would serve one (catalog data, not code), reading
    the caller's uploads through the store it is given, before ConverseStream."""
    import shutil

    from genai_core import files
    from genai_core.catalog import CATALOG_DIR, load_catalog
    from genai_core.streaming import TextDelta, open_stream
    from tests import file_samples
    from tests.test_service import FakeStore

    catalog_dir = tmp_path / "use_cases"
    shutil.copytree(CATALOG_DIR, catalog_dir)
    summarize = catalog_dir / "productivity" / "summarize.json"
    summarize.write_text(json.dumps({**json.loads(summarize.read_text()), "streaming": True}), encoding="utf-8")
    upload_id = files.new_upload_id(1_900_000_000)
    store = FakeStore({("iam:ana", upload_id): files.Upload(file_samples.pdf(), "application/pdf", "s3://b/k")})
    service = replace_service(app.service, load_catalog(catalog_dir), store)
    bedrock_stream.answer = events("Resumo.")
    body = json.dumps({"files": [{"name": "a.pdf", "format": "pdf", "uploadId": upload_id}]}).encode()

    given = list(open_stream(service, "productivity/summarize", body, caller="iam:ana"))

    assert given[0] == TextDelta("Resumo.") and store.reads == [upload_id]
    (request,) = bedrock_stream.requests
    assert request["messages"][0]["content"][0]["document"]["name"] == "Document 1"


def replace_service(service: Any, catalog: Any, store: Any) -> Any:
    from genai_core.service import UseCaseService

    return UseCaseService(catalog, service.models, service.client, guardrail=service.guardrail, uploads=lambda: store)


# --- the adapter over the core -----------------------------------------------------------------------------------


def test_deltas_arrive_in_order_then_a_final_event_with_usage_model_and_guardrail(app, bedrock_stream):
    bedrock_stream.answer = events("Olá! ", "Vou verificar ", "o pedido 48213.", tokens=(57, 14))

    status, headers, body, streamed = run(app)

    assert (status, streamed) == (200, True)
    assert headers["Content-Type"] == "text/event-stream; charset=utf-8"
    from genai_core import sse

    parsed = sse.parse(body)
    assert parsed[:3] == [
        ("delta", {"text": "Olá! "}),
        ("delta", {"text": "Vou verificar "}),
        ("delta", {"text": "o pedido 48213."}),
    ]
    name, done = parsed[3]
    assert name == "done" and len(parsed) == 4
    assert done["useCase"] == "customer-experience/chat"
    assert done["model"] == MODEL_ID
    assert done["usage"] == {"inputTokens": 57, "outputTokens": 14, "totalTokens": 71}
    assert done["stopReason"] == "end_turn"
    assert done["guardrail"] == {"action": "NONE"}
    assert isinstance(done["firstTokenMs"], int) and done["latencyMs"] >= done["firstTokenMs"] >= 0


def test_the_stream_uses_the_same_prompt_and_the_guardrail_in_sync_mode(app, bedrock_stream):
    bedrock_stream.answer = events("Oi")

    run(app, {**BODY, "language": "pt-BR"})

    (request,) = bedrock_stream.requests
    assert request["modelId"] == MODEL_ID
    assert request["messages"] == [{"role": "user", "content": [{"text": BODY["messages"][0]["content"]}]}]
    assert "virtual assistant" in request["system"][0]["text"]
    assert request["system"][0]["text"].endswith("in this language: Brazilian Portuguese (pt-BR).")
    assert request["inferenceConfig"] == {"maxTokens": 1024, "temperature": 0.5}
    assert request["guardrailConfig"] == {
        "guardrailIdentifier": "gr0test0guard",
        "guardrailVersion": "1",
        "trace": "disabled",
        "streamProcessingMode": "sync",
    }
    # The request is valid for ConverseStream in botocore's own service model.
    from botocore.validate import validate_parameters

    validate_parameters(request, app.bedrock_client.meta.service_model.operation_model("ConverseStream").input_shape)


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"messages": []}, "validation_error", "messages must have at least 1 item(s)"),
        (
            {"messages": [{"role": "assistant", "content": "Hi"}]},
            "validation_error",
            "conversation starts with the user",
        ),
        (b"{not json", "invalid_json", ""),
    ],
)
def test_an_invalid_request_is_a_json_error_before_any_byte_is_streamed(app, bedrock_stream, body, code, fragment):
    status, headers, raw, streamed = run(app, body)

    assert (status, streamed) == (400, False)
    assert headers["Content-Type"] == "application/json"
    error = json.loads(raw)["error"]
    assert error["code"] == code and fragment in error["message"]
    assert bedrock_stream.requests == []  # Bedrock was never called


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (
            ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ConverseStream"),
            502,
            "upstream_access_denied",
        ),
        (
            ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "ConverseStream"),
            429,
            "throttled",
        ),
        (ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"), 504, "model_timeout"),
    ],
)
def test_a_bedrock_error_on_the_call_gets_the_usual_status_and_envelope(app, bedrock_stream, failure, status, code):
    bedrock_stream.fail_on_call = failure

    got, headers, raw, streamed = run(app)

    assert (got, streamed) == (status, False)
    assert json.loads(raw)["error"]["code"] == code
    if status == 429:
        assert headers["Retry-After"] == "2"


@pytest.mark.parametrize(
    ("error_event", "code"),
    [
        ("throttlingException", "throttled"),
        ("modelStreamErrorException", "model_stream_error"),
        ("internalServerException", "upstream_error"),
        ("serviceUnavailableException", "upstream_unavailable"),
        ("validationException", "model_validation_error"),
    ],
)
def test_a_mid_stream_bedrock_error_ends_the_stream_with_an_error_event(app, bedrock_stream, error_event, code):
    bedrock_stream.answer = [*events("Olá, ", "vou")[:3], stream_error(error_event)]

    status, _, body, streamed = run(app)

    from genai_core import sse

    assert (status, streamed) == (200, True)  # the status was sent with the first byte
    parsed = sse.parse(body)
    assert parsed[:2] == [("delta", {"text": "Olá, "}), ("delta", {"text": "vou"})]
    name, data = parsed[-1]
    assert name == "error" and len(parsed) == 3
    assert set(data) == {"error"} and set(data["error"]) == {"code", "message"}
    assert data["error"]["code"] == code


def test_an_unexpected_failure_mid_stream_is_an_internal_error_event_without_details(app, bedrock_stream):
    bedrock_stream.answer = [*events("Um")[:2], RuntimeError(f"secret detail {SECRET}")]

    body = run(app)[2].decode()

    assert SECRET not in body
    assert body.endswith(
        'event: error\ndata: {"error":{"code":"internal_error","message":"An unexpected error occurred."}}\n\n'
    )


def test_a_guardrail_intervention_is_flagged_in_the_final_event(app, bedrock_stream):
    bedrock_stream.answer = events("Sorry, I can't help with that.", stop_reason="guardrail_intervened")

    from genai_core import sse

    parsed = sse.parse(run(app)[2])
    assert parsed[0] == ("delta", {"text": "Sorry, I can't help with that."})
    name, done = parsed[-1]
    assert name == "done"
    assert (done["stopReason"], done["guardrail"]) == ("guardrail_intervened", {"action": "INTERVENED"})


@pytest.mark.parametrize(
    ("path", "method", "status", "code"),
    [
        ("/customer-experience/chat", "POST", 404, "not_found"),  # buffered chat is the other function's
        ("/productivity/summarize/stream", "POST", 404, "not_found"),  # only streaming tasks have a stream route
        (STREAM, "GET", 405, "method_not_allowed"),
    ],
)
def test_routes_and_methods_outside_the_stream_routes_are_json_errors(app, bedrock_stream, path, method, status, code):
    got, _, raw, streamed = run(app, path=path, method=method)

    assert (got, streamed, json.loads(raw)["error"]["code"]) == (status, False, code)


# --- the caller, from the request context the Lambda Web Adapter forwards --------------------------------------------


@pytest.fixture
def stream_callers(app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The ``caller`` of each ``open_stream`` call the adapter makes (the core then runs as usual)."""
    seen: list[Any] = []
    open_stream = app.open_stream

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("caller", "(not passed)"))
        return open_stream(*args, **kwargs)

    monkeypatch.setattr(app, "open_stream", spy)
    return seen


def context_header(identity: dict[str, Any] | None = None, request_id: str = "apigw-req-7") -> str:
    """The x-amzn-request-context header: API Gateway's requestContext as JSON (a real-shaped event's)."""
    return json.dumps(api_event(STREAM, BODY, identity=identity)["requestContext"] | {"requestId": request_id})


@pytest.mark.parametrize(
    ("mode", "identity", "expected"),
    [
        ("iam", IAM_IDENTITY, "iam:" + IAM_IDENTITY["userArn"]),
        ("api-key", API_KEY_IDENTITY, "apikey:" + API_KEY_IDENTITY["apiKeyId"]),
        ("api-key", {**IAM_IDENTITY, "apiKey": API_KEY_IDENTITY["apiKey"]}, None),  # the key alone names no one
    ],
)
def test_the_caller_of_a_stream_comes_from_the_request_context_and_reaches_the_core(
    app, bedrock_stream, stream_callers, logs, monkeypatch, mode, identity, expected
):
    monkeypatch.setattr(app, "auth_mode", mode)
    bedrock_stream.answer = events("Oi")

    response = app.handle("POST", STREAM, json.dumps(BODY).encode(), request_contexts=[context_header(identity)])

    assert (response.status, b"".join(response.chunks).count(b"event: done")) == (200, 1)
    assert stream_callers == [expected]
    (line,) = [entry for entry in logs() if entry["message"] == "use case completed"]
    assert line["correlation_id"] == "apigw-req-7"  # the request id and the caller: one parse of one header
    assert IAM_IDENTITY["userArn"] not in json.dumps(logs()) and API_KEY_IDENTITY["apiKeyId"] not in json.dumps(logs())


@pytest.mark.parametrize("contexts", [[], ["not json"], ['["a list"]'], ["null"]])
def test_a_stream_without_a_usable_request_context_has_no_caller(app, bedrock_stream, stream_callers, contexts):
    bedrock_stream.answer = events("Oi")

    response = app.handle("POST", STREAM, json.dumps(BODY).encode(), request_contexts=contexts)

    assert (response.status, b"".join(response.chunks).count(b"event: done")) == (200, 1)
    assert stream_callers == [None]


def test_a_request_with_two_request_contexts_is_refused_before_anything_else(app, bedrock_stream, stream_callers):
    # A client may send its own header of that name: with two, either could be the client's.
    forged = context_header({"userArn": "arn:aws:iam::999999999999:user/mallory"})
    for path in (STREAM, "/no/such/route"):
        response = app.handle(
            "POST", path, json.dumps(BODY).encode(), request_contexts=[context_header(IAM_IDENTITY), forged]
        )

        assert (response.status, response.streamed) == (400, False)
        assert json.loads(b"".join(response.chunks))["error"] == {
            "code": "bad_request",
            "message": "The request has 2 x-amzn-request-context headers; at most one is allowed.",
        }
    assert stream_callers == [] and bedrock_stream.requests == []


# --- metrics and logs ------------------------------------------------------------------------------------------------


def emf_documents(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws":')]


@pytest.fixture
def logs(app: ModuleType) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The adapter's structured log lines (Powertools writes JSON to the stream it was given; here, a buffer)."""
    stream = io.StringIO()
    previous = app.logger.registered_handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    app.logger.registered_handler.setStream(previous)


def test_a_stream_publishes_tokens_latency_and_time_to_first_token_and_one_log_line(app, bedrock_stream, capsys, logs):
    bedrock_stream.answer = events(f"reply {SECRET}", tokens=(30, 9))

    run(app, {"messages": [{"role": "user", "content": f"prompt {SECRET}"}]})

    out = capsys.readouterr().out
    (document,) = emf_documents(out)
    names = {metric["Name"]: metric["Unit"] for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {
        "Requests": "Count",
        "InputTokens": "Count",
        "OutputTokens": "Count",
        "BedrockLatency": "Milliseconds",
        "TimeToFirstToken": "Milliseconds",
    }
    assert (document["InputTokens"], document["OutputTokens"], document["Family"], document["Task"]) == (
        [30.0],
        [9.0],
        "customer-experience",
        "chat",
    )
    (line,) = [entry for entry in logs() if entry["message"] == "use case completed"]
    assert line["correlation_id"] == "req-123" and line["streamed"] is True
    assert (line["use_case"], line["input_tokens"], line["output_tokens"]) == ("customer-experience/chat", 30, 9)
    assert SECRET not in out and SECRET not in json.dumps(logs())  # neither the prompt nor the reply is logged


def test_a_mid_stream_failure_is_counted_as_a_model_error(app, bedrock_stream, capsys):
    bedrock_stream.answer = [*events("a")[:2], stream_error("throttlingException")]

    run(app)

    documents = emf_documents(capsys.readouterr().out)
    counted = {
        name for document in documents for name in document if name[0].isupper() and isinstance(document[name], list)
    }
    assert {"Requests", "ModelErrors", "BedrockThrottles"} <= counted


# --- a real local Bedrock endpoint that fails mid-stream ---------------------------------------------------------------


def event_message(event_type: str, payload: dict[str, Any]) -> bytes:
    """One message of the AWS event-stream encoding, as ConverseStream sends each event: a prelude (total length,
    headers length, their CRC32), string headers (name length, name, type 7, value length, value), the JSON
    payload, and the CRC32 of the whole message."""
    headers = b""
    for name, value in ((":message-type", "event"), (":event-type", event_type), (":content-type", "application/json")):
        headers += (
            struct.pack(">B", len(name)) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
        )
    body = json.dumps(payload).encode()
    prelude = struct.pack(">II", 12 + len(headers) + len(body) + 4, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def delta_messages(*texts: str) -> list[bytes]:
    return [event_message("messageStart", {"role": "assistant"})] + [
        event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}}) for text in texts
    ]


class BedrockEndpoint:
    """A TCP server on 127.0.0.1 that answers one ConverseStream request with HTTP 200, the event-stream content
    type and ``messages`` (chunked, as Bedrock sends them), then stalls (until the test ends) or resets the
    connection (SO_LINGER 0: an RST, not a FIN)."""

    def __init__(self, messages: list[bytes], ending: str) -> None:
        self.messages, self.ending = messages, ending
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            received = b""
            while b"\r\n\r\n" not in received:
                received += connection.recv(65536)
            head, _, body = received.partition(b"\r\n\r\n")
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            )
            while len(body) < length:
                body += connection.recv(65536)
            self.requests.append(head.split(b"\r\n")[0])
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"
                b"x-amzn-RequestId: 11111111-2222-3333-4444-555555555555\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            for message in self.messages:
                connection.sendall(b"%x\r\n%s\r\n" % (len(message), message))
            if self.ending == "stall":
                self.done.wait(10)
            else:
                time.sleep(0.2)  # the client has read the messages and waits for more
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(read_timeout=0.5, connect_timeout=1, retries={"total_max_attempts": 1, "mode": "standard"})
        return boto3.client(
            "bedrock-runtime", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{self.port}", config=config
        )

    def close(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def endpoint(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[list[bytes], str], BedrockEndpoint]]:
    """Start a ``BedrockEndpoint`` and point the adapter's Bedrock client at it."""
    started: list[BedrockEndpoint] = []

    def start(messages: list[bytes], ending: str) -> BedrockEndpoint:
        server = BedrockEndpoint(messages, ending)
        started.append(server)
        monkeypatch.setattr(app.service, "client", server.client())
        return server

    yield start
    for server in started:
        server.close()


def test_the_event_stream_encoder_writes_what_botocore_decodes():
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Olá"}}))
    (message,) = list(buffer)

    assert message.headers == {
        ":message-type": "event",
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
    }
    assert json.loads(message.payload) == {"contentBlockIndex": 0, "delta": {"text": "Olá"}}


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(
    ("ending", "code", "upstream"),
    [("stall", "model_timeout", "ReadTimeoutError"), ("reset", "upstream_unavailable", "ProtocolError")],
)
def test_a_connection_that_stalls_or_resets_mid_stream_ends_with_the_documented_error_and_metric(
    app, endpoint, capsys, logs, ending, code, upstream
):
    """Real failures, through botocore's real event-stream reader: they surface as urllib3's exceptions."""
    from genai_core import sse
    from genai_core.bedrock import FAULTS

    server = endpoint(delta_messages("Olá, ", "tudo "), ending)

    status, _, body, streamed = run(app)

    assert server.requests == [f"POST /model/{MODEL_ID}/converse-stream HTTP/1.1".replace(":", "%3A").encode()]
    assert (status, streamed) == (200, True)
    parsed = sse.parse(body)
    assert parsed[:2] == [("delta", {"text": "Olá, "}), ("delta", {"text": "tudo "})]
    (name, data), *after = parsed[2:]
    assert (name, set(data["error"]), data["error"]["code"], after) == ("error", {"code", "message"}, code, [])
    assert data["error"]["message"] in {message for _, fault, message in FAULTS if fault == code}  # documented
    documents = emf_documents(capsys.readouterr().out)
    assert [d["ModelErrors"] for d in documents if d.get("ErrorCode") == code] == [[1.0]]
    assert any("ModelErrors" in d and "Task" in d for d in documents)  # per use case too
    (line,) = [entry for entry in logs() if entry["message"] == "stream failed"]
    assert (line["error_code"], line["upstream_error"]) == (code, upstream)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_corrupt_message_mid_stream_is_an_upstream_error(app, endpoint, capsys):
    from genai_core import sse

    corrupt = bytearray(event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "x"}}))
    corrupt[-1] ^= 0xFF  # the message's CRC no longer matches
    endpoint([*delta_messages("Olá"), bytes(corrupt)], "stall")

    parsed = sse.parse(run(app)[2])

    assert parsed[0] == ("delta", {"text": "Olá"})
    assert parsed[-1][0] == "error" and parsed[-1][1]["error"]["code"] == "upstream_error"
    assert any(d.get("ErrorCode") == "upstream_error" for d in emf_documents(capsys.readouterr().out))


# --- the web server the Lambda Web Adapter runs ----------------------------------------------------------------------


@pytest.fixture
def server(app: ModuleType) -> Iterator[int]:
    import stream_server

    httpd = stream_server.create_server(0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    return connection.getresponse()


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_server_streams_chunked_sse_with_the_deltas_in_order(server, bedrock_stream, logs):
    bedrock_stream.answer = events("um ", "dois ", "três")
    context = json.dumps({"requestId": "apigw-req-9", "stage": "v1"})

    response = request(server, "POST", STREAM, json.dumps(BODY).encode(), {"x-amzn-request-context": context})

    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    chunks = []
    while chunk := response.read1():
        chunks.append(chunk)
    from genai_core import sse

    parsed = sse.parse(b"".join(chunks))
    assert [data["text"] for name, data in parsed if name == "delta"] == ["um ", "dois ", "três"]
    assert parsed[-1][0] == "done"
    (line,) = [entry for entry in logs() if entry["message"] == "use case completed"]
    assert line["correlation_id"] == "apigw-req-9"


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_client_that_disconnects_mid_stream_leaves_one_log_line_and_no_traceback(
    app, server, logs, capsys, monkeypatch
):
    """The client reads the first delta and resets the connection; the model goes on. The server's next write
    fails: the stream's iterator is closed (and with it the Bedrock stream), one line says so, nothing else."""
    released, closed = threading.Event(), threading.Event()

    def answer() -> Iterator[dict[str, Any]]:
        try:
            yield from events("um ")[:2]
            released.wait(5)
            for _ in range(500):
                yield {"contentBlockDelta": {"delta": {"text": "mais "}, "contentBlockIndex": 0}}
            yield from events()[-3:]
        finally:
            closed.set()

    monkeypatch.setattr(app.bedrock_client, "converse_stream", lambda **_: {"stream": answer()})
    body = json.dumps(BODY).encode()
    with socket.create_connection(("127.0.0.1", server), timeout=5) as client:
        client.sendall(b"POST %s HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (STREAM.encode(), len(body), body))
        received = b""
        while b"event: delta" not in received:
            received += client.recv(65536)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    released.set()

    assert closed.wait(5)  # the Bedrock stream was closed, not read to its end
    deadline = time.monotonic() + 5
    while not [entry for entry in logs() if entry["message"] == "client disconnected"] and time.monotonic() < deadline:
        time.sleep(0.02)
    (line,) = logs()  # the request's only line
    assert (line["message"], line["level"], line["use_case"]) == (
        "client disconnected",
        "WARNING",
        "customer-experience/chat",
    )
    assert line["deltas_sent"] >= 1
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_server_answers_errors_with_a_json_body_and_a_length(server, bedrock_stream):
    response = request(server, "POST", STREAM, b'{"messages": []}')

    body = response.read()
    assert response.status == 400
    assert response.getheader("Content-Length") == str(len(body))
    assert json.loads(body)["error"]["code"] == "validation_error"


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_request_the_server_refuses_leaves_one_structured_line_and_nothing_on_stderr(server, logs, capsys):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as client:
        client.sendall(b"POST %s HTTP/1.1\r\nContent-Length: abc\r\n\r\n{}" % STREAM.encode())
        answer = b""
        while data := client.recv(65536):
            answer += data

    assert answer.startswith(b"HTTP/1.1 400 ") and b'"bad_request"' in answer
    (line,) = logs()
    assert (line["message"], line["status"], line["error_code"]) == ("request refused", 400, "bad_request")
    assert capsys.readouterr().err == ""


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_crash_outside_the_adapters_care_is_a_500_envelope_and_one_log_line(app, server, logs, capsys, monkeypatch):
    def crash(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(app, "handle", crash)

    response = request(server, "POST", STREAM, json.dumps(BODY).encode())

    assert (response.status, json.loads(response.read())) == (
        500,
        {"error": {"code": "internal_error", "message": "An unexpected error occurred."}},
    )
    (line,) = logs()
    assert (line["message"], line["error_type"]) == ("unexpected error", "RuntimeError")
    assert "Traceback" not in capsys.readouterr().err  # the traceback is in the structured line, not on stderr


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize("names", [("x-amzn-request-context",), ("x-amzn-request-context", "X-Amzn-Request-Context")])
def test_the_server_passes_every_request_context_header_to_the_adapter(
    server, bedrock_stream, stream_callers, names, app, monkeypatch
):
    """One header: its caller reaches the core. Two (in any letter case): a 400 envelope and no model call."""
    monkeypatch.setattr(app, "auth_mode", "iam")
    bedrock_stream.answer = events("Oi")
    body = json.dumps(BODY).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    connection.putrequest("POST", STREAM)
    for header in ("Content-Type: application/json", f"Content-Length: {len(body)}"):
        connection.putheader(*header.split(": "))
    for name in names:
        connection.putheader(name, context_header(IAM_IDENTITY))
    connection.endheaders(body)
    response = connection.getresponse()
    answer = response.read()

    if len(names) == 1:
        assert response.status == 200 and b"event: done" in answer
        assert stream_callers == ["iam:" + IAM_IDENTITY["userArn"]]
    else:
        assert (response.status, json.loads(answer)["error"]["code"]) == (400, "bad_request")
        assert stream_callers == [] and bedrock_stream.requests == []


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_server_answers_the_adapters_readiness_check(server):
    response = request(server, "GET", "/healthz")

    assert (response.status, response.read()) == (200, b"ok")


def test_run_sh_starts_the_server_and_is_executable():
    run_sh = Path(__file__).resolve().parent.parent / "lambda" / "genai_api" / "run.sh"

    assert run_sh.stat().st_mode & 0o111  # the adapter executes the handler as a command
    text = run_sh.read_text()
    assert 'exec python3 "${LAMBDA_TASK_ROOT}/stream_server.py"' in text
    assert "/opt/python" in text  # the Powertools layer stays importable


# --- discovery ------------------------------------------------------------------------------------------------------


def test_discovery_gives_the_stream_path_of_every_streaming_task_and_only_theirs(app):
    assert app.catalog.get("customer-experience/chat").stream_path == STREAM  # the task these tests stream
    for use_case in app.catalog:
        assert use_case.public().get("streamPath") == (f"{use_case.path}/stream" if use_case.streaming else None)


# --- the template -----------------------------------------------------------------------------------------------------


def stream_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from tests.test_infrastructure import function

    key, resource = function(template, "run.sh")
    return key, resource["Properties"]


def methods_by_path(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The API's methods by path: those whose integration streams, and the others."""
    from tests.test_infrastructure import resource_paths, resources

    paths = resource_paths(template)
    streamed, buffered = {}, {}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        ref = properties["ResourceId"].get("Ref") if isinstance(properties["ResourceId"], dict) else None
        if ref in paths:
            mode = properties["Integration"].get("ResponseTransferMode")
            (streamed if mode == "STREAM" else buffered)[paths[ref]] = properties
    return streamed, buffered


def test_every_stream_route_streams_from_the_streaming_function(templates):
    from genai_core.catalog import load_catalog
    from tests.support import API_STACK, CDK_CONTEXT

    template = templates[API_STACK]
    function_id, _ = stream_function(template)
    streamed, buffered = methods_by_path(template)
    streaming = {route.stream_path for route in load_catalog() if route.streaming}

    assert STREAM in streaming  # the route the adapter tests above stream
    assert set(streamed) == streaming
    for path, method in streamed.items():
        assert (method["HttpMethod"], method["AuthorizationType"]) == ("POST", "AWS_IAM")
        integration = method["Integration"]
        assert (integration["Type"], integration["ResponseTransferMode"]) == ("AWS_PROXY", "STREAM")
        uri = integration["Uri"]["Fn::Join"][1]
        assert uri[-3:] == [
            ":lambda:path/2021-11-15/functions/",
            {"Fn::GetAtt": [function_id, "Arn"]},
            "/response-streaming-invocations",
        ]
        assert integration["TimeoutInMillis"] == CDK_CONTEXT["streamIntegrationTimeoutSeconds"] * 1000
        # The same request model and validator as the task's buffered route.
        task = buffered[path.removesuffix("/stream")]
        assert task["RequestModels"] == method["RequestModels"]
        assert task["RequestValidatorId"] == method["RequestValidatorId"]


def test_the_streaming_function_runs_the_web_adapter_with_stream_timeouts(templates):
    from tests.conftest import FUNCTION_ENV
    from tests.support import API_STACK, CDK_CONTEXT, conversations_table_ref

    _, function = stream_function(templates[API_STACK])
    environment = dict(function["Environment"]["Variables"])

    assert (function["Runtime"], function["Architectures"]) == ("python3.14", ["arm64"])
    assert function["Timeout"] == CDK_CONTEXT["streamFunctionTimeoutSeconds"]
    # A stream starts with every attempt of the client (no deadline check): the whole worst case fits.
    every_attempt = longest_call_seconds(settings.client_settings(environment))
    assert every_attempt < function["Timeout"] < CDK_CONTEXT["streamIntegrationTimeoutSeconds"] <= 900
    adapter = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":lambda:",
                {"Ref": "AWS::Region"},
                f":753240598075:layer:LambdaAdapterLayerArm64:{CDK_CONTEXT['lambdaWebAdapterLayerVersion']}",
            ],
        ]
    }
    assert function["Layers"][1:] == [adapter] and "AWSLambdaPowertoolsPythonV3" in json.dumps(function["Layers"][0])
    assert {
        key: environment.pop(key)
        for key in ("AWS_LAMBDA_EXEC_WRAPPER", "AWS_LWA_INVOKE_MODE", "AWS_LWA_PORT", "AWS_LWA_READINESS_CHECK_PATH")
    } == {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "AWS_LWA_INVOKE_MODE": "response_stream",
        "AWS_LWA_PORT": str(endpoints.ADAPTER_PORT),  # where stream_server.py listens
        "AWS_LWA_READINESS_CHECK_PATH": endpoints.HEALTH_PATH,  # what stream_server.py answers
    }
    assert json.loads(render(environment.pop("GUARDRAILS"))).keys() == json.loads(FUNCTION_ENV["GUARDRAILS"]).keys()
    # No streaming task takes files: the streaming function has no uploads bucket (test_infrastructure.py). No task
    # that searches the knowledge base streams: the streaming function neither knows it nor may search it.
    uploads = {
        settings.UPLOADS_BUCKET,
        settings.UPLOADS_URL_SECONDS,
        settings.UPLOADS_MAX_AGE_SECONDS,
        settings.FILES_FROM_S3,
    }
    assert environment.pop("CONVERSATIONS_TABLE") == conversations_table_ref(templates[API_STACK])
    references = {"GUARDRAILS", "KNOWLEDGE_BASE_ID", "CONVERSATIONS_TABLE", *uploads}
    assert environment == {k: v for k, v in FUNCTION_ENV.items() if k not in references}


def test_the_streaming_role_may_only_stream_from_the_configured_models(templates):
    from tests.support import API_STACK
    from tests.test_infrastructure import bedrock_statements

    template = templates[API_STACK]
    buffered = bedrock_statements(template, "GenAiRole")
    streaming = bedrock_statements(template, "GenAiStreamFunctionRole")

    invoke = [s for s in buffered if s["Action"] == "bedrock:InvokeModel"]
    stream = [s for s in streaming if s["Action"] == "bedrock:InvokeModelWithResponseStream"]
    assert [s["Resource"] for s in stream] == [s["Resource"] for s in invoke] and len(stream) == 2  # same ARNs
    assert [s.get("Condition") for s in stream] == [s.get("Condition") for s in invoke]
    assert {s["Action"] for s in streaming} == {"bedrock:InvokeModelWithResponseStream", "bedrock:ApplyGuardrail"}
    # The buffered function serves the tasks that search the knowledge base (none streams).
    assert {s["Action"] for s in buffered} == {"bedrock:InvokeModel", "bedrock:ApplyGuardrail", "bedrock:Retrieve"}


def test_the_staged_asset_keeps_run_sh_executable(assembly):
    from tests.support import API_STACK

    stack = assembly.get_stack_by_name(API_STACK)
    _, function = stream_function(stack.template)
    staged = [p for p in Path(assembly.directory).glob("asset.*") if (p / "run.sh").exists()]
    assert [p.name for p in staged] == [f"asset.{function['Code']['S3Key'].removesuffix('.zip')}"]
    assert all((p / "run.sh").stat().st_mode & 0o111 for p in staged)
