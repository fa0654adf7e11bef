"""Amazon Bedrock: the one ``bedrock-runtime`` client per container, the Converse and ConverseStream calls, and the
fault map.

Every error shape of the bedrock-runtime service model, and botocore's timeouts, connection and credential errors,
map to a documented status and code (``UPSTREAM_ERRORS``, ``MESSAGE_RULES`` and ``FAULTS`` below;
docs/api.md's tables and the OpenAPI document are checked against them by tests).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.eventstream import ParserError as EventStreamParserError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    SSOError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import TimeoutError as TransportTimeout

from genai_core import clients
from genai_core.errors import BadRequest, Throttled, UpstreamError
from genai_core.limits import ClientSettings

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient


def make_client(settings: ClientSettings) -> BedrockRuntimeClient:
    """A bedrock-runtime client with ``settings``' timeouts and attempts (``genai_core/clients.py``)."""
    client: BedrockRuntimeClient = clients.make_client("bedrock-runtime", settings)
    return client


class Fault(NamedTuple):
    """What a caller gets for a Bedrock or transport failure: an HTTP status, our stable code, a message."""

    status: int
    code: str
    message: str


# Every error shape of the bedrock-runtime service model (every operation's, not only Converse's: Bedrock returns
# some of them, such as ServiceQuotaExceededException, where the model does not list them) -> the caller's fault.
# tests/test_bedrock.py reads botocore's service-2.json and fails when a shape is missing here or in STREAM_ERRORS.
UPSTREAM_ERRORS: Mapping[str, Fault] = {
    "ThrottlingException": Fault(
        429, "throttled", "The model is receiving too many requests; retry after a short wait."
    ),
    "ServiceQuotaExceededException": Fault(
        429, "quota_exceeded", "A service quota of Amazon Bedrock for this account is exceeded; retry later."
    ),
    "ModelTimeoutException": Fault(504, "model_timeout", "The model took too long to answer."),
    "ServiceUnavailableException": Fault(503, "upstream_unavailable", "Amazon Bedrock is unavailable; retry later."),
    "ModelNotReadyException": Fault(
        503, "model_not_ready", "The model is not ready to serve requests yet; retry later."
    ),
    "AccessDeniedException": Fault(
        502,
        "upstream_access_denied",
        "The function may not invoke the configured model (check model access and IAM).",
    ),
    "ResourceNotFoundException": Fault(
        502,
        "model_not_found",
        "The configured model or inference profile was not found in this region.",
    ),
    "InternalServerException": Fault(502, "upstream_error", "Amazon Bedrock failed to process the request."),
    # Modelled for StartAsyncInvoke (an idempotency conflict), which the function never calls.
    "ConflictException": Fault(502, "upstream_error", "Amazon Bedrock failed to process the request."),
    "ModelErrorException": Fault(502, "model_error", "The model failed while processing the request."),
    # By default the caller's: see MESSAGE_RULES for the ones the deployment causes. The message gains Bedrock's.
    "ValidationException": Fault(400, "model_validation_error", "The model rejected the request"),
}
# ConverseStream can also fail after the stream has started, with an error event; these are its own.
STREAM_ERRORS: Mapping[str, Fault] = {
    "ModelStreamErrorException": Fault(502, "model_stream_error", "The model failed while streaming its answer."),
}

# Bedrock uses one error code for causes that the caller must handle differently; its message tells them apart.
# Each rule is matched at the start of Bedrock's message (case and apostrophe style ignored), never anywhere in it,
# so that text a message might quote back (a schema, a field name) cannot change the class of the error.
DAILY_QUOTA = Fault(
    429,
    "daily_quota_exceeded",
    "The account's daily token quota for the model is used up; requests fail until it resets.",
)
# A ValidationException that the deployment causes, whatever the request: a 502 that does not blame the caller.
MODEL_ID_INVALID = Fault(
    502,
    "model_configuration_error",
    "The function's configured model or inference profile cannot be invoked in this region (a deployment setting).",
)
MODEL_LACKS_FEATURE = Fault(
    502,
    "model_configuration_error",
    "The function's configured model does not support a feature this task needs, such as tool use or a content "
    "type (a deployment setting).",
)
GUARDRAIL_INVALID = Fault(
    502,
    "model_configuration_error",
    "The function's configured guardrail identifier or version does not exist (a deployment setting).",
)
INFERENCE_SETTINGS_INVALID = Fault(
    502,
    "model_configuration_error",
    "The configured model does not accept this task's inference settings (a deployment setting).",
)
# A ValidationException about a file of the request: the caller's, and Bedrock's words say which and why.
FILE_REJECTED = Fault(
    400,
    "file_rejected",
    "The model could not read a file of the request (damaged, of another format than declared, or beyond what the "
    "model takes, such as too many pages)",
)
ACCOUNT_NOT_ALLOWED = Fault(
    502,
    "model_configuration_error",
    "The AWS account of the function may not run inference on Amazon Bedrock yet (an account setting).",
)


class MessageRule(NamedTuple):
    """A Bedrock error code whose message starts with ``pattern`` gets ``fault`` instead of the code's own."""

    error: str
    pattern: str  # a regular expression, matched ignoring case; compiled (and cached by ``re``) on its first use
    fault: Fault

    def matches(self, name: str, message: str) -> bool:
        return name == self.error and re.match(self.pattern, message, re.IGNORECASE) is not None


def _rule(error: str, pattern: str, fault: Fault) -> MessageRule:
    # Not compiled here: only an error whose code has rules needs them, and compiling them all cost the init's time.
    return MessageRule(error, pattern, fault)


# Bedrock's own words, as seen in its answers (not a documented list): see tests/test_bedrock.py for each example.
MESSAGE_RULES: tuple[MessageRule, ...] = (
    # "Too many tokens per day, please wait before trying again." (per minute is the plain ThrottlingException)
    _rule("ThrottlingException", r"too many \w+ per day\b", DAILY_QUOTA),
    # "The provided model identifier is invalid."; "Invocation of model ID amazon.nova-2-lite-v1:0 with on-demand
    # throughput isn't supported. Retry your request with the ID or ARN of an inference profile ..."
    _rule(
        "ValidationException",
        r"the provided model identifier is invalid|invocation of model id \S+ with on-demand throughput isn't supported",
        MODEL_ID_INVALID,
    ),
    # "This model doesn't support tool use [in streaming mode].", "... the toolConfig.toolChoice.tool field ...",
    # "... the document content block that you provided.", "... system messages.", "The provided model doesn't
    # support ..."
    _rule("ValidationException", r"(this|the provided) model (doesn't|does not) support\b", MODEL_LACKS_FEATURE),
    # "The guardrail identifier or version provided in the request does not exist."
    _rule("ValidationException", r"the (provided )?guardrail (identifier|id|version)\b", GUARDRAIL_INVALID),
    # "The maximum tokens you requested exceeds the model limit of 10000. ..."; Anthropic's models: "The model
    # returned the following errors: max_tokens: 100000 > 64000, which is the maximum allowed ..."
    _rule(
        "ValidationException",
        r"the maximum tokens you requested exceeds the model limit|the model returned the following errors: max_tokens:",
        INFERENCE_SETTINGS_INVALID,
    ),
    # "Operation not allowed": the account is not (yet) allowed inference, whatever the model and the request.
    _rule("ValidationException", r"operation not allowed\.?$", ACCOUNT_NOT_ALLOWED),
    # A file's content, as seen in Bedrock's answers for Anthropic's and Meta's models (Nova's own wording is not
    # verified): "The model returned the following errors: messages.0.content.1.source.bytes: The document source
    # bytes could not be parsed as the specified format. ..."; "... messages.0.content.0.image.source.bytes: The image
    # was specified using the image/jpeg media type, but the image appears to be a image/png image"; "The PDF
    # specified was not valid"; "The model returned the following errors: The provided image does not match the
    # specified image format."; "... messages: too many images: image_count > 20"; Anthropic's "A maximum of 100 PDF
    # pages may be provided." (its wording through Bedrock is not verified either).
    _rule(
        "ValidationException",
        r"(the model returned the following errors: )?(messages\.\d+\.content\.\d+\.(document|image|source|pdf)\b"
        r"|messages: too many images\b|the pdf specified was not valid|the provided image does not match"
        r"|the document source bytes could not be parsed|a maximum of \d+ pdf pages)",
        FILE_REJECTED,
    ),
)

# The function's own AWS credentials are missing, expired or invalid: Bedrock never saw (or never accepted) the call.
CREDENTIALS_FAILED = Fault(
    500,
    "bedrock_credentials_error",
    "The function has no valid AWS credentials to call Amazon Bedrock.",
)
# Raised by botocore before anything is sent: no credentials, or a provider (SSO, a credential process, the
# container's endpoint) that could not give them.
CREDENTIAL_EXCEPTIONS: tuple[type[BotoCoreError], ...] = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    SSOError,  # and its subclasses UnauthorizedSSOTokenError, SSOTokenLoadError
)
# Bedrock's answers to a request whose signature or token it does not accept. bedrock-runtime is a JSON (REST)
# service: it names them with the "Exception" suffix (UnrecognizedClientException, InvalidSignatureException,
# ExpiredTokenException, IncompleteSignatureException, MissingAuthenticationTokenException); the suffix-less forms
# are the Query-protocol spellings that AWS's generic "common errors" page lists (IncompleteSignature,
# InvalidClientTokenId, ExpiredToken). Both are kept: a code that never comes costs nothing.
CREDENTIAL_ERROR_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "IncompleteSignatureException",
        "MissingAuthenticationTokenException",
        "IncompleteSignature",
        "InvalidClientTokenId",
        "ExpiredToken",
    }
)
# Both, by the name an ``UpstreamError.upstream`` carries: the one list (``make local``'s hints read it too).
CREDENTIAL_ERRORS = CREDENTIAL_ERROR_CODES | {
    error.__name__ for error in (*CREDENTIAL_EXCEPTIONS, UnauthorizedSSOTokenError, SSOTokenLoadError)
}
READ_TIMEOUT = Fault(504, "model_timeout", "The model took too long to answer.")
CONNECTION_FAILED = Fault(503, "upstream_unavailable", "Amazon Bedrock could not be reached; retry later.")
OTHER_FAILURE = Fault(502, "upstream_error", "Amazon Bedrock failed to process the request.")
# Every fault the map can give a caller (telemetry's model errors and the OpenAPI document are derived from it).
FAULTS: tuple[Fault, ...] = (
    *UPSTREAM_ERRORS.values(),
    *STREAM_ERRORS.values(),
    *(rule.fault for rule in MESSAGE_RULES),
    READ_TIMEOUT,
    CONNECTION_FAILED,
    OTHER_FAILURE,
    CREDENTIALS_FAILED,
)
# Retry-After, in seconds, by code: only a per-minute rate frees up within seconds. A quota (daily or a service
# quota) frees up at a time Bedrock does not give, so its 429 carries none rather than a wait that would fail again.
RETRY_AFTER_SECONDS: Mapping[str, int] = {"throttled": 2}
MAX_UPSTREAM_DETAIL = 300


def _fault_for(name: str, message: str) -> Fault:
    """The fault of a Bedrock error code (and its message, for the codes that MESSAGE_RULES refine)."""
    if name in CREDENTIAL_ERROR_CODES:
        return CREDENTIALS_FAILED
    normalized = message.strip().replace("\u2019", "'")  # Bedrock writes "isn't" with either apostrophe
    for rule in MESSAGE_RULES:
        if rule.matches(name, normalized):
            return rule.fault
    return {**UPSTREAM_ERRORS, **STREAM_ERRORS}.get(name, OTHER_FAILURE)


def error_code_and_message(error: ClientError) -> tuple[str, str]:
    """The error code (capitalized: an error event inside a stream names its type in camel case, such as
    throttlingException) and the message of an AWS service's error answer."""
    details = error.response.get("Error", {})
    name = str(details.get("Code", "Unknown"))
    return name[:1].upper() + name[1:], str(details.get("Message", ""))


def api_error(fault: Fault, upstream: str) -> UpstreamError:
    """The error a caller gets for ``fault``, met at the AWS error (or exception) named ``upstream``: a 429 with
    the Retry-After its code has, or another upstream status."""
    if fault.status == 429:
        return Throttled(
            fault.message, upstream=upstream, code=fault.code, retry_after_seconds=RETRY_AFTER_SECONDS.get(fault.code)
        )
    return UpstreamError(fault.message, upstream=upstream, code=fault.code, status=fault.status)


def upstream_error(error: Exception) -> UpstreamError | BadRequest:
    """Map a botocore exception raised by a Bedrock call to the error the caller gets."""
    if isinstance(error, ClientError):
        name, detail = error_code_and_message(error)
        fault = _fault_for(name, detail)
        if fault.status == 400:
            # The caller's: Bedrock's own words say what to fix ("Input is too long for requested model."). Short.
            detail = detail[:MAX_UPSTREAM_DETAIL]
            return BadRequest(f"{fault.message}: {detail}" if detail else f"{fault.message}.", code=fault.code)
    else:
        name, fault = transport_fault(error)
    return api_error(fault, name)


def transport_fault(
    error: Exception,
    *,
    read_timeout: Fault = READ_TIMEOUT,
    connection_failed: Fault = CONNECTION_FAILED,
    other: Fault = OTHER_FAILURE,
) -> tuple[str, Fault]:
    """The name and fault of a failure that is not the service's answer: no usable credentials, a read timeout, a
    connection that failed, anything else (the knowledge base's client gives its own timeout and fallback)."""
    if isinstance(error, CREDENTIAL_EXCEPTIONS):
        return type(error).__name__, CREDENTIALS_FAILED
    if isinstance(error, ReadTimeoutError):
        return "ReadTimeoutError", read_timeout
    if isinstance(error, ConnectionError):
        return type(error).__name__, connection_failed
    return type(error).__name__, other


def converse(client: BedrockRuntimeClient, request: Mapping[str, Any]) -> dict[str, Any]:
    """Call Converse; any Bedrock or transport failure comes out as an ``ApiError``."""
    try:
        return dict(client.converse(**request))
    except (ClientError, BotoCoreError) as error:
        raise upstream_error(error) from error


def converse_stream(client: BedrockRuntimeClient, request: Mapping[str, Any]) -> Generator[dict[str, Any], None, None]:
    """Call ConverseStream and return its events. A failure to start raises here, before any event; a failure
    during the stream (an error event, a stalled or reset connection, a corrupt message) raises from the iterator.
    Both come out as ``ApiError``. Closing the iterator early closes the stream's connection."""
    try:
        stream = client.converse_stream(**request)["stream"]
    except (ClientError, BotoCoreError) as error:
        raise upstream_error(error) from error
    return _events(stream)


def _events(stream: Iterable[Any]) -> Generator[dict[str, Any], None, None]:
    # botocore reads the stream's body outside its own error handling: a stalled or reset connection surfaces as
    # urllib3's exceptions, a corrupt message as the event-stream parser's; each gets the fault of the same failure
    # on the call (a read timeout, a connection error, an upstream fault).
    try:
        for event in stream:
            yield dict(event)
    except (ClientError, BotoCoreError) as error:
        raise upstream_error(error) from error
    except (TransportError, EventStreamParserError) as error:
        raise _stream_failure(error) from error
    except GeneratorExit:  # the reader stopped early: drop the connection rather than read the rest
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        raise


def _stream_failure(error: Exception) -> UpstreamError:
    if isinstance(error, TransportTimeout):
        fault = READ_TIMEOUT
    elif isinstance(error, TransportError):
        fault = CONNECTION_FAILED
    else:
        fault = OTHER_FAILURE
    return UpstreamError(fault.message, upstream=type(error).__name__, code=fault.code, status=fault.status)
