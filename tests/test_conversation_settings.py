"""genai_core/conversation_settings.py: what the stack and the function share about conversations (the limits and
their ranges, the store's client, the environment that carries them), and that it stays pure (the stack imports it)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from genai_core import conversation_settings as shared
from genai_core.catalog import load_catalog
from genai_core.conversation_settings import (
    LIMIT_VARIABLES,
    MAX_HISTORY_BYTES_CEILING,
    STORE_CLIENT,
    ConversationSettings,
    Limits,
)
from genai_core.jsonbody import MAX_BODY_BYTES
from genai_core.limits import ClientSettings
from genai_core.prompts import MAX_PROMPT_CHARS, render
from tests.support import FUNCTION_ENV, ROOT

# Limits field -> its range constant (each field's bounds are the module's, which the stack's config reads too).
RANGES = {
    "ttl_days": shared.TTL_DAYS_RANGE,
    "max_stored_messages": shared.STORED_MESSAGES_RANGE,
    "max_stored_bytes": shared.STORED_BYTES_RANGE,
    "max_history_messages": shared.HISTORY_MESSAGES_RANGE,
    "max_history_bytes": shared.HISTORY_BYTES_RANGE,
}


def test_every_limit_has_a_range_and_a_variable():
    names = [field.name for field in dataclasses.fields(Limits)]

    assert names == list(RANGES) == list(LIMIT_VARIABLES)
    for name in names:
        low, high = RANGES[name]
        assert low <= getattr(Limits(), name) <= high  # the defaults are in range


@pytest.mark.parametrize("name", list(RANGES))
def test_each_limit_takes_its_bounds_and_refuses_beyond_them(name):
    low, high = RANGES[name]

    assert getattr(Limits(**{name: low}), name) == low
    assert getattr(Limits(**{name: high}), name) == high
    for value in (low - 1, high + 1, True, float(low)):
        with pytest.raises(ValueError, match=name):
            Limits(**{name: value})


def test_the_stored_budget_keeps_an_item_under_dynamodbs_400_kb():
    assert shared.MAX_STORED_BYTES_CEILING < shared.ITEM_LIMIT_BYTES


def test_the_history_ceiling_keeps_a_remembered_turn_under_the_prompt_cap():
    """At the ceiling, with a new message as large as a whole request body, chat's prompt renders within the cap."""
    (chat,) = [use_case for use_case in load_catalog() if use_case.memory]
    size = MAX_HISTORY_BYTES_CEILING // 2
    history = [{"role": "user", "content": "q" * size}, {"role": "assistant", "content": "a" * size}]
    request = {"messages": [*history, {"role": "user", "content": "n" * MAX_BODY_BYTES}], "language": "pt-BR"}

    prompt = render(chat, request, guard=True)

    assert prompt.chars <= MAX_PROMPT_CHARS


def test_the_settings_go_through_the_environment_and_back():
    settings = ConversationSettings(
        "Conversations-1",
        limits=Limits(ttl_days=7, max_stored_messages=20, max_history_bytes=50_000),
        client=dataclasses.replace(STORE_CLIENT, region="eu-west-1"),
        prompt_cache_models=frozenset({"amazon.nova-pro-v1:0"}),
    )

    assert ConversationSettings.from_env({**settings.environment(), "AWS_REGION": "eu-west-1"}) == settings


def test_the_functions_environment_in_the_tests_is_a_complete_one():
    settings = ConversationSettings.from_env(FUNCTION_ENV)

    assert settings is not None and settings.table_name == FUNCTION_ENV["CONVERSATIONS_TABLE"]


def test_without_a_table_conversations_are_off():
    assert ConversationSettings.from_env({}) is None
    assert ConversationSettings.from_env({shared.ENV_TABLE: ""}) is None


@pytest.mark.parametrize(
    "change",
    [
        {shared.ENV_TTL_DAYS: None},  # missing
        {shared.ENV_TTL_DAYS: "0"},
        {shared.ENV_MAX_STORED_BYTES: "lots"},
        {shared.ENV_PROMPT_CACHE_MODELS: None},
        {shared.ENV_PROMPT_CACHE_MODELS: '"amazon.nova-pro-v1:0"'},
        {shared.ENV_PROMPT_CACHE_MODELS: "[1]"},
    ],
)
def test_a_bad_or_missing_variable_stops_the_function_at_init(change):
    environ = {**ConversationSettings("t").environment(), **change}
    environ = {key: value for key, value in environ.items() if value is not None}

    with pytest.raises(RuntimeError, match="conversation settings"):
        ConversationSettings.from_env(environ)


def test_the_store_client_is_small_beside_the_model_call():
    """A decision, pinned: DynamoDB answers in milliseconds, so its client gives up fast (what a remembered turn keeps
    in reserve for its write after the model call)."""
    assert STORE_CLIENT == ClientSettings(connect_timeout=1, read_timeout=1, max_attempts=2)
    assert STORE_CLIENT.worst_case_seconds == 5


def test_the_module_and_the_stacks_config_import_neither_boto3_nor_botocore():
    code = (
        "import sys; sys.path[:0] = ['lambda/genai_api', '.']; "
        "import genai_core.conversation_settings, stacks.conversations_config; "
        "print(sorted(name for name in ('boto3', 'botocore', 'aws_lambda_powertools') if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"
