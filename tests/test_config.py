"""Configuration: cdk.json's defaults load, and a bad value fails synth with a message naming the key."""

from __future__ import annotations

import math
from typing import Any

import pytest
from aws_cdk import RemovalPolicy

from genai_core.conversation_settings import STORE_CLIENT
from genai_core.limits import (
    ANSWER_MARGIN_SECONDS,
    RETRIEVAL_CLIENT,
    STORAGE_CLIENT,
    attempts_that_fit,
    search_and_one_attempt,
)
from stacks.config import CONTEXT_KEYS, ConfigError, ModelPrice, load_config
from tests.support import CDK_CONTEXT, cdk_context

STORE_CALLS = 2 * STORE_CLIENT.worst_case_seconds  # a remembered turn's read and write, each at its worst case


def context_values(**overrides: Any) -> dict[str, Any]:
    values = cdk_context(**overrides)
    return {key: values.get(key) for key in CONTEXT_KEYS}


def test_the_defaults_in_cdk_json_load():
    config = load_config(context_values())

    assert config.account is None and config.region is None  # environment-agnostic by default
    assert {family: t.model_id for family, t in config.models.items()} == CDK_CONTEXT["models"]


def test_a_geographic_profile_id_names_its_foundation_model_and_routes_to_its_regions():
    models = dict.fromkeys(CDK_CONTEXT["models"], "us.amazon.nova-2-lite-v1:0")
    nova = load_config(context_values(models=models)).models["productivity"]

    assert nova.model_id == "us.amazon.nova-2-lite-v1:0"
    assert nova.foundation_model == "amazon.nova-2-lite-v1:0"
    assert nova.profile_regions == tuple(CDK_CONTEXT["inferenceProfileRegions"]["us"])


def test_every_key_the_app_reads_has_a_default_in_cdk_json():
    optional = {"account", "region"}  # alarmEmail has an empty default: no subscription
    assert set(CONTEXT_KEYS) - optional <= set(CDK_CONTEXT)


def test_a_foundation_model_id_needs_no_profile_routing():
    models = {**CDK_CONTEXT["models"], "productivity": "amazon.nova-2-lite-v1:0"}
    config = load_config(context_values(models=models))

    assert config.models["productivity"].profile_regions is None


def test_switches_and_objects_given_on_the_command_line_are_accepted():
    profiles = '{"customer-experience": "full", "productivity": "none", "process-optimization": "full"}'
    config = load_config(context_values(enableWaf="true", guardrailProfiles=profiles, authMode="api-key"))

    assert config.api.enable_waf is True
    assert config.guardrail.families == ("customer-experience", "process-optimization")
    assert config.guardrail.profiles_in_use == ("full",)
    assert config.api.auth_mode == "api-key"


def test_by_default_every_family_that_takes_end_user_text_is_guarded():
    guardrail = load_config(context_values()).guardrail

    assert set(guardrail.families) == set(CDK_CONTEXT["models"])  # every family: all their tasks take caller text
    assert guardrail.profiles == {
        "customer-experience": "full",
        "productivity": "prompt-attack",
        "process-optimization": "prompt-attack",
    }


def test_values_given_as_strings_on_the_command_line_are_accepted():
    config = load_config(
        context_values(
            lambdaMemoryMb="512",
            models='{"customer-experience": "eu.amazon.nova-2-lite-v1:0", "productivity": "amazon.nova-2-lite-v1:0", "process-optimization": "us.amazon.nova-2-lite-v1:0"}',
        )
    )

    assert config.function.memory_mb == 512
    assert config.models["customer-experience"].profile_regions == tuple(CDK_CONTEXT["inferenceProfileRegions"]["eu"])


def test_the_default_profile_is_a_sandbox_that_deletes_its_logs_with_the_stack():
    config = load_config(context_values())

    assert CDK_CONTEXT["profile"] == config.profile == "sandbox"
    assert config.retain_logs is False
    assert config.log_removal_policy == RemovalPolicy.DESTROY


def test_the_production_profile_retains_logs():
    config = load_config(context_values(profile="production"))

    assert config.retain_logs is True
    assert config.log_removal_policy == RemovalPolicy.RETAIN


def test_monitoring_defaults():
    monitoring = load_config(context_values()).monitoring

    assert monitoring.metrics_namespace == CDK_CONTEXT["metricsNamespace"]
    assert monitoring.alarm_email is None  # "" in cdk.json: no subscription
    assert monitoring.alarm_5xx_rate_percent == CDK_CONTEXT["alarm5xxRatePercent"]
    assert monitoring.alarm_p99_latency_ms == CDK_CONTEXT["alarmP99LatencyMs"]
    # Every configured model is priced; a profile id finds its foundation model's price.
    config = load_config(context_values())
    assert set(monitoring.prices) == set(CDK_CONTEXT["models"].values())
    for target in config.models.values():
        entry = CDK_CONTEXT["modelPrices"].get(target.model_id) or CDK_CONTEXT["modelPrices"][target.foundation_model]
        assert monitoring.prices[target.model_id] == ModelPrice(entry["inputPer1kTokens"], entry["outputPer1kTokens"])


def test_a_price_for_the_exact_profile_id_wins_over_the_foundation_models():
    prices = {
        "amazon.nova-2-lite-v1:0": {"inputPer1kTokens": 0.0003, "outputPer1kTokens": 0.0025},
        "us.amazon.nova-2-lite-v1:0": {"inputPer1kTokens": 0.00033, "outputPer1kTokens": 0.00275},
    }
    monitoring = load_config(
        context_values(modelPrices=prices, alarmEmail="ops@example.com", alarm5xxRatePercent="2.5")
    ).monitoring

    assert monitoring.prices["us.amazon.nova-2-lite-v1:0"] == ModelPrice(0.00033, 0.00275)
    assert monitoring.alarm_email == "ops@example.com"
    assert monitoring.alarm_5xx_rate_percent == 2.5


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
        (
            {"guardrailFilterStrength": "MAX"},
            "context key 'guardrailFilterStrength' must be one of NONE, LOW, MEDIUM, HIGH",
        ),
        ({"guardrailPiiAction": "MASK"}, "context key 'guardrailPiiAction' must be one of ANONYMIZE, BLOCK"),
        (
            {"guardrailProfiles": {"customer-experience": "full", "productivity": "none"}},
            "context key 'guardrailProfiles' must give each of the families",
        ),
        (
            {
                "guardrailProfiles": {
                    "customer-experience": "strict",
                    "productivity": "none",
                    "process-optimization": "none",
                }
            },
            "one of full, prompt-attack, none",
        ),
        ({"guardrailPromptAttackStrength": "NONE"}, "that guardrail would filter nothing"),
        ({"wafRateLimitPer5Minutes": 5}, "context key 'wafRateLimitPer5Minutes' must be an integer from 10"),
        ({"bedrockReadTimeoutSeconds": 26}, "timeouts must chain"),
        ({"profile": "staging"}, "context key 'profile' must be one of sandbox, production; got 'staging'"),
        ({"profile": None}, "context key 'profile' is missing"),
        ({"metricsNamespace": "AWS/Lambda"}, "context key 'metricsNamespace' must be 1-255 letters"),
        ({"metricsNamespace": "my namespace"}, "context key 'metricsNamespace' must be 1-255 letters"),
        ({"alarmEmail": "ops-at-example.com"}, "context key 'alarmEmail' must be an e-mail address"),
        (
            {"alarm5xxRatePercent": 0},
            "context key 'alarm5xxRatePercent' must be a number greater than 0 and at most 100, got 0",
        ),
        ({"alarm5xxRatePercent": "lots"}, "context key 'alarm5xxRatePercent' must be a number"),
        ({"alarm5xxRatePercent": 101}, "'alarm5xxRatePercent' must be a number greater than 0 and at most 100"),
        ({"alarmP99LatencyMs": 10}, "context key 'alarmP99LatencyMs' must be an integer from 50 to 60000"),
        ({"modelPrices": {}}, "context key 'modelPrices' has no price for 'us.amazon.nova-2-lite-v1:0'"),
        ({"modelPrices": "[]"}, "context key 'modelPrices' must be an object"),
        (
            {"modelPrices": {"amazon.nova-2-lite-v1:0": {"inputPer1kTokens": -1, "outputPer1kTokens": 0.0025}}},
            "context key 'modelPrices' has amazon.nova-2-lite-v1:0.inputPer1kTokens=-1; expected a number",
        ),
        (
            {"modelPrices": {"amazon.nova-2-lite-v1:0": {"inputPer1kTokens": 0.0003}}},
            "'modelPrices' has amazon.nova-2-lite-v1:0.outputPer1kTokens=None",
        ),
    ],
)
def test_a_bad_value_names_the_key_and_what_it_allows(overrides, message):
    with pytest.raises(ConfigError) as raised:
        load_config(context_values(**overrides))

    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"streamFunctionTimeoutSeconds": 20},
            # Every attempt (2 x 13 s + 1 s of backoff), the margin, and a remembered turn's two store calls.
            rf"streaming timeouts must chain: .* \({27.5 + STORE_CALLS:g}\) < streamFunctionTimeoutSeconds \(20\)",
        ),
        ({"streamIntegrationTimeoutSeconds": 120}, r"< streamIntegrationTimeoutSeconds \(120\)"),
        (
            {"streamIntegrationTimeoutSeconds": 901},
            "context key 'streamIntegrationTimeoutSeconds' must be an integer from 10 to 900",
        ),
        ({"lambdaWebAdapterLayerVersion": 0}, "context key 'lambdaWebAdapterLayerVersion'"),
    ],
)
def test_streaming_settings_are_checked(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(context_values(**overrides))


def test_the_stream_may_outlast_the_29_second_limit_up_to_15_minutes():
    config = load_config(context_values(streamFunctionTimeoutSeconds=890, streamIntegrationTimeoutSeconds=900))

    assert (config.streaming.function_timeout_seconds, config.streaming.integration_timeout_seconds) == (890, 900)


# --- the timeout chain: what must always hold (docs/configuration.md) --------------------------------------------


@pytest.mark.parametrize("conversations", [True, False], ids=["conversations on", "conversations off"])
def test_synth_requires_room_for_one_attempt_and_the_answer_inside_the_function_timeout(conversations):
    timeout, connect = CDK_CONTEXT["lambdaTimeoutSeconds"], CDK_CONTEXT["bedrockConnectTimeoutSeconds"]
    # A remembered turn also reads its conversation before the call and writes it after (each at its worst case);
    # without a knowledge base: no search comes first, see the next test.
    store_calls = STORE_CALLS if conversations else 0
    # The longest whole read timeout that leaves one attempt and the answer's margin inside the function's timeout.
    longest_read = math.ceil(timeout - connect - ANSWER_MARGIN_SECONDS - store_calls) - 1
    context = {"conversations": conversations, "knowledgeBase": False}

    if store_calls < STORAGE_CLIENT.worst_case_seconds:
        # The chain holds, but a request that names an upload reads it first: that must fit too (the test below).
        with pytest.raises(ConfigError, match="timeouts must leave room for an upload"):
            load_config(context_values(bedrockReadTimeoutSeconds=longest_read, **context))
    else:  # a remembered turn's store calls take longer than an upload's read: that chain is the tighter one
        config = load_config(context_values(bedrockReadTimeoutSeconds=longest_read, **context))
        assert config.bedrock.read_timeout == longest_read
    with pytest.raises(ConfigError) as raised:
        load_config(context_values(bedrockReadTimeoutSeconds=longest_read + 1, **context))
    one_attempt = connect + longest_read + 1 + ANSWER_MARGIN_SECONDS + store_calls
    stored = f" + {store_calls:g} s for a remembered turn's two conversation-store calls" if conversations else ""
    assert str(raised.value) == (
        "timeouts must chain: bedrockConnectTimeoutSeconds + bedrockReadTimeoutSeconds + "
        f"{ANSWER_MARGIN_SECONDS:g} s to answer{stored} ({one_attempt:g}) < lambdaTimeoutSeconds ({timeout}) "
        f"< apiIntegrationTimeoutSeconds ({CDK_CONTEXT['apiIntegrationTimeoutSeconds']})"
    )


def test_synth_requires_room_for_reading_an_upload_and_one_attempt_inside_the_function_timeout():
    timeout, connect = CDK_CONTEXT["lambdaTimeoutSeconds"], CDK_CONTEXT["bedrockConnectTimeoutSeconds"]
    # The longest whole read timeout that leaves one upload read, one attempt and the margin inside the timeout.
    longest_read = math.ceil(timeout - connect - ANSWER_MARGIN_SECONDS - STORAGE_CLIENT.worst_case_seconds) - 1
    # A search first would need more (the test above), and so would a remembered turn's store calls (which never
    # come with files: memory is a chat's, files an instructed task's).
    off = {"knowledgeBase": False, "conversations": False}

    config = load_config(context_values(bedrockReadTimeoutSeconds=longest_read, **off))
    assert attempts_that_fit(config.bedrock, timeout, STORAGE_CLIENT.worst_case_seconds) == 1  # what the reader checks
    with pytest.raises(ConfigError) as raised:
        load_config(context_values(bedrockReadTimeoutSeconds=longest_read + 1, **off))
    assert str(raised.value) == (
        f"timeouts must leave room for an upload: reading one ({STORAGE_CLIENT.worst_case_seconds:g} s at worst) and "
        f"one Bedrock attempt with the answer's margin ({connect + longest_read + 1 + ANSWER_MARGIN_SECONDS:g} s) "
        f"must fit in lambdaTimeoutSeconds ({timeout})"
    )


def test_the_uploads_options_load_with_their_ranges():
    config = load_config(context_values(uploadsExpireDays=3, uploadUrlSeconds=900, filesFromS3="true"))
    assert (config.uploads.expire_days, config.uploads.url_seconds, config.uploads.files_from_s3) == (3, 900, True)
    assert config.uploads.max_age_seconds == 3 * 86_400
    for key, value in (("uploadsExpireDays", 0), ("uploadsExpireDays", 31), ("uploadUrlSeconds", 59)):
        with pytest.raises(ConfigError, match=key):
            load_config(context_values(**{key: value}))
    with pytest.raises(ConfigError, match="uploadUrlSeconds"):
        load_config(context_values(uploadUrlSeconds=3601))


def test_with_the_knowledge_base_a_search_and_one_attempt_must_fit_inside_the_function_timeout():
    timeout, connect = CDK_CONTEXT["lambdaTimeoutSeconds"], CDK_CONTEXT["bedrockConnectTimeoutSeconds"]
    search = RETRIEVAL_CLIENT.worst_case_seconds
    longest_read = math.ceil(timeout - search - connect - ANSWER_MARGIN_SECONDS) - 1
    assert CDK_CONTEXT["bedrockReadTimeoutSeconds"] <= longest_read  # the defaults hold

    config = load_config(context_values(bedrockReadTimeoutSeconds=longest_read))
    assert search_and_one_attempt(config.bedrock) < config.function.timeout_seconds
    with pytest.raises(ConfigError, match=r"timeouts must chain with the knowledge base on: .* -c knowledgeBase=false"):
        load_config(context_values(bedrockReadTimeoutSeconds=longest_read + 1))
    # Off, nothing is searched first: the same read timeout is fine.
    assert not load_config(
        context_values(bedrockReadTimeoutSeconds=longest_read + 1, knowledgeBase=False)
    ).knowledge_base.enabled


def test_the_function_ends_before_api_gateway_gives_up():
    integration = CDK_CONTEXT["apiIntegrationTimeoutSeconds"]

    with pytest.raises(ConfigError, match="timeouts must chain"):
        load_config(context_values(lambdaTimeoutSeconds=integration))
    assert load_config(context_values(lambdaTimeoutSeconds=integration - 1)).function.timeout_seconds == integration - 1


def test_more_attempts_than_fit_in_the_function_timeout_are_accepted_and_made_only_when_they_fit():
    config = load_config(context_values(bedrockMaxAttempts=5))

    assert config.bedrock.worst_case_seconds > config.function.timeout_seconds  # never all five in one invocation
    assert attempts_that_fit(config.bedrock, config.function.timeout_seconds) == 1
