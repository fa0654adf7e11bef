"""Uploads: ``POST /uploads`` answers a presigned S3 PUT for one file, and a request that names an ``uploadId``
reads that file back, both for one caller only (the owner).

The owner is the authenticated caller as the entry point reports it (an IAM principal ARN, an API key id), an
opaque string here. Every key is derived from it (``files.upload_key``: a hash of the owner, then the uploadId), and
nothing a caller sends is ever a key or a path. Another caller's uploadId therefore names a key that does not exist
under this caller's prefix: ``upload_not_found``, the same answer as for an id never uploaded, after one S3 read of
the caller's own prefix and without a model call.

The presigned PUT is SigV4 (botocore's default would presign with SigV2 in many regions, and SigV2 signs no
Content-Length) and binds the bucket, the key, the Content-Type of the declared format and the exact Content-Length,
for ``url_seconds``. An upload is usable for ``max_age_seconds`` after its id was issued: S3's lifecycle expiry is lazy
(it rounds to the next midnight UTC and deletes asynchronously, so an object can outlive "one day" by a day), so the
age is enforced here, from the id itself, before S3 is asked. On use, the object's actual size and media type are
checked and its bytes sniffed, like an inline file (``files.resolve``): a presigned URL can be used more than once
until it expires, so what S3 holds is never taken on trust.

The S3 client is created on first use, never at import: the cold start pays nothing for a feature it does not use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

from genai_core import clients, file_contract, files, schema
from genai_core.bedrock import CREDENTIAL_EXCEPTIONS, Fault
from genai_core.errors import (
    ApiError,
    FileTooLarge,
    Forbidden,
    Throttled,
    UploadExpired,
    UploadNotFound,
    UpstreamError,
    ValidationFailed,
)
from genai_core.jsonbody import parse_object
from genai_core.limits import STORAGE_CLIENT, ClientSettings
from genai_core.settings import FILES_FROM_S3, UPLOADS_BUCKET, UPLOADS_MAX_AGE_SECONDS, UPLOADS_URL_SECONDS

CLOCK_SKEW_SECONDS = 300  # an uploadId issued further in the future than this was not issued here


# --- S3 faults -> what the caller gets ------------------------------------------------------------------------

STORAGE_THROTTLED = Fault(429, "storage_throttled", "The uploads store is receiving too many requests; retry shortly.")
STORAGE_UNAVAILABLE = Fault(503, "storage_unavailable", "The uploads store (Amazon S3) is unavailable; retry later.")
STORAGE_TIMEOUT = Fault(504, "storage_timeout", "Reading the upload from Amazon S3 took too long; retry.")
STORAGE_FAILED = Fault(502, "storage_error", "Amazon S3 failed to return the upload.")
STORAGE_MISCONFIGURED = Fault(
    502,
    "storage_configuration_error",
    "The function's uploads bucket does not exist or is in another region (a deployment setting).",
)
STORAGE_CREDENTIALS = Fault(
    500, "storage_credentials_error", "The function has no valid AWS credentials for Amazon S3."
)
# S3's error codes (GetObject, and the transport) -> the caller's fault; anything else is STORAGE_FAILED.
S3_ERRORS: Mapping[str, Fault] = {
    "SlowDown": STORAGE_THROTTLED,
    "ServiceUnavailable": STORAGE_UNAVAILABLE,
    "503": STORAGE_UNAVAILABLE,
    "InternalError": STORAGE_FAILED,
    "RequestTimeout": STORAGE_TIMEOUT,
    "NoSuchBucket": STORAGE_MISCONFIGURED,
    "PermanentRedirect": STORAGE_MISCONFIGURED,
    "AuthorizationHeaderMalformed": STORAGE_MISCONFIGURED,
    "InvalidAccessKeyId": STORAGE_CREDENTIALS,
    "SignatureDoesNotMatch": STORAGE_CREDENTIALS,
    "ExpiredToken": STORAGE_CREDENTIALS,
    "InvalidToken": STORAGE_CREDENTIALS,
    "TokenRefreshRequired": STORAGE_CREDENTIALS,
}
# Codes that mean "not under this caller's prefix". Without s3:ListBucket (the function has none: it never lists),
# S3 answers a missing key with AccessDenied rather than NoSuchKey, so both are the caller's 404; the log keeps which.
NOT_FOUND_CODES = frozenset({"NoSuchKey", "AccessDenied", "404", "403"})
STORAGE_FAULTS = (
    STORAGE_THROTTLED,
    STORAGE_UNAVAILABLE,
    STORAGE_TIMEOUT,
    STORAGE_FAILED,
    STORAGE_MISCONFIGURED,
    STORAGE_CREDENTIALS,
)
RETRY_AFTER_SECONDS = 1

NOT_FOUND_MESSAGE = (
    "No upload with uploadId {upload_id} is stored for you: PUT the file to the url that POST /uploads answered "
    "before using it (an upload can be used only by the caller that made it)."
)


def _fault_error(fault: Fault, upstream: str) -> ApiError:
    if fault.status == 429:
        return Throttled(fault.message, upstream=upstream, code=fault.code, retry_after_seconds=RETRY_AFTER_SECONDS)
    return UpstreamError(fault.message, upstream=upstream, code=fault.code, status=fault.status)


def storage_error(error: Exception, upload_id: str | None = None) -> ApiError:
    """Map a botocore exception raised by an S3 call (or the read of its body) to the error the caller gets."""
    if isinstance(error, ClientError):
        name = str(error.response.get("Error", {}).get("Code", "Unknown"))
        if name in NOT_FOUND_CODES and upload_id is not None:
            return UploadNotFound(NOT_FOUND_MESSAGE.format(upload_id=upload_id), upstream=name)
        return _fault_error(S3_ERRORS.get(name, STORAGE_FAILED), name)
    name = type(error).__name__
    if isinstance(error, CREDENTIAL_EXCEPTIONS):
        return _fault_error(STORAGE_CREDENTIALS, name)
    if isinstance(error, (ReadTimeoutError, ConnectTimeoutError)):
        return _fault_error(STORAGE_TIMEOUT, name)
    if isinstance(error, ConnectionError):
        return _fault_error(STORAGE_UNAVAILABLE, name)
    return _fault_error(STORAGE_FAILED, name)


# --- settings and the client ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadSettings:
    """The uploads of a deployment: its bucket and the stack's options (``stacks/config.py``: their ranges and
    defaults live there and in cdk.json, not here), and the S3 client's timeouts (``limits.STORAGE_CLIENT``)."""

    bucket: str
    url_seconds: int  # how long a presigned PUT is valid
    max_age_seconds: int  # how long an upload may be used: the lifecycle rule's, which S3 enforces later
    s3_location: bool = False  # uploads reach the model as s3Location (a model that reads S3) rather than bytes
    region: str | None = None
    server_side_encryption: str | None = None  # signed into the PUT only if a bucket policy demands the header
    client: ClientSettings = STORAGE_CLIENT

    def __post_init__(self) -> None:
        low, high = file_contract.UPLOAD_URL_SECONDS_MIN, file_contract.UPLOAD_URL_SECONDS_MAX
        if not low <= self.url_seconds <= high:
            raise ValueError(f"{UPLOADS_URL_SECONDS} must be from {low} to {high} seconds")
        if self.max_age_seconds < self.url_seconds:
            raise ValueError(f"{UPLOADS_MAX_AGE_SECONDS} must be at least {UPLOADS_URL_SECONDS}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> UploadSettings | None:
        """The settings from the function's environment (``stacks/function_env.py`` writes them), or None when it has
        no uploads bucket. With a bucket, every other variable must be set: a missing one is a deployment error."""
        bucket = environ.get(UPLOADS_BUCKET, "")
        if not bucket:
            return None
        try:
            return cls(
                bucket=bucket,
                url_seconds=int(environ[UPLOADS_URL_SECONDS]),
                max_age_seconds=int(environ[UPLOADS_MAX_AGE_SECONDS]),
                s3_location=environ[FILES_FROM_S3].lower() == "true",
                region=environ.get("AWS_REGION"),
            )
        except (KeyError, ValueError) as error:
            raise RuntimeError(
                f"the uploads settings are invalid: {UPLOADS_URL_SECONDS}, {UPLOADS_MAX_AGE_SECONDS} "
                f"(seconds) and {FILES_FROM_S3} (true or false) must be set with {UPLOADS_BUCKET} "
                f"({type(error).__name__}: {error})"
            ) from error


class S3Client(Protocol):
    """The two calls of botocore's S3 client that uploads make."""

    def generate_presigned_url(
        self, ClientMethod: str, Params: Mapping[str, Any], ExpiresIn: int, HttpMethod: str
    ) -> str: ...

    def get_object(self, *, Bucket: str, Key: str) -> Mapping[str, Any]: ...


def make_client(options: UploadSettings) -> S3Client:
    """An S3 client that presigns with SigV4 (the region's own virtual-hosted endpoint, so that a new bucket answers
    without a 307 redirect) and reads with short timeouts and standard retries."""
    client: S3Client = clients.make_client(
        "s3",
        options.client._replace(region=options.region),
        signature_version="s3v4",
        s3={"addressing_style": "virtual"},
    )
    return client


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner(owner: str | None) -> str:
    if not owner:
        raise Forbidden("Uploads belong to an authenticated caller (an IAM principal or an API key); none was given.")
    return owner


_check_request = schema.compile_schema(file_contract.upload_request_schema())


class Uploads:
    """The uploads of one bucket. ``client`` and ``clock`` are for tests (a Stubber's client, a frozen time)."""

    def __init__(
        self, settings: UploadSettings, *, client: S3Client | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self._client = client
        self.clock = clock

    @property
    def s3_location(self) -> bool:
        return self.settings.s3_location

    @property
    def read_worst_case_seconds(self) -> float:
        """The longest one ``fetch`` can take: its client's attempts, timeouts and backoff."""
        return self.settings.client.worst_case_seconds

    @property
    def client(self) -> S3Client:
        if self._client is None:  # first use: the cold start never pays for it
            self._client = make_client(self.settings)
        return self._client

    def create(self, owner: str | None, body: bytes) -> dict[str, Any]:
        """``POST /uploads``: validate ``{"name", "format", "size"}``; answer the presigned PUT for that file."""
        request = parse_object(body)
        error = _check_request(request, "")
        if error:
            raise ValidationFailed(error + ".")
        declared, size = str(request["format"]), int(request["size"])
        kind = file_contract.KIND_OF[declared]
        if size > kind.max_bytes:
            raise FileTooLarge(
                f"size is {size} bytes; Amazon Bedrock takes {kind.block}s of at most {kind.max_bytes} bytes."
            )
        now = self.clock()
        upload_id = files.new_upload_id(now)
        headers = {"Content-Type": file_contract.MEDIA_TYPES[declared]}
        params: dict[str, Any] = {
            "Bucket": self.settings.bucket,
            "Key": files.upload_key(_owner(owner), upload_id),
            "ContentType": headers["Content-Type"],
            "ContentLength": size,
        }
        if self.settings.server_side_encryption:
            params["ServerSideEncryption"] = self.settings.server_side_encryption
            headers["x-amz-server-side-encryption"] = self.settings.server_side_encryption
        try:
            url = self.client.generate_presigned_url(
                "put_object", Params=params, ExpiresIn=self.settings.url_seconds, HttpMethod="PUT"
            )
        except (ClientError, BotoCoreError) as failure:
            raise storage_error(failure) from failure
        # The URL's own clock starts when botocore signs, after ``now``: the answer never promises more time than it has.
        return {
            "uploadId": upload_id,
            "url": url,
            "method": "PUT",
            "headers": headers,
            "expiresAt": _iso(int(now) + self.settings.url_seconds),
        }

    def fetch(self, owner: str | None, upload_id: str) -> files.Upload:
        """Read one of the caller's uploads: refused before any S3 call when the id is malformed or too old; a 404
        when it is not under the caller's prefix; its actual size checked before its body is read."""
        if not files.valid_upload_id(upload_id):
            raise ValidationFailed("uploadId is not an uploadId that POST /uploads answers.")
        key = files.upload_key(_owner(owner), upload_id)
        age = self.clock() - files.upload_issued_at(upload_id)
        if age < -CLOCK_SKEW_SECONDS:
            raise UploadNotFound(NOT_FOUND_MESSAGE.format(upload_id=upload_id), upstream="FutureUploadId")
        if age > self.settings.max_age_seconds:
            raise UploadExpired(
                f"Upload {upload_id} is older than {self.settings.max_age_seconds} seconds, the longest an upload "
                "can be used: upload the file again (POST /uploads)."
            )
        try:
            response = self.client.get_object(Bucket=self.settings.bucket, Key=key)
        except (ClientError, BotoCoreError) as failure:
            raise storage_error(failure, upload_id) from failure
        body = response["Body"]
        try:
            size = int(response.get("ContentLength", 0))
            if size > file_contract.MAX_FILE_BYTES:  # bound at presign time; checked again before reading
                raise FileTooLarge(
                    f"Upload {upload_id} is {size} bytes; Amazon Bedrock takes files of at most "
                    f"{file_contract.MAX_FILE_BYTES} bytes."
                )
            data = body.read()
        except (ClientError, BotoCoreError) as failure:
            raise storage_error(failure) from failure
        finally:
            body.close()
        return files.Upload(
            data=data,
            media_type=str(response.get("ContentType", "")),
            uri=f"s3://{self.settings.bucket}/{key}",
        )

    def reader(self, owner: str | None) -> files.ReadUpload:
        """``files.resolve``'s ``read_upload`` for one caller (the service adds its deadline check to ``fetch``)."""
        return lambda upload_id: self.fetch(owner, upload_id)


def from_env(environ: Mapping[str, str]) -> Uploads | None:
    """The deployment's uploads store (its client made on first use), or None when it has no uploads bucket."""
    options = UploadSettings.from_env(environ)
    return Uploads(options) if options is not None else None
