"""The function's settings, read once per container from its environment (the stack sets every variable)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from genai_core.bedrock import ClientSettings


@dataclass(frozen=True)
class GuardrailSettings:
    """The stack's guardrail, attached to the Converse calls of the listed families."""

    identifier: str
    version: str
    families: frozenset[str]


@dataclass(frozen=True)
class Settings:
    models: Mapping[str, str]
    client: ClientSettings
    guardrail: GuardrailSettings | None = None
    log_prompts: bool = False  # opt-in debugging only: puts prompt and response text in the logs

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        try:
            models = json.loads(environ["MODEL_IDS"])
        except (KeyError, ValueError) as error:
            raise RuntimeError("MODEL_IDS must be a JSON object of family -> model or inference profile id") from error
        guardrail = None
        if environ.get("GUARDRAIL_ID"):
            guardrail = GuardrailSettings(
                identifier=environ["GUARDRAIL_ID"],
                version=environ.get("GUARDRAIL_VERSION", "DRAFT"),
                families=frozenset(f for f in environ.get("GUARDRAIL_FAMILIES", "").split(",") if f),
            )
        return cls(
            models=models,
            guardrail=guardrail,
            log_prompts=environ.get("LOG_PROMPTS", "false").lower() == "true",
            client=ClientSettings(
                region=environ.get("AWS_REGION"),
                connect_timeout=float(environ.get("BEDROCK_CONNECT_TIMEOUT", ClientSettings.connect_timeout)),
                read_timeout=float(environ.get("BEDROCK_READ_TIMEOUT", ClientSettings.read_timeout)),
                max_attempts=int(environ.get("BEDROCK_MAX_ATTEMPTS", ClientSettings.max_attempts)),
            ),
        )
