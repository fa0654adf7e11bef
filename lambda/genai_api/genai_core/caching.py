"""Converse prompt caching: one cache point after a request's stable prefix, only for a model that takes one.

A remembered conversation sends the same prefix every turn: the system prompt and the stored history. Marking its
end with a ``cachePoint`` lets Bedrock reuse it from its cache (for about five minutes after each use), which bills
the cached tokens at a reduced rate and answers sooner. Two rules that Bedrock's behaviour sets:

- A ``cachePoint`` sent to a model without explicit prompt caching is not ignored: Converse fails with
  ``AccessDeniedException`` ("You invoked an unsupported model or your request did not allow prompt caching"),
  which the fault map would report as a permission problem. So a cache point goes only to a model on
  ``CACHE_POINT_MODELS`` (matched on the foundation model, whatever inference profile routes to it).
- Below a per-model minimum of tokens (about 1,000 to 2,048) a cache point is ignored silently: a short chat
  costs nothing more and simply does not cache.

The point goes after the last block of the last stored message when that block is text (Claude rejects a cache
point right after some document blocks), otherwise after the system prompt; a request without stored history
gets it after the system prompt. No ``ttl`` is sent: the default (five minutes) is the one every listed model takes.

With caching, Bedrock's ``inputTokens`` counts only the input that was neither read from nor written to the cache;
``usage`` keeps ``cacheReadInputTokens`` and ``cacheWriteInputTokens`` beside it, and ``input_tokens`` adds them up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Models that take explicit cache points in Converse. Source: AWS, "Prompt caching for faster model inference"
# (https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html): "generally available with Claude 3.7
# Sonnet, Claude 3.5 Haiku, Amazon Nova Micro, Amazon Nova Lite, Amazon Nova Pro, and Amazon Nova Premier"; the ids as
# in that page's table of supported models. Amazon Nova 2 Lite (the default model) is not on that list as of this
# writing: add it (context key, see the report) once one sandbox call shows cacheWriteInputTokens > 0 for it.
CACHE_POINT_MODELS = frozenset(
    {
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "amazon.nova-micro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-pro-v1:0",
        "amazon.nova-premier-v1:0",
    }
)
CACHE_POINT: Mapping[str, Any] = {"cachePoint": {"type": "default"}}
USAGE_KEYS = ("inputTokens", "outputTokens", "totalTokens")
CACHE_USAGE_KEYS = ("cacheReadInputTokens", "cacheWriteInputTokens")
# A system-defined inference profile id is its geography, a dot, and the foundation model id (us.amazon.nova-...);
# a foundation model id has one dot, between provider and model (amazon.nova-2-lite-v1:0).
PROFILE_ID = re.compile(r"^(?P<geo>[a-z]{2,6}(?:-[a-z]+)?)\.(?P<model>[a-z0-9-]+\.[A-Za-z0-9._:-]+)$")


def foundation_model(model_id: str) -> str:
    """The foundation model id of a model or a system-defined inference profile id."""
    match = PROFILE_ID.match(model_id)
    return match.group("model") if match else model_id


def takes_cache_points(model_id: str, models: Iterable[str] = CACHE_POINT_MODELS) -> bool:
    return foundation_model(model_id) in frozenset(models)


def with_cache_point(
    request: Mapping[str, Any], *, stable_messages: int, models: Iterable[str] = CACHE_POINT_MODELS
) -> dict[str, Any]:
    """The Converse (or ConverseStream) request with one cache point after its stable prefix: the system prompt and
    the first ``stable_messages`` messages (the stored history). The request itself is left unchanged; a model not
    in ``models`` gets a copy without any cache point."""
    result = dict(request)
    if not takes_cache_points(str(request["modelId"]), models):
        return result
    messages = list(request.get("messages", ()))
    if not 0 <= stable_messages < len(messages):
        raise ValueError("the stable prefix must leave the new user message after it")
    if stable_messages:
        last = messages[stable_messages - 1]
        content = list(last.get("content", ()))
        if content and "text" in content[-1]:
            messages[stable_messages - 1] = {**last, "content": [*content, dict(CACHE_POINT)]}
            result["messages"] = messages
            return result
    if not request.get("system"):
        return result  # nothing stable to cache
    result["system"] = [*request["system"], dict(CACHE_POINT)]
    return result


def usage(reported: Mapping[str, Any]) -> dict[str, int]:
    """Bedrock's token usage as the API reports it: input, output and total, and the cache counts when Bedrock
    gives them (only for a request with a cache point)."""
    counts = {key: int(reported.get(key, 0)) for key in USAGE_KEYS}
    counts.update({key: int(reported[key]) for key in CACHE_USAGE_KEYS if key in reported})
    return counts


def input_tokens(counts: Mapping[str, int]) -> int:
    """All the input the model read: the uncached input plus what was read from and written to the cache."""
    return sum(int(counts.get(key, 0)) for key in ("inputTokens", *CACHE_USAGE_KEYS))
