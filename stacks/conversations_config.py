"""Server-side conversations' configuration (context key ``conversations``): a frozen dataclass and its loader.

On by default: the stack creates the conversation table and the conversation routes, and a chat request that names
a ``conversationId`` is remembered (one without stays stateless, as always). ``-c conversations=false`` switches the
table and the routes off; ``-c conversations='{...}'`` (a JSON object, or the same object in cdk.json) changes any
of these keys, the others keep their defaults::

    {"enabled": true,
     "ttlDays": 30,                 # a conversation expires this many days after its last turn
     "maxStoredMessages": 100,      # what one conversation keeps: the oldest whole exchanges go first
     "maxStoredBytes": 300000,      # (DynamoDB's item size; an item is at most 400 KB)
     "historyMaxMessages": 40,      # what a turn sends to the model before its new messages
     "historyMaxBytes": 96000,
     "recoveryPeriodDays": 7,       # point-in-time recovery: how long a deleted conversation stays restorable
     "promptCacheModels": [...]}    # foundation models that are sent a prompt cache point (genai_core/caching.py)

The ranges are the function's own (``genai_core/conversation_settings.py``: ``Limits`` refuses what this loader
refuses), and cdk.json holds these defaults in full (``DEFAULTS``, which a test keeps equal to it), so that the
configuration page shows them. This module imports no CDK.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from genai_core.caching import MODEL_ID
from genai_core.catalog import UseCase
from genai_core.conversation_settings import (
    HISTORY_BYTES_RANGE,
    HISTORY_MESSAGES_RANGE,
    STORED_BYTES_RANGE,
    STORED_MESSAGES_RANGE,
    TTL_DAYS_RANGE,
    Limits,
)
from stacks.config import ConfigError

CONTEXT_KEY = "conversations"
RECOVERY_PERIOD_RANGE = (1, 35)  # DynamoDB's RecoveryPeriodInDays
# The context keys of the object, and the Limits field each one sets.
LIMIT_KEYS = {
    "ttlDays": ("ttl_days", TTL_DAYS_RANGE),
    "maxStoredMessages": ("max_stored_messages", STORED_MESSAGES_RANGE),
    "maxStoredBytes": ("max_stored_bytes", STORED_BYTES_RANGE),
    "historyMaxMessages": ("max_history_messages", HISTORY_MESSAGES_RANGE),
    "historyMaxBytes": ("max_history_bytes", HISTORY_BYTES_RANGE),
}
KEYS = ("enabled", *LIMIT_KEYS, "recoveryPeriodDays", "promptCacheModels")


@dataclass(frozen=True)
class ConversationsConfig:
    enabled: bool
    limits: Limits
    recovery_period_days: int
    prompt_cache_models: tuple[str, ...]


# Models with prompt caching generally available in Converse, per AWS ("Prompt caching for faster model inference",
# https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html). Amazon Nova 2 Lite (the default model) is
# not on that page's list: it is left out until one call shows that it takes a cache point (docs/configuration.md).
DEFAULTS = ConversationsConfig(
    enabled=True,
    limits=Limits(),
    recovery_period_days=7,
    prompt_cache_models=(
        "amazon.nova-lite-v1:0",
        "amazon.nova-micro-v1:0",
        "amazon.nova-premier-v1:0",
        "amazon.nova-pro-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
    ),
)


def keeps_conversations(config: ConversationsConfig, routes: Iterable[UseCase]) -> bool:
    """Whether the stack has a conversation table and routes: the key is on and a task of the catalog remembers."""
    return config.enabled and any(route.memory for route in routes)


def _fail(detail: str) -> ConfigError:
    return ConfigError(f"context key {CONTEXT_KEY!r}: {detail}")


def _integer(value: Any, key: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(f"{key} must be an integer from {low} to {high}, got {value!r}")
    return value


def load_conversations_config(value: Any) -> ConversationsConfig:
    """The configuration from the context value: absent (``None``) or ``true``: the defaults; ``false``: off; an
    object (or its JSON text, as ``-c`` gives it): the defaults with its keys."""
    if value is None or value is True or value == "true":
        return DEFAULTS
    if value is False or value == "false":
        return ConversationsConfig(False, DEFAULTS.limits, DEFAULTS.recovery_period_days, DEFAULTS.prompt_cache_models)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _fail(f"must be true, false or a JSON object, got {value!r}") from None
    if not isinstance(value, Mapping):
        raise _fail(f"must be true, false or an object, got {value!r}")
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise _fail(f"unknown keys {unknown} (known: {', '.join(KEYS)})")
    enabled = value.get("enabled", DEFAULTS.enabled)
    if not isinstance(enabled, bool):
        raise _fail(f"enabled must be true or false, got {enabled!r}")
    limits = Limits(
        **{
            field: _integer(value.get(key, getattr(DEFAULTS.limits, field)), key, bounds)
            for key, (field, bounds) in LIMIT_KEYS.items()
        }
    )
    recovery = _integer(
        value.get("recoveryPeriodDays", DEFAULTS.recovery_period_days), "recoveryPeriodDays", RECOVERY_PERIOD_RANGE
    )
    models = value.get("promptCacheModels", list(DEFAULTS.prompt_cache_models))
    if not isinstance(models, list) or not all(isinstance(m, str) and _is_foundation_model(m) for m in models):
        raise _fail(
            "promptCacheModels must be a list of foundation model ids such as 'amazon.nova-pro-v1:0' (not an "
            f"inference profile's), got {models!r}"
        )
    return ConversationsConfig(enabled, limits, recovery, tuple(sorted(set(models))))


def _is_foundation_model(model_id: str) -> bool:
    """A foundation model id, never an inference profile's: caching matches the model a profile routes to."""
    match = MODEL_ID.match(model_id)
    return match is not None and match.group("geo") is None


def context_value(config: ConversationsConfig) -> dict[str, Any]:
    """The context object that gives ``config`` (what cdk.json holds for the defaults)."""
    limits = {key: getattr(config.limits, field) for key, (field, _) in LIMIT_KEYS.items()}
    return {
        "enabled": config.enabled,
        **limits,
        "recoveryPeriodDays": config.recovery_period_days,
        "promptCacheModels": list(config.prompt_cache_models),
    }
