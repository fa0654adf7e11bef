"""The function's settings, read once per container from its environment (the stack sets every variable)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from genai_core.bedrock import ClientSettings


@dataclass(frozen=True)
class Settings:
    models: Mapping[str, str]
    client: ClientSettings

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        try:
            models = json.loads(environ["MODEL_IDS"])
        except (KeyError, ValueError) as error:
            raise RuntimeError("MODEL_IDS must be a JSON object of family -> model or inference profile id") from error
        return cls(
            models=models,
            client=ClientSettings(
                region=environ.get("AWS_REGION"),
                connect_timeout=float(environ.get("BEDROCK_CONNECT_TIMEOUT", ClientSettings.connect_timeout)),
                read_timeout=float(environ.get("BEDROCK_READ_TIMEOUT", ClientSettings.read_timeout)),
                max_attempts=int(environ.get("BEDROCK_MAX_ATTEMPTS", ClientSettings.max_attempts)),
            ),
        )
