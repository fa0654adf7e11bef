"""The CloudWatch dashboard: is it healthy, how fast is it, and what does each use case cost.

Rows: alarms; the API (requests, 4xx, 5xx, latency p50/p90/p99); the function (duration, errors, throttles,
concurrency, cold starts); the use cases (requests, input and output tokens); the estimated Bedrock cost per use
case; the model (Bedrock latency, errors by code, throttles, guardrail interventions); and, where the deployment keeps
conversations, the conversation store's errors by code and the prompt cache's tokens. One line per use case of the
catalog, so a task added there appears here without an edit.

The cost is an estimate by metric math: tokens x the configured price of the use case's model (``modelPrices``),
per 1,000 tokens. It is as right as those prices: check them against the Bedrock price list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from genai_core.catalog import UseCase
from stacks.components.app_metrics import PERIOD, GenAiMetrics
from stacks.config import ModelPrice

# CloudWatch draws at most this many metrics (expressions included) in one graph.
MAX_METRICS_PER_WIDGET = 500
WIDTH = 24


def price_literal(value: float) -> str:
    """A price as metric math reads it: plain decimal notation, never an exponent (2.5e-05 -> 0.000025)."""
    text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text or "0"


class GenAiDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        metrics: GenAiMetrics,
        routes: Sequence[UseCase],
        models: Mapping[str, str],
        prices: Mapping[str, ModelPrice],
        alarms: Sequence[cw.IAlarm],
        conversations: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if 3 * len(routes) + 1 > MAX_METRICS_PER_WIDGET:
            raise ValueError(
                f"{len(routes)} use cases are too many for one cost graph ({MAX_METRICS_PER_WIDGET} metrics at most)"
            )
        self.metrics = metrics
        self.routes = list(routes)
        self.costs = [
            self._cost(index, route, models[route.family], prices[models[route.family]])
            for index, route in enumerate(self.routes)
        ]
        self.dashboard = cw.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name, default_interval=Duration.hours(3)
        )
        self.dashboard.add_widgets(cw.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=WIDTH, height=3))
        self.dashboard.add_widgets(*self._api_row())
        self.dashboard.add_widgets(*self._function_row())
        self.dashboard.add_widgets(*self._use_case_row())
        self.dashboard.add_widgets(*self._cost_row(models, prices))
        self.dashboard.add_widgets(*self._model_row())
        self.dashboard.add_widgets(*self._quality_row())
        if conversations:
            self.dashboard.add_widgets(*self._conversation_row())

    def _graph(
        self, title: str, metrics: Sequence[cw.IMetric], width: int, unit: str, *, right: Sequence[cw.IMetric] = ()
    ) -> cw.GraphWidget:
        return cw.GraphWidget(
            title=title,
            left=list(metrics),
            right=list(right),
            width=width,
            height=6,
            left_y_axis=cw.YAxisProps(label=unit, min=0, show_units=False),
        )

    def _api_row(self) -> list[cw.IWidget]:
        m = self.metrics
        return [
            self._graph(
                "API requests, 4xx and 5xx (per 5 minutes)", [m.api_requests(), m.api_4xx(), m.api_5xx()], 8, "count"
            ),
            self._graph("API 5xx rate", [m.api_5xx_rate()], 8, "%"),
            self._graph("API latency", [m.api_latency(p) for p in ("p50", "p90", "p99")], 8, "ms"),
        ]

    def _function_row(self) -> list[cw.IWidget]:
        m = self.metrics
        return [
            self._graph("Function duration", [m.function_duration(p) for p in ("p50", "p90", "p99")], 6, "ms"),
            self._graph("Function errors and throttles", [m.function_errors(), m.function_throttles()], 6, "count"),
            self._graph("Function concurrency", [m.function_concurrency()], 6, "executions"),
            self._graph("Function cold starts", [m.function_cold_starts()], 6, "count"),
        ]

    def _use_case_row(self) -> list[cw.IWidget]:
        m = self.metrics
        return [
            self._graph("Requests per use case", [m.use_case("Requests", r) for r in self.routes], 8, "count"),
            self._graph("Input tokens per use case", [m.use_case("InputTokens", r) for r in self.routes], 8, "tokens"),
            self._graph(
                "Output tokens per use case", [m.use_case("OutputTokens", r) for r in self.routes], 8, "tokens"
            ),
        ]

    def _cost(self, index: int, route: UseCase, model: str, price: ModelPrice) -> cw.MathExpression:
        return cw.MathExpression(
            expression=f"(in{index} * {price_literal(price.input_per_1k_tokens)} + out{index} * {price_literal(price.output_per_1k_tokens)}) / 1000",
            using_metrics={
                f"in{index}": self.metrics.use_case("InputTokens", route),
                f"out{index}": self.metrics.use_case("OutputTokens", route),
            },
            label=f"{route.family}/{route.task}",
            period=PERIOD,
        )

    def _cost_row(self, models: Mapping[str, str], prices: Mapping[str, ModelPrice]) -> list[cw.IWidget]:
        total = cw.MathExpression(
            expression=" + ".join(f"FILL(cost{index}, 0)" for index in range(len(self.costs))),
            using_metrics={f"cost{index}": cost for index, cost in enumerate(self.costs)},
            label="all use cases",
            period=PERIOD,
        )
        priced = sorted({models[route.family] for route in self.routes})
        notes = "; ".join(
            f"`{model}`: ${price_literal(prices[model].input_per_1k_tokens)} in, ${price_literal(prices[model].output_per_1k_tokens)} out per 1,000 tokens"
            for model in priced
        )
        return [
            self._graph("Estimated Bedrock cost per use case (USD per 5 minutes)", self.costs, 12, "USD"),
            cw.SingleValueWidget(
                title="Estimated Bedrock cost over the time range (USD)",
                metrics=[*self.costs, total],
                width=8,
                height=6,
                set_period_to_time_range=True,
                full_precision=True,
            ),
            cw.TextWidget(
                markdown=(
                    "**Estimated cost** = input tokens x input price + output tokens x output price, per use case, "
                    f"with the prices in `modelPrices` (cdk.json): {notes}. An estimate: check the Bedrock price list. "
                    "API Gateway and Lambda add a little per request (see docs/cost.md)."
                ),
                width=4,
                height=6,
            ),
        ]

    def _quality_row(self) -> list[cw.IWidget]:
        m = self.metrics
        widgets: list[cw.IWidget] = [
            self._graph(
                "Structured-output retries per use case",
                [m.use_case("OutputRetries", r) for r in self.routes],
                8,
                "count",
            ),
            self._graph(
                "Streaming: time to first token",
                [m.total("TimeToFirstToken", p, f"first token {p}") for p in ("p50", "p90", "p99")],
                8,
                "ms",
            ),
        ]
        if m.stream_function is not None:
            widgets.append(self._graph("Streaming function errors", [m.stream_function_errors()], 8, "count"))
        if any(
            route.retrieval is not None for route in self.routes
        ):  # the knowledge base's search, before the model call
            widgets.append(
                self._graph(
                    "Knowledge base: Retrieve latency",
                    [m.total("RetrievalLatency", p, f"Retrieve {p}") for p in ("p50", "p90", "p99")],
                    8,
                    "ms",
                )
            )
        return widgets

    def _conversation_row(self) -> list[cw.IWidget]:
        """The conversation table's failures, apart from the model's (a 5xx among them also shows in the 5xx rate),
        and the prompt cache: tokens read from it (billed at a reduced rate) and written to it."""
        m = self.metrics
        return [
            self._graph(
                "Conversation store errors",
                [m.total("ConversationStoreErrors", label="all codes"), m.errors_by_code("ConversationStoreErrors")],
                12,
                "count",
            ),
            self._graph(
                "Prompt cache: input tokens read and written",
                [m.total("CacheReadInputTokens", label="read"), m.total("CacheWriteInputTokens", label="written")],
                12,
                "tokens",
            ),
        ]

    def _model_row(self) -> list[cw.IWidget]:
        m = self.metrics
        return [
            self._graph(
                "Bedrock latency",
                [m.total("BedrockLatency", p, f"Bedrock {p}") for p in ("p50", "p90", "p99")],
                6,
                "ms",
            ),
            self._graph("Model errors by code", [m.model_errors_by_code()], 6, "count"),
            self._graph(
                "Bedrock throttles per use case", [m.use_case("BedrockThrottles", r) for r in self.routes], 6, "count"
            ),
            self._graph(
                "Guardrail interventions per use case",
                [m.use_case("GuardrailInterventions", r) for r in self.routes],
                6,
                "count",
            ),
        ]
