"""genai_core/uploads.py: POST /uploads answers a SigV4 presigned PUT bound to the file's type and exact size, and a
request's uploadId reads the caller's own upload only.

S3 is faked with botocore's Stubber on a real s3 client (requests and responses validated against S3's service
model); the presigned URL is checked offline with fake credentials, by re-signing it the way S3 verifies it.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any
from unittest import mock

import botocore.session
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.response import StreamingBody
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_core import clients, errors, file_contract, files, schema, uploads
from genai_core.limits import STORAGE_CLIENT
from genai_core.settings import FILES_FROM_S3, UPLOADS_BUCKET, UPLOADS_MAX_AGE_SECONDS, UPLOADS_URL_SECONDS
from tests import file_samples

BUCKET = "genai-uploads-123456789012"
REGION = "us-west-2"
ALICE = "arn:aws:sts::123456789012:assumed-role/Analyst/ana@example.com"
BOB = "arn:aws:sts::123456789012:assumed-role/Analyst/bob@example.com"
FROZEN = datetime.datetime(2030, 1, 1, 12, 0, 0)  # naive UTC, as botocore's signer uses it
NOW = FROZEN.replace(tzinfo=datetime.UTC).timestamp()
SETTINGS = uploads.UploadSettings(bucket=BUCKET, url_seconds=300, max_age_seconds=86_400, region=REGION)


@pytest.fixture
def s3() -> Iterator[tuple[uploads.Uploads, Stubber]]:
    """Uploads over a real S3 client (made by the module's own make_client) whose calls a Stubber answers; the clock
    is frozen for both the module and botocore's signer. Every queued answer must be used."""
    client = uploads.make_client(SETTINGS)
    with Stubber(client) as stubber, mock.patch("botocore.auth.get_current_datetime", return_value=FROZEN):
        yield uploads.Uploads(SETTINGS, client=client, clock=lambda: NOW), stubber
        stubber.assert_no_pending_responses()


def body(**fields: Any) -> bytes:
    return json.dumps({"name": "invoice-0042.pdf", "format": "pdf", "size": 12345, **fields}).encode()


def query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def stored(data: bytes, media_type: str) -> dict[str, Any]:
    return {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentLength": len(data), "ContentType": media_type}


def expect_get(stubber: Stubber, owner: str, upload_id: str, response: dict[str, Any]) -> None:
    stubber.add_response("get_object", response, {"Bucket": BUCKET, "Key": files.upload_key(owner, upload_id)})


# --- POST /uploads ------------------------------------------------------------------------------------------------


def test_the_answer_is_a_presigned_put_with_the_headers_to_send_and_its_expiry(s3):
    store, _ = s3
    answer = store.create(ALICE, body())

    assert set(answer) == {"uploadId", "url", "method", "headers", "expiresAt"}
    assert schema.first_error(answer, file_contract.upload_answer_schema()) is None  # what OpenAPI documents
    assert answer["method"] == "PUT"
    assert answer["headers"] == {"Content-Type": "application/pdf"}
    assert files.valid_upload_id(answer["uploadId"])
    parts = urllib.parse.urlsplit(answer["url"])
    assert (parts.scheme, parts.netloc) == ("https", f"{BUCKET}.s3.{REGION}.amazonaws.com")  # no 307 redirect
    assert parts.path == "/" + files.upload_key(ALICE, answer["uploadId"])
    assert ALICE not in answer["url"] and urllib.parse.quote(ALICE, safe="") not in answer["url"]


def test_the_url_is_sigv4_and_signs_the_content_length_and_the_content_type(s3):
    store, _ = s3
    q = query(store.create(ALICE, body())["url"])
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert q["X-Amz-SignedHeaders"] == "content-length;content-type;host"
    assert q["X-Amz-Credential"].endswith(f"/{REGION}/s3/aws4_request")


def test_the_url_expires_when_the_answer_says(s3):
    store, _ = s3
    answer = store.create(ALICE, body())
    q = query(answer["url"])
    signed = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    expires = signed + datetime.timedelta(seconds=int(q["X-Amz-Expires"]))
    assert int(q["X-Amz-Expires"]) == SETTINGS.url_seconds
    assert answer["expiresAt"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert file_contract.UPLOAD_URL_SECONDS_MIN <= SETTINGS.url_seconds <= 15 * 60  # minutes, not hours


def resign(url: str, headers: dict[str, str]) -> str:
    """The signature S3 computes for a PUT of ``url`` carrying ``headers`` (S3 answers 403 SignatureDoesNotMatch
    unless it equals the URL's)."""
    parts = urllib.parse.urlsplit(url)
    q = query(url)
    request = AWSRequest(method="PUT", url=f"{parts.scheme}://{parts.netloc}{parts.path}", headers=headers)
    request.context["payload_signing_enabled"] = False
    found = botocore.session.get_session().get_credentials()  # the fake ones of tests/support.py
    credentials = Credentials(found.access_key, found.secret_key, found.token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=FROZEN):
        S3SigV4QueryAuth(credentials, "s3", REGION, expires=int(q["X-Amz-Expires"])).add_auth(request)
    return query(request.url)["X-Amz-Signature"]


def test_a_put_of_another_size_or_type_does_not_match_the_signature(s3):
    store, _ = s3
    answer = store.create(ALICE, body(size=12345))
    signature = query(answer["url"])["X-Amz-Signature"]
    exact = {**answer["headers"], "Content-Length": "12345"}

    assert resign(answer["url"], exact) == signature
    assert resign(answer["url"], {**exact, "Content-Length": "12346"}) != signature
    assert resign(answer["url"], {**exact, "Content-Type": "image/png"}) != signature


def test_a_bucket_that_demands_an_encryption_header_gets_it_signed_and_returned(s3):
    store, _ = s3
    kms = uploads.Uploads(
        dataclasses.replace(SETTINGS, server_side_encryption="aws:kms"),
        client=store.client,
        clock=lambda: NOW,
    )
    answer = kms.create(ALICE, body())
    assert answer["headers"] == {"Content-Type": "application/pdf", "x-amz-server-side-encryption": "aws:kms"}
    assert (
        query(answer["url"])["X-Amz-SignedHeaders"] == "content-length;content-type;host;x-amz-server-side-encryption"
    )
    signature = query(answer["url"])["X-Amz-Signature"]
    assert resign(answer["url"], {**answer["headers"], "Content-Length": "12345"}) == signature
    assert resign(answer["url"], {"Content-Type": "application/pdf", "Content-Length": "12345"}) != signature


def test_botocores_default_would_presign_with_sigv2_which_signs_no_length():
    """Why make_client sets signature_version: the default presigns SigV2 in us-east-1 (and other regions)."""
    default = botocore.session.get_session().create_client("s3", region_name="us-east-1", config=Config())
    params = {"Bucket": BUCKET, "Key": "k", "ContentType": "application/pdf", "ContentLength": 1}
    assert "Signature" in query(default.generate_presigned_url("put_object", Params=params, ExpiresIn=60))
    ours = uploads.make_client(dataclasses.replace(SETTINGS, region="us-east-1"))
    assert (
        "content-length"
        in query(ours.generate_presigned_url("put_object", Params=params, ExpiresIn=60))["X-Amz-SignedHeaders"]
    )


@pytest.mark.parametrize("fmt", file_contract.FORMATS)
def test_each_format_is_uploaded_with_its_media_type(s3, fmt):
    store, _ = s3
    answer = store.create(ALICE, body(format=fmt, size=1000))
    assert answer["headers"]["Content-Type"] == file_contract.MEDIA_TYPES[fmt]


@pytest.mark.parametrize("kind", file_contract.KINDS, ids=lambda kind: kind.block)
def test_a_size_over_bedrocks_limit_for_the_kind_is_a_413(s3, kind):
    store, _ = s3
    assert store.create(ALICE, body(format=kind.formats[0], size=kind.max_bytes))["uploadId"]
    with pytest.raises(errors.FileTooLarge, match=f"at most {kind.max_bytes} bytes") as error:
        store.create(ALICE, body(format=kind.formats[0], size=kind.max_bytes + 1))
    assert error.value.status == 413


@pytest.mark.parametrize(
    ("raw", "error_type", "message"),
    [
        (body(size=0), errors.ValidationFailed, "size must be at least 1"),
        (body(size="12345"), errors.ValidationFailed, "size must be of type integer"),
        (body(size=True), errors.ValidationFailed, "size must be of type integer"),
        (body(format="pptx"), errors.ValidationFailed, "format must be one of"),
        (body(key="uploads/other/x"), errors.ValidationFailed, "key is not allowed"),
        (json.dumps({"format": "pdf", "size": 1}).encode(), errors.ValidationFailed, "name is required"),
        (b"{", errors.InvalidJson, "not valid JSON"),
        (b"[]", errors.ValidationFailed, "must be a JSON object"),
    ],
)
def test_a_bad_upload_request_is_a_4xx_and_presigns_nothing(s3, raw, error_type, message):
    store, _ = s3
    with mock.patch.object(store.client, "generate_presigned_url", side_effect=AssertionError("presigned")):
        with pytest.raises(error_type, match=message) as error:
            store.create(ALICE, raw)
    assert 400 <= error.value.status < 500


@pytest.mark.parametrize("owner", [None, ""])
def test_uploads_need_an_owner(s3, owner):
    store, _ = s3
    with pytest.raises(errors.Forbidden) as error:
        store.create(owner, body())
    assert (error.value.status, error.value.code) == (403, "forbidden")
    with pytest.raises(errors.Forbidden):
        store.fetch(owner, files.new_upload_id(NOW))


def test_the_s3_client_is_created_on_first_use_only(monkeypatch):
    made: list[str] = []
    real = clients.make_client

    def counting(service: str, *args: Any, **kwargs: Any) -> Any:
        made.append(service)
        return real(service, *args, **kwargs)

    monkeypatch.setattr(clients, "make_client", counting)
    store = uploads.Uploads(SETTINGS)
    assert made == []
    store.create(ALICE, body())
    store.create(ALICE, body())
    assert made == ["s3"]


# --- reading an upload back -------------------------------------------------------------------------------------


def test_the_owner_reads_back_the_bytes_the_media_type_and_the_uri(s3):
    store, stubber = s3
    upload_id = store.create(ALICE, body())["uploadId"]
    data = file_samples.pdf()
    expect_get(stubber, ALICE, upload_id, stored(data, "application/pdf"))

    upload = store.fetch(ALICE, upload_id)
    assert upload == files.Upload(data, "application/pdf", f"s3://{BUCKET}/{files.upload_key(ALICE, upload_id)}")


@pytest.mark.parametrize("answer", sorted(uploads.NOT_FOUND_CODES & {"NoSuchKey", "AccessDenied"}))
def test_another_callers_upload_id_is_looked_up_only_under_the_callers_own_prefix_and_is_a_404(s3, answer):
    store, stubber = s3
    upload_id = store.create(ALICE, body())["uploadId"]
    # The only S3 call is for Bob's own key (the Stubber checks the parameters); Alice's key is never asked for.
    stubber.add_client_error(
        "get_object",
        service_error_code=answer,
        http_status_code=404 if answer == "NoSuchKey" else 403,
        expected_params={"Bucket": BUCKET, "Key": files.upload_key(BOB, upload_id)},
    )
    with pytest.raises(errors.UploadNotFound) as error:
        store.fetch(BOB, upload_id)
    assert (error.value.status, error.value.code, error.value.upstream) == (404, "upload_not_found", answer)
    assert error.value.message == uploads.NOT_FOUND_MESSAGE.format(upload_id=upload_id)  # the same for both answers
    assert ALICE not in error.value.message and hashlib.sha256(ALICE.encode()).hexdigest() not in error.value.message


def test_files_resolve_with_another_callers_upload_fails_before_any_attachment_exists(s3):
    store, stubber = s3
    upload_id = store.create(ALICE, body())["uploadId"]
    stubber.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
    request = [{"name": "stolen.pdf", "format": "pdf", "uploadId": upload_id}]
    with pytest.raises(errors.UploadNotFound):
        files.resolve(request, read_upload=store.reader(BOB))


def test_an_upload_older_than_its_maximum_age_is_refused_without_asking_s3(s3):
    store, _ = s3
    old = files.new_upload_id(NOW - SETTINGS.max_age_seconds - 1)
    with pytest.raises(errors.UploadExpired) as error:
        store.fetch(ALICE, old)  # no queued answer: an S3 call would fail the Stubber
    assert (error.value.status, error.value.code) == (410, "upload_expired")
    assert "upload the file again" in error.value.message


def test_an_upload_at_its_maximum_age_is_still_read(s3):
    store, stubber = s3
    upload_id = files.new_upload_id(NOW - SETTINGS.max_age_seconds)
    expect_get(stubber, ALICE, upload_id, stored(file_samples.png(), "image/png"))
    assert store.fetch(ALICE, upload_id).data == file_samples.png()


def test_an_upload_id_from_the_future_was_not_issued_here(s3):
    store, _ = s3
    with pytest.raises(errors.UploadNotFound):
        store.fetch(ALICE, files.new_upload_id(NOW + uploads.CLOCK_SKEW_SECONDS + 60))


# Each pytest-xdist worker collects the tests itself, and an upload id is random: the parameters get fixed ids.
ISSUED = files.new_upload_id(NOW)


@pytest.mark.parametrize(
    "bad", ["", "x", "../" + ISSUED, ISSUED.upper()], ids=["empty", "short", "a path", "upper case"]
)
def test_a_malformed_upload_id_is_a_400_without_asking_s3(s3, bad):
    store, _ = s3
    with pytest.raises(errors.ValidationFailed):
        store.fetch(ALICE, bad)


class Untouchable(io.BytesIO):
    closed_by_us = False

    def read(self, *_: Any) -> bytes:
        raise AssertionError("the body was read")

    def close(self) -> None:
        self.closed_by_us = True


def test_an_object_over_the_limit_is_refused_before_its_body_is_read(s3):
    store, stubber = s3
    upload_id = files.new_upload_id(NOW)
    raw = Untouchable()
    size = file_contract.MAX_FILE_BYTES + 1
    expect_get(stubber, ALICE, upload_id, {"Body": StreamingBody(raw, size), "ContentLength": size})
    with pytest.raises(errors.FileTooLarge):
        store.fetch(ALICE, upload_id)
    assert raw.closed_by_us


# The documented contract: S3's answer -> (status, code). A decision, pinned here.
S3_FAULTS = {
    "SlowDown": (503, 429, "storage_throttled"),
    "ServiceUnavailable": (503, 503, "storage_unavailable"),
    "InternalError": (500, 502, "storage_error"),
    "RequestTimeout": (400, 504, "storage_timeout"),
    "NoSuchBucket": (404, 502, "storage_configuration_error"),
    "PermanentRedirect": (301, 502, "storage_configuration_error"),
    "InvalidAccessKeyId": (403, 500, "storage_credentials_error"),
    "503": (503, 503, "storage_unavailable"),
    "AuthorizationHeaderMalformed": (400, 502, "storage_configuration_error"),
    "ExpiredToken": (400, 500, "storage_credentials_error"),
    "InvalidToken": (400, 500, "storage_credentials_error"),
    "SignatureDoesNotMatch": (403, 500, "storage_credentials_error"),
    "TokenRefreshRequired": (400, 500, "storage_credentials_error"),
    "SomethingNew": (500, 502, "storage_error"),
}


@pytest.mark.parametrize("code", S3_FAULTS)
def test_s3_faults_map_to_documented_statuses(s3, code):
    store, stubber = s3
    http_status, status, expected = S3_FAULTS[code]
    stubber.add_client_error("get_object", service_error_code=code, http_status_code=http_status)
    with pytest.raises(errors.ApiError) as error:
        store.fetch(ALICE, files.new_upload_id(NOW))
    assert (error.value.status, error.value.code) == (status, expected)
    assert error.value.upstream == code  # type: ignore[attr-defined]
    if status == 429:
        assert error.value.headers == {"Retry-After": str(uploads.RETRY_AFTER_SECONDS)}


def test_every_fault_of_the_map_is_documented_here():
    assert set(uploads.S3_ERRORS) <= set(S3_FAULTS)
    assert set(uploads.S3_ERRORS.values()) <= set(uploads.STORAGE_FAULTS)


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (ReadTimeoutError(endpoint_url="https://s3"), 504, "storage_timeout"),
        (ConnectTimeoutError(endpoint_url="https://s3"), 504, "storage_timeout"),
        (EndpointConnectionError(endpoint_url="https://s3"), 503, "storage_unavailable"),
        (NoCredentialsError(), 500, "storage_credentials_error"),
    ],
)
def test_transport_and_credential_failures_map_too(s3, failure, status, code):
    store, _ = s3
    with mock.patch.object(store.client, "get_object", side_effect=failure):
        with pytest.raises(errors.UpstreamError) as error:
            store.fetch(ALICE, files.new_upload_id(NOW))
    assert (error.value.status, error.value.code, error.value.upstream) == (status, code, type(failure).__name__)


@pytest.mark.parametrize(
    "failure",
    [
        IncompleteReadError(actual_bytes=10, expected_bytes=100),
        ResponseStreamingError(error="connection reset"),
        ReadTimeoutError(endpoint_url="https://s3"),
    ],
)
def test_a_body_that_fails_midway_is_an_upstream_error_not_a_crash(s3, failure):
    store, stubber = s3
    upload_id = files.new_upload_id(NOW)
    raw = mock.Mock(spec=io.BytesIO)
    raw.read.side_effect = failure
    expect_get(stubber, ALICE, upload_id, {"Body": StreamingBody(raw, 100), "ContentLength": 100})
    with pytest.raises(errors.UpstreamError) as error:
        store.fetch(ALICE, upload_id)
    assert error.value.status in (502, 504)
    raw.close.assert_called_once()


def test_presigning_without_credentials_is_a_500_with_the_envelope(s3):
    store, _ = s3
    with mock.patch.object(store.client, "generate_presigned_url", side_effect=NoCredentialsError()):
        with pytest.raises(errors.UpstreamError) as error:
            store.create(ALICE, body())
    assert (error.value.status, error.value.code) == (500, "storage_credentials_error")


# --- end to end in the core: upload, then use ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pdf", "docx", "png"])
def test_an_uploaded_file_becomes_an_attachment_after_the_same_checks_as_inline(s3, fmt):
    store, stubber = s3
    data = file_samples.SAMPLES[fmt]()
    upload_id = store.create(ALICE, body(format=fmt, size=len(data)))["uploadId"]
    expect_get(stubber, ALICE, upload_id, stored(data, file_contract.MEDIA_TYPES[fmt]))
    (attachment,) = files.resolve(
        [{"name": f"x.{fmt}", "format": fmt, "uploadId": upload_id}], read_upload=store.reader(ALICE)
    )
    assert (attachment.format, attachment.data, attachment.s3_uri) == (fmt, data, None)


def test_an_upload_that_holds_other_bytes_than_its_type_is_refused(s3):
    store, stubber = s3
    upload_id = store.create(ALICE, body(format="pdf", size=len(file_samples.png())))["uploadId"]
    expect_get(stubber, ALICE, upload_id, stored(file_samples.png(), "application/pdf"))
    with pytest.raises(errors.FileFormatMismatch, match="declared as pdf, but its content is png"):
        files.resolve([{"name": "x.pdf", "format": "pdf", "uploadId": upload_id}], read_upload=store.reader(ALICE))


# --- settings ----------------------------------------------------------------------------------------------------


ENVIRON = {
    UPLOADS_BUCKET: BUCKET,
    "AWS_REGION": REGION,
    UPLOADS_URL_SECONDS: "600",
    UPLOADS_MAX_AGE_SECONDS: "3600",
    FILES_FROM_S3: "true",
}


def test_settings_come_from_the_environment_and_no_bucket_means_no_uploads():
    assert uploads.UploadSettings.from_env({}) is None
    assert uploads.from_env({}) is None
    assert uploads.UploadSettings.from_env(ENVIRON) == uploads.UploadSettings(
        bucket=BUCKET, region=REGION, url_seconds=600, max_age_seconds=3600, s3_location=True
    )
    store = uploads.from_env(ENVIRON)
    assert store is not None and store.s3_location and store._client is None  # no S3 client until first use
    assert store.read_worst_case_seconds == STORAGE_CLIENT.worst_case_seconds


@pytest.mark.parametrize(
    "bad",
    [
        {UPLOADS_URL_SECONDS: "10"},
        {UPLOADS_URL_SECONDS: "x"},
        {UPLOADS_MAX_AGE_SECONDS: "60"},
        {UPLOADS_URL_SECONDS: None},
        {FILES_FROM_S3: None},
    ],
)
def test_bad_or_missing_settings_fail_at_start_with_a_message(bad):
    environ = {name: value for name, value in {**ENVIRON, **bad}.items() if value is not None}
    with pytest.raises(RuntimeError, match="uploads settings are invalid"):
        uploads.UploadSettings.from_env(environ)


def test_the_storage_client_reads_with_the_timeouts_of_the_timeout_chain():
    config = uploads.make_client(SETTINGS).meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        STORAGE_CLIENT.connect_timeout,
        STORAGE_CLIENT.read_timeout,
    )
    assert config.retries["total_max_attempts"] == STORAGE_CLIENT.max_attempts


@settings(max_examples=50, deadline=None)
@given(owner=st.text(min_size=1, max_size=200).filter(lambda o: o != ALICE))
def test_property_no_other_owner_is_ever_sent_to_alices_key(owner):
    client = uploads.make_client(SETTINGS)
    store = uploads.Uploads(SETTINGS, client=client, clock=lambda: NOW)
    upload_id = files.new_upload_id(NOW)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "get_object",
            service_error_code="NoSuchKey",
            http_status_code=404,
            expected_params={"Bucket": BUCKET, "Key": files.upload_key(owner, upload_id)},
        )
        with pytest.raises(errors.UploadNotFound):
            store.fetch(owner, upload_id)
    assert files.upload_key(owner, upload_id) != files.upload_key(ALICE, upload_id)
