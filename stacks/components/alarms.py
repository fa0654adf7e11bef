"""The alarms that answer "is it healthy?", each notifying the alarm topic when it fires and when it recovers.

Every alarm looks at 5-minute periods and treats missing data as not breaching: no traffic is healthy. A model
fault that is not a throttle (access denied, model not found, timeouts) reaches callers as a 5xx and so fires
the 5xx-rate alarm.
"""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.components.app_metrics import GenAiMetrics
from stacks.config import MonitoringConfig

GREATER = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
AT_LEAST = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD


class GenAiAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        metrics: GenAiMetrics,
        config: MonitoringConfig,
        topic: sns.ITopic,
        name_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name_prefix = name_prefix
        action = cw_actions.SnsAction(topic)
        self.api_5xx_rate = self._alarm(
            "Api5xxRate",
            metrics.api_5xx_rate(),
            threshold=config.alarm_5xx_rate_percent,
            operator=GREATER,
            description=f"More than {config.alarm_5xx_rate_percent:g}% of API requests ended in a 5xx in 5 minutes.",
        )
        self.api_p99_latency = self._alarm(
            "ApiP99Latency",
            metrics.api_latency("p99"),
            threshold=config.alarm_p99_latency_ms,
            operator=GREATER,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description=f"API p99 latency above {config.alarm_p99_latency_ms} ms in 2 of the last 3 periods of 5 minutes.",
        )
        self.function_errors = self._alarm(
            "FunctionErrors",
            metrics.function_errors(),
            threshold=1,
            operator=AT_LEAST,
            description="The function failed (crash or timeout) at least once in 5 minutes: every handled error is a JSON response, so this is a bug or a timeout.",
        )
        self.function_throttles = self._alarm(
            "FunctionThrottles",
            metrics.function_throttles(),
            threshold=1,
            operator=AT_LEAST,
            description="Lambda throttled the function at least once in 5 minutes (account or reserved concurrency exhausted).",
        )
        self.bedrock_throttles = self._alarm(
            "BedrockThrottles",
            metrics.total("BedrockThrottles"),
            threshold=1,
            operator=AT_LEAST,
            description="Bedrock throttled at least one request in 5 minutes after the client's retries (callers got 429): check the model's quotas.",
        )
        self.stream_function_errors = (
            self._alarm(
                "StreamFunctionErrors",
                metrics.stream_function_errors(),
                threshold=1,
                operator=AT_LEAST,
                description="The streaming function failed (crash or timeout) at least once in 5 minutes: a stream that failed mid-way ends with an error event, so this is a bug or a timeout.",
            )
            if metrics.stream_function is not None
            else None
        )
        for alarm in self.all:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

    @property
    def all(self) -> list[cw.Alarm]:
        alarms = [
            self.api_5xx_rate,
            self.api_p99_latency,
            self.function_errors,
            self.function_throttles,
            self.bedrock_throttles,
        ]
        return alarms + ([self.stream_function_errors] if self.stream_function_errors is not None else [])

    def _alarm(
        self,
        name: str,
        metric: cw.IMetric,
        *,
        threshold: float,
        operator: cw.ComparisonOperator,
        description: str,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int = 1,
    ) -> cw.Alarm:
        return cw.Alarm(
            self,
            name,
            alarm_name=f"{self.name_prefix}{name}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=operator,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
