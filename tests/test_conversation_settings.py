"""genai_core/conversation_settings.py: what the stack and the function share about conversations (the limits and
their ranges, the store's client), and that it stays pure (the stack imports it). The environment that carries them
is genai_core/settings.py's (tests/test_settings.py)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from genai_core import conversation_settings as shared
from genai_core import settings
from genai_core.catalog import load_catalog
from genai_core.conversation_settings import MAX_HISTORY_BYTES_CEILING, STORE_CLIENT, Limits
from genai_core.jsonbody import MAX_BODY_BYTES
from genai_core.limits import ClientSettings
from genai_core.prompts import MAX_PROMPT_CHARS, render
from tests.support import ROOT

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

    assert names == list(RANGES) == list(settings.CONVERSATION_LIMITS)
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
