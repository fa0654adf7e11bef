"""The API stack: it composes the function, its Bedrock access, the guardrail, the conversation table (unless
``-c conversations=false``) and the REST API, and exports what callers need. Compliance exceptions for the function
live here, beside what they excuse."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.catalog import Route
from stacks.components.bedrock_access import BedrockModelAccess
from stacks.components.compliance import acknowledge, skip_checkov
from stacks.components.conversations_table import ConversationsTable
from stacks.components.genai_function import GenAiFunction
from stacks.components.guardrail import GenAiGuardrails
from stacks.components.rest_api import GenAiRestApi
from stacks.components.streaming import StreamingFunction
from stacks.config import AppConfig
from stacks.conversations_config import TABLE_NAME_OUTPUT, keeps_conversations
from stacks.function_env import app_environment, conversations_environment, model_ids


class GenAiApiStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: AppConfig, routes: list[Route], **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        models = model_ids(config)
        self.guardrails = GenAiGuardrails(self, "Guardrail", config=config.guardrail)
        # Server-side conversations (catalog "memory": true): one table, read and written by both functions (a
        # remembered turn may be buffered or streamed), and the conversation routes on the buffered one.
        self.conversations = (
            ConversationsTable(
                self,
                "Conversations",
                retain=config.retain_data,
                recovery_period_days=config.conversations.recovery_period_days,
            )
            if keeps_conversations(config.conversations, routes)
            else None
        )
        environment = app_environment(config, guardrails=self.guardrails.ids()) | conversations_environment(
            config, self.conversations.table_name if self.conversations else None
        )
        self.handler = GenAiFunction(
            self,
            "GenAi",
            config=config.function,
            bedrock=config.bedrock,
            models=models,
            environment=environment,
            log_removal_policy=config.log_removal_policy,
        )
        self.bedrock = BedrockModelAccess(self, "BedrockAccess", targets=config.models.values())
        self.bedrock.grant_invoke(self.handler.function)
        self.guardrails.grant_apply(self.handler.function)
        # Streaming routes (catalog "streaming": true) are served by a second function over the same asset, run by
        # the Lambda Web Adapter, which may only stream (ConverseStream) from the same models.
        self.stream_handler = (
            StreamingFunction(
                self,
                "GenAiStream",
                config=config.function,
                streaming=config.streaming,
                bedrock=config.bedrock,
                models=models,
                environment=environment,
                log_removal_policy=config.log_removal_policy,
            ).handler
            if any(route.streaming for route in routes)
            else None
        )
        if self.stream_handler is not None:
            self.bedrock.grant_invoke_stream(self.stream_handler.function)
            self.guardrails.grant_apply(self.stream_handler.function)
        if self.conversations is not None:
            for function in (self.handler, self.stream_handler):
                if function is not None:
                    self.conversations.grant_conversations(function.function)
        self.rest_api = GenAiRestApi(
            self,
            "Rest",
            config=config.api,
            function=self.handler.function,
            stream_function=self.stream_handler.function if self.stream_handler else None,
            stream_integration_timeout_seconds=config.streaming.integration_timeout_seconds,
            routes=routes,
            log_removal_policy=config.log_removal_policy,
            conversations=self.conversations is not None,
        )
        for function in (self.handler, self.stream_handler):
            if function is not None:
                self._record_function_exceptions(function)

        CfnOutput(self, "ApiUrl", value=self.rest_api.api.url, description="Base URL of the API")
        CfnOutput(self, "FunctionName", value=self.handler.function.function_name, description="The Lambda function")
        if self.stream_handler is not None:
            CfnOutput(
                self,
                "StreamFunctionName",
                value=self.stream_handler.function.function_name,
                description="The streaming Lambda function (Lambda Web Adapter)",
            )
        if self.conversations is not None:
            CfnOutput(
                self,
                TABLE_NAME_OUTPUT,
                value=self.conversations.table_name,
                description="The DynamoDB table of server-side conversations",
            )
        for profile, (guardrail_id, _) in self.guardrails.ids().items():
            CfnOutput(
                self,
                "GuardrailId" if profile == "full" else "PromptAttackGuardrailId",
                value=guardrail_id,
                description=f"The Bedrock guardrail of the {profile} profile",
            )
        if self.rest_api.api_key is not None:
            CfnOutput(
                self,
                "ApiKeyId",
                value=self.rest_api.api_key.key_id,
                description="aws apigateway get-api-key --include-value --api-key <id> shows the key",
            )

    def _record_function_exceptions(self, handler: GenAiFunction) -> None:
        function = handler.function
        acknowledge(
            handler.role.node.find_child("DefaultPolicy"),
            "IAM5[Resource::*]",
            "Only xray:PutTraceSegments and xray:PutTelemetryRecords have the * resource: X-Ray supports no resource-level permissions for them. Every Bedrock, Logs and DynamoDB statement names its resources.",
        )
        skip_checkov(
            function,
            "CKV_AWS_116",
            "Invoked synchronously by API Gateway only: a dead-letter queue applies to asynchronous invocations.",
        )
        skip_checkov(
            function,
            "CKV_AWS_117",
            "No VPC resources are used; Bedrock is reached over its TLS, SigV4-signed public endpoint. A VPC would add NAT or endpoint costs for no isolation gain.",
        )
        skip_checkov(
            function,
            "CKV_AWS_115",
            "Concurrency is bounded at the edge by stage throttling (and the usage plan in api-key mode); reserved concurrency fails in sandbox accounts with the minimum unreserved pool.",
        )
        skip_checkov(
            function,
            "CKV_AWS_173",
            "The environment holds no secrets (model ids, guardrail id, table name, limits, timeouts), so the default AWS-managed encryption suffices.",
        )
        skip_checkov(
            handler.log_group,
            "CKV_AWS_158",
            "CloudWatch Logs encrypts at rest with service-managed keys; no prompt or response text is logged, and a customer-managed key would add a fixed monthly cost.",
        )
