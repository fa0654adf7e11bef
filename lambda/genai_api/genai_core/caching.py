"""Converse prompt caching: one cache point after a request's stable prefix, only for a model that takes one.

A remembered conversation sends the same prefix every turn: the system prompt and the stored history. Marking its
end with a ``cachePoint`` lets Bedrock reuse it from its cache (for about five minutes after each use), which bills
the cached tokens at a reduced rate and answers sooner. Two rules that Bedrock's behaviour sets:

- A ``cachePoint`` sent to a model without explicit prompt caching is not ignored: Converse fails with
  ``AccessDeniedException`` ("You invoked an unsupported model or your request did not allow prompt caching"),
  which the fault map would report as a permission problem. So a cache point goes only to a model on the
  deployment's allow-list (``promptCacheModels`` in the stack's ``conversations`` context, which the function gets
  as ``ConversationSettings.prompt_cache_models``), matched on the foundation model, whatever inference profile
  routes to it. Its default is AWS's list of models with prompt caching generally available ("Prompt caching for
  faster model inference", https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html: Claude 3.7
  Sonnet, Claude 3.5 Haiku, Amazon Nova Micro, Lite, Pro and Premier); Amazon Nova 2 Lite, the default model, is not
  on that list, so by default no cache point is sent: add it once one call shows ``cacheWriteInputTokens`` for it.
- Below a per-model minimum of tokens (about 1,000 to 2,048) a cache point is ignored silently: a short chat
  costs nothing more and simply does not cache.

The point goes after the last block of the last stored message when that block is text (Claude rejects a cache
point right after some document blocks), otherwise after the system prompt; a request without stored history
gets it after the system prompt. No ``ttl`` is sent: the default (five minutes) is the one every listed model takes.

With caching, Bedrock's ``inputTokens`` counts only the input that was neither read from nor written to the cache;
the answer's usage keeps ``cacheReadInputTokens`` and ``cacheWriteInputTokens`` beside it (``service.token_usage``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

CACHE_POINT: Mapping[str, Any] = {"cachePoint": {"type": "default"}}
# A foundation model id (amazon.nova-2-lite-v1:0: one dot, between provider and model) or a system-defined inference
# profile id (us.amazon.nova-2-lite-v1:0: its geography, a dot, and the foundation model id). The stack's configuration
# reads the configured models with the same pattern (stacks/config.py).
MODEL_ID = re.compile(r"^(?:(?P<geo>[a-z]{2,6}(?:-[a-z]+)?)\.)?(?P<model>[a-z0-9-]+\.[A-Za-z0-9._:-]+)$")


def foundation_model(model_id: str) -> str:
    """The foundation model id of a model or a system-defined inference profile id."""
    match = MODEL_ID.match(model_id)
    return match.group("model") if match else model_id


def takes_cache_points(model_id: str, models: Iterable[str]) -> bool:
    return foundation_model(model_id) in frozenset(models)


def with_cache_point(request: Mapping[str, Any], *, stable_messages: int, models: Iterable[str]) -> dict[str, Any]:
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
