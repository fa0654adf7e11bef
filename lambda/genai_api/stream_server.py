"""The web server that the AWS Lambda Web Adapter runs in the streaming function (``run.sh`` starts it).

The adapter turns each invocation from API Gateway into an HTTP request to this server on 127.0.0.1 and streams
the response back (``AWS_LWA_INVOKE_MODE=response_stream``). Standard library only: the asset bundles nothing.
``http_io.write_response`` writes a ``http_io.Response``: a JSON body with its length, or a streamed body
in HTTP/1.1 chunks, each flushed as soon as it is produced (``make local`` writes with the same function).
"""

from __future__ import annotations

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import stream_app
from http_io import Response, write_response

HEALTH_PATH = "/healthz"  # the adapter's readiness check (AWS_LWA_READINESS_CHECK_PATH); API Gateway never routes here
MAX_BODY_BYTES = 1024 * 1024  # far above the API's own limit (256 KiB, checked by the core), to bound the read


class StreamRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "genai-stream"

    def do_GET(self) -> None:
        if urlsplit(self.path).path == HEALTH_PATH:
            write_response(self, Response(200, {"Content-Type": "text/plain"}, iter([b"ok"])))
        else:
            self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
        body = self.rfile.read(length) if length else b""
        request_id = stream_app.request_id_from(self.headers.get("x-amzn-request-context"))
        content_types = self.headers.get_all("Content-Type") or []
        response = stream_app.handle(
            method, urlsplit(self.path).path, body, request_id=request_id, content_types=content_types
        )
        write_response(self, response)

    def log_message(self, format: str, *args: object) -> None:
        pass  # stream_app logs one structured line per request; no access log on stderr


def main() -> None:
    port = int(os.environ.get("AWS_LWA_PORT") or os.environ.get("PORT") or 8080)
    ThreadingHTTPServer(("127.0.0.1", port), StreamRequestHandler).serve_forever()


if __name__ == "__main__":
    main()
