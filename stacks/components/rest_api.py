"""The regional REST API: one POST resource per use case of the catalog, each IAM-authorized, proxied to the function.

Errors that API Gateway answers by itself (missing or bad SigV4 signature, unknown route, throttling) use the same
JSON envelope as the function's errors, through gateway responses: ``{"error": {"code", "message"}}`` where
``code`` is API Gateway's response type (for example ``MISSING_AUTHENTICATION_TOKEN``, ``THROTTLED``).
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.catalog import Route
from stacks.config import ApiConfig

ERROR_TEMPLATE = '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}}'


class GenAiRestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ApiConfig,
        function: lambda_.IFunction,
        routes: Iterable[Route],
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.RestApi(
            self,
            "Api",
            description="Generative AI use cases on Amazon Bedrock (customer experience, productivity, process optimization)",
            # API Gateway's metrics are dimensioned by API name: one name per stack keeps two copies apart.
            rest_api_name=Stack.of(self).stack_name,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage_name,
                throttling_rate_limit=config.throttling_rate_limit,
                throttling_burst_limit=config.throttling_burst_limit,
                tracing_enabled=True,
            ),
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
        )
        integration = apigw.LambdaIntegration(
            function,
            proxy=True,
            allow_test_invoke=False,
            timeout=Duration.seconds(config.integration_timeout_seconds),
        )
        for route in routes:
            self.api.root.resource_for_path(route.path).add_method("POST", integration)
        for name, response_type in (("Default4xx", apigw.ResponseType.DEFAULT_4_XX), ("Default5xx", apigw.ResponseType.DEFAULT_5_XX)):
            self.api.add_gateway_response(
                name,
                type=response_type,
                templates={"application/json": ERROR_TEMPLATE},
            )
