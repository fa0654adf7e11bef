"""Amazon Bedrock: the one ``bedrock-runtime`` client per container, the Converse and ConverseStream calls, and the
fault map.

Every modeled Converse error, and botocore's timeouts and connection errors, map to a documented status and code
(``UPSTREAM_ERRORS`` below; the README's table is checked against it by a test).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.eventstream import ParserError as EventStreamParserError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import TimeoutError as TransportTimeout

from genai_core.errors import BadRequest, Throttled, UpstreamError

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient


@dataclass(frozen=True)
class ClientSettings:
    """Timeouts and retries. (connect + read) x attempts must fit in the Lambda timeout; the stack checks it."""

    region: str | None = None
    connect_timeout: float = 2
    read_timeout: float = 11
    max_attempts: int = 2

    def single_attempt(self) -> ClientSettings:
        """The settings of the client for the one output retry: no botocore retry, so that its worst case
        (connect + read) is known before it is sent."""
        return replace(self, max_attempts=1)

    @property
    def single_attempt_seconds(self) -> float:
        return self.connect_timeout + self.read_timeout


def make_client(settings: ClientSettings) -> BedrockRuntimeClient:
    config = Config(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"total_max_attempts": settings.max_attempts, "mode": "standard"},
        user_agent_extra="genai-reference-architecture",
    )
    client: BedrockRuntimeClient = boto3.client("bedrock-runtime", region_name=settings.region, config=config)
    return client


# Every error Converse models -> (HTTP status, our error code, message for the caller). A test keeps this complete.
UPSTREAM_ERRORS: Mapping[str, tuple[int, str, str]] = {
    "ThrottlingException": (429, "throttled", "The model is receiving too many requests; retry after a short wait."),
    "ModelTimeoutException": (504, "model_timeout", "The model took too long to answer."),
    "ServiceUnavailableException": (503, "upstream_unavailable", "Amazon Bedrock is unavailable; retry later."),
    "ModelNotReadyException": (503, "model_not_ready", "The model is not ready to serve requests yet; retry later."),
    "AccessDeniedException": (
        502,
        "upstream_access_denied",
        "The function may not invoke the configured model (check model access and IAM).",
    ),
    "ResourceNotFoundException": (
        502,
        "model_not_found",
        "The configured model or inference profile was not found in this region.",
    ),
    "InternalServerException": (502, "upstream_error", "Amazon Bedrock failed to process the request."),
    "ModelErrorException": (502, "model_error", "The model failed while processing the request."),
    "ValidationException": (400, "model_validation_error", "The model rejected the request"),
}
# ConverseStream can also fail after the stream has started, with an error event; these are its own.
STREAM_ERRORS: Mapping[str, tuple[int, str, str]] = {
    "ModelStreamErrorException": (502, "model_stream_error", "The model failed while streaming its answer."),
}
# The caller's (the function's) own AWS credentials are missing, expired or invalid: Bedrock never saw the request.
CREDENTIALS_FAILED = (
    500,
    "bedrock_credentials_error",
    "The function has no valid AWS credentials to call Amazon Bedrock.",
)
CREDENTIAL_ERROR_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "IncompleteSignature",
        "InvalidClientTokenId",
    }
)
READ_TIMEOUT = (504, "model_timeout", "The model took too long to answer.")
CONNECTION_FAILED = (503, "upstream_unavailable", "Amazon Bedrock could not be reached; retry later.")
OTHER_FAILURE = (502, "upstream_error", "Amazon Bedrock failed to process the request.")
# Every (status, code, message) that the fault map can give a caller.
FAULTS = (
    *UPSTREAM_ERRORS.values(),
    *STREAM_ERRORS.values(),
    READ_TIMEOUT,
    CONNECTION_FAILED,
    OTHER_FAILURE,
    CREDENTIALS_FAILED,
)
MAX_UPSTREAM_DETAIL = 300


def upstream_error(error: Exception) -> UpstreamError | BadRequest:
    """Map a botocore exception raised by a Bedrock call to the error the caller gets."""
    if isinstance(error, ClientError):
        name = str(error.response.get("Error", {}).get("Code", "Unknown"))
        # An error event inside a stream names its type in camel case (throttlingException).
        name = name[:1].upper() + name[1:]
        status, code, message = {**UPSTREAM_ERRORS, **STREAM_ERRORS}.get(name, OTHER_FAILURE)
        if name in CREDENTIAL_ERROR_CODES:
            status, code, message = CREDENTIALS_FAILED
        if name == "ValidationException":
            # Bedrock's own words say what to fix (e.g. "Input is too long for requested model."). Keep them short.
            detail = str(error.response.get("Error", {}).get("Message", ""))[:MAX_UPSTREAM_DETAIL]
            return BadRequest(f"{message}: {detail}" if detail else f"{message}.", code=code)
    elif isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        name, (status, code, message) = type(error).__name__, CREDENTIALS_FAILED
    elif isinstance(error, ReadTimeoutError):
        name, (status, code, message) = "ReadTimeoutError", READ_TIMEOUT
    elif isinstance(error, ConnectionError):
        name, (status, code, message) = type(error).__name__, CONNECTION_FAILED
    else:
        name, (status, code, message) = type(error).__name__, OTHER_FAILURE
    if status == 429:
        return Throttled(message, upstream=name)
    return UpstreamError(message, upstream=name, code=code, status=status)


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
        status, code, message = READ_TIMEOUT
    elif isinstance(error, TransportError):
        status, code, message = CONNECTION_FAILED
    else:
        status, code, message = OTHER_FAILURE
    return UpstreamError(message, upstream=type(error).__name__, code=code, status=status)
