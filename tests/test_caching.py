"""Prompt caching (genai_core/caching.py): one cache point after the stable prefix, only for a model that takes
one; requests checked against Bedrock's service model (botocore's ParamValidator, and Stubber for the usage)."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.validate import ParamValidator

from genai_core.caching import CACHE_POINT, foundation_model, takes_cache_points, with_cache_point
from genai_core.catalog import load_catalog
from genai_core.service import UseCaseService
from genai_core.settings import GuardrailSettings
from stacks.config import load_config
from tests.support import CDK_CONTEXT, FUNCTION_ENV, cdk_context

CATALOG = load_catalog()
# The deployment's allow-list by default (cdk.json's conversations.promptCacheModels).
CACHE_POINT_MODELS = frozenset(CDK_CONTEXT["conversations"]["promptCacheModels"])
# The use cases whose prompt is a conversation (chat): the ones a stored history applies to.
CONVERSATIONS = [use_case for use_case in CATALOG if "conversation" in use_case.prompt]
PROFILE_GEOGRAPHIES = sorted(CDK_CONTEXT["inferenceProfileRegions"])


@pytest.fixture(scope="module")
def bedrock() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1")


@pytest.fixture(scope="module")
def service(bedrock: Any) -> UseCaseService:
    """The service as the deployed function builds it: cdk.json's models, the guardrail on its families."""
    guardrail = GuardrailSettings.from_variable(FUNCTION_ENV["GUARDRAILS"])
    return UseCaseService(CATALOG, CDK_CONTEXT["models"], bedrock, guardrail=guardrail)


def chat_request(service: UseCaseService, stored_exchanges: int) -> dict[str, Any]:
    (use_case,) = CONVERSATIONS
    messages = []
    for index in range(stored_exchanges):
        messages += [
            {"role": "user", "content": f"question {index}"},
            {"role": "assistant", "content": f"answer {index}"},
        ]
    messages.append({"role": "user", "content": "the new question"})
    return service.build_request(use_case, {use_case.prompt["conversation"]: messages})


def cache_points(node: Any) -> list[Any]:
    """Every cachePoint block anywhere in a request."""
    if isinstance(node, dict):
        return [node] * ("cachePoint" in node) + [p for value in node.values() for p in cache_points(value)]
    if isinstance(node, list):
        return [p for item in node for p in cache_points(item)]
    return []


def assert_valid(bedrock: Any, request: dict[str, Any]) -> None:
    for operation in ("Converse", "ConverseStream"):
        report = ParamValidator().validate(request, bedrock.meta.service_model.operation_model(operation).input_shape)
        assert not report.has_errors(), report.generate_report()


# --- which models -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(CACHE_POINT_MODELS))
def test_every_listed_model_takes_cache_points_directly_and_through_every_inference_profile(model):
    assert takes_cache_points(model, CACHE_POINT_MODELS)
    for geography in PROFILE_GEOGRAPHIES:
        assert takes_cache_points(f"{geography}.{model}", CACHE_POINT_MODELS)
    assert not takes_cache_points(model, frozenset())


def test_the_foundation_model_of_every_configured_id_is_the_one_the_stack_grants():
    for target in load_config(cdk_context()).models.values():
        assert foundation_model(target.model_id) == target.foundation_model
    assert foundation_model("amazon.nova-pro-v1:0") == "amazon.nova-pro-v1:0"  # one dot: no profile prefix
    assert foundation_model("us-gov.anthropic.claude-3-5-haiku-20241022-v1:0").startswith("anthropic.")


def test_a_model_not_on_the_list_gets_no_cache_point_the_configured_default_only_if_listed(service):
    request = chat_request(service, stored_exchanges=2)

    unlisted = with_cache_point(request, stable_messages=4, models=frozenset())
    assert unlisted == request and cache_points(unlisted) == []
    listed = foundation_model(request["modelId"]) in CACHE_POINT_MODELS
    assert bool(cache_points(with_cache_point(request, stable_messages=4, models=CACHE_POINT_MODELS))) is listed
    assert not listed  # the default model, Nova 2 Lite, is not on AWS's list: no cache point by default


# --- where the point goes ---------------------------------------------------------------------------------------


@pytest.fixture
def listed(service: UseCaseService) -> frozenset[str]:
    """The list, with the configured chat model on it (as a deployment that enables it would have)."""
    (use_case,) = CONVERSATIONS
    return CACHE_POINT_MODELS | {foundation_model(service.model_for(use_case))}


def test_with_stored_history_one_point_goes_after_the_last_stored_message(service, bedrock, listed):
    request = chat_request(service, stored_exchanges=2)
    before = copy.deepcopy(request)

    cached = with_cache_point(request, stable_messages=4, models=listed)

    assert request == before  # the request itself is not changed
    assert cache_points(cached) == [CACHE_POINT]
    assert cached["messages"][3]["content"] == [*request["messages"][3]["content"], CACHE_POINT]
    assert cached["messages"][:3] == request["messages"][:3] and cached["messages"][4:] == request["messages"][4:]
    assert cached["system"] == request["system"]
    assert "ttl" not in cached["messages"][3]["content"][-1]["cachePoint"]
    assert_valid(bedrock, cached)


def test_without_stored_history_the_point_goes_after_the_system_prompt(service, bedrock, listed):
    request = chat_request(service, stored_exchanges=0)

    cached = with_cache_point(request, stable_messages=0, models=listed)

    assert cached["system"] == [*request["system"], CACHE_POINT]
    assert cached["messages"] == request["messages"]
    assert cache_points(cached) == [CACHE_POINT]
    assert_valid(bedrock, cached)


def test_after_a_block_that_is_not_text_the_point_goes_after_the_system_prompt(service, bedrock, listed):
    request = chat_request(service, stored_exchanges=1)
    document = {"document": {"format": "txt", "name": "notes", "source": {"bytes": b"notes"}}}
    request["messages"][0]["content"].append(document)
    request["messages"][1] = {"role": "assistant", "content": [document]}

    cached = with_cache_point(request, stable_messages=2, models=listed)

    assert cached["system"][-1] == CACHE_POINT and cache_points(cached) == [CACHE_POINT]
    assert_valid(bedrock, cached)


def test_the_stable_prefix_must_leave_the_new_message_after_it(service, listed):
    request = chat_request(service, stored_exchanges=1)
    for stable in (-1, len(request["messages"])):
        with pytest.raises(ValueError, match="stable prefix"):
            with_cache_point(request, stable_messages=stable, models=listed)
