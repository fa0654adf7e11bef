"""caller.py: the owner of a request, from the identity API Gateway authenticated, by the API's authorization mode.

The events are real-shaped (the SAM sample, with the identity fields API Gateway fills in for each mode:
``tests.support.IAM_IDENTITY`` and ``API_KEY_IDENTITY``). That the owner reaches the core through each entry point
is tested with the entry point (test_handler, test_streaming, test_local_api).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import caller
from stacks.config import load_config
from stacks.function_env import function_environment
from tests.support import API_KEY_IDENTITY, IAM_IDENTITY, api_event, cdk_context

PATH = "/customer-experience/chat"


def context_of(identity: dict[str, Any] | None = None) -> dict[str, Any]:
    return api_event(PATH, {}, identity=identity)["requestContext"]


def test_in_iam_mode_the_owner_is_the_signing_principals_arn():
    assert caller.owner(context_of(IAM_IDENTITY), caller.IAM) == "iam:" + IAM_IDENTITY["userArn"]


def test_in_api_key_mode_the_owner_is_the_keys_id_never_the_key_itself():
    owner = caller.owner(context_of(API_KEY_IDENTITY), caller.API_KEY)

    assert owner == "apikey:" + API_KEY_IDENTITY["apiKeyId"]
    assert API_KEY_IDENTITY["apiKey"] not in owner


def test_each_mode_trusts_only_its_own_field():
    both = context_of({**IAM_IDENTITY, **API_KEY_IDENTITY})

    assert caller.owner(both, caller.IAM) == "iam:" + IAM_IDENTITY["userArn"]
    assert caller.owner(both, caller.API_KEY) == "apikey:" + API_KEY_IDENTITY["apiKeyId"]
    # A request of the other mode has no owner: an API key does not stand in for a signature, nor the reverse.
    assert caller.owner(context_of(API_KEY_IDENTITY), caller.IAM) is None
    assert caller.owner(context_of(IAM_IDENTITY), caller.API_KEY) is None


@pytest.mark.parametrize("mode", caller.AUTH_MODES)
@pytest.mark.parametrize(
    "request_context",
    [
        None,  # the function invoked directly, with no request context
        "not a mapping",
        {},
        {"identity": None},
        {"identity": "alice"},
        {"identity": {"userArn": None, "apiKeyId": None}},  # the SAM sample: no caller
        {"identity": {"userArn": "", "apiKeyId": ""}},
        {"identity": {"userArn": ["arn:aws:iam::1:user/a"], "apiKeyId": 12345}},
    ],
)
def test_a_context_without_an_identity_for_the_mode_has_no_owner(mode, request_context):
    assert caller.owner(request_context, mode) is None


def test_the_sample_event_has_no_owner_in_either_mode():
    for mode in caller.AUTH_MODES:
        assert caller.owner(context_of(), mode) is None


@given(arn=st.text(min_size=1), key_id=st.text(min_size=1))
def test_an_arn_and_a_key_id_never_name_the_same_owner(arn, key_id):
    by_arn = caller.owner({"identity": {"userArn": arn}}, caller.IAM)
    by_key = caller.owner({"identity": {"apiKeyId": key_id}}, caller.API_KEY)

    assert by_arn is not None and by_key is not None and by_arn != by_key


@pytest.mark.parametrize("mode", caller.AUTH_MODES)
def test_the_auth_mode_is_read_from_the_environment(mode):
    assert caller.auth_mode_from({caller.VARIABLE: mode}) == mode


@pytest.mark.parametrize("environ", [{}, {caller.VARIABLE: ""}, {caller.VARIABLE: "cognito"}, {caller.VARIABLE: "IAM"}])
def test_without_a_known_auth_mode_the_function_does_not_start(environ):
    with pytest.raises(RuntimeError, match="AUTH_MODE must be one of iam, api-key"):
        caller.auth_mode_from(environ)


@pytest.mark.parametrize("mode", caller.AUTH_MODES)
def test_the_stack_tells_the_function_its_auth_mode(mode):
    environment = function_environment(load_config(cdk_context(authMode=mode)), guardrails={})

    assert caller.auth_mode_from(environment) == mode
