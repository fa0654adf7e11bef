"""The monitoring stack: a dashboard and alarms for one deployment of the API, fed by the API stack.

It is a separate stack so that a team can deploy, replace or remove monitoring without touching the API. Its
inputs — the REST API's stage and the function — come from the API stack as CDK cross-stack references (the
function's name and the stage's name are exported by the API stack and imported here).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from genai_core.catalog import UseCase
from stacks import outputs
from stacks.components.alarm_topic import AlarmTopic
from stacks.components.alarms import GenAiAlarms
from stacks.components.app_metrics import GenAiMetrics
from stacks.components.dashboard import GenAiDashboard
from stacks.config import AppConfig
from stacks.conversations_config import keeps_conversations
from stacks.function_env import SERVICE_NAME


class GenAiMonitoringStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        routes: list[UseCase],
        stage: apigw.Stage,
        function: lambda_.IFunction,
        stream_function: lambda_.IFunction | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarm_prefix = f"{self.stack_name}-"
        metrics = GenAiMetrics(
            namespace=config.monitoring.metrics_namespace,
            service=SERVICE_NAME,
            stage=stage,
            function=function,
            stream_function=stream_function,
        )
        self.alarm_topic = AlarmTopic(
            self, "AlarmTopic", alarm_name_prefix=alarm_prefix, email=config.monitoring.alarm_email
        )
        self.alarms = GenAiAlarms(
            self,
            "Alarms",
            metrics=metrics,
            config=config.monitoring,
            topic=self.alarm_topic.topic,
            name_prefix=alarm_prefix,
        )
        self.dashboard = GenAiDashboard(
            self,
            "Dashboard",
            dashboard_name=config.stack_name,
            metrics=metrics,
            routes=routes,
            models={family: target.model_id for family, target in config.models.items()},
            prices=config.monitoring.prices,
            alarms=self.alarms.all,
            conversations=keeps_conversations(config.conversations, routes),
        )

        CfnOutput(
            self,
            outputs.DASHBOARD_URL,
            value=f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}#dashboards/dashboard/{config.stack_name}",
            description="The CloudWatch dashboard",
        )
        CfnOutput(
            self,
            outputs.ALARM_TOPIC_ARN,
            value=self.alarm_topic.topic.topic_arn,
            description="Subscribe here to receive the alarms",
        )
