"""The API stack: it composes the function, its Bedrock access, the guardrail, the uploads bucket, the knowledge base
(unless ``-c knowledgeBase=false``), the conversation table (unless ``-c conversations=false``) and the REST API, and
exports what callers need. Compliance exceptions for the function live here, beside what they excuse."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from genai_core.catalog import UseCase
from genai_core.file_contract import UPLOADS_PREFIX
from stacks import outputs
from stacks.components.bedrock_access import BedrockModelAccess
from stacks.components.compliance import acknowledge, skip_checkov
from stacks.components.conversations_table import ConversationsTable
from stacks.components.genai_function import GenAiFunction
from stacks.components.guardrail import GenAiGuardrails
from stacks.components.knowledge_base import GenAiKnowledgeBase
from stacks.components.rest_api import GenAiRestApi
from stacks.components.streaming import StreamingFunction
from stacks.components.uploads_bucket import UploadsBucket
from stacks.config import AppConfig
from stacks.conversations_config import keeps_conversations
from stacks.function_env import app_environment, conversations_environment, model_ids, uploads_environment


class GenAiApiStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: AppConfig, routes: list[UseCase], **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        models = model_ids(config)
        self.guardrails = GenAiGuardrails(self, "Guardrail", config=config.guardrail)
        # POST /uploads presigns PUTs into it; a request that names an uploadId reads it back (genai_core.uploads).
        self.uploads = UploadsBucket(
            self,
            "Uploads",
            prefix=UPLOADS_PREFIX,
            expiration_days=config.uploads.expire_days,
            removal_policy=config.data_removal_policy,
            log_retention_days=config.function.log_retention_days,
        )
        # The tasks that search it (catalog "retrieval") are served by the buffered function only: it alone gets the
        # knowledge base's id and bedrock:Retrieve. Off, those tasks get no route (app.py: Catalog.served).
        self.knowledge_base = (
            GenAiKnowledgeBase(
                self,
                "KnowledgeBase",
                config=config.knowledge_base,
                removal_policy=config.data_removal_policy,
                log_retention_days=config.function.log_retention_days,
            )
            if config.knowledge_base.enabled
            else None
        )
        # Server-side conversations (catalog "memory": true): one table, read and written by both functions (a
        # remembered turn may be buffered or streamed), and the conversation routes on the buffered one.
        self.conversations = (
            ConversationsTable(
                self,
                "Conversations",
                removal_policy=config.data_removal_policy,
                recovery_period_days=config.conversations.recovery_period_days,
            )
            if keeps_conversations(config.conversations, routes)
            else None
        )
        conversations = conversations_environment(config, self.conversations.table_name if self.conversations else None)
        environment = app_environment(config, guardrails=self.guardrails.ids()) | conversations
        uploads = uploads_environment(config, self.uploads.bucket.bucket_name)
        self.handler = GenAiFunction(
            self,
            "GenAi",
            config=config.function,
            bedrock=config.bedrock,
            models=models,
            environment=app_environment(
                config,
                guardrails=self.guardrails.ids(),
                knowledge_base_id=self.knowledge_base.knowledge_base_id if self.knowledge_base else None,
            )
            | conversations
            | uploads,
            log_removal_policy=config.log_removal_policy,
        )
        self.uploads.grant_uploads(self.handler.function)  # read and presign, on the uploads prefix only
        self.bedrock = BedrockModelAccess(self, "BedrockAccess", targets=config.models.values())
        self.bedrock.grant_invoke(self.handler.function)
        self.guardrails.grant_apply(self.handler.function)
        if self.knowledge_base is not None:
            self.knowledge_base.grant_retrieve(self.handler.function)
        # Streaming routes (catalog "streaming": true) are served by a second function over the same asset, run by
        # the Lambda Web Adapter, which may only stream (ConverseStream) from the same models, and read uploads only
        # if a streaming task takes files (none does today).
        streams_files = any(route.streaming and route.file_input is not None for route in routes)
        self.stream_handler = (
            StreamingFunction(
                self,
                "GenAiStream",
                config=config.function,
                streaming=config.streaming,
                bedrock=config.bedrock,
                models=models,
                environment=environment | uploads if streams_files else environment,
                log_removal_policy=config.log_removal_policy,
            ).handler
            if any(route.streaming for route in routes)
            else None
        )
        if self.stream_handler is not None:
            self.bedrock.grant_invoke_stream(self.stream_handler.function)
            self.guardrails.grant_apply(self.stream_handler.function)
            if streams_files:
                self.uploads.grant_uploads(self.stream_handler.function, presign=False)
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
            uploads=True,
            conversations=self.conversations is not None,
        )
        for function in (self.handler, self.stream_handler):
            if function is not None:
                self._record_function_exceptions(function)

        CfnOutput(self, outputs.API_URL, value=self.rest_api.api.url, description="Base URL of the API")
        CfnOutput(
            self, outputs.FUNCTION_NAME, value=self.handler.function.function_name, description="The Lambda function"
        )
        CfnOutput(
            self,
            outputs.UPLOADS_BUCKET_NAME,
            value=self.uploads.bucket.bucket_name,
            description="The uploads bucket (POST /uploads); make local uses it when UPLOADS_BUCKET names it",
        )
        if self.stream_handler is not None:
            CfnOutput(
                self,
                outputs.STREAM_FUNCTION_NAME,
                value=self.stream_handler.function.function_name,
                description="The streaming Lambda function (Lambda Web Adapter)",
            )
        if self.knowledge_base is not None:
            for name, value, description in (
                (outputs.KNOWLEDGE_BASE_ID, self.knowledge_base.knowledge_base_id, "The Bedrock knowledge base"),
                (
                    outputs.KNOWLEDGE_BASE_DATA_SOURCE_ID,
                    self.knowledge_base.data_source_id,
                    "Its S3 data source (make ingest)",
                ),
                (outputs.CORPUS_BUCKET_NAME, self.knowledge_base.corpus_bucket_name, "The corpus bucket (make ingest)"),
            ):
                CfnOutput(self, name, value=value, description=description)
        if self.conversations is not None:
            CfnOutput(
                self,
                outputs.CONVERSATIONS_TABLE_NAME,
                value=self.conversations.table_name,
                description="The DynamoDB table of server-side conversations",
            )
        for profile, (guardrail_id, _) in self.guardrails.ids().items():
            CfnOutput(
                self,
                outputs.GUARDRAIL_IDS[profile],
                value=guardrail_id,
                description=f"The Bedrock guardrail of the {profile} profile",
            )
        if self.rest_api.api_key is not None:
            CfnOutput(
                self,
                outputs.API_KEY_ID,
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
