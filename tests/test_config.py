"""Configuration: cdk.json's defaults load, and a bad value fails synth with a message naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.config import CONTEXT_KEYS, ConfigError, load_config
from tests.support import CDK_CONTEXT, cdk_context


def context_values(**overrides: Any) -> dict[str, Any]:
    values = cdk_context(**overrides)
    return {key: values.get(key) for key in CONTEXT_KEYS}


def test_the_defaults_in_cdk_json_load():
    config = load_config(context_values())

    assert config.account is None and config.region is None  # environment-agnostic by default
    assert {family: t.model_id for family, t in config.models.items()} == CDK_CONTEXT["models"]
    nova = config.models["productivity"]
    assert nova.model_id == "us.amazon.nova-2-lite-v1:0"
    assert nova.foundation_model == "amazon.nova-2-lite-v1:0"
    assert nova.profile_regions == tuple(CDK_CONTEXT["inferenceProfileRegions"]["us"])


def test_every_key_the_app_reads_has_a_default_in_cdk_json():
    optional = {"account", "region"}
    assert set(CONTEXT_KEYS) - optional <= set(CDK_CONTEXT)


def test_a_foundation_model_id_needs_no_profile_routing():
    models = {**CDK_CONTEXT["models"], "productivity": "amazon.nova-2-lite-v1:0"}
    config = load_config(context_values(models=models))

    assert config.models["productivity"].profile_regions is None


def test_switches_and_lists_given_on_the_command_line_are_accepted():
    config = load_config(context_values(enableWaf="true", guardrailFamilies="customer-experience,productivity", authMode="api-key"))

    assert config.api.enable_waf is True
    assert config.guardrail.families == ("customer-experience", "productivity")
    assert config.api.auth_mode == "api-key"


def test_values_given_as_strings_on_the_command_line_are_accepted():
    config = load_config(context_values(lambdaMemoryMb="512", models='{"customer-experience": "eu.amazon.nova-2-lite-v1:0", "productivity": "amazon.nova-2-lite-v1:0", "process-optimization": "us.amazon.nova-2-lite-v1:0"}'))

    assert config.function.memory_mb == 512
    assert config.models["customer-experience"].profile_regions == tuple(CDK_CONTEXT["inferenceProfileRegions"]["eu"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lambdaMemoryMb": 64}, "context key 'lambdaMemoryMb' must be an integer from 128 to 10240, got 64"),
        ({"lambdaMemoryMb": "lots"}, "'lambdaMemoryMb' must be an integer"),
        ({"logRetentionDays": 10}, "context key 'logRetentionDays' must be one of 1, 3, 5, 7, 14"),
        ({"stageName": "v 1"}, "context key 'stageName' must be letters, digits and hyphens"),
        ({"models": {"productivity": "amazon.nova-2-lite-v1:0"}}, "missing: customer-experience, process-optimization"),
        ({"models": "not json"}, "context key 'models' must be a JSON object"),
        (
            {"models": {**CDK_CONTEXT["models"], "productivity": "gpt-4o"}},
            "context key 'models' has productivity='gpt-4o'; expected a Bedrock model id",
        ),
        (
            {"models": {**CDK_CONTEXT["models"], "productivity": "mars.amazon.nova-2-lite-v1:0"}},
            "'inferenceProfileRegions' has no region list for 'mars'",
        ),
        ({"region": "moon-1"}, "context key 'region' must be an AWS region"),
        ({"account": "12345"}, "context key 'account' must be a 12-digit AWS account id"),
        ({"stackName": None}, "context key 'stackName' is missing"),
        ({"lambdaTimeoutSeconds": 29}, "timeouts must chain"),
        ({"authMode": "cognito"}, "context key 'authMode' must be one of iam, api-key; got 'cognito'"),
        ({"enableWaf": "yes"}, "context key 'enableWaf' must be true or false, got 'yes'"),
        ({"guardrailFilterStrength": "MAX"}, "context key 'guardrailFilterStrength' must be one of NONE, LOW, MEDIUM, HIGH"),
        ({"guardrailPiiAction": "MASK"}, "context key 'guardrailPiiAction' must be one of ANONYMIZE, BLOCK"),
        ({"guardrailFamilies": ["marketing"]}, "context key 'guardrailFamilies' must be a list of distinct families"),
        ({"wafRateLimitPer5Minutes": 5}, "context key 'wafRateLimitPer5Minutes' must be an integer from 10"),
        ({"bedrockReadTimeoutSeconds": 20}, "timeouts must chain"),
    ],
)
def test_a_bad_value_names_the_key_and_what_it_allows(overrides, message):
    with pytest.raises(ConfigError) as raised:
        load_config(context_values(**overrides))

    assert message in str(raised.value)
