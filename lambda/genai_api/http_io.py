"""Writing an HTTP/1.1 response from a ``BaseHTTPRequestHandler``: a whole body with its length, or a streamed body in
chunks, each flushed as soon as it is produced. Shared by the streaming function's server (``stream_server.py``) and
the local server (``tools/local_api.py``); it reads no settings, so it can be imported before the environment is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

Headers = Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass
class Response:
    """A response for a server to write: a whole body, or (``streamed``) chunks written and flushed as they come."""

    status: int
    headers: Headers
    chunks: Iterable[bytes]
    streamed: bool = False


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


def write_response(handler: BaseHTTPRequestHandler, response: Response) -> None:
    handler.send_response(response.status)
    for name, value in header_pairs(response.headers):
        if name.lower() not in ("content-length", "transfer-encoding"):  # this function frames the body
            handler.send_header(name, value)
    if not response.streamed:
        body = b"".join(response.chunks)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for chunk in response.chunks:
        if chunk:  # an empty chunk would end the body
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            handler.wfile.flush()
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()
