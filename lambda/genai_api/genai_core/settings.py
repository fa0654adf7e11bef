"""The function's settings, read once per container from its environment (the stack sets every variable; the
values' defaults live in cdk.json only, so a variable that is missing is an error, not a second default)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NamedTuple

from genai_core.conversation_settings import STORE_CLIENT, ConversationSettings, Limits
from genai_core.limits import ClientSettings

# The function's own environment variables: read here, written by the stack from the configuration
# (stacks/function_env.py, which also sets Powertools' and the adapter's), read back from the templates by the review
# (tools/templates.py). One spelling of each name, for all three.
MODEL_IDS = "MODEL_IDS"  # a JSON object: family -> model or inference-profile id (models_variable)
GUARDRAILS = "GUARDRAILS"  # a JSON object: family -> {"id": ..., "version": ...} (families without one are absent)
LOG_PROMPTS = "LOG_PROMPTS"  # "true" or "false" (logPromptsForDebugging)
BEDROCK_CONNECT_TIMEOUT = "BEDROCK_CONNECT_TIMEOUT"  # seconds
BEDROCK_READ_TIMEOUT = "BEDROCK_READ_TIMEOUT"  # seconds
BEDROCK_MAX_ATTEMPTS = "BEDROCK_MAX_ATTEMPTS"  # botocore's total_max_attempts
# The knowledge base the tasks that retrieve search (its id); absent when the stack has none: they are then not served.
KNOWLEDGE_BASE_ID = "KNOWLEDGE_BASE_ID"
# Uploads (genai_core.uploads reads them on the first request that uses uploads, not at init). Without UPLOADS_BUCKET
# the deployment takes no uploads (make local, unless given one); with it, the other three must be set too.
UPLOADS_BUCKET = "UPLOADS_BUCKET"  # the bucket's name
UPLOADS_URL_SECONDS = "UPLOADS_URL_SECONDS"  # how long a presigned PUT is valid (uploadUrlSeconds)
UPLOADS_MAX_AGE_SECONDS = "UPLOADS_MAX_AGE_SECONDS"  # how long an upload may be used (uploadsExpireDays, in seconds)
FILES_FROM_S3 = "FILES_FROM_S3"  # "true": uploads reach the model as s3Location, not bytes (filesFromS3)
# Server-side conversations: the table (absent when the stack keeps none: conversations are then off), its limits
# (integers, genai_core/conversation_settings.Limits) and the models sent a prompt cache point (a JSON list).
CONVERSATIONS_TABLE = "CONVERSATIONS_TABLE"
CONVERSATIONS_TTL_DAYS = "CONVERSATIONS_TTL_DAYS"
CONVERSATIONS_MAX_STORED_MESSAGES = "CONVERSATIONS_MAX_STORED_MESSAGES"
CONVERSATIONS_MAX_STORED_BYTES = "CONVERSATIONS_MAX_STORED_BYTES"
CONVERSATIONS_HISTORY_MAX_MESSAGES = "CONVERSATIONS_HISTORY_MAX_MESSAGES"
CONVERSATIONS_HISTORY_MAX_BYTES = "CONVERSATIONS_HISTORY_MAX_BYTES"
PROMPT_CACHE_MODELS = "PROMPT_CACHE_MODELS"
# Limits field -> its variable.
CONVERSATION_LIMITS = {
    "ttl_days": CONVERSATIONS_TTL_DAYS,
    "max_stored_messages": CONVERSATIONS_MAX_STORED_MESSAGES,
    "max_stored_bytes": CONVERSATIONS_MAX_STORED_BYTES,
    "max_history_messages": CONVERSATIONS_HISTORY_MAX_MESSAGES,
    "max_history_bytes": CONVERSATIONS_HISTORY_MAX_BYTES,
}


def models_variable(models: Mapping[str, str]) -> str:
    """``MODEL_IDS`` for a family -> model map (the stack writes it so)."""
    return json.dumps(dict(models), sort_keys=True)


def models_from(value: str) -> dict[str, str]:
    """The family -> model map of a ``MODEL_IDS`` value; a ``ValueError`` unless it is a JSON object of strings."""
    parsed = json.loads(value)
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise ValueError("not a JSON object of family -> model id")
    return {str(family): model for family, model in parsed.items()}


class Guardrail(NamedTuple):
    identifier: str
    version: str


class GuardrailSettings(NamedTuple):
    """The stack's guardrails: family -> the guardrail its Converse calls carry (families without one are absent)."""

    by_family: Mapping[str, Guardrail]

    @property
    def families(self) -> frozenset[str]:
        return frozenset(self.by_family)

    @classmethod
    def from_variable(cls, value: str) -> GuardrailSettings | None:
        """From ``GUARDRAILS``: ``{"<family>": {"id": ..., "version": ...}}``."""
        try:
            parsed = json.loads(value or "{}")
            by_family = {family: Guardrail(str(one["id"]), str(one["version"])) for family, one in parsed.items()}
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise RuntimeError(
                f'{GUARDRAILS} must be a JSON object of family -> {{"id": ..., "version": ...}}'
            ) from error
        return cls(by_family) if by_family else None


class Settings(NamedTuple):
    models: Mapping[str, str]
    client: ClientSettings
    guardrail: GuardrailSettings | None = None
    log_prompts: bool = False  # opt-in debugging only: puts prompt and response text in the logs
    conversations: ConversationSettings | None = None  # the conversation table and limits (None: off)
    knowledge_base_id: str | None = None  # the deployment's knowledge base (None: the tasks that search one are off)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        try:
            models = models_from(environ[MODEL_IDS])
        except (KeyError, ValueError) as error:
            raise RuntimeError(
                f"{MODEL_IDS} must be a JSON object of family -> model or inference profile id"
            ) from error
        return cls(
            models=models,
            guardrail=GuardrailSettings.from_variable(environ.get(GUARDRAILS, "")),
            log_prompts=environ.get(LOG_PROMPTS, "false").lower() == "true",
            knowledge_base_id=environ.get(KNOWLEDGE_BASE_ID) or None,
            client=client_settings(environ),
            conversations=conversation_settings(environ),
        )


def client_settings(environ: Mapping[str, str]) -> ClientSettings:
    """The Bedrock client's timeouts and attempts (``BEDROCK_*``) and the region (``AWS_REGION``, the runtime's)."""
    try:
        return ClientSettings(
            region=environ.get("AWS_REGION"),
            connect_timeout=float(environ[BEDROCK_CONNECT_TIMEOUT]),
            read_timeout=float(environ[BEDROCK_READ_TIMEOUT]),
            max_attempts=int(environ[BEDROCK_MAX_ATTEMPTS]),
        )
    except (KeyError, ValueError) as error:
        raise RuntimeError(
            f"{BEDROCK_CONNECT_TIMEOUT}, {BEDROCK_READ_TIMEOUT} (seconds) and {BEDROCK_MAX_ATTEMPTS} (an integer) "
            "must be set"
        ) from error


def conversations_variables(conversations: ConversationSettings) -> dict[str, str]:
    """The variables that give ``conversations`` (the stack writes them so: ``stacks/function_env.py``)."""
    return {
        CONVERSATIONS_TABLE: conversations.table_name,
        **{variable: str(getattr(conversations.limits, name)) for name, variable in CONVERSATION_LIMITS.items()},
        PROMPT_CACHE_MODELS: json.dumps(sorted(conversations.prompt_cache_models)),
    }


def conversation_settings(environ: Mapping[str, str]) -> ConversationSettings | None:
    """The conversation table, limits and cache models (None without ``CONVERSATIONS_TABLE``: conversations are off).
    The stack sets every variable whenever it sets the table: a missing one is a deployment error."""
    table = environ.get(CONVERSATIONS_TABLE, "")
    if not table:
        return None
    try:
        limits = Limits(**{name: int(environ[variable]) for name, variable in CONVERSATION_LIMITS.items()})
        models = json.loads(environ[PROMPT_CACHE_MODELS])
        if not isinstance(models, list) or not all(isinstance(model, str) for model in models):
            raise ValueError(f"{PROMPT_CACHE_MODELS} must be a JSON list of model ids")
    except (KeyError, ValueError) as error:
        raise RuntimeError(f"the conversation settings in the environment are invalid: {error!r}") from error
    client = ClientSettings(
        connect_timeout=STORE_CLIENT.connect_timeout,
        read_timeout=STORE_CLIENT.read_timeout,
        max_attempts=STORE_CLIENT.max_attempts,
        region=environ.get("AWS_REGION"),
    )
    return ConversationSettings(table, limits=limits, client=client, prompt_cache_models=frozenset(models))
