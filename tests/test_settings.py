"""genai_core/settings.py: the function's settings, read from the environment that the stack writes."""

from __future__ import annotations

import pytest

from genai_core import settings
from genai_core.limits import ClientSettings
from genai_core.settings import GuardrailSettings, Settings
from stacks.config import load_config
from stacks.function_env import function_environment
from tests.support import FUNCTION_ENV, cdk_context


def test_the_client_settings_are_what_the_stack_configured():
    config = load_config(cdk_context(bedrockConnectTimeoutSeconds=3, bedrockReadTimeoutSeconds=9, bedrockMaxAttempts=1))
    environment = {**function_environment(config, guardrails={}), "AWS_REGION": "sa-east-1"}

    assert Settings.from_env(environment).client == ClientSettings(
        connect_timeout=3, read_timeout=9, max_attempts=1, region="sa-east-1"
    )


@pytest.mark.parametrize("variable", ["BEDROCK_CONNECT_TIMEOUT", "BEDROCK_READ_TIMEOUT", "BEDROCK_MAX_ATTEMPTS"])
def test_a_missing_or_broken_client_setting_stops_the_function_rather_than_guess(variable):
    """The values' defaults live in cdk.json only: the function has no second copy to fall back on."""
    missing = {key: value for key, value in FUNCTION_ENV.items() if key != variable}

    with pytest.raises(RuntimeError, match="BEDROCK_CONNECT_TIMEOUT, BEDROCK_READ_TIMEOUT"):
        Settings.from_env(missing)
    with pytest.raises(RuntimeError, match="BEDROCK_MAX_ATTEMPTS"):
        Settings.from_env({**FUNCTION_ENV, variable: "soon"})


@pytest.mark.parametrize("value", ["[1]", '{"productivity": "gr1"}', '{"productivity": {"id": "gr1"}}', "{"])
def test_a_malformed_guardrails_variable_fails_the_init_with_its_name(value):
    with pytest.raises(RuntimeError, match="GUARDRAILS must be"):
        GuardrailSettings.from_variable(value)


# --- server-side conversations ------------------------------------------------------------------------------------


def test_the_conversation_settings_go_through_the_environment_and_back():

    from genai_core.conversation_settings import STORE_CLIENT, ConversationSettings, Limits

    conversations = ConversationSettings(
        "Conversations-1",
        limits=Limits(ttl_days=7, max_stored_messages=20, max_history_bytes=50_000),
        client=STORE_CLIENT._replace(region="eu-west-1"),
        prompt_cache_models=frozenset({"amazon.nova-pro-v1:0"}),
    )
    environ = {**settings.conversations_variables(conversations), "AWS_REGION": "eu-west-1"}

    assert settings.conversation_settings(environ) == conversations


def test_without_a_conversation_table_conversations_are_off():
    assert settings.conversation_settings({}) is None
    assert settings.conversation_settings({settings.CONVERSATIONS_TABLE: ""}) is None


@pytest.mark.parametrize(
    "change",
    [
        {settings.CONVERSATIONS_TTL_DAYS: None},  # missing
        {settings.CONVERSATIONS_TTL_DAYS: "0"},
        {settings.CONVERSATIONS_MAX_STORED_BYTES: "lots"},
        {settings.PROMPT_CACHE_MODELS: None},
        {settings.PROMPT_CACHE_MODELS: '"amazon.nova-pro-v1:0"'},
        {settings.PROMPT_CACHE_MODELS: "[1]"},
    ],
)
def test_a_bad_or_missing_conversation_variable_stops_the_function_at_init(change):
    from genai_core.conversation_settings import ConversationSettings

    environ = {**settings.conversations_variables(ConversationSettings("t")), **change}
    environ = {key: value for key, value in environ.items() if value is not None}

    with pytest.raises(RuntimeError, match="conversation settings"):
        settings.conversation_settings(environ)


def test_the_tests_function_environment_keeps_conversations():
    conversations = settings.Settings.from_env(FUNCTION_ENV).conversations

    assert conversations is not None and conversations.table_name == FUNCTION_ENV[settings.CONVERSATIONS_TABLE]
