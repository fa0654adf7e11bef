"""The function's settings, read once per container from its environment (the stack sets every variable; the
values' defaults live in cdk.json only, so a variable that is missing is an error, not a second default)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from genai_core.conversation_settings import ConversationSettings
from genai_core.limits import ClientSettings


@dataclass(frozen=True)
class Guardrail:
    identifier: str
    version: str


@dataclass(frozen=True)
class GuardrailSettings:
    """The stack's guardrails: family -> the guardrail its Converse calls carry (families without one are absent)."""

    by_family: Mapping[str, Guardrail]

    @property
    def families(self) -> frozenset[str]:
        return frozenset(self.by_family)

    @classmethod
    def from_variable(cls, value: str) -> GuardrailSettings | None:
        """From ``GUARDRAILS`` (``stacks/function_env.py``): ``{"<family>": {"id": ..., "version": ...}}``."""
        try:
            parsed = json.loads(value or "{}")
            by_family = {family: Guardrail(str(one["id"]), str(one["version"])) for family, one in parsed.items()}
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise RuntimeError('GUARDRAILS must be a JSON object of family -> {"id": ..., "version": ...}') from error
        return cls(by_family) if by_family else None


@dataclass(frozen=True)
class Settings:
    models: Mapping[str, str]
    client: ClientSettings
    guardrail: GuardrailSettings | None = None
    log_prompts: bool = False  # opt-in debugging only: puts prompt and response text in the logs
    conversations: ConversationSettings | None = None  # the conversation table and limits (None: off)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        try:
            models = json.loads(environ["MODEL_IDS"])
        except (KeyError, ValueError) as error:
            raise RuntimeError("MODEL_IDS must be a JSON object of family -> model or inference profile id") from error
        return cls(
            models=models,
            guardrail=GuardrailSettings.from_variable(environ.get("GUARDRAILS", "")),
            log_prompts=environ.get("LOG_PROMPTS", "false").lower() == "true",
            client=client_settings(environ),
            conversations=ConversationSettings.from_env(environ),
        )


def client_settings(environ: Mapping[str, str]) -> ClientSettings:
    """The Bedrock client's timeouts and attempts (``BEDROCK_*``) and the region (``AWS_REGION``, the runtime's)."""
    try:
        return ClientSettings(
            region=environ.get("AWS_REGION"),
            connect_timeout=float(environ["BEDROCK_CONNECT_TIMEOUT"]),
            read_timeout=float(environ["BEDROCK_READ_TIMEOUT"]),
            max_attempts=int(environ["BEDROCK_MAX_ATTEMPTS"]),
        )
    except (KeyError, ValueError) as error:
        raise RuntimeError(
            "BEDROCK_CONNECT_TIMEOUT, BEDROCK_READ_TIMEOUT (seconds) and BEDROCK_MAX_ATTEMPTS (an integer) must be set"
        ) from error
