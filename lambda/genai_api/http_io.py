"""HTTP/1.1 for the asset's two servers, the streaming function's (``stream_server.py``, behind the Lambda Web
Adapter) and ``make local``'s (``tools/local_api.py``), on the standard library's ``http.server`` (ADR 0007).

``http.server`` parses the request line and the header block, and is lenient exactly where framing matters: it
reads no body, knows no chunked requests, takes a line it cannot parse as the end of the headers, and answers its
own errors in HTML. ``JsonHttpHandler`` adds the rules it lacks, in one place for both servers:

- a request line is ``METHOD target HTTP/1.0|HTTP/1.1``; a header block that the parser only half understood (a
  line without a colon, a folded line, a name that is not a token, CR, LF or NUL in a value, two Host headers) is
  refused (``check_request_line``, ``check_headers``);
- the body is framed by one decimal ``Content-Length``, or by ``Transfer-Encoding: chunked`` alone: never both,
  never another coding, never in HTTP/1.0 (``framing``); chunks are decoded strictly (hexadecimal sizes, CRLF after
  each) and the size limit is enforced while reading: a length or a chunk that would pass it is refused before its
  bytes are read (``read_body``);
- every refusal is one JSON error envelope, ``{"error": {"code", "message"}}``, and then the connection is closed,
  since nothing after a bad frame can be trusted to start a request. The close lingers (it reads and discards what
  the client is still sending, for a moment) so that the client reads the answer instead of a reset;
- once a request has begun, every read must arrive within ``read_timeout`` (408, then close); between requests
  ``idle_timeout`` applies (none by default: the adapter keeps its own idle connections for 4 seconds); writing the
  response has no timeout;
- a client that goes away while the response is written ends the request quietly: the chunks' iterator is closed
  (the streaming adapter logs one line when that happens), and nothing is printed.

``Response`` is what a server's ``respond`` returns: a whole body, written with its length, or a streamed one,
written in HTTP/1.1 chunks, each flushed as soon as it is produced. Nothing here reads settings, so it can be
imported before the environment is set.
"""

from __future__ import annotations

import io
import json
import re
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast

from genai_core.errors import ApiError

Headers = Mapping[str, str] | Sequence[tuple[str, str]]

MAX_LINE = 65536  # http.server's limit on the request line and on each header line
MAX_CHUNK_LINE = 4096  # a chunk-size line, extensions included
MAX_TRAILERS = 32
MAX_EMPTY_LINES = 4  # CRLFs a client may send before a request line (RFC 9112, 2.2)
READ_TIMEOUT_SECONDS = 10.0
LINGER_SECONDS = 2.0
READ_SIZE = 64 * 1024
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})  # this module writes them

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110, 5.6.2
TARGET = re.compile(r"[^\x00-\x20\x7f]+")
VERSION = re.compile(r"HTTP/([0-9])\.([0-9])")
DECIMAL = re.compile(r"[0-9]+")
CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]+)(?:[ \t]*;[^\r\n\x00]*)?\r\n")
TRAILER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n\x00]*\r\n")


class Reader(Protocol):
    """What the body reader needs of a request's stream (``rfile``)."""

    def read(self, size: int = ..., /) -> bytes: ...

    def readline(self, size: int | None = ..., /) -> bytes: ...


@dataclass
class Response:
    """A response for a server to write: a whole body, or (``streamed``) chunks written and flushed as they come."""

    status: int
    headers: Headers
    chunks: Iterable[bytes]
    streamed: bool = False


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


def json_response(status: int, body: Mapping[str, Any], headers: Sequence[tuple[str, str]] = ()) -> Response:
    payload = json.dumps(body, ensure_ascii=False).encode()
    return Response(status, [("Content-Type", "application/json"), *headers], [payload])


# --- refusals ---------------------------------------------------------------------------------------------------------


class HttpError(ApiError):
    """A request refused at the HTTP layer: answered with the JSON envelope, then the connection is closed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code, status=status)

    def response(self) -> Response:
        return json_response(self.status, self.to_body())


def bad_request(message: str) -> HttpError:
    return HttpError(400, "bad_request", message)


def timed_out() -> HttpError:
    return HttpError(408, "request_timeout", "The request did not arrive in time; send it whole and promptly.")


# What http.server refuses by itself, answered in our words (its own messages quote the request back).
REFUSALS = {
    400: ("bad_request", "The request line or the header block is malformed."),
    414: ("uri_too_long", f"The request line is longer than {MAX_LINE} bytes."),
    431: ("request_header_fields_too_large", "A header line is too long, or there are too many headers."),
    505: ("http_version_not_supported", "Only HTTP/1.0 and HTTP/1.1 are supported."),
}


@dataclass(frozen=True)
class BodyLimit:
    """The largest body a server reads, and how it refuses a larger one (status 413)."""

    max_bytes: int
    code: str = "payload_too_large"
    message: str = ""

    def error(self) -> HttpError:
        return HttpError(413, self.code, self.message or f"The request body is larger than {self.max_bytes} bytes.")


@dataclass(frozen=True)
class Framing:
    """How a request's body is delimited: ``length`` bytes, or chunks."""

    chunked: bool = False
    length: int = 0


def check_request_line(line: bytes) -> None:
    """Refuse anything but ``METHOD SP target SP HTTP/1.x`` (one space each, a token method, no control
    characters); HTTP/0.9 (no version) is refused too, since its answer would have no status line."""
    if not line.endswith(b"\n"):
        raise bad_request("The request line is incomplete.")
    words = line.decode("latin-1").removesuffix("\n").removesuffix("\r").split(" ")
    if len(words) != 3 or not TOKEN.fullmatch(words[0]) or not TARGET.fullmatch(words[1]):
        raise bad_request("The request line must be `METHOD target HTTP/1.1`.")
    version = VERSION.fullmatch(words[2])
    if version is None:
        raise bad_request("The request line must end with the HTTP version (HTTP/1.1).")
    if version.groups() not in (("1", "0"), ("1", "1")):
        raise HttpError(505, *REFUSALS[505])


def check_headers(headers: Message) -> None:
    """Refuse a header block that http.server's parser only half understood: it stops at a line it cannot parse
    and keeps the rest as a "payload" (the header after such a line would be lost, and with it the framing), it
    drops a mailbox ``From `` line, and it keeps folded lines and bare CRs inside values."""
    if headers.defects or headers.get_payload() or headers.get_unixfrom() is not None:
        raise bad_request("A header line is malformed: each must be `Name: value`, with no folding.")
    for name, value in headers.items():
        if not TOKEN.fullmatch(name):
            raise bad_request("A header name is not a token.")
        if "\r" in value or "\n" in value or "\x00" in value:
            raise bad_request("A header value contains CR, LF or NUL.")
    if len(headers.get_all("Host") or ()) > 1:
        raise bad_request("The request has more than one Host header.")


def framing(headers: Iterable[tuple[str, str]], version: str, limit: BodyLimit) -> Framing:
    """The body's framing from the headers, or an ``HttpError``: exactly one decimal Content-Length, or
    ``Transfer-Encoding: chunked`` alone (RFC 9112, 6); a length over the limit is refused here, before any read."""
    lengths, codings = [], []
    for name, value in headers:
        if name.lower() == "content-length":
            lengths.append(value.strip(" \t"))
        elif name.lower() == "transfer-encoding":
            codings.append(value.strip(" \t"))
    if codings:
        if version != "HTTP/1.1":
            raise bad_request("Transfer-Encoding is not allowed in HTTP/1.0.")
        if lengths:
            raise bad_request("The request has both Content-Length and Transfer-Encoding.")
        if len(codings) > 1 or codings[0].lower() != "chunked":
            raise HttpError(501, "not_implemented", "The only Transfer-Encoding supported is `chunked`, alone.")
        return Framing(chunked=True)
    if not lengths:
        return Framing()  # no body (RFC 9112, 6.3)
    if len(lengths) > 1 or not DECIMAL.fullmatch(lengths[0]):
        raise bad_request("Content-Length must be one decimal number of bytes.")
    digits = lengths[0].lstrip("0")
    if len(digits) > len(str(limit.max_bytes)) or int(digits or "0") > limit.max_bytes:
        raise limit.error()
    return Framing(length=int(digits or "0"))


def read_body(rfile: Reader, frame: Framing, limit: BodyLimit) -> bytes:
    """The body, read as ``frame`` says. Never reads past its end, and never reads a chunk that would take the
    body over ``limit``; an early end of the stream, a malformed chunk or trailer is an ``HttpError``."""
    if not frame.chunked:
        return _read_exactly(rfile, frame.length)
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(MAX_CHUNK_LINE + 1)
        match = CHUNK_SIZE_LINE.fullmatch(line)
        if match is None:
            raise bad_request("A chunk-size line is malformed: hexadecimal digits, optional extensions, then CRLF.")
        digits = match.group(1).lstrip(b"0")
        if len(digits) > 16 or total + int(digits or b"0", 16) > limit.max_bytes:
            raise limit.error()
        size = int(digits or b"0", 16)
        if size == 0:
            break
        parts.append(_read_exactly(rfile, size))
        total += size
        if rfile.read(2) != b"\r\n":
            raise bad_request("A chunk is not followed by CRLF: its size is wrong.")
    for _ in range(MAX_TRAILERS + 1):
        line = rfile.readline(MAX_LINE + 1)
        if line == b"\r\n":
            return b"".join(parts)
        if not TRAILER_LINE.fullmatch(line):
            raise bad_request("A trailer line after the last chunk is malformed.")
    raise bad_request(f"More than {MAX_TRAILERS} trailer lines.")


def _read_exactly(rfile: Reader, size: int) -> bytes:
    data = rfile.read(size) if size else b""
    if len(data) < size:
        raise bad_request("The connection ended before the request body was complete.")
    return data


def linger(connection: socket.socket, seconds: float) -> None:
    """Half-close, then read and discard what the client is still sending for up to ``seconds``: closing a socket
    with unread data sends a reset, which can destroy an answer before the client has read it."""
    deadline = time.monotonic() + seconds
    try:
        connection.shutdown(socket.SHUT_WR)
        while (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            if not connection.recv(READ_SIZE):
                return
    except OSError:
        return


def write_response(
    handler: BaseHTTPRequestHandler, response: Response, extra_headers: Sequence[tuple[str, str]] = ()
) -> None:
    """Write ``response`` through ``handler``: a whole body with its length, or a streamed one in chunks flushed one
    by one; no body for HEAD; ``Connection: close`` when the handler will close. The chunks' iterator is closed in
    the end, also when the client has gone away (a write raised)."""
    chunks = iter(response.chunks)
    try:
        handler.send_response(response.status)
        for name, value in [*header_pairs(response.headers), *extra_headers]:
            if name.lower() not in FRAMING_HEADERS:
                handler.send_header(name, value)
        if handler.close_connection:
            handler.send_header("Connection", "close")
        if not response.streamed:
            body = b"".join(chunks)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(body)
            return
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        if handler.command == "HEAD":
            return
        for chunk in chunks:
            if chunk:  # an empty chunk would end the body
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


# --- the handler ------------------------------------------------------------------------------------------------------


class JsonHttpHandler(BaseHTTPRequestHandler):
    """A ``BaseHTTPRequestHandler`` that frames requests strictly and answers every refusal with the JSON envelope.

    A server subclasses it, sets ``limit`` (and the timeouts, if it wants others), and implements ``respond``,
    which gets the body and reads ``command``, ``path`` and ``headers``."""

    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.1"  # what a refusal of a request line too broken to name a version speaks
    limit = BodyLimit(1024 * 1024)
    read_timeout: float | None = READ_TIMEOUT_SECONDS
    idle_timeout: float | None = None
    linger_seconds = LINGER_SECONDS
    extra_headers: Sequence[tuple[str, str]] = ()  # added to every response
    _linger = False
    _framing: Framing | None = None

    def respond(self, body: bytes) -> Response:
        raise NotImplementedError

    def refused(self, error: HttpError) -> None:
        """Called once for each refused request, before its answer is written (a server logs it here)."""

    def failed(self, error: Exception) -> None:
        """Called when ``respond`` raised, which is a bug: the client gets a 500 envelope (a server logs it here)."""

    # http.server calls handle_one_request until close_connection is set; this one reads the request itself.
    def handle_one_request(self) -> None:
        self.close_connection = True
        self.command, self.requestline, self.request_version = None, "", self.default_request_version  # type: ignore[assignment]
        self._framing = None
        if not self._wait_for_request():
            return
        try:
            body = self._read_request()
        except HttpError as error:
            self._refuse(error)
            return
        except OSError:  # the client went away in the middle of its request
            return
        if body is None:
            return  # http.server refused it, through send_error
        # The read timeout bounds reads only: writing a long stream to a client that reads slowly (backpressure
        # through the adapter) may block as long as it needs; the function's own timeout bounds it.
        self.connection.settimeout(None)
        try:
            response = self.respond(body)
        except Exception as error:
            self.failed(error)
            self.close_connection = True
            response = json_response(500, ApiError("An unexpected error occurred.").to_body())
        self._write(response)

    def _wait_for_request(self) -> bool:
        """Wait up to ``idle_timeout`` for the first byte of a request; then every read has ``read_timeout``."""
        try:
            self.connection.settimeout(self.idle_timeout)
            if not cast(io.BufferedReader, self.rfile).peek(1):
                return False  # the client closed the connection
            self.connection.settimeout(self.read_timeout)
        except OSError:  # the idle timeout, or a reset
            return False
        return True

    def _read_request(self) -> bytes | None:
        try:
            line = self.rfile.readline(MAX_LINE + 1)
            for _ in range(MAX_EMPTY_LINES):
                if line not in (b"\r\n", b"\n"):
                    break
                line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                return None  # only empty lines, then the end of the stream: nothing was asked
            if len(line) > MAX_LINE:
                raise HttpError(414, *REFUSALS[414])
            check_request_line(line)
            self.raw_requestline = line
            if not self.parse_request():
                return None
            return read_body(self.rfile, self._framing or self._check_request(), self.limit)
        except TimeoutError:
            raise timed_out() from None

    def _check_request(self) -> Framing:
        check_headers(self.headers)
        self._framing = framing(self.headers.items(), self.request_version, self.limit)
        return self._framing

    def handle_expect_100(self) -> bool:
        # A request refused on its headers is refused before the client is told to send its body.
        self._check_request()
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        error_code, text = REFUSALS.get(code, REFUSALS[400])
        self._refuse(HttpError(code, error_code, text))

    def _refuse(self, error: HttpError) -> None:
        self.close_connection = True
        self._linger = True
        self.refused(error)
        self._write(error.response())

    def _write(self, response: Response) -> None:
        try:
            write_response(self, response, self.extra_headers)
        except OSError:  # the client went away (a reset, a broken pipe; a refusal's write that timed out)
            self.close_connection = True

    def finish(self) -> None:
        super().finish()
        if self._linger:
            linger(self.connection, self.linger_seconds)


class Server(ThreadingHTTPServer):
    """A thread per connection, none of them waited for when the server closes (they hold no state to save)."""

    daemon_threads = True
    block_on_close = False
