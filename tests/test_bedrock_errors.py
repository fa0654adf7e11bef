"""Every Bedrock fault gets its documented status and error code, never a traceback or a generic 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from genai_core.bedrock import UPSTREAM_ERRORS

CHAT = "/customer-experience/chat"
BODY = {"messages": [{"role": "user", "content": "Hello"}]}

# The documented contract (docs/api.md, "Errors met at Bedrock"; tests/test_docs.py checks the page against
# UPSTREAM_ERRORS): Bedrock error -> (status, code).
DOCUMENTED = {
    "ThrottlingException": (429, "throttled"),
    "ModelTimeoutException": (504, "model_timeout"),
    "ServiceUnavailableException": (503, "upstream_unavailable"),
    "ModelNotReadyException": (503, "model_not_ready"),
    "AccessDeniedException": (502, "upstream_access_denied"),
    "ResourceNotFoundException": (502, "model_not_found"),
    "InternalServerException": (502, "upstream_error"),
    "ModelErrorException": (502, "model_error"),
    "ValidationException": (400, "model_validation_error"),
}


def test_every_error_converse_models_is_mapped(handler):
    operation = handler.bedrock_client.meta.service_model.operation_model("Converse")
    modeled = {shape.name for shape in operation.error_shapes}

    assert set(UPSTREAM_ERRORS) == modeled
    assert set(DOCUMENTED) == modeled


@pytest.mark.parametrize(("bedrock_code", "expected"), sorted(DOCUMENTED.items()))
def test_a_bedrock_error_gets_its_documented_status(call, bedrock, bedrock_code, expected):
    bedrock.add_client_error(
        "converse", service_error_code=bedrock_code, service_message="upstream said no", http_status_code=400
    )

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == expected
    assert response.body["error"]["message"]


def test_throttling_tells_the_caller_when_to_retry(call, bedrock):
    bedrock.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)

    response = call(CHAT, BODY)

    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 0


def test_a_model_validation_error_passes_bedrocks_reason_to_the_caller(call, bedrock):
    bedrock.add_client_error(
        "converse",
        service_error_code="ValidationException",
        service_message="Input is too long for requested model.",
        http_status_code=400,
    )

    response = call(CHAT, BODY)

    assert response.status == 400
    assert response.body["error"] == {
        "code": "model_validation_error",
        "message": "The model rejected the request: Input is too long for requested model.",
    }


def test_an_unknown_bedrock_error_is_a_502(call, bedrock):
    bedrock.add_client_error("converse", service_error_code="SomethingNewException", http_status_code=500)

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == (502, "upstream_error")


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
        (NoCredentialsError(), (500, "bedrock_credentials_error")),
        (PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"), (500, "bedrock_credentials_error")),
    ],
)
def test_transport_failures_get_their_documented_status(call, handler, monkeypatch, error, expected):
    # Stubber cannot raise transport errors; they come from below the client, so the call itself is replaced.
    def fail(**_: Any) -> None:
        raise error

    monkeypatch.setattr(handler.bedrock_client, "converse", fail)

    response = call(CHAT, BODY)

    assert (response.status, response.body["error"]["code"]) == expected


@pytest.mark.parametrize("code", ["UnrecognizedClientException", "ExpiredTokenException", "InvalidSignatureException"])
def test_rejected_credentials_are_the_functions_problem_not_the_models(call, bedrock, code):
    bedrock.add_client_error("converse", service_error_code=code, http_status_code=403)

    response = call(CHAT, BODY)

    assert response.status == 500
    assert response.body["error"] == {
        "code": "bedrock_credentials_error",
        "message": "The function has no valid AWS credentials to call Amazon Bedrock.",
    }


def test_upstream_failures_are_logged_by_name_only(call, bedrock, logs):
    bedrock.add_client_error(
        "converse", service_error_code="AccessDeniedException", service_message="secret-ish detail"
    )

    call(CHAT, {"messages": [{"role": "user", "content": "PROMPT-MARKER-42"}]})

    (failure,) = [line for line in logs() if line["message"] == "request failed"]
    assert failure["upstream_error"] == "AccessDeniedException"
    assert failure["level"] == "ERROR" and failure["status"] == 502
    logged = json.dumps(logs(), ensure_ascii=False)
    assert "PROMPT-MARKER-42" not in logged
