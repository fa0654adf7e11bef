"""API Gateway REST (Lambda proxy) entry point: a thin Powertools adapter over ``genai_core``.

One ``Router`` per family, one POST route per use case of the catalog, ``GET /use-cases`` for discovery and
``POST /uploads`` for a presigned upload of one file (owned by the caller); where the deployment keeps
conversations, a ``Router`` for the caller's own (``GET /conversations``, ``GET`` and ``DELETE
/conversations/{conversationId}``). Everything else — validation, files, prompts, the Bedrock call, the conversation
store, the error taxonomy — lives in ``genai_core`` so that other entry points reuse it unchanged.

Each request leaves one structured log line (correlation id = API Gateway's request id; use case, model, latency,
tokens, stop reason, guardrail action; never prompt or response text), one EMF metrics document (``telemetry``) and
an X-Ray trace with a subsegment around the Bedrock call.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

import init_gc  # first: pauses the garbage collector for the init (see init_gc.py)
import telemetry
from caller import auth_mode_from, owner
from endpoints import CONVERSATIONS_PATH, DISCOVERY_PATH, UPLOADS_PATH
from genai_core.bedrock import make_client
from genai_core.catalog import UseCase, load_catalog
from genai_core.errors import (
    ApiError,
    ConversationStoreError,
    InvalidEncoding,
    MethodNotAllowed,
    NotFound,
    UploadsNotConfigured,
    UpstreamError,
    ValidationFailed,
)
from genai_core.service import UseCaseService
from genai_core.settings import Settings
from media_type import check_content_types, header_values

if TYPE_CHECKING:  # the uploads module loads on the first request that uses uploads
    from genai_core.uploads import Uploads

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # AWS calls become subsegments; nothing else is patched
metrics = Metrics()  # namespace from POWERTOOLS_METRICS_NAMESPACE, "service" dimension from POWERTOOLS_SERVICE_NAME
settings = Settings.from_env(os.environ)
auth_mode = auth_mode_from(os.environ)  # which identity field of the request context names the caller (caller.py)
every_use_case = load_catalog()
# A task that searches the knowledge base is served only where the deployment has one (KNOWLEDGE_BASE_ID).
catalog = every_use_case.served(knowledge_base=settings.knowledge_base_id is not None)
bedrock_client = make_client(settings.client)


@functools.cache
def upload_store() -> Uploads | None:
    """The uploads store (None without UPLOADS_BUCKET), its module and S3 client loaded on the first request that
    uses uploads: never at init."""
    from genai_core import uploads

    return uploads.from_env(os.environ)


service = UseCaseService(
    catalog,
    settings.models,
    bedrock_client,
    guardrail=settings.guardrail,
    log_prompts=settings.log_prompts,
    around_model_call=telemetry.bedrock_subsegment(tracer),
    # Before each model call the time the invocation has left picks the client: this one (every attempt), or a
    # single-attempt one (built on first use), or no call at all (504 deadline_exceeded): the Lambda timeout is
    # never reached (genai_core/limits.py).
    client_settings=settings.client,
    single_attempt_client=functools.cache(lambda: make_client(settings.client.single_attempt())),
    uploads=upload_store,
    # The knowledge base's client is made on the first search, not here (genai_core/retrieval.py).
    knowledge_base_id=settings.knowledge_base_id,
    region=settings.client.region,
    # The conversation store's module and DynamoDB client are loaded on the first remembered turn (not here).
    conversations=settings.conversations,
)
app = APIGatewayRestResolver()
KEEPS_CONVERSATIONS = settings.conversations is not None and any(use_case.memory for use_case in catalog)
# Path -> the methods it allows, for 405 answers (a conversation's path is matched by its prefix).
ROUTES = {use_case.path: "POST" for use_case in catalog} | {DISCOVERY_PATH: "GET", UPLOADS_PATH: "POST"}
if KEEPS_CONVERSATIONS:
    ROUTES[CONVERSATIONS_PATH] = "GET"
CONVERSATION_METHODS = "GET, DELETE"
# Paths of the catalog this deployment does not serve, and why (for their 404).
UNSERVED = {
    use_case.path: "this function has no knowledge base to search (no KNOWLEDGE_BASE_ID: the stack's knowledgeBase "
    "context is off, or make local found no deployed one)"
    for use_case in every_use_case
    if use_case.path not in ROUTES
}
# A request that reaches no use case (possible only by invoking the function directly: API Gateway forwards the
# catalog's routes only) publishes no metric; Powertools would warn about it on every such request.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def _json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers or {},
    )


def request_bytes(body: str | None, is_base64_encoded: bool) -> bytes:
    """The body as the caller sent it: API Gateway passes text, or base64 when ``isBase64Encoded``."""
    if body is None:
        return b""
    if is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidEncoding("The request body is marked base64-encoded but is not valid base64.") from None
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEncoding("The request body is not valid UTF-8.") from None


def request_content_types(event: Any) -> list[str]:
    """Every Content-Type value of a proxy event: ``multiValueHeaders`` holds each one sent, ``headers`` the last
    (both are read: a hand-made event may have either)."""
    multi = event.get("multiValueHeaders") or {}
    pairs = [(name, value) for name, values in multi.items() for value in values or ()]
    pairs += list((event.get("headers") or {}).items())
    return header_values(pairs)


def _seconds_left(context: LambdaContext) -> Callable[[], float]:
    return lambda: context.get_remaining_time_in_millis() / 1000


def _caller(event: Any) -> str | None:
    """The request's owner, as API Gateway authenticated it (``caller.py``): never a value of the request."""
    return owner(event.raw_event.get("requestContext"), auth_mode)


def _endpoint(use_case: UseCase, router: Router) -> Callable[[], dict[str, Any]]:
    def run_use_case() -> dict[str, Any]:
        event = router.current_event
        # Every later line of this request (including "request failed") carries the use case and the model.
        logger.append_keys(use_case=use_case.id, model=service.model_for(use_case))
        telemetry.start(metrics, use_case)
        try:
            check_content_types(
                request_content_types(event)
            )  # API Gateway validates JSON bodies only; so does the function
            body = request_bytes(event.body, bool(event.is_base64_encoded))
            result = service.run(
                use_case.id,
                body,
                time_left=_seconds_left(router.lambda_context),
                caller=_caller(event),
            )
        except ApiError as error:
            telemetry.record_failure(metrics, error)
            raise
        logger.info("use case completed", **telemetry.record_success(metrics, result))
        if result.debug is not None:  # LOG_PROMPTS=true: an opt-in for debugging, off by default (cdk.json)
            logger.info("prompt and response (logPromptsForDebugging is on)", debug=result.debug)
        return result.to_body()

    run_use_case.__name__ = f"run_{use_case.family}_{use_case.task}".replace("-", "_")
    return run_use_case


def family_router(use_cases: list[UseCase]) -> Router:
    router = Router()
    for use_case in use_cases:
        router.post(f"/{use_case.task}")(_endpoint(use_case, router))
    return router


for family, family_use_cases in catalog.by_family().items():
    app.include_router(family_router(family_use_cases), prefix=f"/{family}")


def is_conversation_path(path: str) -> bool:
    """``/conversations/<one path segment>``: a conversation's path, whatever its id."""
    head, _, segment = path.rpartition("/")
    return head == CONVERSATIONS_PATH and bool(segment)


def page_size(query: dict[str, str] | None) -> int:
    """``limit`` of ``GET /conversations`` (default: the store's page size); not an integer: 400."""
    from genai_core.conversations import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

    value = (query or {}).get("limit")
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not (value.isascii() and value.isdigit()):
        raise ValidationFailed(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}.")
    return int(value)


def conversations_router() -> Router:
    """The caller's own conversations. The owner is always the authenticated caller: another caller's conversation
    is a 404 on each route, as one that never existed. Each request leaves one log line (counts, never an id or a
    message) and, on a store failure, the ``ConversationStoreErrors`` metric."""
    router = Router()

    def recorded(operation: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        logger.append_keys(operation=operation)
        try:
            body = run()
        except ConversationStoreError as error:
            telemetry.record_store_failure(metrics, error)
            raise
        logger.info("conversation request completed", **telemetry.conversation_fields(body))
        return body

    @router.get(CONVERSATIONS_PATH)
    def list_conversations() -> dict[str, Any]:
        event = router.current_event
        query = event.query_string_parameters
        return recorded(
            "list",
            lambda: service.conversation_store.list(
                _caller(event), limit=page_size(query), next_token=(query or {}).get("nextToken")
            ).to_body(),
        )

    @router.get(f"{CONVERSATIONS_PATH}/<conversation_id>")
    def get_conversation(conversation_id: str) -> dict[str, Any]:
        caller = _caller(router.current_event)
        return recorded("get", lambda: service.conversation_store.get(caller, conversation_id).to_body())

    @router.delete(f"{CONVERSATIONS_PATH}/<conversation_id>")
    def delete_conversation(conversation_id: str) -> dict[str, Any]:
        caller = _caller(router.current_event)

        def erase() -> dict[str, Any]:
            service.conversation_store.delete(caller, conversation_id)
            return {"conversationId": conversation_id, "deleted": True}

        return recorded("delete", erase)

    return router


if KEEPS_CONVERSATIONS:
    app.include_router(conversations_router())


@app.get(DISCOVERY_PATH)
def list_use_cases() -> dict[str, Any]:
    """Discovery: the catalog's public part (families, tasks, summaries, input schemas)."""
    return catalog.describe()


@app.post(UPLOADS_PATH)
def create_upload() -> dict[str, Any]:
    """A presigned S3 PUT for one file, for the calling principal only (``genai_core.uploads``)."""
    event = app.current_event
    check_content_types(request_content_types(event))
    body = request_bytes(event.body, bool(event.is_base64_encoded))
    store = upload_store()
    if store is None:
        raise UploadsNotConfigured(
            "This deployment takes no uploads (it has no uploads bucket): send files inline, as base64 in data."
        )
    answer = store.create(_caller(event), body)
    logger.info("upload created", media_type=answer["headers"]["Content-Type"])  # never the name or the key
    return answer


@app.exception_handler(ApiError)
def handle_api_error(error: ApiError) -> Response[str]:
    log = logger.error if error.status >= 500 else logger.warning
    upstream = error.upstream if isinstance(error, UpstreamError | ConversationStoreError) else None
    log("request failed", status=error.status, error_code=error.code, upstream_error=upstream)
    return _json_response(error.status, error.to_body(), error.headers)


@app.not_found
def handle_not_found(_: NotFoundError) -> Response[str]:
    path = app.current_event.path
    allowed = ROUTES.get(path)
    if allowed is None and KEEPS_CONVERSATIONS and is_conversation_path(path):
        allowed = CONVERSATION_METHODS
    if allowed is not None:
        message = f"{app.current_event.http_method} is not allowed on {path}; use {allowed}."
        return handle_api_error(MethodNotAllowed(message, allow=allowed))
    if path in UNSERVED:
        return handle_api_error(NotFound(f"{path} is not served: {UNSERVED[path]}."))
    return handle_api_error(NotFound(f"There is no route {path}. Routes: {', '.join(sorted(ROUTES))}."))


@app.exception_handler(Exception)
def handle_unexpected(error: Exception) -> Response[str]:
    # The traceback goes to the log (it holds no request text); the caller gets the envelope only.
    logger.exception("unexpected error", error_type=type(error).__name__)
    return _json_response(500, ApiError("An unexpected error occurred.").to_body())


# Outermost first: fresh log keys and the correlation id; the trace (never the response: it holds model output);
# the metrics, flushed as one EMF document when the request ends, whatever the outcome.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


init_gc.done()  # the last statement of the init
