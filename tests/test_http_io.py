"""HTTP framing of the two servers (``http_io.JsonHttpHandler``): the streaming function's server and ``make local``.

Over real sockets on 127.0.0.1, each server in a thread with short timeouts: a request is sent raw, followed by a
second request on the same connection ("smuggled" when the first one's frame is bad); the client then half-closes
and reads until the server closes. Every malformed request must get exactly one JSON envelope, be followed by the
close of the connection, and nothing after it may be served as a request. Well-framed requests (Content-Length or
chunked) must keep the connection, so the request after them is served.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import http_io
from http_io import BodyLimit, Framing, HttpError, Server

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
SOCKETS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass
class Harness:
    """A server under test: its port, the requests it served (method, target, body), its path and body limit."""

    name: str
    port: int
    limit: BodyLimit
    path: str
    seen: list[tuple[str, str, bytes]] = field(default_factory=list)


@pytest.fixture(scope="module")
def stream_harness() -> Iterator[Harness]:
    import stream_server

    harness = Harness("stream", 0, stream_server.StreamRequestHandler.limit, "/healthz")

    class Recording(stream_server.StreamRequestHandler):
        read_timeout = 0.4
        linger_seconds = 0.25

        def respond(self, body: bytes) -> http_io.Response:
            harness.seen.append((self.command, self.path, body))
            return super().respond(body)

    server = Server(("127.0.0.1", 0), Recording)
    yield from _serving(server, harness)


@pytest.fixture(scope="module")
def local_harness() -> Iterator[Harness]:
    from tools import local_api

    harness = Harness("local", 0, local_api.RequestHandler.limit, "/echo")

    def echo(request: local_api.HttpRequest) -> http_io.Response:
        harness.seen.append((request.method, request.target, request.body))
        return http_io.json_response(200, {"bytes": len(request.body)})

    server = local_api.create_server(0, quiet=True)
    server.RequestHandlerClass.api = local_api.LocalApi("v1", {"/echo": echo, "/smuggled": echo})  # type: ignore[attr-defined]
    server.RequestHandlerClass.read_timeout = 0.4  # type: ignore[attr-defined]
    server.RequestHandlerClass.idle_timeout = 0.4  # type: ignore[attr-defined]
    server.RequestHandlerClass.linger_seconds = 0.25  # type: ignore[attr-defined]
    yield from _serving(server, harness)


def _serving(server: Server, harness: Harness) -> Iterator[Harness]:
    import threading

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    harness.port = server.server_address[1]
    try:
        yield harness
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["stream", "local"])
def harness(request: pytest.FixtureRequest) -> Harness:
    served: Harness = request.getfixturevalue(f"{request.param}_harness")
    served.seen.clear()
    return served


# --- a raw client ------------------------------------------------------------------------------------------------------


def exchange(port: int, raw: bytes, *, half_close: bool = True) -> bytes:
    """Send ``raw`` on a new connection (then half-close it), and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        received = []
        while data := connection.recv(65536):
            received.append(data)
    return b"".join(received)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def error(self) -> dict[str, Any]:
        assert self.headers["Content-Type"] == "application/json"
        envelope = json.loads(self.body)
        assert set(envelope) == {"error"} and set(envelope["error"]) == {"code", "message"}
        return dict(envelope["error"])


def answers(data: bytes, methods: tuple[str, ...] = ()) -> list[Answer]:
    """Every HTTP response in ``data``, in order (``methods``: the request methods, for the HEAD answers)."""

    class Unclosable(io.BytesIO):
        def close(self) -> None:  # http.client closes the stream after an answer with Connection: close
            pass

    stream = Unclosable(data)

    class Received:
        def makefile(self, *_: Any) -> io.BytesIO:
            return stream

    parsed = []
    while stream.tell() < len(data):
        method = methods[len(parsed)] if len(parsed) < len(methods) else "GET"
        response = http.client.HTTPResponse(Received(), method=method)  # type: ignore[arg-type]
        response.begin()
        parsed.append(Answer(response.status, response.headers, response.read()))
    return parsed


def request(harness: Harness, head: str, body: bytes = b"", method: str = "POST") -> bytes:
    return f"{method} {harness.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode("latin-1") + body


def assert_refused(harness: Harness, raw: bytes, status: int, code: str) -> dict[str, Any]:
    """``raw`` (then a smuggled request) gets exactly one answer, the envelope with ``status`` and ``code``, the
    connection is closed after it, and nothing was served."""
    (answer,) = answers(exchange(harness.port, raw + SMUGGLED))
    error = answer.error()
    assert (answer.status, error["code"]) == (status, code), error
    assert answer.headers["Connection"] == "close"
    assert harness.seen == []
    return error


# --- the body's framing -----------------------------------------------------------------------------------------------


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(
    "head",
    [
        "Content-Length: abc\r\n",
        "Content-Length: -1\r\n",
        "Content-Length: +5\r\n",
        "Content-Length: 1e3\r\n",
        "Content-Length: 0x10\r\n",
        "Content-Length: \r\n",
        "Content-Length: 5, 5\r\n",
        "Content-Length: 5\r\nContent-Length: 5\r\n",
        "Content-Length: 5\r\nContent-Length: 6\r\n",
        "Content-Length: \u00b2\r\n",  # a digit to str.isdigit, not a decimal digit
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    ],
)
def test_a_content_length_that_is_not_one_decimal_number_is_a_400_and_closes(harness, head):
    assert_refused(harness, request(harness, head, b"hello"), 400, "bad_request")


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(
    "head",
    ["Transfer-Encoding: gzip\r\n", "Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: chunked, chunked\r\n"],
)
def test_a_transfer_coding_other_than_chunked_alone_is_a_501_and_closes(harness, head):
    assert_refused(harness, request(harness, head, b"5\r\nhello\r\n0\r\n\r\n"), 501, "not_implemented")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_chunked_in_http_1_0_is_a_400(harness):
    raw = f"POST {harness.path} HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".encode()
    assert_refused(harness, raw, 400, "bad_request")


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",  # not hexadecimal
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b" 5\r\nhello\r\n0\r\n\r\n",
        b"5 \r\nhello\r\n0\r\n\r\n",
        b"5\nhello\r\n0\r\n\r\n",  # a bare LF
        b"3\r\nhello\r\n0\r\n\r\n",  # the size is wrong: no CRLF after the chunk
        b"5\r\nhello0\r\n\r\n",
        b"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n",
        b"5\r\nhello\r\n0\r\n\n",
        b"5\r\nhel",  # the stream ends inside a chunk
        b"5\r\nhello\r\n",  # ... before the last chunk
    ],
)
def test_a_malformed_chunked_body_is_a_400_and_closes(harness, chunks):
    assert_refused(harness, request(harness, "Transfer-Encoding: chunked\r\n", chunks), 400, "bad_request")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_body_longer_than_the_limit_is_refused_and_not_parsed_as_a_second_request(harness):
    """The tail of a body that passes the limit is never read as a request (today's stream server read up to its
    limit, answered, then served what followed)."""
    length = harness.limit.max_bytes + len(SMUGGLED)
    head = f"Content-Length: {length}\r\n"
    raw = request(harness, head, b"x" * harness.limit.max_bytes)  # SMUGGLED, appended, ends the body

    assert_refused(harness, raw, 413, harness.limit.code)


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize("size", ["ffffffffffffffffffffffff", "{over:x}", "{over:X};name=value"])
def test_a_chunk_that_would_pass_the_limit_is_refused_before_its_bytes_are_read(harness, size):
    """Only the size line is sent: the answer cannot wait for the chunk (today make local read it whole first)."""
    line = size.format(over=harness.limit.max_bytes + 1).encode()
    with socket.create_connection(("127.0.0.1", harness.port), timeout=10) as connection:
        connection.sendall(request(harness, "Transfer-Encoding: chunked\r\n", line + b"\r\n"))
        connection.settimeout(5)
        (answer,) = answers(_read_until_closed(connection))

    assert (answer.status, answer.error()["code"]) == (413, harness.limit.code)
    assert harness.seen == []


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_chunks_that_add_up_past_the_limit_are_refused(harness):
    half = harness.limit.max_bytes // 2 + 1
    first = b"%x\r\n%s\r\n" % (half, b"a" * half)

    assert_refused(
        harness, request(harness, "Transfer-Encoding: chunked\r\n", first + b"%x\r\n" % half), 413, harness.limit.code
    )


def _read_until_closed(connection: socket.socket) -> bytes:
    received = []
    while data := connection.recv(65536):
        received.append(data)
    return b"".join(received)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_chunked_body_is_read_and_the_next_request_on_the_connection_is_served(harness):
    chunks = b"5;ext=1\r\nhello\r\n7 ; x\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n"

    got = answers(exchange(harness.port, request(harness, "Transfer-Encoding: chunked\r\n", chunks) + SMUGGLED))

    assert len(got) == 2
    assert [(method, body) for method, _, body in harness.seen] == [("POST", b"hello, world"), ("GET", b"")]
    assert harness.seen[1][1].startswith("/smuggled")


@pytest.mark.allow_hosts(["127.0.0.1"])
@SOCKETS
@given(
    value=st.one_of(
        st.integers(0, 300).map(str), st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=12)
    )
)
def test_any_content_length_frames_exactly_its_bytes_or_gets_one_refusal(harness, value):
    harness.seen.clear()
    digits = value.strip(" \t")
    valid = digits.isascii() and digits.isdigit() and int(digits) <= harness.limit.max_bytes
    body = b"b" * int(digits) if valid else b"0123456789"

    got = answers(exchange(harness.port, request(harness, f"Content-Length: {value}\r\n", body) + SMUGGLED))

    if valid:
        assert len(got) == 2
        assert [body for _, _, body in harness.seen] == [b"b" * int(digits), b""]
    else:
        (answer,) = got
        assert answer.status in (400, 413) and answer.headers["Connection"] == "close"
        assert harness.seen == []


@pytest.mark.allow_hosts(["127.0.0.1"])
@SOCKETS
@given(
    sizes=st.lists(st.integers(1, 2000), max_size=6),
    upper=st.booleans(),
    zeros=st.integers(0, 3),
    extension=st.sampled_from(["", ";a", ";a=b", ' ;a="b c"']),
)
def test_any_well_formed_chunked_body_is_read_whole_and_the_connection_kept(harness, sizes, upper, zeros, extension):
    harness.seen.clear()
    data = [bytes([65 + index % 26]) * size for index, size in enumerate(sizes)]
    encoded = b"".join(
        (("0" * zeros + (f"{len(part):X}" if upper else f"{len(part):x}")) + extension).encode()
        + b"\r\n"
        + part
        + b"\r\n"
        for part in data
    )

    raw = request(harness, "Transfer-Encoding: chunked\r\n", encoded + b"0\r\n\r\n") + SMUGGLED
    got = answers(exchange(harness.port, raw))

    assert len(got) == 2
    assert [body for _, _, body in harness.seen] == [b"".join(data), b""]


# --- the request line and the headers ------------------------------------------------------------------------------


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(
    ("line", "status", "code"),
    [
        ("GET {path}", 400, "bad_request"),  # HTTP/0.9: its answer would have no status line
        ("GET {path} HTTP/2.0", 505, "http_version_not_supported"),
        ("GET {path} HTTP/1.2", 505, "http_version_not_supported"),
        ("GET {path} http/1.1", 400, "bad_request"),
        ("GET {path} HTTP/1.1 extra", 400, "bad_request"),
        ("GET  {path} HTTP/1.1", 400, "bad_request"),
        ("GET\t{path} HTTP/1.1", 400, "bad_request"),
        ("G(T {path} HTTP/1.1", 400, "bad_request"),
        ("GET {path}\x7f HTTP/1.1", 400, "bad_request"),
        ("GET /" + "a" * http_io.MAX_LINE + " HTTP/1.1", 414, "uri_too_long"),
    ],
)
def test_a_malformed_request_line_gets_one_envelope_and_closes(harness, line, status, code):
    raw = line.format(path=harness.path).encode("latin-1") + b"\r\nHost: 127.0.0.1\r\n\r\n"
    assert_refused(harness, raw, status, code)


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(
    "head",
    [
        "Content-Type: application/json\r\nbad line\r\nContent-Length: 5\r\n",  # the parser would stop here
        "Content-Length : 5\r\n",  # a space before the colon
        "X-Folded: a\r\n b\r\n",  # obsolete line folding
        "X-Bad(Name: 1\r\n",
        "X-Nul: a\x00b\r\n",
        "X-Cr: a\rb\r\n",
        ": no name\r\n",
        "Host: other\r\n",  # a second Host
        "From nobody\r\n",  # a mailbox line the parser would silently drop
    ],
)
def test_a_header_block_the_parser_only_half_understands_is_a_400(harness, head):
    assert_refused(harness, request(harness, head, b"hello"), 400, "bad_request")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_header_block_too_long_or_too_large_is_a_431(harness):
    assert_refused(
        harness, request(harness, "X-Long: " + "a" * http_io.MAX_LINE + "\r\n"), 431, "request_header_fields_too_large"
    )
    harness.seen.clear()
    many = "".join(f"X-{index}: {index}\r\n" for index in range(101))
    assert_refused(harness, request(harness, many), 431, "request_header_fields_too_large")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_empty_lines_before_a_request_are_ignored(harness):
    got = answers(exchange(harness.port, b"\r\n\r\n" + request(harness, "", method="GET")))

    assert len(got) == 1 and len(harness.seen) == 1


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_head_gets_the_headers_of_its_answer_and_no_body(harness):
    raw = request(harness, "", method="HEAD") + request(harness, "", method="GET")

    head, after = answers(exchange(harness.port, raw), methods=("HEAD", "GET"))

    assert head.body == b"" and int(head.headers["Content-Length"]) > 0  # the length of the body it would have
    assert head.headers["Content-Type"] == "application/json" and after.status == 200
    assert [method for method, _, _ in harness.seen] == ["HEAD", "GET"]


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_any_method_token_gets_an_answer_from_the_app_never_an_html_501(harness, method):
    (answer,) = answers(exchange(harness.port, request(harness, "", method=method)))

    assert answer.headers["Content-Type"] == "application/json" and answer.status < 500
    assert [seen_method for seen_method, _, _ in harness.seen] == [method]


# --- expectations and timeouts -----------------------------------------------------------------------------------------


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_expect_100_continue_is_refused_before_the_body_when_its_length_is_over_the_limit(harness):
    head = f"Content-Length: {harness.limit.max_bytes + 1}\r\nExpect: 100-continue\r\n"
    with socket.create_connection(("127.0.0.1", harness.port), timeout=10) as connection:
        connection.sendall(request(harness, head))
        connection.settimeout(5)
        data = _read_until_closed(connection)

    assert not data.startswith(b"HTTP/1.1 100")
    (answer,) = answers(data)
    assert (answer.status, answer.error()["code"]) == (413, harness.limit.code)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_expect_100_continue_is_answered_when_the_request_can_be_read(harness):
    with socket.create_connection(("127.0.0.1", harness.port), timeout=10) as connection:
        connection.sendall(request(harness, "Content-Length: 5\r\nExpect: 100-continue\r\n"))
        assert connection.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n")
        connection.sendall(b"hello")
        connection.shutdown(socket.SHUT_WR)
        data = _read_until_closed(connection)

    assert len(answers(data)) == 1 and harness.seen[0][2] == b"hello"


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(
    "partial",
    [
        b"POST /x HTT",  # inside the request line
        b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le",  # inside the headers
        b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nabc",  # inside the body
        b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe",
    ],
)
def test_a_client_that_stops_sending_in_the_middle_of_a_request_gets_a_408_and_the_close(harness, partial):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", harness.port), timeout=10) as connection:
        connection.sendall(partial)  # and nothing more: the connection stays open
        (answer,) = answers(_read_until_closed(connection))

    assert (answer.status, answer.error()["code"]) == (408, "request_timeout")
    assert time.monotonic() - started < 5
    assert harness.seen == []


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_make_local_closes_a_connection_idle_between_requests_without_an_answer(local_harness):
    local_harness.seen.clear()
    with socket.create_connection(("127.0.0.1", local_harness.port), timeout=10) as connection:
        connection.sendall(f"GET {local_harness.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        data = _read_until_closed(connection)  # one answer, then the idle timeout closes the connection

    assert len(answers(data)) == 1


def test_the_servers_limits_and_timeouts():
    """Decisions, pinned: the stream server reads at most 1 MiB (4x the API's 256 KiB) and keeps idle connections
    (the adapter pools them for 4 s); make local reads API Gateway's 10 MB; both wait 10 s per read."""
    import stream_server
    from tools import local_api

    assert stream_server.StreamRequestHandler.limit == BodyLimit(1024 * 1024)
    assert stream_server.StreamRequestHandler.idle_timeout is None
    assert local_api.RequestHandler.limit.max_bytes == 10 * 1024 * 1024
    assert local_api.RequestHandler.limit.code == "REQUEST_TOO_LARGE"
    for handler in (stream_server.StreamRequestHandler, local_api.RequestHandler):
        assert handler.read_timeout == http_io.READ_TIMEOUT_SECONDS == 10


# --- the pure parts ----------------------------------------------------------------------------------------------------


LIMIT = BodyLimit(4096)


def chunked(parts: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


@given(parts=st.lists(st.binary(min_size=1, max_size=600), max_size=8), rest=st.binary(max_size=50))
def test_read_body_reads_a_chunked_body_and_not_a_byte_after_it(parts, rest):
    stream = io.BytesIO(chunked(parts) + rest)
    total = sum(map(len, parts))

    if total > LIMIT.max_bytes:
        with pytest.raises(HttpError) as refused:
            http_io.read_body(stream, Framing(chunked=True), LIMIT)
        assert refused.value.status == 413
    else:
        assert http_io.read_body(stream, Framing(chunked=True), LIMIT) == b"".join(parts)
        assert stream.read() == rest


@given(length=st.integers(0, 5000), rest=st.binary(max_size=50))
def test_framing_and_read_body_take_exactly_content_length_bytes(length, rest):
    stream = io.BytesIO(b"y" * length + rest)

    if length > LIMIT.max_bytes:
        with pytest.raises(HttpError) as refused:
            http_io.framing([("Content-Length", str(length))], "HTTP/1.1", LIMIT)
        assert refused.value.status == 413
    else:
        frame = http_io.framing([("Content-Length", str(length))], "HTTP/1.1", LIMIT)
        assert http_io.read_body(stream, frame, LIMIT) == b"y" * length
        assert stream.read() == rest


def test_a_huge_content_length_is_413_without_converting_it():
    with pytest.raises(HttpError) as refused:
        http_io.framing([("Content-Length", "9" * 10_000)], "HTTP/1.1", LIMIT)  # int() refuses 4300+ digits
    assert refused.value.status == 413
    assert http_io.framing([("Content-Length", "000012")], "HTTP/1.1", LIMIT) == Framing(length=12)
    assert http_io.framing([], "HTTP/1.1", LIMIT) == Framing()  # no framing header: no body
