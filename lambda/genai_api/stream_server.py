"""The web server that the AWS Lambda Web Adapter runs in the streaming function (``run.sh`` starts it).

The adapter turns each invocation from API Gateway into an HTTP request to this server on 127.0.0.1 and streams
the response back (``AWS_LWA_INVOKE_MODE=response_stream``). Standard library only: the asset bundles nothing.
``http_io.JsonHttpHandler`` frames the requests strictly and writes a ``http_io.Response``: a JSON body with its
length, or a streamed body in HTTP/1.1 chunks, each flushed as soon as it is produced (``make local`` serves with
the same handler). Every refusal and every failure is a JSON envelope and one structured log line; nothing is
written to stderr.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import stream_app
from endpoints import ADAPTER_PORT, ADAPTER_PORT_VARIABLE, HEALTH_PATH
from http_io import BodyLimit, HttpError, JsonHttpHandler, Response, Server

MAX_BODY_BYTES = 1024 * 1024  # far above the API's own limit (256 KiB, checked by the core), to bound the read


class StreamRequestHandler(JsonHttpHandler):
    server_version = "genai-stream"
    limit = BodyLimit(MAX_BODY_BYTES)

    def respond(self, body: bytes) -> Response:
        path = urlsplit(self.path).path
        if self.command == "GET" and path == HEALTH_PATH:
            return Response(200, {"Content-Type": "text/plain"}, [b"ok"])
        return stream_app.handle(
            self.command,
            path,
            body,
            request_contexts=self.headers.get_all(stream_app.REQUEST_CONTEXT_HEADER) or [],
            content_types=self.headers.get_all("Content-Type") or [],
        )

    def refused(self, error: HttpError) -> None:
        stream_app.log_refusal(error.status, error.code)

    def failed(self, error: Exception) -> None:
        stream_app.log_crash(error)

    def log_message(self, format: str, *args: object) -> None:
        pass  # stream_app logs one structured line per request; no access log on stderr


def create_server(port: int) -> Server:
    return Server(("127.0.0.1", port), StreamRequestHandler)


def main() -> None:
    port = int(os.environ.get(ADAPTER_PORT_VARIABLE) or os.environ.get("PORT") or ADAPTER_PORT)
    create_server(port).serve_forever()


if __name__ == "__main__":
    main()
