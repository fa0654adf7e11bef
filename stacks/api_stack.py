"""The API stack: it composes the function, its Bedrock access, the guardrail and the REST API, and exports what
callers need. Compliance exceptions for the function live here, beside what they excuse."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.catalog import Route
from stacks.components.bedrock_access import BedrockModelAccess
from stacks.components.compliance import acknowledge, skip_checkov
from stacks.components.genai_function import GenAiFunction
from stacks.components.guardrail import GenAiGuardrail
from stacks.components.rest_api import GenAiRestApi
from stacks.config import AppConfig
from stacks.function_env import app_environment, model_ids


class GenAiApiStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, routes: list[Route], **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        models = model_ids(config)
        self.guardrail = GenAiGuardrail(self, "Guardrail", config=config.guardrail)
        self.handler = GenAiFunction(
            self,
            "GenAi",
            config=config.function,
            bedrock=config.bedrock,
            models=models,
            environment=app_environment(config, guardrail=(self.guardrail.guardrail_id, self.guardrail.version_number)),
            log_removal_policy=config.log_removal_policy,
        )
        self.bedrock = BedrockModelAccess(self, "BedrockAccess", targets=config.models.values())
        self.bedrock.grant_invoke(self.handler.function)
        self.guardrail.grant_apply(self.handler.function)
        self.rest_api = GenAiRestApi(
            self,
            "Rest",
            config=config.api,
            function=self.handler.function,
            routes=routes,
            log_removal_policy=config.log_removal_policy,
        )
        self._record_function_exceptions()

        CfnOutput(self, "ApiUrl", value=self.rest_api.api.url, description="Base URL of the API")
        CfnOutput(self, "FunctionName", value=self.handler.function.function_name, description="The Lambda function")
        CfnOutput(self, "GuardrailId", value=self.guardrail.guardrail_id, description="The Bedrock guardrail")
        if self.rest_api.api_key is not None:
            CfnOutput(
                self,
                "ApiKeyId",
                value=self.rest_api.api_key.key_id,
                description="aws apigateway get-api-key --include-value --api-key <id> shows the key",
            )

    def _record_function_exceptions(self) -> None:
        function = self.handler.function
        acknowledge(
            self.handler.role.node.find_child("DefaultPolicy"),
            "IAM5[Resource::*]",
            "Only xray:PutTraceSegments and xray:PutTelemetryRecords have the * resource: X-Ray supports no resource-level permissions for them. Every Bedrock and Logs statement names its resources.",
        )
        skip_checkov(function, "CKV_AWS_116", "Invoked synchronously by API Gateway only: a dead-letter queue applies to asynchronous invocations.")
        skip_checkov(function, "CKV_AWS_117", "No VPC resources are used; Bedrock is reached over its TLS, SigV4-signed public endpoint. A VPC would add NAT or endpoint costs for no isolation gain.")
        skip_checkov(function, "CKV_AWS_115", "Concurrency is bounded at the edge by stage throttling (and the usage plan in api-key mode); reserved concurrency fails in sandbox accounts with the minimum unreserved pool.")
        skip_checkov(function, "CKV_AWS_173", "The environment holds no secrets (model ids, guardrail id, timeouts), so the default AWS-managed encryption suffices.")
        skip_checkov(self.handler.log_group, "CKV_AWS_158", "CloudWatch Logs encrypts at rest with service-managed keys; no prompt or response text is logged, and a customer-managed key would add a fixed monthly cost.")
