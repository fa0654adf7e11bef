"""The streaming function: the same asset and core as the API's function, run by the AWS Lambda Web Adapter.

API Gateway streams a REST response (``ResponseTransferMode.STREAM``) from a Lambda function that streams its
response, which the Python managed runtime does not do by itself. The adapter layer (``AWS_LAMBDA_EXEC_WRAPPER=
/opt/bootstrap``) starts the command named as the handler (``run.sh``, which starts ``stream_server.py``), forwards
each invocation to it as an HTTP request on 127.0.0.1, and streams the HTTP response back
(``AWS_LWA_INVOKE_MODE=response_stream``). See docs/adr for why this path (the decision record).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from endpoints import ADAPTER_PORT, ADAPTER_PORT_VARIABLE, HEALTH_PATH
from genai_core.limits import ClientSettings
from stacks.components.genai_function import GenAiFunction
from stacks.config import FunctionConfig, StreamingConfig

# Published by the Lambda Web Adapter project (awslabs/aws-lambda-web-adapter) for every commercial region.
WEB_ADAPTER_LAYER = "arn:{partition}:lambda:{region}:753240598075:layer:LambdaAdapterLayerArm64:{version}"


class StreamingFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: FunctionConfig,
        streaming: StreamingConfig,
        bedrock: ClientSettings,
        models: Mapping[str, str],
        environment: Mapping[str, str],
        log_removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        adapter = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "WebAdapterLayer",
            WEB_ADAPTER_LAYER.format(
                partition=Aws.PARTITION, region=Aws.REGION, version=streaming.web_adapter_layer_version
            ),
        )
        self.handler = GenAiFunction(
            self,
            "Function",
            config=config,
            bedrock=bedrock,
            models=models,
            environment={
                **environment,
                "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
                "AWS_LWA_INVOKE_MODE": "response_stream",
                ADAPTER_PORT_VARIABLE: str(ADAPTER_PORT),
                "AWS_LWA_READINESS_CHECK_PATH": HEALTH_PATH,
            },
            log_removal_policy=log_removal_policy,
            handler="run.sh",
            timeout_seconds=streaming.function_timeout_seconds,
            layers=[adapter],
            description="Generative AI streaming chat on Amazon Bedrock (ConverseStream, Lambda Web Adapter)",
        )
