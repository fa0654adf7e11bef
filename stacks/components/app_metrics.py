"""Every metric the monitoring reads, named in one place: API Gateway's, Lambda's and the function's own EMF metrics.

The function's metrics (``lambda/genai_api/telemetry.py``) are in the configured namespace, with the dimensions
``service, Family, Task`` (one use case) or ``service`` alone (every use case summed), and ``ModelErrors`` and
``ConversationStoreErrors`` also by ``service, ErrorCode``. A test checks that the names here are the names the function prints.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_

from genai_core.catalog import UseCase

PERIOD = Duration.minutes(5)
# The function's EMF metrics: name -> unit (as the function publishes it).
FUNCTION_METRICS = {
    "Requests": "Count",
    "InputTokens": "Count",
    "OutputTokens": "Count",
    "BedrockLatency": "Milliseconds",
    "ModelErrors": "Count",
    "BedrockThrottles": "Count",
    "GuardrailInterventions": "Count",
    "OutputRetries": "Count",
    "TimeToFirstToken": "Milliseconds",
    "RetrievalLatency": "Milliseconds",
    "CacheReadInputTokens": "Count",
    "CacheWriteInputTokens": "Count",
    "ConversationStoreErrors": "Count",
}


class GenAiMetrics:
    """Metric factories for one deployment: its API stage, its function and its metrics namespace."""

    def __init__(
        self,
        *,
        namespace: str,
        service: str,
        stage: apigw.Stage,
        function: lambda_.IFunction,
        stream_function: lambda_.IFunction | None = None,
    ) -> None:
        self.namespace = namespace
        self.service = service
        self.stage = stage
        self.function = function
        self.stream_function = stream_function

    # --- the function's own metrics (EMF) ---

    def use_case(self, name: str, route: UseCase, statistic: str = "Sum") -> cw.Metric:
        """One of the function's metrics for one use case (label: family/task)."""
        return self._function_metric(
            name, statistic, {"Family": route.family, "Task": route.task}, f"{route.family}/{route.task}"
        )

    def total(self, name: str, statistic: str = "Sum", label: str | None = None) -> cw.Metric:
        """One of the function's metrics summed over every use case."""
        return self._function_metric(name, statistic, {}, label or name)

    def model_errors_by_code(self) -> cw.MathExpression:
        """One line per error code that occurred (a SEARCH: codes appear as they happen)."""
        return self.errors_by_code("ModelErrors")

    def errors_by_code(self, name: str) -> cw.MathExpression:
        """One line per error code of the metric ``name`` (``ModelErrors``, ``ConversationStoreErrors``)."""
        if name not in FUNCTION_METRICS:
            raise ValueError(f"the function publishes no metric {name!r}")
        schema = f'{{"{self.namespace}",ErrorCode,service}}'
        return cw.MathExpression(
            expression=f"SEARCH('{schema} MetricName=\"{name}\" service=\"{self.service}\"', 'Sum', {int(PERIOD.to_seconds())})",
            using_metrics={},
            label="",
            period=PERIOD,
        )

    def _function_metric(self, name: str, statistic: str, dimensions: dict[str, str], label: str) -> cw.Metric:
        if name not in FUNCTION_METRICS:
            raise ValueError(f"the function publishes no metric {name!r}")
        return cw.Metric(
            namespace=self.namespace,
            metric_name=name,
            dimensions_map={"service": self.service, **dimensions},
            statistic=statistic,
            period=PERIOD,
            label=label,
        )

    # --- API Gateway (the stage) ---

    def api_requests(self) -> cw.Metric:
        return self.stage.metric_count(statistic="Sum", period=PERIOD, label="requests")

    def api_4xx(self) -> cw.Metric:
        return self.stage.metric_client_error(statistic="Sum", period=PERIOD, label="4xx")

    def api_5xx(self) -> cw.Metric:
        return self.stage.metric_server_error(statistic="Sum", period=PERIOD, label="5xx")

    def api_latency(self, percentile: str) -> cw.Metric:
        return self.stage.metric_latency(statistic=percentile, period=PERIOD, label=f"latency {percentile}")

    def api_5xx_rate(self) -> cw.MathExpression:
        """5xx responses as a percentage of requests (0 when there were none)."""
        return cw.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={"errors": self.api_5xx(), "requests": self.api_requests()},
            label="5xx rate (%)",
            period=PERIOD,
        )

    # --- Lambda (the function) ---

    def function_duration(self, percentile: str) -> cw.Metric:
        return self.function.metric_duration(statistic=percentile, period=PERIOD, label=f"duration {percentile}")

    def function_errors(self) -> cw.Metric:
        return self.function.metric_errors(statistic="Sum", period=PERIOD, label="errors")

    def stream_function_errors(self) -> cw.Metric:
        if self.stream_function is None:
            raise ValueError("there is no streaming function")
        return self.stream_function.metric_errors(statistic="Sum", period=PERIOD, label="streaming function errors")

    def function_throttles(self) -> cw.Metric:
        return self.function.metric_throttles(statistic="Sum", period=PERIOD, label="throttles")

    def function_cold_starts(self) -> cw.Metric:
        """Powertools' ColdStart metric (dimensions function_name, service), in the function's namespace."""
        return cw.Metric(
            namespace=self.namespace,
            metric_name="ColdStart",
            dimensions_map={"function_name": self.function.function_name, "service": self.service},
            statistic="Sum",
            period=PERIOD,
            label="cold starts",
        )

    def function_concurrency(self) -> cw.Metric:
        return self.function.metric(
            "ConcurrentExecutions", statistic="Maximum", period=PERIOD, label="concurrent executions"
        )
