"""The function's environment variables, derived from the app's configuration.

One place for the stack (``GenAiFunction`` and ``GenAiApiStack`` set them on the deployed function), for
``make local`` (``tools/local_api.py`` sets them before it imports the same handler) and for the tests
(``tests/support.py``), so none can drift. The names of the function's own variables come from the code that reads
them (``genai_core.settings``, ``caller``); Powertools' are named here. Pure Python: nothing here needs the CDK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import caller
from genai_core import settings
from genai_core.conversation_settings import ConversationSettings
from genai_core.limits import ClientSettings
from stacks.config import AppConfig

SERVICE_NAME = "genai-api"  # POWERTOOLS_SERVICE_NAME: the log lines' "service" and the metrics' "service" dimension
# Powertools' variables (read by the library itself).
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"


def runtime_environment(models: Mapping[str, str], bedrock: ClientSettings) -> dict[str, str]:
    """What every function over the asset needs: the model per family, the Bedrock client, the Powertools service."""
    return {
        settings.MODEL_IDS: settings.models_variable(models),
        settings.BEDROCK_CONNECT_TIMEOUT: str(bedrock.connect_timeout),
        settings.BEDROCK_READ_TIMEOUT: str(bedrock.read_timeout),
        settings.BEDROCK_MAX_ATTEMPTS: str(bedrock.max_attempts),
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_LOG_LEVEL: "INFO",
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


def app_environment(
    config: AppConfig, *, guardrails: Mapping[str, tuple[str, str]], knowledge_base_id: str | None = None
) -> dict[str, str]:
    """The app's options: the guardrails (``guardrails_variable``; empty for none), prompt logging, the metrics
    namespace, the API's authorization mode (which identity field of a request names its caller), and the knowledge
    base the tasks that retrieve search (``KNOWLEDGE_BASE_ID``: the stack's token, or the deployed one's id in
    ``make local``; absent without one, and those tasks are then not served)."""
    return {
        caller.VARIABLE: config.api.auth_mode,
        settings.GUARDRAILS: guardrails_variable(config, guardrails),
        settings.LOG_PROMPTS: "true" if config.log_prompts_for_debugging else "false",
        POWERTOOLS_METRICS_NAMESPACE: config.monitoring.metrics_namespace,
        **({settings.KNOWLEDGE_BASE_ID: knowledge_base_id} if knowledge_base_id else {}),
    }


def uploads_environment(config: AppConfig, bucket_name: str) -> dict[str, str]:
    """The uploads variables (``genai_core.uploads.UploadSettings.from_env`` reads them): the bucket (the stack's
    token; in ``make local``, a deployed stack's bucket given as ``UPLOADS_BUCKET``), how long a presigned PUT is
    valid, how long an upload may be used (the bucket's lifecycle days), and whether uploads reach the model as
    ``s3Location``."""
    return {
        settings.UPLOADS_BUCKET: bucket_name,
        settings.UPLOADS_URL_SECONDS: str(config.uploads.url_seconds),
        settings.UPLOADS_MAX_AGE_SECONDS: str(config.uploads.max_age_seconds),
        settings.FILES_FROM_S3: "true" if config.uploads.files_from_s3 else "false",
    }


def conversations_environment(config: AppConfig, table_name: str | None) -> dict[str, str]:
    """The conversation table's name (the stack's token, or a local table's), the conversation limits and the models
    sent a cache point, as the function reads them (``settings.conversation_settings``); nothing when the deployment
    keeps no conversations (``table_name`` None, or the ``conversations`` key off)."""
    conversations = config.conversations
    if table_name is None or not conversations.enabled:
        return {}
    return settings.conversations_variables(
        ConversationSettings(
            table_name, limits=conversations.limits, prompt_cache_models=frozenset(conversations.prompt_cache_models)
        )
    )


def model_ids(config: AppConfig) -> dict[str, str]:
    """Family -> the configured model or inference-profile id."""
    return {family: target.model_id for family, target in config.models.items()}


def one_guardrail(config: AppConfig, guardrail: tuple[str, str] | None) -> dict[str, tuple[str, str]]:
    """One guardrail (id, version) for every profile in use: what ``make local`` does with ``GUARDRAIL_ID``."""
    return {profile: guardrail for profile in config.guardrail.profiles_in_use} if guardrail else {}


def function_environment(
    config: AppConfig,
    *,
    guardrails: Mapping[str, tuple[str, str]],
    knowledge_base_id: str | None = None,
    conversations_table: str | None = None,
    uploads_bucket: str | None = None,
) -> dict[str, str]:
    """Every variable the stack sets on the function (with the guardrails, the knowledge base, the conversation table
    and the uploads bucket given here; no bucket: the function takes no uploads)."""
    return (
        runtime_environment(model_ids(config), config.bedrock)
        | app_environment(config, guardrails=guardrails, knowledge_base_id=knowledge_base_id)
        | conversations_environment(config, conversations_table)
        | (uploads_environment(config, uploads_bucket) if uploads_bucket else {})
    )
