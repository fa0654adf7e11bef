"""The API stack: it composes the function, its Bedrock access and the REST API, and exports what callers need."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.catalog import Route
from stacks.components.bedrock_access import BedrockModelAccess
from stacks.components.genai_function import GenAiFunction
from stacks.components.rest_api import GenAiRestApi
from stacks.config import AppConfig


class GenAiApiStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, routes: list[Route], **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        models = {family: target.model_id for family, target in config.models.items()}
        self.handler = GenAiFunction(
            self,
            "GenAi",
            config=config.function,
            bedrock=config.bedrock,
            models=models,
            environment={"POWERTOOLS_METRICS_NAMESPACE": config.monitoring.metrics_namespace},
            log_removal_policy=config.log_removal_policy,
        )
        self.bedrock = BedrockModelAccess(self, "BedrockAccess", targets=config.models.values())
        self.bedrock.grant_invoke(self.handler.function)
        self.rest_api = GenAiRestApi(self, "Rest", config=config.api, function=self.handler.function, routes=routes)

        CfnOutput(self, "ApiUrl", value=self.rest_api.api.url, description="Base URL of the API (sign requests with SigV4)")
        CfnOutput(self, "FunctionName", value=self.handler.function.function_name, description="The Lambda function")
