"""The error taxonomy: every failure a caller can cause or meet, with its HTTP status and stable code.

Nothing here knows about API Gateway. An entry point (the API Gateway handler, a local server, a streaming
adapter) turns an ``ApiError`` into its own response with ``to_body()`` and ``status``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with a client-facing status, a stable snake_case code and a human-readable message."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    @property
    def headers(self) -> dict[str, str]:
        return {}

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


# --- caused by the client (4xx) -------------------------------------------------------------------------------


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class InvalidJson(BadRequest):
    code = "invalid_json"


class InvalidEncoding(BadRequest):
    code = "invalid_encoding"


class ValidationFailed(BadRequest):
    code = "validation_error"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, message: str, *, allow: str = "POST") -> None:
        super().__init__(message)
        self.allow = allow

    @property
    def headers(self) -> dict[str, str]:
        return {"Allow": self.allow}


class UnsupportedMediaType(ApiError):
    """A body declared (by its Content-Type) as something other than JSON: the API reads JSON documents only."""

    status = 415
    code = "unsupported_media_type"


# --- met upstream, at Bedrock -----------------------------------------------------------------------------------


class UpstreamError(ApiError):
    """A failure of the model provider. ``upstream`` names the Bedrock error (for logs and metrics)."""

    status = 502
    code = "upstream_error"

    def __init__(self, message: str, *, upstream: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message, code=code, status=status)
        self.upstream = upstream


class Throttled(UpstreamError):
    """A rate or a quota of the account at Bedrock. ``Retry-After`` only where a wait of seconds is known to help
    (a per-minute rate); a quota that frees up at an unknown time gets none (``retry_after_seconds=None``)."""

    status = 429
    code = "throttled"

    def __init__(
        self, message: str, *, upstream: str, code: str | None = None, retry_after_seconds: int | None = 2
    ) -> None:
        super().__init__(message, upstream=upstream, code=code)
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after_seconds is None else {"Retry-After": str(self.retry_after_seconds)}


class GuardrailIntervened(ApiError):
    """The guardrail blocked a structured task: there is no answer of the promised shape to return."""

    status = 422
    code = "guardrail_intervened"


class ModelOutputInvalid(ApiError):
    """The model answered, but not in the shape the use case promises."""

    status = 502
    code = "model_output_invalid"


# --- the function's own deadline -------------------------------------------------------------------------------


class DeadlineExceeded(ApiError):
    """Too little of the invocation's time is left for even one model call and the work after it: refused before
    the call, so that the caller gets this answer rather than a function timeout. Not the caller's doing."""

    status = 504
    code = "deadline_exceeded"


# --- the rendered prompt (genai_core.prompts) -------------------------------------------------------------------


class PromptTooLarge(ApiError):
    """The prompt a request renders to is over the hard cap: refused before any model call."""

    status = 413
    code = "prompt_too_large"


# --- files and uploads (genai_core.files, genai_core.uploads) ---------------------------------------------------


class FileFormatMismatch(BadRequest):
    """A file whose bytes are not of its declared format (a PNG declared as pdf), or an upload made for another."""

    code = "file_format_mismatch"


class FileTooLarge(ApiError):
    """A file over Bedrock's limit for its kind, or files over the model's request limit together."""

    status = 413
    code = "file_too_large"


class UploadsNotConfigured(BadRequest):
    """A deployment without an uploads bucket (``make local`` unless one is given): files go inline only."""

    code = "uploads_not_configured"


class Forbidden(ApiError):
    """A request to use uploads without an authenticated caller to own them (an entry point that reports none)."""

    status = 403
    code = "forbidden"


class UploadNotFound(ApiError):
    """No such upload under the caller's prefix: never uploaded, or another caller's (indistinguishable on purpose).
    ``upstream`` names S3's answer (NoSuchKey; AccessDenied, which S3 gives for a missing key when the reader may
    not list the bucket) for logs and metrics only."""

    status = 404
    code = "upload_not_found"

    def __init__(self, message: str, *, upstream: str | None = None) -> None:
        super().__init__(message)
        self.upstream = upstream


class UploadExpired(ApiError):
    """An upload older than its maximum age (decided from the uploadId alone, before any S3 call)."""

    status = 410
    code = "upload_expired"


# --- server-side conversations (genai_core.conversations; its fault map, STORE_ERRORS, is there) ------------------


class ConversationsDisabled(BadRequest):
    """A ``conversationId`` sent to a deployment that keeps no conversations (the stack's ``conversations`` is off):
    the request would otherwise be answered without the history the caller expects."""

    code = "conversations_disabled"


class ConversationNotFound(ApiError):
    """No conversation of this caller has this id (or it expired): also what another caller's id gives (404, not
    403: that the id exists for someone else is not revealed)."""

    status = 404
    code = "conversation_not_found"


class ConversationTooLarge(ApiError):
    """The newest exchange alone is larger than the stored-size budget. Within the chat schema's bounds and the
    request size limit it is refused before the model call when the new messages alone cannot fit; a reply that
    makes the exchange too large fails the turn after it, and nothing of it is stored."""

    status = 413
    code = "conversation_too_large"


class CallerIdentityMissing(ApiError):
    """No authenticated caller to bind a conversation to: a deployment fault (an unauthorized route, the function
    invoked directly), never a reason to use an anonymous owner."""

    status = 500
    code = "caller_identity_missing"


class ConversationStoreError(ApiError):
    """A failure at DynamoDB (throttled 429, unavailable 503, a lost race 409, a deployment setting or anything else
    500). ``upstream`` names the DynamoDB or botocore error (for logs and metrics). ``usage``: the model's token
    usage when the model had already answered the turn that could not be stored (its tokens were spent)."""

    status = 500
    code = "conversation_store_error"

    def __init__(
        self,
        message: str,
        *,
        upstream: str,
        code: str | None = None,
        status: int | None = None,
        retry_after_seconds: int | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.upstream = upstream
        self.retry_after_seconds = retry_after_seconds
        self.usage: dict[str, int] | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after_seconds is None else {"Retry-After": str(self.retry_after_seconds)}
