"""Call the API once and pretty-print its JSON answer: the deployed API (SigV4-signed) or the local server.

    python -m tools.client productivity/summarize               # sends examples/productivity/summarize.json
    python -m tools.client use-cases                            # GET /use-cases (discovery)
    python -m tools.client process-optimization/classify --body my-request.json
    echo '{"text": "..."}' | python -m tools.client productivity/summarize --body -
    python -m tools.client customer-experience/chat --local     # make local, on $PORT or 3000 (--port N)
    python -m tools.client productivity/ask --url https://abc123.execute-api.us-east-1.amazonaws.com/v1/
    python -m tools.client customer-experience/chat --stream    # POST .../chat/stream: prints the reply as it comes
    python -m tools.client use-cases --url https://... --api-key KEY   # authMode=api-key (or $GENAI_API_KEY)
    python -m tools.client productivity/summarize --file report.pdf    # a file (repeat --file for more)
    python -m tools.client productivity/ask --file policy.docx --body question.json
    python -m tools.client customer-experience/chat --body turn.json --conversation-id my-chat-1   # remembered
    python -m tools.client conversations                        # GET /conversations (--limit N, --next-token T)
    python -m tools.client conversations/my-chat-1              # GET: one conversation with its messages
    python -m tools.client conversations/my-chat-1 --delete     # DELETE: erase it

The deployed API's URL is the ``ApiUrl`` output of the stack (``--stack-name``, default GenAiReferenceApi), read
with your credentials. In ``authMode=iam`` (the default) they also sign the request (SigV4, ``execute-api``, in the
URL's region). In ``authMode=api-key`` the request carries ``x-api-key`` instead, unsigned: the key given by
``--api-key`` or ``$GENAI_API_KEY``, else the value of the stack's ``ApiKeyId`` output (read with API Gateway's
``GetApiKey``); with ``--url`` and a key, no AWS credentials are needed at all. With ``--local`` a signature is not
needed: it is added when credentials are at hand, and harmless. The status goes to stderr, with
the local server's hint if any; the body to stdout (with ``--stream``, the reply's text as it arrives, and the final
event's usage, stop reason and latencies on stderr). Exit status: 0 for a 2xx answer, 1 for any other status,
2 when no request could be sent (no stack output, no credentials, nothing listening...).

``--file PATH`` adds a file to the request of a task that takes files (its format from the extension): inline, as
base64 in ``data``, while the files sent inline stay within the request's budget (4 MiB in all); a file beyond it
goes by upload: ``POST /uploads`` with its name, format and size (authenticated like every request), a ``PUT`` of
its bytes to the presigned ``url`` with the ``headers`` answered (no signature: the URL is the authorization), then
its ``uploadId`` in the request. Without ``--body``, the request is the task's example without the text the files
replace (``summarize --file report.pdf`` summarizes the report alone).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import quote, urlencode, urlsplit

from endpoints import CONVERSATIONS_PATH, DISCOVERY_PATH
from genai_core import file_contract, sse
from stacks.outputs import API_URL
from tools.local_api import DEFAULT_PORT, HINT_HEADER, HOST
from tools.smoke import (
    API_KEY_ENV,
    API_KEY_OUTPUT,
    DEFAULT_STACK,
    EXAMPLES,
    TIMEOUT_SECONDS,
    Auth,
    SmokeError,
    aws_session,
    region_of,
    stack_auth,
    stack_outputs,
    upload_file,
)

DISCOVERY = DISCOVERY_PATH.lstrip("/")  # the command and the route, relative to the base URL: "use-cases"
CONVERSATIONS = CONVERSATIONS_PATH.lstrip("/")  # GET; conversations/<id>: GET, or DELETE with --delete
CHUNK_BYTES = 64 * 1024
# A file's format by its extension (the API's formats, and their usual other spellings).
EXTENSIONS = {**{fmt: fmt for fmt in file_contract.FORMATS}, "jpg": "jpeg", "htm": "html", "markdown": "md"}


class ClientError(Exception):
    """No request can be sent (exit status 2)."""


@dataclass(frozen=True)
class Call:
    method: str
    route: str  # relative to the base URL: "productivity/summarize", "use-cases"
    body: bytes | None


def conversation_call(
    command: str, *, delete: bool = False, limit: int | None = None, next_token: str | None = None
) -> Call:
    """``conversations`` (the caller's list, a page of ``limit`` from ``next_token``) or ``conversations/<id>`` (one
    conversation; ``delete``: erase it). The id is sent as given: the API checks it."""
    parts = command.strip("/").split("/")
    if len(parts) == 1:
        if delete:
            raise ClientError("--delete goes with conversations/<id>")
        query = {key: value for key, value in (("limit", limit), ("nextToken", next_token)) if value is not None}
        return Call("GET", CONVERSATIONS + (f"?{urlencode(query)}" if query else ""), None)
    if len(parts) != 2 or not parts[1]:
        raise ClientError(f"expected {CONVERSATIONS} or {CONVERSATIONS}/<conversationId>, got {command!r}")
    if limit is not None or next_token is not None:
        raise ClientError("--limit and --next-token go with conversations (the list)")
    return Call("DELETE" if delete else "GET", f"{CONVERSATIONS}/{quote(parts[1], safe='')}", None)


def with_conversation_id(call: Call, conversation_id: str) -> Call:
    """The call's JSON body with ``conversationId`` set: the server remembers the conversation, and ``messages``
    holds only the new turn."""
    try:
        body = json.loads(call.body or b"")
    except ValueError:
        raise ClientError("--conversation-id needs a JSON object body") from None
    if not isinstance(body, dict):
        raise ClientError("--conversation-id needs a JSON object body")
    return Call(call.method, call.route, json.dumps({**body, "conversationId": conversation_id}).encode())


def call_for(command: str, body: str | None, stdin: BinaryIO) -> Call:
    """``use-cases`` or ``<family>/<task>`` with a body from ``body`` (a file, or ``-`` for stdin), by default the
    task's example in examples/."""
    if command == DISCOVERY:
        if body is not None:
            raise ClientError("use-cases takes no body")
        return Call("GET", DISCOVERY, None)
    parts = command.strip("/").split("/")
    if len(parts) != 2 or not all(parts):
        raise ClientError(f"expected <family>/<task> or {DISCOVERY}, got {command!r}")
    if body == "-":
        data = stdin.read()
    else:
        path = Path(body) if body is not None else EXAMPLES / parts[0] / f"{parts[1]}.json"
        try:
            data = path.read_bytes()
        except OSError as error:
            hint = "" if body is not None else " (no example for this task: pass --body FILE or --body -)"
            raise ClientError(f"cannot read {path}: {error.strerror}{hint}") from None
    return Call("POST", "/".join(parts), data)


def format_of(path: Path) -> str:
    extension = path.suffix.lower().lstrip(".")
    if extension not in EXTENSIONS:
        raise ClientError(f"{path}: the API takes {', '.join(sorted(EXTENSIONS))} files (by extension)")
    return EXTENSIONS[extension]


def body_with_files(call: Call, paths: Sequence[str], body_given: bool, upload: Any) -> Call:
    """``call`` with ``paths`` added as ``files``: inline while they fit the budget, else each by ``upload``
    (``upload(name, format, data) -> uploadId``). Without a body of the caller's, the example loses the inputs
    the files replace."""
    from genai_core.catalog import load_catalog

    use_case = load_catalog().get(call.route)
    if use_case is None or use_case.file_input is None:
        takes = sorted(u.id for u in load_catalog() if u.file_input is not None)
        raise ClientError(f"{call.route} takes no files; these tasks do: {', '.join(takes)}")
    try:
        request = json.loads(call.body or b"{}")
    except ValueError as error:
        raise ClientError(f"the body is not JSON: {error}") from None
    if not body_given:
        request = {k: v for k, v in request.items() if k not in use_case.file_input.replaces}
    items = list(request.get(file_contract.FILES_INPUT, []))
    inline = file_contract.inline_chars(items) * 3 // 4  # what the body already carries inline
    for name in paths:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ClientError(f"cannot read {path}: {error.strerror}") from None
        fmt = format_of(path)
        if inline + len(data) <= file_contract.MAX_INLINE_BYTES:
            inline += len(data)
            items.append({"name": path.name, "format": fmt, "data": base64.b64encode(data).decode("ascii")})
        else:
            items.append({"name": path.name, "format": fmt, "uploadId": upload(path.name, fmt, data)})
    request[file_contract.FILES_INPUT] = items
    return Call(call.method, call.route, json.dumps(request, ensure_ascii=False).encode("utf-8"))


@dataclass(frozen=True)
class Target:
    base_url: str
    auth: Auth


def resolve_target(args: argparse.Namespace, session: Any) -> Target:
    """Where to send and how to authenticate: ``--url``, ``--local`` or the stack's ApiUrl output; an API key
    (``--api-key``, the stack's) or SigV4."""
    credentials = session.get_credentials()
    frozen = credentials.get_frozen_credentials() if credentials else None
    api_key = getattr(args, "api_key", None)
    if args.local:
        port = args.port or int(os.environ.get("PORT") or DEFAULT_PORT)
        region = session.region_name
        return Target(f"http://{HOST}:{port}/", Auth(frozen, region) if frozen and region else Auth())
    try:
        if args.url:
            base_url = args.url
            if api_key is not None:  # nothing to read from AWS: no credentials needed
                return Target(base_url, Auth(api_key=api_key))
            outputs: dict[str, str] = {}
        elif not session.region_name:
            raise ClientError("no AWS region to find the stack in: set AWS_REGION or pass --region (or --url)")
        elif frozen is None:
            raise ClientError(
                "no AWS credentials to read the stack's outputs (aws configure, AWS_PROFILE or aws sso login)"
            )
        else:
            outputs = stack_outputs(session.client("cloudformation"), args.stack_name)
            base_url = outputs[API_URL]
        region = region_of(base_url, session.region_name)
        auth = stack_auth(
            outputs, api_key=api_key, apigateway=lambda: session.client("apigateway"), credentials=frozen, region=region
        )
    except SmokeError as error:
        raise ClientError(str(error)) from None
    return Target(base_url, auth)


def uploader(target: Target, timeout: float, err: IO[str]) -> Any:
    """``upload(name, format, data) -> uploadId``: POST /uploads, then the PUT its answer presigns
    (``tools.smoke.upload_file``, which make smoke's upload run uses too)."""

    def upload(name: str, fmt: str, data: bytes) -> str:
        try:
            upload_id = upload_file(target.base_url, target.auth, name, fmt, data, timeout)
        except SmokeError as error:
            raise ClientError(str(error)) from None
        print(f"uploaded {name} ({len(data)} bytes) as {upload_id}", file=err)
        return upload_id

    return upload


def open_response(call: Call, target: Target, timeout: float) -> http.client.HTTPResponse:
    """Send the call (with an API key, or signed when there are credentials) and return the response with its body
    not yet read."""
    url = target.base_url.rstrip("/") + "/" + call.route
    content_type = {"Content-Type": "application/json"} if call.body is not None else {}
    headers = target.auth.headers(call.method, url, call.body, content_type)
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.netloc, timeout=timeout)
    connection.request(
        call.method, parts.path + (f"?{parts.query}" if parts.query else ""), body=call.body, headers=headers
    )
    return connection.getresponse()


def chunks(response: http.client.HTTPResponse) -> Iterator[bytes]:
    """The body as it arrives (a chunked or streamed body piece by piece): what a ``--stream`` printer would consume."""
    while chunk := response.read1(CHUNK_BYTES):
        yield chunk


def show_json(pieces: Iterator[bytes], out: IO[str]) -> None:
    """Pretty-print a JSON body (or print it as text if it is not JSON)."""
    text = b"".join(pieces).decode("utf-8", errors="replace")
    try:
        print(json.dumps(json.loads(text), indent=2, ensure_ascii=False), file=out)
    except ValueError:
        print(text, file=out)


def sse_events(pieces: Iterator[bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Server-Sent Events as they complete (an event ends with a blank line), from a body read piece by piece."""
    buffer = b""
    for piece in pieces:
        buffer += piece
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.decode("utf-8").split("\n") if ": " in line)
            if "data" in fields:
                yield fields.get("event", "message"), json.loads(fields["data"])


def show_stream(pieces: Iterator[bytes], out: IO[str], err: IO[str]) -> bool:
    """Print each delta's text as it arrives; the final event goes to stderr. False if the stream ended in error."""
    ok = False
    for event, data in sse_events(pieces):
        if event == "delta":
            print(data.get("text", ""), end="", file=out, flush=True)
        elif event == "done":
            print(file=out, flush=True)
            print(f"done: {json.dumps(data, ensure_ascii=False)}", file=err)
            ok = True
        elif event == "error":
            print(file=out, flush=True)
            print(f"error event: {json.dumps(data, ensure_ascii=False)}", file=err)
    return ok


def run(
    call: Call,
    target: Target,
    *,
    timeout: float = TIMEOUT_SECONDS,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
) -> int:
    started = time.perf_counter()
    streamed_ok = True
    try:
        response = open_response(call, target, timeout)
        status, reason, hint = response.status, response.reason, response.getheader(HINT_HEADER)
        with response:
            if (response.getheader("Content-Type") or "").startswith(sse.MEDIA_TYPE):
                streamed_ok = show_stream(chunks(response), out, err)
            else:
                show_json(chunks(response), out)
    except (OSError, http.client.HTTPException) as error:
        print(f"client: no response from {target.base_url}: {error}", file=err)
        return 2
    print(
        f"{call.method} {target.base_url.rstrip('/')}/{call.route} -> {status} {reason} ({round((time.perf_counter() - started) * 1000)} ms)",
        file=err,
    )
    if hint:
        print(f"hint: {hint}", file=err)
    return 0 if 200 <= status < 300 and streamed_ok else 1


def main(
    argv: Sequence[str] | None = None,
    *,
    session: Any = None,
    stdin: BinaryIO | None = None,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.client", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command",
        help=f"<family>/<task> (POST), {DISCOVERY} (GET), {CONVERSATIONS} (GET) or {CONVERSATIONS}/<id> (GET, DELETE)",
    )
    parser.add_argument(
        "--body", metavar="FILE|-", help="the request body (default: examples/<family>/<task>.json; - for stdin)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help="the API's base URL (default: the stack's ApiUrl output)")
    where.add_argument("--local", action="store_true", help=f"the local server (make local) on {HOST}")
    parser.add_argument("--port", type=int, help=f"with --local: default $PORT or {DEFAULT_PORT}")
    parser.add_argument("--stack-name", default=DEFAULT_STACK, help=f"the API stack (default: {DEFAULT_STACK})")
    parser.add_argument("--region", help="default: AWS_REGION, else your AWS configuration's region")
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV) or None,
        help=f"authMode=api-key: the key to send (default: ${API_KEY_ENV}, else the stack's {API_KEY_OUTPUT} output's)",
    )
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds to wait for the answer")
    parser.add_argument(
        "--stream", action="store_true", help="POST <family>/<task>/stream and print the reply as it is written"
    )
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help="a file for a task that takes files (repeatable): inline, or by upload when the files exceed 4 MiB",
    )
    parser.add_argument(
        "--conversation-id", metavar="ID", help="with a task that remembers (chat): send this conversationId"
    )
    parser.add_argument("--delete", action="store_true", help=f"with {CONVERSATIONS}/<id>: erase it")
    parser.add_argument("--limit", type=int, help=f"with {CONVERSATIONS}: the page size")
    parser.add_argument("--next-token", help=f"with {CONVERSATIONS}: the nextToken of the page before")
    args = parser.parse_args(argv)
    if args.port is not None and not args.local:
        parser.error("--port goes with --local")
    from botocore.exceptions import BotoCoreError

    try:
        if args.command.strip("/").split("/")[0] == CONVERSATIONS:
            if args.body is not None or args.stream or args.conversation_id:
                raise ClientError(f"{CONVERSATIONS} takes no body, --stream or --conversation-id")
            call = conversation_call(args.command, delete=args.delete, limit=args.limit, next_token=args.next_token)
        else:
            if args.delete or args.limit is not None or args.next_token is not None:
                raise ClientError(f"--delete, --limit and --next-token go with {CONVERSATIONS}")
            call = call_for(args.command, args.body, stdin or sys.stdin.buffer)
            if args.conversation_id is not None:
                call = with_conversation_id(call, args.conversation_id)
        if args.stream:
            if call.method != "POST":
                raise ClientError("--stream goes with a <family>/<task> that streams (customer-experience/chat)")
            call = Call(call.method, f"{call.route}/stream", call.body)
        target = resolve_target(args, session or aws_session(args.region))
        if args.file:
            call = body_with_files(call, args.file, args.body is not None, uploader(target, args.timeout, err))
    except (ClientError, BotoCoreError) as error:  # botocore: a profile that does not exist, a broken SSO set-up...
        print(f"client: {error}", file=err)
        return 2
    return run(call, target, timeout=args.timeout, out=out, err=err)


if __name__ == "__main__":
    sys.exit(main())
