"""genai_core/bedrock.py: every Bedrock fault gets its documented status and error code, never a traceback or a
generic 500. Bedrock is faked with botocore's Stubber (real error codes and messages, as Bedrock sends them);
transport and credential failures, which come from below the client, replace the call itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    EventStreamError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.loaders import Loader

from genai_core import errors
from genai_core.bedrock import (
    CREDENTIAL_ERROR_CODES,
    CREDENTIAL_ERRORS,
    DAILY_QUOTA,
    FAULTS,
    FILE_REJECTED,
    STREAM_ERRORS,
    UPSTREAM_ERRORS,
    upstream_error,
)
from tests.support import ROOT

CHAT = "/customer-experience/chat"
BODY = {"messages": [{"role": "user", "content": "Hello"}]}


def exception_shapes() -> dict[str, dict[str, Any]]:
    """Every error shape of botocore's service-2.json for bedrock-runtime (every operation's), by name."""
    shapes = Loader().load_service_model("bedrock-runtime", "service-2")["shapes"]
    return {name: shape for name, shape in shapes.items() if shape.get("exception")}


SHAPES = exception_shapes()

# The documented contract (docs/api.md, "Errors met at Bedrock"): Bedrock error code -> (status, code), for a
# message that no MESSAGE_RULES refines. A decision, pinned here and in docs/api.md.
DOCUMENTED = {
    "ThrottlingException": (429, "throttled"),
    "ServiceQuotaExceededException": (429, "quota_exceeded"),
    "ModelTimeoutException": (504, "model_timeout"),
    "ServiceUnavailableException": (503, "upstream_unavailable"),
    "ModelNotReadyException": (503, "model_not_ready"),
    "AccessDeniedException": (502, "upstream_access_denied"),
    "ResourceNotFoundException": (502, "model_not_found"),
    "InternalServerException": (502, "upstream_error"),
    "ConflictException": (502, "upstream_error"),
    "ModelErrorException": (502, "model_error"),
    "ModelStreamErrorException": (502, "model_stream_error"),
    "ValidationException": (400, "model_validation_error"),
}


def reject(stubber: Any, code: str, message: str = "upstream said no", status: int = 400) -> None:
    """Queue Bedrock's error answer to the next Converse call (the code and message as Bedrock sends them)."""
    stubber.add_client_error("converse", service_error_code=code, service_message=message, http_status_code=status)


# --- the map is complete -----------------------------------------------------------------------------------------


def test_every_error_shape_of_the_service_model_is_mapped():
    mapped = set(UPSTREAM_ERRORS) | set(STREAM_ERRORS)

    assert not set(UPSTREAM_ERRORS) & set(STREAM_ERRORS)
    assert set(SHAPES) <= mapped, f"unmapped Bedrock errors: {sorted(set(SHAPES) - mapped)}"
    assert mapped == set(SHAPES), f"mapped errors the model no longer has: {sorted(mapped - set(SHAPES))}"
    assert {name: (fault.status, fault.code) for name, fault in {**UPSTREAM_ERRORS, **STREAM_ERRORS}.items()} == (
        DOCUMENTED
    )


def test_the_client_knows_every_shape_as_an_error_class(handler):
    # The shapes the test reads are the ones the function's client raises (same botocore, same model).
    for name in SHAPES:
        assert issubclass(getattr(handler.bedrock_client.exceptions, name), Exception)


@pytest.mark.parametrize("bedrock_code", sorted(SHAPES))
def test_every_bedrock_error_gets_its_documented_status_and_code(call, bedrock, bedrock_code):
    reject(bedrock, bedrock_code, "upstream said no", SHAPES[bedrock_code]["error"]["httpStatusCode"])

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == DOCUMENTED[bedrock_code]
    assert response.body["error"]["message"]


# --- quotas ------------------------------------------------------------------------------------------------------


def test_a_service_quota_is_a_429_without_a_short_retry_after(call, bedrock):
    reject(bedrock, "ServiceQuotaExceededException", "Your account has exceeded the service quota for this model.")

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == (429, "quota_exceeded")
    assert "Retry-After" not in response.headers


def test_a_daily_token_quota_has_its_own_code_and_no_retry_after(call, bedrock):
    reject(bedrock, "ThrottlingException", "Too many tokens per day, please wait before trying again.", 429)

    response = call(CHAT, BODY)

    assert response.status == 429
    assert response.body["error"] == {"code": "daily_quota_exceeded", "message": DAILY_QUOTA.message}
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize(
    "message",
    [
        "Too many tokens, please wait before trying again.",
        "Too many requests, please wait before trying again.",
        "Your request rate is too high. Reduce the frequency of requests.",
        "",
    ],
)
def test_a_per_minute_throttle_tells_the_caller_to_retry_soon(call, bedrock, message):
    reject(bedrock, "ThrottlingException", message, 429)

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == (429, "throttled")
    assert response.headers["Retry-After"] == "2"


# --- ValidationException: the caller's or the deployment's --------------------------------------------------------

# Bedrock's messages as it sends them (from public reports of Converse and ConverseStream calls).
DEPLOYMENT_CAUSED = [
    "The provided model identifier is invalid.",
    "Invocation of model ID amazon.nova-2-lite-v1:0 with on-demand throughput isn\u2019t supported. Retry your "
    "request with the ID or ARN of an inference profile that contains this model.",
    "Invocation of model ID anthropic.claude-sonnet-4-20250514-v1:0 with on-demand throughput isn't supported. "
    "Retry your request with the ID or ARN of an inference profile that contains this model.",
    "This model doesn't support tool use.",
    "This model doesn't support tool use in streaming mode.",
    "This model doesn't support the toolConfig.toolChoice.tool field. Remove toolConfig.toolChoice.tool and try again.",
    "This model doesn't support the document content block that you provided.",
    "This model doesn't support the image content block that you provided. Update the content block and try again.",
    "This model doesn't support system messages. Try again without a system message or use a model that supports "
    "system messages.",
    "The provided model doesn't support counting tokens.",
    "The guardrail identifier or version provided in the request does not exist.",
    "The maximum tokens you requested exceeds the model limit of 10000. Try again with a maximum tokens value that "
    "is lower than 10000.",
    "The model returned the following errors: max_tokens: 100000 > 64000, which is the maximum allowed number of "
    "output tokens for claude-sonnet-4-20250514",
    "Operation not allowed",
]
CALLER_CAUSED = [
    "Input is too long for requested model.",
    "The model returned the following errors: prompt is too long: 200049 tokens > 200000 maximum",
    "The model returned the following errors: input length and `max_tokens` exceed context limit: 195000 + 10000 > "
    "200000, decrease input length or `max_tokens` and try again",
    "The text field in the ContentBlock object at messages.0.content.0 is blank. Add text to the text field, and "
    "try again.",
    # Unknown messages stay the caller's; a deployment phrase quoted later in a message does not count.
    "Something Bedrock has never said before.",
    "The value at toolConfig.tools.0.toolSpec.inputSchema.json.properties is invalid: 'This model doesn't support "
    "tool use'",
]


# Bedrock's words about a file of the request (issue threads quoting its answers for Claude and Llama; Nova's own
# wording is not verified): the caller's, and Bedrock's reason says which file and why.
FILE_CAUSED = [
    "The model returned the following errors: messages.0.content.1.source.bytes: The document source bytes could not "
    "be parsed as the specified format. If using a text-based format, try source.text instead of source.bytes.",
    "The model returned the following errors: messages.0.content.0.image.source.bytes: The image was specified using "
    "the image/jpeg media type, but the image appears to be a image/png image",
    "The model returned the following errors: messages.0.content.2.document.source.bytes: corrupt",
    "The PDF specified was not valid",
    "The model returned the following errors: The provided image does not match the specified image format.",
    "The model returned the following errors: messages: too many images: image_count > 20",
    "A maximum of 100 PDF pages may be provided.",
    "The model returned the following errors: messages.1.content.22.pdf.source.base64.data: A maximum of 600 PDF pages "
    "may be provided.",
]


@pytest.mark.parametrize("message", FILE_CAUSED)
def test_bedrocks_rejection_of_a_file_is_a_400_file_rejected_with_its_reason(call, bedrock, message):
    reject(bedrock, "ValidationException", message)

    response = call(CHAT, BODY)

    assert response.status == 400
    assert response.body["error"] == {"code": "file_rejected", "message": f"{FILE_REJECTED.message}: {message[:300]}"}


def test_a_deployment_phrase_about_files_stays_the_deployments_and_a_files_word_later_in_a_message_does_not_count():
    for message, code in (
        ("This model doesn't support the document content block that you provided.", "model_configuration_error"),
        ("Input is too long for requested model. The PDF specified was not valid", "model_validation_error"),
    ):
        assert upstream_error(_client_error("ValidationException", message)).code == code


@pytest.mark.parametrize("message", DEPLOYMENT_CAUSED)
def test_a_validation_error_the_deployment_causes_is_a_502_that_does_not_blame_the_request(call, bedrock, message):
    reject(bedrock, "ValidationException", message)

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == (502, "model_configuration_error")
    said = response.body["error"]["message"]
    assert "deployment setting" in said or "account setting" in said
    assert "rejected the request" not in said and message not in said


@pytest.mark.parametrize("message", CALLER_CAUSED)
def test_a_validation_error_the_caller_causes_is_a_400_with_bedrocks_reason(call, bedrock, message):
    reject(bedrock, "ValidationException", message)

    response = call(CHAT, BODY)

    assert response.status == 400
    assert response.body["error"] == {
        "code": "model_validation_error",
        "message": f"The model rejected the request: {message}",
    }


def test_bedrocks_reason_is_kept_short():
    error = upstream_error(_client_error("ValidationException", "Input is too long. " * 100))

    assert error.message == "The model rejected the request: " + ("Input is too long. " * 100)[:300]


def test_a_deployment_fault_is_logged_as_an_error_and_counted_as_a_model_error(call, bedrock, logs, emf):
    reject(bedrock, "ValidationException", "This model doesn't support tool use.")

    call(CHAT, BODY)

    (failure,) = [line for line in logs() if line["message"] == "request failed"]
    assert (failure["level"], failure["status"], failure["error_code"]) == ("ERROR", 502, "model_configuration_error")
    assert failure["upstream_error"] == "ValidationException"
    by_code = [
        document["_aws"]["CloudWatchMetrics"][0]
        for document in emf()
        if document.get("ErrorCode") == "model_configuration_error"
    ]
    assert len(by_code) == 1 and by_code[0]["Metrics"] == [{"Name": "ModelErrors", "Unit": "Count"}]


def _client_error(code: str, message: str) -> Any:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}}, "Converse")


@pytest.mark.parametrize(
    ("event", "message", "code"),
    [
        ("throttlingException", "Too many tokens per day, please wait before trying again.", "daily_quota_exceeded"),
        ("throttlingException", "Too many tokens, please wait before trying again.", "throttled"),
        ("validationException", "This model doesn't support tool use in streaming mode.", "model_configuration_error"),
        ("validationException", "Input is too long for requested model.", "model_validation_error"),
    ],
)
def test_an_error_event_of_a_stream_is_told_apart_by_its_message_too(event, message, code):
    error = upstream_error(EventStreamError({"Error": {"Code": event, "Message": message}}, "ConverseStream"))

    assert error.code == code


# --- transport and credentials ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"), (504, "model_timeout")),
        (
            ConnectTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"),
            (503, "upstream_unavailable"),
        ),
        (
            EndpointConnectionError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"),
            (503, "upstream_unavailable"),
        ),
    ],
)
def test_transport_failures_get_their_documented_status(call, handler, monkeypatch, error, expected):
    # Stubber cannot raise transport errors; they come from below the client, so the call itself is replaced.
    def fail(**_: Any) -> None:
        raise error

    monkeypatch.setattr(handler.bedrock_client, "converse", fail)

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == expected


CREDENTIAL_FAILURES = [
    NoCredentialsError(),
    PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
    CredentialRetrievalError(provider="custom-process", error_msg="the credential process exited with 1"),
    TokenRetrievalError(provider="sso", error_msg="the SSO token could not be refreshed"),
    UnauthorizedSSOTokenError(),
    SSOTokenLoadError(error_msg="no cached SSO token"),
]


@pytest.mark.parametrize("error", CREDENTIAL_FAILURES, ids=lambda error: type(error).__name__)
def test_credentials_botocore_cannot_get_are_the_functions_problem(call, handler, monkeypatch, error):
    def fail(**_: Any) -> None:
        raise error

    monkeypatch.setattr(handler.bedrock_client, "converse", fail)

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == (500, "bedrock_credentials_error")
    assert upstream_error(error).upstream in CREDENTIAL_ERRORS


@pytest.mark.parametrize("code", sorted(CREDENTIAL_ERROR_CODES))
def test_rejected_credentials_are_the_functions_problem_not_the_models(call, bedrock, code):
    reject(bedrock, code, "The security token included in the request is invalid.", 403)

    response = call(CHAT, BODY)

    assert response.status == 500
    assert response.body["error"] == {
        "code": "bedrock_credentials_error",
        "message": "The function has no valid AWS credentials to call Amazon Bedrock.",
    }


def test_the_spellings_bedrock_sends_for_a_bad_signature_are_in_the_list():
    # A JSON (REST) service such as bedrock-runtime names its errors with the "Exception" suffix.
    assert {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "IncompleteSignatureException",
    } <= CREDENTIAL_ERROR_CODES


def test_make_local_reads_the_one_list_of_credential_errors():
    from tools import local_api

    assert local_api.CREDENTIAL_ERRORS is CREDENTIAL_ERRORS
    assert CREDENTIAL_ERROR_CODES <= CREDENTIAL_ERRORS
    for error in CREDENTIAL_FAILURES:
        assert type(error).__name__ in local_api.CREDENTIAL_ERRORS
    hint = local_api.hint_for(
        "upstream_error", "IncompleteSignatureException", models=[], region="us-east-1", credentials_found=True
    )
    assert hint is not None and "credentials" in hint


def test_an_unknown_bedrock_error_is_a_502(call, bedrock):
    reject(bedrock, "SomethingNewException", status=500)

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == (502, "upstream_error")


def test_upstream_failures_are_logged_by_name_only(call, bedrock, logs):
    reject(bedrock, "AccessDeniedException", "secret-ish detail", 403)

    call(CHAT, {"messages": [{"role": "user", "content": "PROMPT-MARKER-42"}]})

    (failure,) = [line for line in logs() if line["message"] == "request failed"]
    assert failure["upstream_error"] == "AccessDeniedException"
    assert failure["level"] == "ERROR" and failure["status"] == 502
    logged = json.dumps(logs(), ensure_ascii=False)
    assert "PROMPT-MARKER-42" not in logged and "secret-ish detail" not in logged


def test_every_error_event_of_converse_stream_is_mapped(handler):
    stream = handler.bedrock_client.meta.service_model.operation_model("ConverseStream").output_shape.members["stream"]
    error_events = {name[:1].upper() + name[1:] for name in stream.members if name.endswith("Exception")}

    assert error_events == {
        "InternalServerException",
        "ModelStreamErrorException",
        "ValidationException",
        "ThrottlingException",
        "ServiceUnavailableException",
    }
    assert error_events <= set(UPSTREAM_ERRORS) | set(STREAM_ERRORS)
    assert set(STREAM_ERRORS) == error_events - set(UPSTREAM_ERRORS)


# --- docs/api.md documents every status and code the function returns --------------------------------------------


def readme_rows() -> list[tuple[str, int, str]]:
    """Every (first cell, status, code) row of docs/api.md's error tables: ``| cause | 400 | `code` |``."""
    readme = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    pattern = r"^\|\s*(.+?)\s*\|\s*(\d{3})\s*\|\s*`(\w+)`\s*\|\s*$"
    return [(m.group(1), int(m.group(2)), m.group(3)) for m in re.finditer(pattern, readme, flags=re.MULTILINE)]


def test_the_readme_documents_every_bedrock_error_by_name():
    rows = {cause.strip("`"): (status, code) for cause, status, code in readme_rows() if re.fullmatch(r"`\w+`", cause)}

    for name, documented in DOCUMENTED.items():
        assert rows.get(name) == documented, f"docs/api.md's Bedrock table is missing or wrong for {name}"


def test_the_readme_documents_every_status_and_code_the_function_returns():
    documented = {(status, code) for _, status, code in readme_rows()}
    returned = {(fault.status, fault.code) for fault in FAULTS}
    returned |= {
        (error.status, error.code)
        for error in vars(errors).values()
        if isinstance(error, type) and issubclass(error, errors.ApiError) and error is not errors.BadRequest
    }

    assert returned <= documented, f"not in docs/api.md's error tables: {sorted(returned - documented)}"
