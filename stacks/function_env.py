"""The function's environment variables, derived from the app's configuration.

One place for the stack (``GenAiFunction`` and ``GenAiApiStack`` set them on the deployed function) and for
``make local`` (``tools/local_api.py`` sets them before it imports the same handler), so the two cannot drift.
Pure Python: nothing here needs the CDK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from stacks.config import AppConfig, BedrockClientConfig

SERVICE_NAME = "genai-api"  # POWERTOOLS_SERVICE_NAME: the log lines' "service" and the metrics' "service" dimension


def runtime_environment(models: Mapping[str, str], bedrock: BedrockClientConfig) -> dict[str, str]:
    """What every function over the asset needs: the model per family, the Bedrock client, the Powertools service."""
    return {
        "MODEL_IDS": json.dumps(dict(models), sort_keys=True),
        "BEDROCK_CONNECT_TIMEOUT": str(bedrock.connect_timeout_seconds),
        "BEDROCK_READ_TIMEOUT": str(bedrock.read_timeout_seconds),
        "BEDROCK_MAX_ATTEMPTS": str(bedrock.max_attempts),
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def app_environment(config: AppConfig, *, guardrail: tuple[str, str] | None) -> dict[str, str]:
    """The app's options: the guardrail (id and version; ``None`` for none), prompt logging, the metrics namespace."""
    guardrail_ids = {"GUARDRAIL_ID": guardrail[0], "GUARDRAIL_VERSION": guardrail[1]} if guardrail else {}
    return {
        **guardrail_ids,
        "GUARDRAIL_FAMILIES": ",".join(config.guardrail.families),
        "LOG_PROMPTS": "true" if config.log_prompts_for_debugging else "false",
        "POWERTOOLS_METRICS_NAMESPACE": config.monitoring.metrics_namespace,
    }


def model_ids(config: AppConfig) -> dict[str, str]:
    """Family -> the configured model or inference-profile id."""
    return {family: target.model_id for family, target in config.models.items()}


def function_environment(config: AppConfig, *, guardrail: tuple[str, str] | None) -> dict[str, str]:
    """Every variable the stack sets on the function (with the guardrail given here)."""
    return runtime_environment(model_ids(config), config.bedrock) | app_environment(config, guardrail=guardrail)
