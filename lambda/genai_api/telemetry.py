"""What the API adapter records about each request: EMF metrics, log fields and the Bedrock trace subsegment.

Metrics go to the namespace in ``POWERTOOLS_METRICS_NAMESPACE`` (set by the stack), flushed once per request by
``metrics.log_metrics`` in the handler:

- per use case, dimensions ``service, Family, Task``, and the same summed over every use case, dimension ``service``:
  ``Requests`` (every request routed to a use case), ``InputTokens`` and ``OutputTokens`` (Bedrock's usage),
  ``BedrockLatency`` (milliseconds), ``ModelErrors``, ``BedrockThrottles``, ``GuardrailInterventions``,
  ``OutputRetries`` (a structured answer broke its schema and the model was asked once more), for streamed
  answers ``TimeToFirstToken`` (milliseconds from the Bedrock call to the first text), and for the tasks that search
  the knowledge base ``RetrievalLatency`` (milliseconds of the Retrieve call); a search that finds nothing answers
  without a model call, and so records no tokens and no ``BedrockLatency``;
- ``ModelErrors`` by error code, dimensions ``service, ErrorCode`` (one small EMF document per failure): every
  failure met at Bedrock, its knowledge bases included, or in the model's answer;
- for a remembered conversation: ``CacheReadInputTokens`` and ``CacheWriteInputTokens`` when Bedrock reports them
  (a request with a prompt cache point: then ``InputTokens`` is only the uncached input), and
  ``ConversationStoreErrors`` (a failure at the conversation table, counted apart from ``ModelErrors``; per use case
  on the chat routes, by the service alone on the conversation routes), also by error code (``service, ErrorCode``).

The model is not a dimension: it is a function of the family (the stack's ``models`` setting), so Family already
names it, and the log line carries it. Nothing here ever sees prompt or response text; only counts, codes and ids,
and never a conversation's id (the log says whether a turn was remembered and how many stored messages it sent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from genai_core.bedrock import FAULTS
from genai_core.catalog import UseCase
from genai_core.errors import (
    ApiError,
    ConversationStoreError,
    GuardrailIntervened,
    ModelOutputInvalid,
    Throttled,
    UpstreamError,
)
from genai_core.service import CACHE_USAGE_KEYS, Memory, Result

if TYPE_CHECKING:  # the streaming module is the streaming function's, not loaded by the buffered API
    from genai_core.streaming import StreamSummary

# Errors met at Bedrock or in the model's answer, by our stable error code (docs/api.md's error tables); any other
# UpstreamError (the knowledge base's, whose fault map loads with the first search) counts too.
MODEL_ERROR_CODES = frozenset([code for _, code, _ in FAULTS] + [ModelOutputInvalid.code])
BEDROCK_SUBSEGMENT = "## bedrock.converse"
# Bedrock's usage key -> its metric (cacheReadInputTokens -> CacheReadInputTokens; only with a cache point) and its
# log field (cache_read_input_tokens).
CACHE_METRICS = {key: key[:1].upper() + key[1:] for key in CACHE_USAGE_KEYS}
CACHE_FIELDS = {key: "".join(f"_{c.lower()}" if c.isupper() else c for c in key) for key in CACHE_USAGE_KEYS}


def start(metrics: Metrics, use_case: UseCase) -> None:
    """Dimension this request's metrics by its use case (and, summed, by the service) and count it."""
    metrics.add_dimension(name="Family", value=use_case.family)
    metrics.add_dimension(name="Task", value=use_case.task)
    if metrics.service:
        metrics.add_dimensions(service=metrics.service)
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)


def record_success(metrics: Metrics, result: Result) -> dict[str, Any]:
    """Add the metrics of a completed request; return the fields of its log line."""
    intervened = result.guardrail_action == "INTERVENED"  # set by the core only when the guardrail ran
    if result.attempts:  # a search that found nothing calls no model
        metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=result.usage["inputTokens"])
        metrics.add_metric(name="OutputTokens", unit=MetricUnit.Count, value=result.usage["outputTokens"])
        metrics.add_metric(name="BedrockLatency", unit=MetricUnit.Milliseconds, value=result.latency_ms)
    if intervened:
        metrics.add_metric(name="GuardrailInterventions", unit=MetricUnit.Count, value=1)
    if result.attempts > 1:
        metrics.add_metric(name="OutputRetries", unit=MetricUnit.Count, value=result.attempts - 1)
    fields: dict[str, Any] = {
        "bedrock_latency_ms": result.latency_ms,
        "input_tokens": result.usage["inputTokens"],
        "output_tokens": result.usage["outputTokens"],
        "stop_reason": result.stop_reason,
        "guardrail_action": result.guardrail_action or "NOT_APPLIED",
        "attempts": result.attempts,
        **_cache_and_memory(metrics, result.usage, result.memory),
    }
    if result.file_formats:  # what was attached, never a file's name, key or content
        fields |= {"file_formats": list(result.file_formats), "file_bytes": result.file_bytes}
    if result.retrieved is not None:
        metrics.add_metric(name="RetrievalLatency", unit=MetricUnit.Milliseconds, value=result.retrieved.latency_ms)
        fields["retrieval_latency_ms"] = result.retrieved.latency_ms
        fields["passages"] = result.retrieved.passages  # a count: never a passage's text
    return fields


def _cache_and_memory(metrics: Metrics, usage: dict[str, int], memory: Memory | None) -> dict[str, Any]:
    """The prompt cache's metrics, and the log fields of the cache and of a remembered turn (never its id)."""
    fields: dict[str, Any] = {}
    for key, name in CACHE_METRICS.items():
        if key in usage:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=usage[key])
            fields[CACHE_FIELDS[key]] = usage[key]
    if memory is not None:
        fields.update(remembered=memory.remembered, history_messages=memory.history_messages)
    return fields


def record_stream(metrics: Metrics, summary: StreamSummary) -> dict[str, Any]:
    """Add the metrics of a completed stream; return the fields of its log line."""
    metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=summary.usage["inputTokens"])
    metrics.add_metric(name="OutputTokens", unit=MetricUnit.Count, value=summary.usage["outputTokens"])
    metrics.add_metric(name="BedrockLatency", unit=MetricUnit.Milliseconds, value=summary.latency_ms)
    if summary.first_token_ms is not None:
        metrics.add_metric(name="TimeToFirstToken", unit=MetricUnit.Milliseconds, value=summary.first_token_ms)
    if summary.guardrail_action == "INTERVENED":
        metrics.add_metric(name="GuardrailInterventions", unit=MetricUnit.Count, value=1)
    return {
        "bedrock_latency_ms": summary.latency_ms,
        "first_token_ms": summary.first_token_ms,
        "input_tokens": summary.usage["inputTokens"],
        "output_tokens": summary.usage["outputTokens"],
        "stop_reason": summary.stop_reason,
        "guardrail_action": summary.guardrail_action or "NOT_APPLIED",
        **_cache_and_memory(metrics, summary.usage, summary.memory),
    }


def record_failure(metrics: Metrics, error: ApiError) -> None:
    """Add the metrics of a request that failed with ``error`` (the handler logs the failure itself)."""
    if isinstance(error, GuardrailIntervened):
        metrics.add_metric(name="GuardrailInterventions", unit=MetricUnit.Count, value=1)
    if isinstance(error, ConversationStoreError):
        if error.usage is not None:  # the model had answered: its tokens were spent though the turn failed
            metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=error.usage.get("inputTokens", 0))
            metrics.add_metric(name="OutputTokens", unit=MetricUnit.Count, value=error.usage.get("outputTokens", 0))
        record_store_failure(metrics, error)
        return
    if error.code not in MODEL_ERROR_CODES and not isinstance(error, UpstreamError):
        return  # the caller's own mistake (validation, size, encoding): counted in Requests and in the API's 4xx
    metrics.add_metric(name="ModelErrors", unit=MetricUnit.Count, value=1)
    if isinstance(error, Throttled):
        metrics.add_metric(name="BedrockThrottles", unit=MetricUnit.Count, value=1)
    with single_metric(name="ModelErrors", unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as by_code:
        by_code.add_dimension(name="ErrorCode", value=error.code)


def record_store_failure(metrics: Metrics, error: ConversationStoreError) -> None:
    """Count a failure at the conversation table, apart from the model's errors, and by its error code."""
    metrics.add_metric(name="ConversationStoreErrors", unit=MetricUnit.Count, value=1)
    with single_metric(
        name="ConversationStoreErrors", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
    ) as by_code:
        by_code.add_dimension(name="ErrorCode", value=error.code)


def conversation_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The log fields of a conversation route's answer: how many conversations or messages, never ids or text."""
    fields: dict[str, Any] = {}
    if "conversations" in body:
        fields.update(conversations=len(body["conversations"]), more="nextToken" in body)
    if "messages" in body:
        fields["messages"] = len(body["messages"])
    if body.get("deleted"):
        fields["deleted"] = True
    return fields


def bedrock_subsegment(tracer: Tracer) -> Callable[[UseCase, str], AbstractContextManager[None]]:
    """A context manager for the core to enter around each Bedrock call: an X-Ray subsegment annotated with the
    use case and the model (searchable in X-Ray: ``annotation.use_case = "productivity/summarize"``)."""

    @contextmanager
    def subsegment(use_case: UseCase, model: str) -> Iterator[None]:
        if tracer.disabled:
            yield
            return
        with tracer.provider.in_subsegment(BEDROCK_SUBSEGMENT) as segment:
            segment.put_annotation("use_case", use_case.id)
            segment.put_annotation("model", model)
            yield

    return subsegment
