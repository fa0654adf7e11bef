"""Serve the API on 127.0.0.1 without Docker: each HTTP request becomes the REST proxy event API Gateway would send,
handed to the same ``handler.lambda_handler`` the deployed function runs, and its proxy response is written back.

    make local                          # http://127.0.0.1:3000 (PORT=8080 make local for another port)
    make local LOCAL_ARGS=--fake-bedrock   # no AWS account, credentials or network: a fake model answers
    make local LOCAL_ARGS="--conversations-table <the stack's ConversationsTableName output>"
    python -m tools.local_api --no-check

The function's environment comes from the same code and configuration as the stack's (``stacks/function_env.py``,
``cdk.json``); Bedrock is called with your AWS credentials and region. Without credentials it still starts, says how
to get them, and failed requests carry a hint (``X-Local-Hint`` header and ``error.hint``). No guardrail unless
``GUARDRAIL_ID`` (and ``GUARDRAIL_VERSION``, default ``DRAFT``) are set. Files go inline (base64; the function's own
limits apply, under API Gateway's 10 MB); uploads only with ``UPLOADS_BUCKET`` set to a deployed stack's
``UploadsBucketName`` output (read and presigned with your credentials), else ``POST /uploads`` and an ``uploadId`` are
a 400 ``uploads_not_configured`` that says to send the file inline. With ``--fake-bedrock`` the fake model of
``tools/fake_bedrock.py`` answers at the function's botocore clients (the handler, the core and the fault map run
unchanged), no credentials are looked for, and every response carries ``X-Fake-Bedrock: true``.

The tasks that search the knowledge base (``POST /productivity/search``) search the deployed one: its id is the API
stack's ``KnowledgeBaseId`` output (CloudFormation, with your credentials, as ``make smoke`` reads the stack's
outputs), or ``KNOWLEDGE_BASE_ID`` when set. Without one (no deployed stack, no credentials, ``knowledgeBase`` off in
cdk.json) they answer 404 and the start-up message says why; with ``--fake-bedrock`` the fake searches the sample
corpus, ``examples/corpus/``.

Server-side conversations (``conversationId`` on chat, ``/conversations``): with ``--fake-bedrock`` they live in an
in-process DynamoDB (moto, a dev dependency: the same table definition, kept until the server stops; nothing is
sent anywhere). Otherwise they need a real table, the deployed stack's (``--conversations-table`` with its
``ConversationsTableName`` output, used with your credentials); without one they are off locally, as with
``-c conversations=false``, and a request that names a conversation gets a 400 with a hint.

Structure: ``build_event`` (pure: an HTTP request -> the proxy event), a dispatcher (``LocalApi.routes``: path ->
callable returning an ``HttpResponse``; every path of the function goes to ``LambdaRoute``, every streaming path
(``POST /customer-experience/chat/stream``) to ``StreamRoute``, which calls the streaming function's adapter,
``stream_app.handle``, and writes its Server-Sent Events as they come; any other path gets a 404 listing them all),
the HTTP layer (``RequestHandler``: the streaming function's strict framing, limits, timeouts and JSON refusals from
``http_io.JsonHttpHandler``, with API Gateway's 10 MB limit), and ``main``.
"""

from __future__ import annotations

import argparse
import base64
import errno
import importlib
import json
import os
import sys
import textwrap
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

import caller
from genai_core import bedrock, settings
from genai_core.errors import NotFound
from http_io import BodyLimit, JsonHttpHandler, Server, header_pairs, json_response
from http_io import Response as HttpResponse  # what a route answers
from stacks import (
    FUNCTION_DIR,  # the function's folder, on the import path as the Lambda runtime sees it
    outputs,
)
from stacks.config import CDK_JSON, CONTEXT_KEYS, AppConfig, cdk_json_context, load_config
from stacks.function_env import function_environment, model_ids, one_guardrail
from tools import fake_bedrock
from tools.smoke import SmokeError, stack_outputs

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # never another interface: the local server checks no signature and spends your AWS account
DEFAULT_PORT = 3000
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit; the function's own (256 KiB) applies after it
# Over it, API Gateway answers 413 with its REQUEST_TOO_LARGE response (in the envelope, as the stack configures it).
BODY_LIMIT = BodyLimit(MAX_BODY_BYTES, "REQUEST_TOO_LARGE", "Request body larger than API Gateway's 10 MB limit.")
IDLE_TIMEOUT_SECONDS = 60  # a kept-alive connection with no new request is closed after this
FAKE_STREAM_DELAY_SECONDS = 0.05  # between the fake's deltas, so that a reader sees them come
FAKE_NOTICE = (
    "FAKE BEDROCK (--fake-bedrock): no model is called and no AWS credentials are used. Every answer is made up "
    "from the use case's own schema (structured tasks answer valid objects, text tasks a fixed text, the stream "
    "streams it word by word); every response carries X-Fake-Bedrock: true and a model named fake-bedrock/..."
)
# What --fake-bedrock takes out of the environment, and puts in: no credentials, no AWS configuration files, no
# instance metadata. botocore then finds nothing to sign with, and looks for nothing on the network.
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)
NO_AWS_CONFIG = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
FALLBACK_REGION = "us-east-1"
HINT_HEADER = "X-Local-Hint"
FIX_CREDENTIALS = (
    "`aws configure` (access keys), `export AWS_PROFILE=<profile>`, or `aws sso login --profile <profile>` "
    "(then `export AWS_PROFILE=<profile>`)"
)
# Bedrock (or botocore) errors that mean the credentials, not the request, are the problem: the function's own list.
CREDENTIAL_ERRORS = bedrock.CREDENTIAL_ERRORS
# The knowledge base's faults that the local set-up causes (a knowledge base that is not there, or not yours to search).
KNOWLEDGE_BASE_CODES = frozenset(
    {"knowledge_base_not_found", "knowledge_base_access_denied", "knowledge_base_configuration_error"}
)
# The caller every local request comes from: no signature or key is checked here, so each request carries this fixed
# identity, in the field API Gateway fills in for the configured authMode (caller.py): the owner is
# "iam:arn:aws:iam::000000000000:user/make-local" in iam mode, "apikey:make-local" in api-key mode.
LOCAL_ACCOUNT = "000000000000"
# --fake-bedrock's conversation table, in moto (in this process only).
LOCAL_CONVERSATIONS_TABLE = "make-local-conversations"
LOCAL_IDENTITY: Mapping[str, Mapping[str, str]] = {
    caller.IAM: {"accountId": LOCAL_ACCOUNT, "userArn": f"arn:aws:iam::{LOCAL_ACCOUNT}:user/make-local"},
    caller.API_KEY: {"apiKeyId": "make-local"},
}


# --- configuration and the caller's AWS set-up --------------------------------------------------------------------


def load_local_config(path: Path = CDK_JSON) -> AppConfig:
    """The app's configuration from cdk.json's context, validated by the same loader as synth (no ``-c`` overrides)."""
    context = cdk_json_context(path)
    return load_config({key: context.get(key) for key in CONTEXT_KEYS})


class LocalSetupError(Exception):
    """The server cannot start (a profile that does not exist)."""


@dataclass(frozen=True)
class AwsSetup:
    """What the server found of the caller's AWS configuration at start-up."""

    region: str
    region_source: str
    credentials: str | None  # how botocore found them (and the key's last characters), or None
    problem: str | None = None  # why there are none, when botocore said


def default_region(config: AppConfig) -> str:
    """The first region of the first configured inference profile's geography (us-east-1 for a us. profile)."""
    for target in config.models.values():
        regions = [region for region in target.profile_regions or () if region != "*"]
        if regions:
            return regions[0]
    return FALLBACK_REGION


def inspect_aws(session: Any, environ: Mapping[str, str], config: AppConfig) -> AwsSetup:
    """The region (AWS_REGION, else botocore's: AWS_DEFAULT_REGION or the profile's) and the credentials botocore
    finds, from a ``botocore.session.Session``. Never raises for missing credentials: the server starts anyway."""
    from botocore.exceptions import BotoCoreError, ProfileNotFound

    region, source = environ.get("AWS_REGION"), "AWS_REGION"
    try:
        profile_region = session.get_config_variable("region")
        credentials = session.get_credentials()
        problem = None
    except ProfileNotFound as error:  # the handler could not even create its client: nothing to serve
        raise LocalSetupError(
            f"{error}. Fix: `aws configure --profile <name>` or `aws configure sso`, or unset AWS_PROFILE."
        ) from None
    except BotoCoreError as error:  # a broken SSO or credential-process configuration...
        profile_region, credentials, problem = None, None, f"{type(error).__name__}: {error}"
    if not region:
        region, source = profile_region, "AWS_DEFAULT_REGION or the profile's region"
    if not region:
        region, source = default_region(config), "none configured: the models' default, set AWS_REGION to choose"
    if credentials is None:
        return AwsSetup(region, source, None, problem)
    profile = session.get_config_variable("profile") or environ.get("AWS_PROFILE")
    found = f"{credentials.method}" + (f" (profile {profile})" if profile else "")
    try:
        found += f", access key ...{credentials.get_frozen_credentials().access_key[-4:]}"
    except BotoCoreError as error:  # e.g. an expired SSO token: found, but unusable
        return AwsSetup(region, source, found, f"{type(error).__name__}: {error}")
    return AwsSetup(region, source, found)


def guardrail_from(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """A deployed guardrail to use locally (GUARDRAIL_ID, GUARDRAIL_VERSION or DRAFT); by default none."""
    identifier = environ.get("GUARDRAIL_ID")
    return (identifier, environ.get("GUARDRAIL_VERSION") or "DRAFT") if identifier else None


def uploads_bucket_from(environ: Mapping[str, str]) -> str | None:
    """A deployed stack's uploads bucket to use locally (UPLOADS_BUCKET: its UploadsBucketName output); by default
    none, and files go inline only (an uploadId, or POST /uploads, is a 400 uploads_not_configured)."""
    return environ.get(settings.UPLOADS_BUCKET) or None


@dataclass(frozen=True)
class LocalKnowledgeBase:
    """The knowledge base make local searches (None: the tasks that search one are not served), and why."""

    knowledge_base_id: str | None
    source: str


def find_knowledge_base(
    config: AppConfig, aws: AwsSetup, environ: Mapping[str, str], *, fake: bool, cloudformation: Any = None
) -> LocalKnowledgeBase:
    """The deployed knowledge base's id: ``KNOWLEDGE_BASE_ID``, else the API stack's ``KnowledgeBaseId`` output
    (``cloudformation``: a client, or None for none); the fake's with ``--fake-bedrock``; none when cdk.json has it
    off."""
    stack = config.api_stack_name
    if not config.knowledge_base.enabled:
        return LocalKnowledgeBase(None, "none: knowledgeBase is off in cdk.json (the tasks that search one answer 404)")
    if fake:
        return LocalKnowledgeBase(fake_bedrock.FAKE_KNOWLEDGE_BASE_ID, "fake: the sample corpus, examples/corpus/")
    if environ.get(settings.KNOWLEDGE_BASE_ID):
        return LocalKnowledgeBase(environ[settings.KNOWLEDGE_BASE_ID], settings.KNOWLEDGE_BASE_ID)
    if cloudformation is None:
        return LocalKnowledgeBase(
            None, f"not looked up (no usable credentials); set KNOWLEDGE_BASE_ID, or deploy {stack} (make deploy)"
        )
    try:
        found = stack_outputs(cloudformation, stack).get(outputs.KNOWLEDGE_BASE_ID)
    except SmokeError as error:
        return LocalKnowledgeBase(None, f"none found ({error}); make deploy and make ingest, or set KNOWLEDGE_BASE_ID")
    if not found:
        return LocalKnowledgeBase(
            None, f"none: {stack} has no {outputs.KNOWLEDGE_BASE_ID} output (deployed with it off)"
        )
    return LocalKnowledgeBase(found, f"the {outputs.KNOWLEDGE_BASE_ID} output of {stack}")


def local_environment(
    config: AppConfig,
    aws: AwsSetup,
    environ: Mapping[str, str],
    knowledge_base_id: str | None = None,
    conversations_table: str | None = None,
) -> dict[str, str]:
    """The function's environment as the stack sets it, plus the region and tracing off (no X-Ray daemon here);
    ``conversations_table``: the table the conversations live in (None: conversations are off locally)."""
    return {
        **function_environment(
            config,
            guardrails=one_guardrail(config, guardrail_from(environ)),
            knowledge_base_id=knowledge_base_id,
            conversations_table=conversations_table,
            uploads_bucket=uploads_bucket_from(environ),
        ),
        "AWS_REGION": aws.region,
        "POWERTOOLS_TRACE_DISABLED": environ.get("POWERTOOLS_TRACE_DISABLED", "true"),
    }


# --- conversations in an in-process DynamoDB (--fake-bedrock) --------------------------------------------------------


def conversations_table_definition() -> dict[str, Any]:
    """The CreateTable parameters of the conversation table, from the names the stack builds it with
    (``genai_core/conversation_settings.py``; a test compares them with the synthesized table)."""
    from genai_core import conversation_settings as names

    return {
        "KeySchema": [
            {"AttributeName": names.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": names.SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": names.PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": names.SORT_KEY, "AttributeType": "S"},
            {"AttributeName": names.UPDATED_ATTRIBUTE, "AttributeType": "N"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": names.UPDATED_INDEX,
                "KeySchema": [
                    {"AttributeName": names.PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": names.UPDATED_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(names.INDEX_PROJECTION)},
            }
        ],
    }


class LocalConversations:
    """``--fake-bedrock``'s conversations: moto's DynamoDB in this process (no socket, nothing sent), with the
    conversation table created from the stack's definition, and each function's store given a client with
    stand-in credentials (the fake mode has none; moto checks no signature). ``close`` undoes it all."""

    def __init__(self, region: str) -> None:
        from moto import mock_aws

        # No stand-in credentials in the environment (the fake mode has none), boto3's default session untouched.
        self.mock = mock_aws(config={"core": {"mock_credentials": False, "reset_boto3_session": False}})
        self.region = region
        self.tables: set[str] = set()
        self._undo: list[Callable[[], None]] = []

    def session(self) -> Any:
        """A botocore session with stand-in credentials in the fake mode's region (the store's clients are
        botocore's, genai_core/clients.py)."""
        import botocore.session

        session = botocore.session.Session()
        session.set_credentials("make-local", "make-local")
        session.set_config_variable("region", self.region)
        return session

    def start(self) -> None:
        self.mock.start()
        self._undo.append(self.mock.stop)

    def install(self, service: Any) -> None:
        """Give ``service`` (a ``UseCaseService`` with conversation settings) a store on the in-process table of
        its settings' name (created on the first install)."""
        from genai_core.conversations import ConversationStore

        name = service.conversations.table_name
        if name not in self.tables:
            self.session().create_client("dynamodb").create_table(TableName=name, **conversations_table_definition())
            self.tables.add(name)
        previous = service.__dict__.get("conversation_store")
        service.__dict__["conversation_store"] = ConversationStore.from_settings(
            service.conversations, session=self.session()
        )

        def undo() -> None:
            if previous is None:
                service.__dict__.pop("conversation_store", None)
            else:
                service.__dict__["conversation_store"] = previous

        self._undo.append(undo)

    def close(self) -> None:
        while self._undo:
            self._undo.pop()()


# --- the event and the response -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # the request line's path and query, as sent
    headers: Sequence[tuple[str, str]]  # in order, repeated names kept
    body: bytes
    client_ip: str = HOST
    protocol: str = "HTTP/1.1"
    server_port: int = DEFAULT_PORT

    def path(self, stage: str) -> str:
        """The path without the query, and without a leading ``/<stage>`` (so the deployed URL's shape works too)."""
        path = urlsplit(self.target).path or "/"
        prefix = f"/{stage}"
        if path == prefix or path.startswith(prefix + "/"):
            path = path[len(prefix) :] or "/"
        return path


def request_context(
    request: HttpRequest, *, stage: str, request_id: str, now: datetime, auth_mode: str
) -> dict[str, Any]:
    """API Gateway's ``requestContext`` for ``request``: in the proxy event (``build_event``) and, as JSON, in the
    ``x-amzn-request-context`` header of a streaming request (what the Lambda Web Adapter forwards). The identity is
    ``LOCAL_IDENTITY``'s for ``auth_mode``."""
    path = request.path(stage)
    user_agent = next((value for name, value in reversed(request.headers) if name.lower() == "user-agent"), None)
    return {
        "accountId": LOCAL_ACCOUNT,
        "resourceId": "local",
        "stage": stage,
        "requestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "accessKey": None,
            "sourceIp": request.client_ip,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": user_agent,
            "user": None,
            "apiKey": None,  # the key itself, in api-key mode: none here (nothing is checked)
            "apiKeyId": None,
            **LOCAL_IDENTITY[auth_mode],
        },
        "path": f"/{stage}{path}",
        "resourcePath": path,
        "httpMethod": request.method,
        "apiId": "local",
        "protocol": request.protocol,
    }


def build_event(
    request: HttpRequest, *, stage: str, request_id: str, now: datetime, auth_mode: str = caller.IAM
) -> dict[str, Any]:
    """The REST API Lambda proxy event for ``request`` on ``stage``: the keys and the shapes API Gateway sends."""
    path = request.path(stage)
    headers = list(request.headers)
    names = {name.lower() for name, _ in headers}
    for name, value in (
        ("X-Forwarded-For", request.client_ip),
        ("X-Forwarded-Port", str(request.server_port)),
        ("X-Forwarded-Proto", "http"),
    ):
        if name.lower() not in names:
            headers.append((name, value))
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(urlsplit(request.target).query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    body: str | None
    if not request.body:
        body, encoded = None, False
    else:
        try:
            body, encoded = request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(request.body).decode("ascii"), True
    return {
        "body": body,
        "resource": path,  # one API resource per route (no proxy resource)
        "path": path,
        "httpMethod": request.method,
        "isBase64Encoded": encoded,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "requestContext": request_context(request, stage=stage, request_id=request_id, now=now, auth_mode=auth_mode),
    }


def proxy_response(result: Mapping[str, Any]) -> HttpResponse:
    """The HTTP response for a Lambda proxy result: ``multiValueHeaders`` and ``headers`` merged as API Gateway
    does (a name in both keeps the multi-value list), the body base64-decoded when ``isBase64Encoded``."""
    headers = [
        (name, str(value)) for name, values in (result.get("multiValueHeaders") or {}).items() for value in values
    ]
    multi = {name.lower() for name, _ in headers}
    headers += [
        (name, str(value)) for name, value in (result.get("headers") or {}).items() if name.lower() not in multi
    ]
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return HttpResponse(int(result["statusCode"]), headers, [data])


@dataclass
class LocalLambdaContext:
    """What the Lambda runtime passes as ``context``; the remaining time counts down from the function's timeout."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout_seconds - time.monotonic()) * 1000))


# --- hints for errors a local caller can fix -----------------------------------------------------------------------


def profile_regions(config: AppConfig, models: Iterable[str]) -> list[str]:
    """The regions that the inference profiles among ``models`` route within (cdk.json's inferenceProfileRegions, in
    order), where they can be called from; none for a foundation model or a global profile (``*``)."""
    wanted = set(models)
    regions: list[str] = []
    for target in config.models.values():
        if target.model_id in wanted:
            regions += [region for region in target.profile_regions or () if region != "*" and region not in regions]
    return regions


def hint_for(
    code: str,
    upstream: str | None,
    *,
    models: Sequence[str],
    region: str,
    credentials_found: bool,
    regions: Sequence[str] = (),
) -> str | None:
    """What to do about an error the local set-up causes (credentials, model access, region), or None. ``regions``:
    where the models can be called from (``profile_regions``)."""
    shown = ", ".join(sorted(set(models)))
    if (
        code == "bedrock_credentials_error"
        or upstream in CREDENTIAL_ERRORS
        or (code == "upstream_error" and not credentials_found)
    ):
        return f"No usable AWS credentials (Bedrock call failed with {upstream or 'no credentials'}). Fix: {FIX_CREDENTIALS}; then restart make local."
    if code == "upstream_access_denied":
        return (
            f"Your credentials may not invoke {shown} in {region}: enable access to the model in the Amazon Bedrock "
            "console (Model catalog) for this account and region, and allow bedrock:InvokeModel on the inference "
            "profile and the foundation models it routes to for your IAM principal."
        )
    if code == "conversations_disabled":
        return (
            "make local keeps conversations only in a real table: pass --conversations-table <the deployed stack's "
            "ConversationsTableName output> (used with your credentials), or use --fake-bedrock (an in-process "
            "table, gone when the server stops)."
        )
    if code == "model_not_found":
        where = (
            f"call its inference profile from a region of its geography ({', '.join(regions)}: cdk.json's "
            f"inferenceProfileRegions), e.g. `export AWS_REGION={regions[0]}`"
            if regions
            else "call it from a region that offers it (`export AWS_REGION=<region>`)"
        )
        return f"{shown} is not available in {region}: {where}, or change `models` in cdk.json."
    if code in KNOWLEDGE_BASE_CODES:
        return (
            f"make local searches the deployed knowledge base (KNOWLEDGE_BASE_ID, else the stack's "
            f"{outputs.KNOWLEDGE_BASE_ID} output) in {region}: deploy the stack there (make deploy) and ingest the "
            "corpus (make ingest), and let your IAM principal call bedrock:Retrieve on it."
        )
    return None


def setup_hint(config: AppConfig, aws: AwsSetup, code: str, upstream: str | None, models: Sequence[str]) -> str | None:
    """``hint_for`` an error a request to ``models`` met, with the server's set-up."""
    return hint_for(
        code,
        upstream,
        models=models,
        region=aws.region,
        credentials_found=aws.credentials is not None,
        regions=profile_regions(config, models),
    )


def with_hint(response: HttpResponse, hint: str) -> HttpResponse:
    """The response with ``hint`` in an ``X-Local-Hint`` header and, for the JSON error envelope, in ``error.hint``."""
    body = b"".join(response.chunks)
    try:
        envelope = json.loads(body)
        envelope["error"]["hint"] = hint
        body = json.dumps(envelope, ensure_ascii=False).encode()
    except (ValueError, TypeError, KeyError):
        pass
    headers = [*header_pairs(response.headers), (HINT_HEADER, hint)]
    return replace(response, headers=headers, chunks=[body])


class UpstreamErrors:
    """Records the name of the last error of a Bedrock call on a client (botocore's own events): the response
    envelope says ``upstream_error`` for many causes, the server needs to know which to hint at."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.last: str | None = None
        self.unique_id = f"local-api-upstream-errors-{id(self)}"
        events = client.meta.events
        events.register("after-call.bedrock-runtime", self._after_call, unique_id=self.unique_id + "-call")
        events.register("after-call-error.bedrock-runtime", self._after_error, unique_id=self.unique_id + "-error")

    def _after_call(self, parsed: Mapping[str, Any] | None = None, **_: Any) -> None:
        code = (parsed or {}).get("Error", {}).get("Code")
        if code:
            self.last = str(code)

    def _after_error(self, exception: BaseException | None = None, **_: Any) -> None:
        if exception is not None:
            self.last = type(exception).__name__

    def close(self) -> None:
        events = self.client.meta.events
        events.unregister("after-call.bedrock-runtime", unique_id=self.unique_id + "-call")
        events.unregister("after-call-error.bedrock-runtime", unique_id=self.unique_id + "-error")


# --- the dispatcher --------------------------------------------------------------------------------------------------

Route = Callable[[HttpRequest], HttpResponse]


class LambdaRoute:
    """Invokes the handler as one Lambda execution environment does: one request at a time, a fresh request id,
    a context whose remaining time counts down from the function's configured timeout."""

    def __init__(self, handler: ModuleType, config: AppConfig, aws: AwsSetup, *, hints: bool = True) -> None:
        self.handler = handler
        self.config = config
        self.aws = aws
        self.hints = hints
        self.lock = threading.Lock()
        self.upstream = UpstreamErrors(handler.service.client)
        self.function_name = f"{config.api_stack_name}-local"

    def context(self) -> LocalLambdaContext:
        return LocalLambdaContext(
            function_name=self.function_name,
            memory_limit_in_mb=self.config.function.memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{self.aws.region}:000000000000:function:{self.function_name}",
            aws_request_id=str(uuid.uuid4()),
            timeout_seconds=self.config.function.timeout_seconds,
            log_group_name=f"/aws/lambda/{self.function_name}",
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        event = build_event(
            request,
            stage=self.config.api.stage_name,
            request_id=request_id,
            now=datetime.now(UTC),
            auth_mode=self.config.api.auth_mode,
        )
        with self.lock:
            self.upstream.last = None
            try:
                result = self.handler.lambda_handler(event, self.context())
            except Exception as error:  # the handler answers every error itself; this is a crash
                traceback.print_exc()
                message = f"The function raised {type(error).__name__}; see the server's output."
                return json_response(502, {"error": {"code": "local_invocation_failed", "message": message}})
            upstream = self.upstream.last
        response = proxy_response(result)
        code = _error_code(result.get("body"))
        hint = self.hints and code and setup_hint(self.config, self.aws, code, upstream, self.models_for(event["path"]))
        return with_hint(response, hint) if hint else response

    def models_for(self, path: str) -> list[str]:
        family = path.strip("/").split("/")[0]
        models = model_ids(self.config)
        return [models[family]] if family in models else list(models.values())

    def close(self) -> None:
        self.upstream.close()


def _error_code(body: Any) -> str | None:
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, TypeError, KeyError):
        return None
    return code if isinstance(code, str) else None


@dataclass
class LocalApi:
    """Path -> route: the function's paths go to the function, the streaming paths to the streaming adapter, and
    any other path gets the function's 404 envelope listing them all (the deployed API answers API Gateway's 403).
    ``prefixes``: routes for every path one segment below a prefix (``/conversations/{conversationId}``)."""

    stage: str
    routes: dict[str, Route]
    prefixes: dict[str, Route] = field(default_factory=dict)

    def route_for(self, request: HttpRequest) -> Route:
        path = request.path(self.stage)
        if path in self.routes:
            return self.routes[path]
        head, _, segment = path.rpartition("/")
        return self.prefixes.get(head, self.not_found) if segment else self.not_found

    def not_found(self, request: HttpRequest) -> HttpResponse:
        error = NotFound(f"There is no route {request.path(self.stage)}. Routes: {', '.join(sorted(self.routes))}.")
        return json_response(error.status, error.to_body())


class StreamRoute:
    """Calls the streaming function's adapter (``stream_app.handle``) as the Lambda Web Adapter's server does, and
    answers with its events as they come (the response is ``streamed``)."""

    def __init__(self, stream_app: ModuleType, config: AppConfig, aws: AwsSetup, *, hints: bool = True) -> None:
        self.stream_app = stream_app
        self.config = config
        self.aws = aws
        self.hints = hints

    def __call__(self, request: HttpRequest) -> HttpResponse:
        stage = self.config.api.stage_name
        path = request.path(stage)
        # The adapter's one request context (the client's own x-amzn-request-context headers, if any, are not
        # forwarded: the adapter is believed to replace them).
        context = request_context(
            request,
            stage=stage,
            request_id=str(uuid.uuid4()),
            now=datetime.now(UTC),
            auth_mode=self.config.api.auth_mode,
        )
        response = self.stream_app.handle(
            request.method,
            path,
            request.body,
            request_contexts=[json.dumps(context)],
            content_types=[value for name, value in request.headers if name.lower() == "content-type"],
        )
        result = response
        if response.streamed or not self.hints:
            return result
        body = b"".join(result.chunks)
        result.chunks = [body]
        code = _error_code(body)
        family = path.strip("/").split("/")[0]
        models = model_ids(self.config)
        hint = code and setup_hint(self.config, self.aws, code, None, [models[family]] if family in models else [])
        return with_hint(result, hint) if hint else result


def lambda_api(
    handler: ModuleType,
    config: AppConfig,
    aws: AwsSetup,
    stream_app: ModuleType | None = None,
    *,
    hints: bool = True,
) -> tuple[LocalApi, LambdaRoute]:
    """The dispatcher over the function (and the streaming adapter); ``hints=False`` adds no set-up hints (the
    fake Bedrock needs no set-up)."""
    function = LambdaRoute(handler, config, aws, hints=hints)
    routes: dict[str, Route] = dict.fromkeys(handler.ROUTES, function)
    if stream_app is not None:
        routes.update(dict.fromkeys(stream_app.ROUTES, StreamRoute(stream_app, config, aws, hints=hints)))
    # A conversation's path, /conversations/{conversationId}, goes to the function whatever its id.
    prefixes: dict[str, Route] = {handler.CONVERSATIONS_PATH: function} if handler.KEEPS_CONVERSATIONS else {}
    return LocalApi(config.api.stage_name, routes, prefixes), function


# --- HTTP -------------------------------------------------------------------------------------------------------------


class RequestHandler(JsonHttpHandler):
    """``make local``'s requests: framed, limited and refused as the streaming function's server does
    (``http_io.JsonHttpHandler``), with API Gateway's 10 MB limit; each one goes to ``api``'s route."""

    server_version = "genai-local"
    limit = BODY_LIMIT
    idle_timeout = IDLE_TIMEOUT_SECONDS
    api: LocalApi  # set on the subclass that create_server makes

    def respond(self, body: bytes) -> HttpResponse:
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            client_ip=self.client_address[0],
            protocol=self.request_version,
            server_port=int(self.connection.getsockname()[1]),
        )
        return self.api.route_for(request)(request)

    def failed(self, error: Exception) -> None:
        traceback.print_exc()  # a bug of this server: the console is where make local reports it

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"local: {self.address_string()} {format % args}\n")


def create_server(port: int, *, quiet: bool = False, fake: bool = False) -> Server:
    """A threaded HTTP/1.1 server bound to 127.0.0.1:``port`` (0: any free port); it serves the ``api`` set on its
    ``RequestHandlerClass``. A port that cannot be bound (in use, not allowed) is a ``LocalSetupError`` naming it."""
    attributes: dict[str, Any] = {"extra_headers": (fake_bedrock.HEADER,) if fake else ()}
    if quiet:
        attributes["log_message"] = lambda *_: None
    handler = type("LocalRequestHandler", (RequestHandler,), attributes)
    try:
        return Server((HOST, port), handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise LocalSetupError(
                f"port {port} on {HOST} is already in use (another make local?): stop it, or choose another "
                f"port, e.g. PORT={port + 1 if port < 65535 else 3001} make local."
            ) from None
        raise LocalSetupError(f"cannot listen on {HOST}:{port}: {error.strerror or error}.") from None


def parse_port(value: str, source: str) -> int:
    """A TCP port number from ``value`` (0: any free port), or a ``LocalSetupError`` naming ``source``."""
    text = value.strip()
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise LocalSetupError(f"{source}={value!r} is not a port number (0 to 65535; 0 picks a free port).")
    return int(text)


# --- start-up ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCheck:
    model: str
    code: str | None = None  # None: the model answered
    upstream: str | None = None


def check_models(client: Any, models: Iterable[str]) -> list[ModelCheck]:
    """One Converse call of at most one output token per distinct model: proves credentials, region and access."""
    from genai_core.bedrock import converse
    from genai_core.errors import ApiError

    checks = []
    for model in sorted(set(models)):
        request = {
            "modelId": model,
            "messages": [{"role": "user", "content": [{"text": "Reply with OK."}]}],
            "inferenceConfig": {"maxTokens": 1},
        }
        try:
            converse(client, request)
            checks.append(ModelCheck(model))
        except ApiError as error:
            checks.append(ModelCheck(model, error.code, getattr(error, "upstream", None)))
    return checks


def startup_message(
    config: AppConfig,
    aws: AwsSetup,
    environ: Mapping[str, str],
    port: int,
    checks: Sequence[ModelCheck] | None,
    *,
    fake: bool = False,
    knowledge_base: LocalKnowledgeBase | None = None,
    conversations_table: str | None = None,
) -> str:
    """What the server runs with, and what to fix before a use case can answer."""
    guardrail = None if fake else guardrail_from(environ)
    bucket = None if fake else uploads_bucket_from(environ)
    models = {family: fake_bedrock.fake_model(model) if fake else model for family, model in model_ids(config).items()}
    rows = [
        (
            "function",
            f"handler.lambda_handler from {FUNCTION_DIR.relative_to(ROOT)}: timeout {config.function.timeout_seconds} s",
        ),
        ("environment", "as the stack sets it, from cdk.json (stacks/function_env.py)"),
        ("region", f"{aws.region} ({aws.region_source})"),
        (
            "credentials",
            "none, and none looked for (--fake-bedrock: nothing is sent to AWS)"
            if fake
            else aws.credentials or "none found" + (f" ({aws.problem})" if aws.problem else ""),
        ),
        *(("model", f"{model} ({family})") for family, model in models.items()),
        (
            "guardrail",
            "none (--fake-bedrock)"
            if fake
            else f"{guardrail[0]} version {guardrail[1]} on {', '.join(config.guardrail.families)} (GUARDRAIL_ID)"
            if guardrail
            else "none locally (the deployed API has its own; set GUARDRAIL_ID and GUARDRAIL_VERSION to use one)",
        ),
        (
            "uploads",
            f"bucket {bucket} (UPLOADS_BUCKET), with your credentials: POST /uploads presigns, uploadIds are read"
            if bucket
            else "none: files go inline (base64 in data, up to 4 MiB in all); set UPLOADS_BUCKET to a deployed "
            "stack's UploadsBucketName output to use its bucket",
        ),
        (
            "conversations",
            "in an in-process DynamoDB table (moto), kept until the server stops (--fake-bedrock)"
            if fake
            else f"table {conversations_table} (--conversations-table), with your credentials"
            if conversations_table
            else "off locally (pass --conversations-table <the stack's ConversationsTableName output>)",
        ),
    ]
    if knowledge_base is not None:
        found = knowledge_base.knowledge_base_id
        rows.append(("knowledge base", f"{found} ({knowledge_base.source})" if found else knowledge_base.source))
    if checks is None:
        reason = (
            " (--fake-bedrock)"
            if fake
            else " (no usable credentials)"
            if aws.credentials is None or aws.problem
            else " (--no-check)"
        )
        rows.append(("model access", "not checked" + reason))
    problems = []
    for check in checks or ():
        outcome = (
            "ok (a one-token Converse call answered)" if check.code is None else f"{check.code} ({check.upstream})"
        )
        rows.append(("model access", f"{check.model}: {outcome}"))
        hint = check.code and hint_for(
            check.code,
            check.upstream,
            models=[check.model],
            region=aws.region,
            credentials_found=True,
            regions=profile_regions(config, [check.model]),
        )
        if hint:
            problems.append(hint)
    for target in {target.model_id: target for target in config.models.values()}.values():
        regions = target.profile_regions or ("*",)
        if not fake and "*" not in regions and aws.region not in regions:
            problems.append(
                f"{target.model_id} is an inference profile called from {', '.join(regions)}, not {aws.region}: `export AWS_REGION={regions[0]}`."
            )
    if not fake and (aws.credentials is None or aws.problem):
        problems.insert(
            0,
            ("No AWS credentials found." if aws.credentials is None else "The AWS credentials cannot be used.")
            + " The server runs, but every use case will answer 500 bedrock_credentials_error with a hint."
            + f" Fix: {FIX_CREDENTIALS}; then restart make local. Also make sure the account may use the models"
            + f" above in {aws.region} (Amazon Bedrock console -> Model catalog).",
        )
    width = max(len(label) for label, _ in rows)
    lines = [
        f"local API on http://{HOST}:{port}/ (and /{config.api.stage_name}/..., like the deployed URL); no signature is checked"
    ]
    if fake:
        lines.append(textwrap.fill(FAKE_NOTICE, 110))
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    lines += [f"\n{textwrap.fill(problem, 110)}" for problem in problems]
    return "\n".join(lines)


def load_handler() -> ModuleType:
    """The function's handler, imported as the Lambda runtime does (its folder on sys.path), after the environment
    is set: it reads its settings when imported."""
    return importlib.import_module("handler")


def fake_aws(environ: MutableMapping[str, str], config: AppConfig) -> AwsSetup:
    """For --fake-bedrock: the region (AWS_REGION, AWS_DEFAULT_REGION, or the models' default: it only picks the
    endpoint nothing is sent to), and the caller's AWS credentials and configuration taken out of ``environ``, so
    that botocore neither looks for credentials (no instance-metadata call, no credential_process, no SSO) nor has
    any to sign with."""
    region, source = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"), "AWS_REGION or AWS_DEFAULT_REGION"
    if not region:
        region, source = default_region(config), "the models' default"
    for name in CREDENTIAL_VARIABLES:
        environ.pop(name, None)
    environ.update(NO_AWS_CONFIG)
    return AwsSetup(region, f"{source}; unused, nothing is sent", None)


def start(
    port: int,
    *,
    environ: MutableMapping[str, str],
    session: Any = None,
    check: bool = True,
    out: IO[str] = sys.stdout,
    quiet: bool = False,
    fake: bool = False,
    conversations_table: str | None = None,
) -> tuple[Server, ExitStack]:
    """Everything before serving: the bound server (first: a busy port fails before any AWS call), the config, the
    caller's AWS set-up, the function's environment (written into ``environ``), the handler, the model check, and
    the start-up message. The ``ExitStack`` undoes what was attached to the function's clients.

    ``fake``: the fake Bedrock (``tools/fake_bedrock.py``) answers every model call; no credentials are looked
    for or checked, and every response carries ``X-Fake-Bedrock: true``; conversations live in an in-process table
    (``LocalConversations``). ``conversations_table``: otherwise, the real table they live in (None: off)."""
    import botocore.session

    config = load_local_config()
    server = create_server(port, quiet=quiet, fake=fake)
    cleanup = ExitStack()
    try:
        session = session or botocore.session.Session()
        aws = fake_aws(environ, config) if fake else inspect_aws(session, environ, config)
        usable = aws.credentials is not None and not aws.problem
        knowledge_base = find_knowledge_base(
            config,
            aws,
            environ,
            fake=fake,
            cloudformation=session.create_client("cloudformation", region_name=aws.region) if usable else None,
        )
        table = LOCAL_CONVERSATIONS_TABLE if fake else conversations_table
        environ.update(local_environment(config, aws, {} if fake else environ, knowledge_base.knowledge_base_id, table))
        handler = load_handler()
        stream_app = importlib.import_module("stream_app")
        if fake:
            model = fake_bedrock.FakeBedrock(delay_seconds=FAKE_STREAM_DELAY_SECONDS)
            cleanup.callback(model.close)
            model.install(handler.service)
            model.install(stream_app.service)
            if handler.service.conversations is not None:
                local = LocalConversations(aws.region)
                cleanup.callback(local.close)
                local.start()
                local.install(handler.service)
                local.install(stream_app.service)
        checks = (
            check_models(handler.service.client, model_ids(config).values())
            if check and not fake and aws.credentials and not aws.problem
            else None
        )
        api, function = lambda_api(handler, config, aws, stream_app, hints=not fake)
        cleanup.callback(function.close)
        server.RequestHandlerClass.api = api  # type: ignore[attr-defined]
        message = startup_message(
            config,
            aws,
            environ,
            server.server_address[1],
            checks,
            fake=fake,
            knowledge_base=knowledge_base,
            conversations_table=conversations_table,
        )
        print(message, file=out, flush=True)
    except BaseException:
        cleanup.close()
        server.server_close()
        raise
    return server, cleanup


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", help=f"default: $PORT or {DEFAULT_PORT} (0: any free port)")
    parser.add_argument(
        "--no-check", action="store_true", help="skip the one-token Converse call per model at start-up"
    )
    parser.add_argument(
        "--fake-bedrock",
        action="store_true",
        help="answer with a fake model built from each use case's schema: no AWS account, credentials or network",
    )
    parser.add_argument(
        "--conversations-table",
        metavar="NAME",
        help="keep conversations in this DynamoDB table (the deployed stack's ConversationsTableName output), with "
        "your credentials; --fake-bedrock keeps them in an in-process table instead",
    )
    args = parser.parse_args(argv)
    if args.conversations_table and args.fake_bedrock:
        parser.error("--fake-bedrock keeps conversations in an in-process table: --conversations-table goes without it")
    try:
        if args.port is not None:
            port = parse_port(args.port, "--port")
        else:
            port = parse_port(os.environ.get("PORT") or str(DEFAULT_PORT), "PORT")
        server, cleanup = start(
            port,
            environ=os.environ,
            check=not args.no_check,
            fake=args.fake_bedrock,
            conversations_table=args.conversations_table,
        )
    except LocalSetupError as error:
        print(f"local: {error}", file=sys.stderr)
        return 2
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        cleanup.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
