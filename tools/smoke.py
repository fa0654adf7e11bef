"""Smoke test of a deployed API: send every example request, authenticated as the stack asks, and print what came back.

    make smoke                                   # after `make deploy`, with the same credentials and region
    python -m tools.smoke --stack-name MyAppApi  # another deployment (stackName in cdk.json + "Api")
    GENAI_API_KEY=... make smoke                 # authMode=api-key with a key of your own (default: the stack's)

It reads the API's URL from the stack's ``ApiUrl`` output (CloudFormation) and authenticates each request the way
the stack's ``authMode`` requires: in ``iam`` mode (the default) it signs with the caller's credentials (botocore's
SigV4, service ``execute-api``); in ``api-key`` mode, where the stack has an ``ApiKeyId`` output, it sends the
``x-api-key`` header with that key's value (API Gateway's ``GetApiKey`` with ``includeValue``), or with the key
given by ``--api-key`` or ``$GENAI_API_KEY``. It sends ``examples/<family>/<task>.json`` (or any JSON file under
``examples/<family>/<task>/``: the requests with a small file, one per task that takes files) to
``POST <ApiUrl><family>/<task>``, and prints one row per request: route, status, latency, tokens and stop reason.
The first example with a file is sent once more with its file by upload (``POST /uploads``, the presigned ``PUT``,
then the ``uploadId``), which exercises the uploads bucket end to end. A route of the catalog without an example
gets a minimal request built from its input schema. Where the stack keeps conversations (its
``ConversationsTableName`` output), it then makes one remembered turn under a new ``conversationId``
(``smoke-<random>``), reads the conversation back, deletes it and checks that it is gone, so that nothing of the
smoke test is kept. Exits 1 if any request fails (anything but the answer the route promises) or nothing could be
sent.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from endpoints import API_KEY_HEADER, CONVERSATIONS_PATH, UPLOADS_PATH
from genai_core.catalog import UseCase, load_catalog
from genai_core.file_contract import FILES_INPUT
from stacks.config import API_STACK_SUFFIX, cdk_json_context
from stacks.outputs import API_KEY_ID, API_URL, CONVERSATIONS_TABLE_NAME, KNOWLEDGE_BASE_ID
from tools.schema_samples import sample

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DEFAULT_STACK = cdk_json_context()["stackName"] + API_STACK_SUFFIX  # the API stack of cdk.json's stackName
TIMEOUT_SECONDS = 35.0  # above API Gateway's 29-second integration timeout
API_KEY_ENV = "GENAI_API_KEY"  # a key of the caller's own, instead of the stack's (ApiKeyId output)
API_KEY_OUTPUT = API_KEY_ID  # the API stack's output in authMode=api-key


class SmokeError(Exception):
    """The smoke test cannot run at all (no stack output, no credentials...)."""


# What a request of the conversation check must answer: (status, body) -> the problem, or None when it is right.
Expectation = Callable[[int | None, dict[str, Any] | None], str | None]


@dataclass(frozen=True)
class Example:
    route: str  # /family/task (or a conversation's path)
    source: str  # the file, relative to the repository, or "generated" (or what the check does)
    body: dict[str, Any] | None
    method: str = "POST"
    expect: Expectation | None = None  # None: a 200 with the route's answer
    by_upload: bool = False  # its inline files are sent by upload instead (POST /uploads, the PUT, the uploadId)


@dataclass(frozen=True)
class Outcome:
    example: Example
    status: int | None  # None: no HTTP response at all
    latency_ms: int
    body: dict[str, Any] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        if self.example.expect is not None:
            return self.error is None and self.example.expect(self.status, self.body) is None
        return (
            self.status == 200
            and isinstance(self.body, dict)
            and self.body.get("useCase") == self.example.route.lstrip("/")
        )

    def detail(self) -> tuple[str, str, str]:
        """Input tokens, output tokens and stop reason, or what went wrong."""
        body = self.body or {}
        if self.example.expect is not None and self.error is None:
            problem = self.example.expect(self.status, self.body)
            return "-", "-", problem or "as expected"
        if self.ok:
            usage = body.get("usage", {})
            return (
                str(usage.get("inputTokens", "?")),
                str(usage.get("outputTokens", "?")),
                str(body.get("stopReason", "?")),
            )
        error = body.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        return "-", "-", str(code or self.error or "unexpected response")


# --- the requests -------------------------------------------------------------------------------------------------


def minimal_value(schema: dict[str, Any]) -> Any:
    """A short, valid request for a route that has no example yet (best effort)."""
    return sample(schema, text=SMOKE_TEXT, min_items=1)


def find_examples(examples_dir: Path, routes: Sequence[UseCase]) -> list[Example]:
    """Every example file, then a generated request for each route of the catalog that has none."""
    found: list[Example] = []
    paths = {route.path for route in routes}
    for path in sorted(examples_dir.rglob("*.json")):
        relative = path.relative_to(examples_dir)
        if len(relative.parts) < 2:
            continue  # not under examples/<family>/
        family, task = relative.parts[0], relative.parts[1].removesuffix(".json")
        if f"/{family}/{task}" not in paths:
            continue  # not a route of these (examples/corpus/ holds documents; a task the stack does not serve)
        body = json.loads(path.read_text(encoding="utf-8"))
        source = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        found.append(Example(f"/{family}/{task}", source, body))
    covered = {example.route for example in found}
    for route in routes:
        if route.path not in covered:
            found.append(Example(route.path, "generated", minimal_value(route.input_schema)))
    # One request again with its file sent by upload: the presigned PUT and the read back, end to end.
    with_file = next((e for e in found if e.body is not None and e.body.get(FILES_INPUT)), None)
    if with_file is not None:
        found.append(Example(with_file.route, f"{with_file.source} (by upload)", with_file.body, by_upload=True))
    return found


def conversation_check(routes: Sequence[UseCase], conversation_id: str | None = None) -> list[Example]:
    """One remembered turn of the first task that remembers, under a new id; the conversation read back (two
    messages), deleted, and gone (404): the requests are sent in this order."""
    route = next((route for route in routes if route.memory), None)
    if route is None:
        return []
    conversation_id = conversation_id or f"smoke-{uuid.uuid4().hex}"
    path = f"{CONVERSATIONS_PATH}/{conversation_id}"
    turn = {"conversationId": conversation_id, "messages": [{"role": "user", "content": SMOKE_TEXT}]}

    def remembered(status: int | None, body: dict[str, Any] | None) -> str | None:
        body = body or {}
        if status != 200 or body.get("conversationId") != conversation_id:
            return f"{status}: {_code(body) or 'no conversationId in the answer'}"
        return None if body.get("remembered") is True else "answered, but not remembered (the guardrail?)"

    def read_back(status: int | None, body: dict[str, Any] | None) -> str | None:
        turns = (body or {}).get("turns")
        return None if status == 200 and turns == 2 else f"{status}: {_code(body) or f'{turns} messages, not 2'}"

    def deleted(status: int | None, body: dict[str, Any] | None) -> str | None:
        return None if status == 200 and (body or {}).get("deleted") is True else f"{status}: {_code(body)}"

    def gone(status: int | None, body: dict[str, Any] | None) -> str | None:
        return None if status == 404 and _code(body) == "conversation_not_found" else f"{status}: {_code(body)}"

    return [
        Example(route.path, "conversation: a remembered turn", turn, "POST", remembered),
        Example(path, "conversation: read back", None, "GET", read_back),
        Example(path, "conversation: deleted", None, "DELETE", deleted),
        Example(path, "conversation: gone", None, "GET", gone),
    ]


SMOKE_TEXT = "Smoke test: please answer in one short sentence."


def _code(body: dict[str, Any] | None) -> str | None:
    error = (body or {}).get("error")
    return str(error.get("code")) if isinstance(error, dict) else None


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The stack's outputs (key -> value); it must have its API URL (``stacks.outputs.API_URL``)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as error:  # botocore's ClientError, NoCredentialsError, EndpointConnectionError...
        raise SmokeError(f"cannot describe stack {stack_name!r}: {error}") from error
    found = {o["OutputKey"]: str(o["OutputValue"]) for o in (stacks[0].get("Outputs", []) if stacks else [])}
    if API_URL not in found:
        raise SmokeError(f"stack {stack_name!r} has no {API_URL} output (is it the API stack, and is it deployed?)")
    return found


def api_url(cloudformation: Any, stack_name: str) -> str:
    return stack_outputs(cloudformation, stack_name)[API_URL]


def api_key_value(apigateway: Any, key_id: str) -> str:
    """The value of the API key ``key_id`` (the stack's ApiKeyId output): needs ``apigateway:GET`` on it."""
    try:
        return str(apigateway.get_api_key(apiKey=key_id, includeValue=True)["value"])
    except Exception as error:  # ClientError (not found, access denied), a response without the value...
        raise SmokeError(
            f"cannot read the value of API key {key_id!r} (the stack's {API_KEY_OUTPUT} output): {error!r}; "
            f"pass --api-key or set {API_KEY_ENV}"
        ) from error


@dataclass(frozen=True)
class Auth:
    """How a request authenticates: an API key (authMode=api-key), else a SigV4 signature with ``credentials`` for
    ``execute-api`` in ``region`` (authMode=iam), else nothing (the local server)."""

    credentials: Any = None
    region: str | None = None
    api_key: str | None = None

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return "API key"
        return "SigV4" if self.credentials is not None and self.region else "unauthenticated"

    def headers(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` plus what authenticates the request. An API-key request is not signed: its methods have no
        IAM authorization."""
        if self.api_key is not None:
            return {**headers, API_KEY_HEADER: self.api_key}
        if self.credentials is not None and self.region:
            return signed_headers(method, url, data, self.credentials, self.region, headers)
        return dict(headers)


def stack_auth(outputs: dict[str, str], *, api_key: str | None, apigateway: Any, credentials: Any, region: str) -> Auth:
    """The authentication the stack asks for: ``api_key`` when given, the stack's own key when it has one
    (authMode=api-key), else SigV4 with ``credentials``. ``apigateway`` is a client, or a function that makes one."""
    if api_key is None and API_KEY_OUTPUT in outputs:
        api_key = api_key_value(apigateway() if callable(apigateway) else apigateway, outputs[API_KEY_OUTPUT])
    if api_key is not None:
        return Auth(api_key=api_key)
    if credentials is None:
        raise SmokeError("no AWS credentials: the API requires SigV4-signed requests (aws configure, AWS_PROFILE...)")
    return Auth(credentials=credentials, region=region)


def region_of(url: str, default: str | None) -> str:
    """The region in an execute-api host (abc123.execute-api.us-east-1.amazonaws.com), else ``default``."""
    parts = (urlsplit(url).hostname or "").split(".")
    if len(parts) > 3 and parts[1] == "execute-api":
        return parts[2]
    if not default:
        raise SmokeError("no AWS region: set AWS_REGION (or a profile with a region)")
    return default


def signed_headers(
    method: str, url: str, data: bytes | None, credentials: Any, region: str, headers: dict[str, str] | None = None
) -> dict[str, str]:
    """``headers`` plus the SigV4 ones (X-Amz-Date, the session token, Authorization) for ``execute-api`` in
    ``region``. Send exactly these (the Host header is the URL's): API Gateway recomputes the signature over them."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    signed = AWSRequest(method=method, url=url, data=data, headers=dict(headers or {}))
    SigV4Auth(credentials, "execute-api", region).add_auth(signed)
    return dict(signed.headers.items())


def aws_session(region: str | None) -> Any:
    """A boto3 session in ``region``, else AWS_REGION (which the CDK CLI honours), else boto3's own choice
    (AWS_DEFAULT_REGION or the profile's region)."""
    import boto3

    return boto3.Session(region_name=region or os.environ.get("AWS_REGION") or None)


def upload_file(base_url: str, auth: Auth, name: str, fmt: str, data: bytes, timeout: float) -> str:
    """Send a file by upload: ``POST /uploads`` (authenticated by ``auth``), then a ``PUT`` of ``data`` to the
    presigned URL with the headers it answered (unsigned: the URL is the authorization); its uploadId, or a
    ``SmokeError`` that says which step failed."""
    url = base_url.rstrip("/") + UPLOADS_PATH
    body = json.dumps({"name": name, "format": fmt, "size": len(data)}).encode()
    headers = auth.headers("POST", url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers, method="POST"), timeout=timeout) as got:
            answer = json.loads(got.read())
    except urllib.error.HTTPError as error:
        raise SmokeError(f"POST {UPLOADS_PATH} for {name} answered {error.code}: {error.read()[:300]!r}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise SmokeError(f"POST {UPLOADS_PATH} for {name} failed: {error}") from None
    put = urllib.request.Request(answer["url"], data, dict(answer["headers"]), method=answer["method"])
    try:
        with urllib.request.urlopen(put, timeout=timeout):
            pass
    except urllib.error.HTTPError as error:
        raise SmokeError(f"the upload of {name} answered {error.code}: {error.read()[:300]!r}") from None
    except (urllib.error.URLError, OSError) as error:
        raise SmokeError(f"the upload of {name} failed: {error}") from None
    return str(answer["uploadId"])


def by_upload(body: dict[str, Any], base_url: str, auth: Auth, timeout: float) -> dict[str, Any]:
    """``body`` with each inline file sent by upload and named by its uploadId."""
    items = []
    for item in body[FILES_INPUT]:
        if "data" in item:
            data = base64.b64decode(item["data"])
            upload_id = upload_file(base_url, auth, item["name"], item["format"], data, timeout)
            item = {"name": item["name"], "format": item["format"], "uploadId": upload_id}
        items.append(item)
    return {**body, FILES_INPUT: items}


def send(example: Example, base_url: str, auth: Auth, timeout: float) -> Outcome:
    """Send the example (POST with its body, or its method without one), authenticated by ``auth``; never raises
    for an HTTP or network failure."""
    url = base_url.rstrip("/") + example.route
    try:
        request_body = (
            by_upload(example.body, base_url, auth, timeout)
            if example.by_upload and example.body is not None
            else example.body
        )
    except SmokeError as error:
        return Outcome(example, None, 0, None, str(error))
    data = None if request_body is None else json.dumps(request_body, ensure_ascii=False).encode("utf-8")
    headers = auth.headers(example.method, url, data, {"Content-Type": "application/json"} if data is not None else {})
    request = urllib.request.Request(url, data=data, headers=headers, method=example.method)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        return Outcome(example, None, round((time.perf_counter() - started) * 1000), None, f"no response: {error}")
    latency_ms = round((time.perf_counter() - started) * 1000)
    try:
        body = json.loads(raw)
    except ValueError:
        return Outcome(example, status, latency_ms, None, "response is not JSON")
    return Outcome(example, status, latency_ms, body if isinstance(body, dict) else None)


# --- the report ---------------------------------------------------------------------------------------------------

COLUMNS = ("route", "example", "status", "latency_ms", "in_tokens", "out_tokens", "stop_reason / error")


def table(outcomes: Sequence[Outcome]) -> str:
    rows = [COLUMNS] + [
        (o.example.route, o.example.source, str(o.status or "-"), str(o.latency_ms), *o.detail()) for o in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def run(
    *,
    stack_name: str,
    cloudformation: Any,
    credentials: Any,
    default_region: str | None,
    apigateway: Any = None,
    api_key: str | None = None,
    examples_dir: Path = EXAMPLES,
    routes: Sequence[UseCase] | None = None,
    timeout: float = TIMEOUT_SECONDS,
    out: IO[str] = sys.stdout,
) -> int:
    """The whole smoke test; returns the exit code (0: every request succeeded). ``apigateway`` (a client, or a
    function that makes one) reads the stack's API key in authMode=api-key, unless ``api_key`` is given."""
    try:
        outputs = stack_outputs(cloudformation, stack_name)
        base_url = outputs[API_URL]
        region = region_of(base_url, default_region)
        auth = stack_auth(outputs, api_key=api_key, apigateway=apigateway, credentials=credentials, region=region)
        if routes is None:  # the stack's routes: a task that searches one only where it has a knowledge base
            routes = list(load_catalog().served(knowledge_base=KNOWLEDGE_BASE_ID in outputs))
        unserved = [] if KNOWLEDGE_BASE_ID in outputs else [u.path for u in load_catalog() if u.retrieval]
        examples = find_examples(examples_dir, routes)
        if not examples:
            raise SmokeError(f"no example requests under {examples_dir}")
        if CONVERSATIONS_TABLE_NAME in outputs:  # the stack keeps conversations: one remembered turn, then erased
            examples += conversation_check(routes)
    except SmokeError as error:
        print(f"smoke: {error}", file=out)
        return 1
    if unserved:
        print(f"smoke: the stack has no knowledge base: {', '.join(unserved)} not sent", file=out)
    print(f"smoke: {len(examples)} request(s) to {base_url} ({region}, {auth.label})", file=out)
    outcomes = [send(example, base_url, auth, timeout) for example in examples]
    print(table(outcomes), file=out)
    failed = [o for o in outcomes if not o.ok]
    print(f"smoke: {len(outcomes) - len(failed)} of {len(outcomes)} request(s) succeeded", file=out)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default=DEFAULT_STACK, help=f"the API stack (default: {DEFAULT_STACK})")
    parser.add_argument("--region", help="default: the region of your AWS configuration")
    parser.add_argument("--examples", type=Path, default=EXAMPLES, help="folder of <family>/<task>.json requests")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds to wait for each response")
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV) or None,
        help=f"authMode=api-key: the key to send (default: ${API_KEY_ENV}, else the stack's {API_KEY_OUTPUT} output's)",
    )
    args = parser.parse_args(argv)

    session = aws_session(args.region)
    if not session.region_name:
        print(
            "smoke: no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region) or pass --region",
            file=sys.stderr,
        )
        return 1
    credentials = session.get_credentials()
    return run(
        stack_name=args.stack_name,
        cloudformation=session.client("cloudformation"),
        credentials=credentials.get_frozen_credentials() if credentials else None,
        default_region=session.region_name,
        apigateway=lambda: session.client("apigateway"),
        api_key=args.api_key,
        examples_dir=args.examples,
        timeout=args.timeout,
    )


if __name__ == "__main__":
    sys.exit(main())
