"""The function's environment variables, derived from the app's configuration.

One place for the stack (``GenAiFunction`` and ``GenAiApiStack`` set them on the deployed function) and for
``make local`` (``tools/local_api.py`` sets them before it imports the same handler), so the two cannot drift.
Pure Python: nothing here needs the CDK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from genai_core.conversation_settings import ConversationSettings
from genai_core.limits import ClientSettings
from stacks.config import AppConfig

SERVICE_NAME = "genai-api"  # POWERTOOLS_SERVICE_NAME: the log lines' "service" and the metrics' "service" dimension


def runtime_environment(models: Mapping[str, str], bedrock: ClientSettings) -> dict[str, str]:
    """What every function over the asset needs: the model per family, the Bedrock client, the Powertools service."""
    return {
        "MODEL_IDS": json.dumps(dict(models), sort_keys=True),
        "BEDROCK_CONNECT_TIMEOUT": str(bedrock.connect_timeout),
        "BEDROCK_READ_TIMEOUT": str(bedrock.read_timeout),
        "BEDROCK_MAX_ATTEMPTS": str(bedrock.max_attempts),
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def guardrails_variable(config: AppConfig, guardrails: Mapping[str, tuple[str, str]]) -> str:
    """``GUARDRAILS``: for each family under a guardrail, the id and version of its profile's guardrail (``guardrails``:
    profile -> (id, version); the stack's tokens, or one deployed guardrail for every profile in ``make local``)."""
    return json.dumps(
        {
            family: {"id": guardrails[profile][0], "version": guardrails[profile][1]}
            for family, profile in config.guardrail.profiles.items()
            if profile in guardrails
        },
        sort_keys=True,
    )


def app_environment(config: AppConfig, *, guardrails: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """The app's options: the guardrails (``guardrails_variable``; empty for none), prompt logging, the metrics
    namespace, and the API's authorization mode (which identity field of a request names its caller)."""
    return {
        "AUTH_MODE": config.api.auth_mode,
        "GUARDRAILS": guardrails_variable(config, guardrails),
        "LOG_PROMPTS": "true" if config.log_prompts_for_debugging else "false",
        "POWERTOOLS_METRICS_NAMESPACE": config.monitoring.metrics_namespace,
    }


def conversations_environment(config: AppConfig, table_name: str | None) -> dict[str, str]:
    """The conversation table's name (the stack's token, or a local table's) and the conversation limits, as the
    function reads them (``ConversationSettings.from_env``); nothing when the deployment keeps no conversations
    (``table_name`` None, or the ``conversations`` key off)."""
    conversations = config.conversations
    if table_name is None or not conversations.enabled:
        return {}
    settings = ConversationSettings(
        table_name, limits=conversations.limits, prompt_cache_models=frozenset(conversations.prompt_cache_models)
    )
    return settings.environment()


def model_ids(config: AppConfig) -> dict[str, str]:
    """Family -> the configured model or inference-profile id."""
    return {family: target.model_id for family, target in config.models.items()}


def one_guardrail(config: AppConfig, guardrail: tuple[str, str] | None) -> dict[str, tuple[str, str]]:
    """One guardrail (id, version) for every profile in use: what ``make local`` does with ``GUARDRAIL_ID``."""
    return {profile: guardrail for profile in config.guardrail.profiles_in_use} if guardrail else {}


def function_environment(
    config: AppConfig, *, guardrails: Mapping[str, tuple[str, str]], conversations_table: str | None = None
) -> dict[str, str]:
    """Every variable the stack sets on the function (with the guardrails and the conversation table given here)."""
    return (
        runtime_environment(model_ids(config), config.bedrock)
        | app_environment(config, guardrails=guardrails)
        | conversations_environment(config, conversations_table)
    )
