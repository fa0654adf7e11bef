"""The regional REST API: one POST resource per use case of the catalog, ``GET /use-cases`` for discovery and
``POST /uploads`` (a presigned upload of one file), all proxied to the function; a streaming task also gets
``POST <path>/stream``, proxied with response streaming (``ResponseTransferMode.STREAM``) to the streaming function.
Where the deployment keeps conversations, the caller's own are at ``GET /conversations`` and
``GET``/``DELETE /conversations/{conversationId}`` (the buffered function).

- Every method is authorized: AWS_IAM (SigV4) by default; in ``api-key`` mode an API key with a usage plan
  (throttle and quota).
- Every POST body is validated by API Gateway against a request model generated from the catalog's input schema,
  whatever its Content-Type: the model is attached under ``application/json`` and under ``$default`` (any other
  type), since API Gateway skips body validation for a content type that has no model. The function answers a
  Content-Type that is not JSON with 415 (``lambda/genai_api/media_type.py``).
- The stage throttles, writes JSON access logs to a log group with a retention, logs execution errors only
  (no request or response bodies), and traces with X-Ray. An optional WAF web ACL sits in front.
- Errors that API Gateway answers itself use the function's envelope: ``{"error": {"code", "message"}}`` where
  ``code`` is API Gateway's response type (``MISSING_AUTHENTICATION_TOKEN``, ``BAD_REQUEST_BODY``, ``THROTTLED``...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from endpoints import CONVERSATION_PARAMETER, CONVERSATIONS_PATH, DISCOVERY_PATH, UPLOADS_PATH
from genai_core.catalog import UseCase
from genai_core.file_contract import upload_request_schema
from stacks.components.compliance import acknowledge, skip_checkov
from stacks.components.log_groups import log_group
from stacks.config import ApiConfig

# Without a model for a request's content type, API Gateway does not validate its body: ``$default`` covers the rest.
REQUEST_MODEL_CONTENT_TYPES = ("application/json", "$default")
# The conversation list's query string: both optional, checked by the function (a page size, an opaque token).
LIST_PARAMETERS = ("limit", "nextToken")
ERROR_TEMPLATE = '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}}'
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "user": "$context.identity.user",
    "userArn": "$context.identity.userArn",
    "apiKeyId": "$context.identity.apiKeyId",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "errorResponseType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
    "wafStatus": "$context.waf.status",
    "xrayTraceId": "$context.xrayTraceId",
}


def model_name(route: UseCase) -> str:
    """API Gateway model names are alphanumeric: /customer-experience/chat -> CustomerExperienceChatRequest."""
    words = f"{route.family}-{route.task}".split("-")
    return "".join(word.capitalize() for word in words) + "Request"


UPLOAD_MODEL = "UploadRequest"  # POST /uploads's body: genai_core.file_contract.upload_request_schema()


def request_model_schema(route: UseCase) -> dict[str, Any]:
    """The catalog's input schema is already the draft-04 subset API Gateway speaks; it gains a $schema and a title."""
    return draft_04(model_name(route), route.input_schema)


def draft_04(title: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"$schema": "http://json-schema.org/draft-04/schema#", "title": title, **schema}


class GenAiRestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ApiConfig,
        function: lambda_.IFunction,
        routes: Iterable[UseCase],
        log_removal_policy: RemovalPolicy,
        stream_function: lambda_.IFunction | None = None,
        stream_integration_timeout_seconds: int = 29,
        uploads: bool = False,
        conversations: bool = False,
    ) -> None:
        """``uploads``: also ``POST /uploads``, for the function to answer with a presigned PUT; ``conversations``: the
        caller's conversation routes (``_conversation_routes``)."""
        super().__init__(scope, construct_id)
        self.access_logs = log_group(
            self, "AccessLogs", retention_days=config.log_retention_days, removal_policy=log_removal_policy
        )
        skip_checkov(
            self.access_logs,
            "CKV_AWS_158",
            "Access logs carry request metadata only (no bodies); CloudWatch Logs encrypts them at rest with service-managed keys, and a customer-managed key would add a fixed monthly cost.",
        )
        iam_auth = config.auth_mode == "iam"
        self.api = apigw.RestApi(
            self,
            "Api",
            description="Generative AI use cases on Amazon Bedrock (customer experience, productivity, process optimization)",
            # API Gateway's metrics are dimensioned by API name: one name per stack keeps two copies apart.
            rest_api_name=Stack.of(self).stack_name,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=config.create_account_role,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage_name,
                throttling_rate_limit=config.throttling_rate_limit,
                throttling_burst_limit=config.throttling_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                tracing_enabled=True,
                metrics_enabled=False,
            ),
            default_method_options=apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.IAM if iam_auth else apigw.AuthorizationType.NONE,
                api_key_required=not iam_auth,
            ),
        )
        validator = self.api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        integration = apigw.LambdaIntegration(
            function,
            proxy=True,
            allow_test_invoke=False,
            timeout=Duration.seconds(config.integration_timeout_seconds),
        )
        self.methods: dict[str, apigw.Method] = {}
        for route in routes:
            model = self._model(model_name(route), route.summary, request_model_schema(route))
            self.methods[route.path] = self.api.root.resource_for_path(route.path).add_method(
                "POST",
                integration,
                request_models=dict.fromkeys(REQUEST_MODEL_CONTENT_TYPES, model),
                request_validator=validator,
            )
            if route.stream_path is not None:  # a streaming task
                if stream_function is None:
                    raise ValueError(f"{route.path} streams, but there is no streaming function")
                # Same body, model and validator; the response is streamed (Server-Sent Events) by the streaming
                # function, for up to the stream's integration timeout (beyond the 29-second limit).
                self.methods[route.stream_path] = self.api.root.resource_for_path(route.stream_path).add_method(
                    "POST",
                    apigw.LambdaIntegration(
                        stream_function,
                        proxy=True,
                        allow_test_invoke=False,
                        timeout=Duration.seconds(stream_integration_timeout_seconds),
                        response_transfer_mode=apigw.ResponseTransferMode.STREAM,
                    ),
                    request_models=dict.fromkeys(REQUEST_MODEL_CONTENT_TYPES, model),
                    request_validator=validator,
                )
        if uploads:
            model = self._model(
                UPLOAD_MODEL, "A presigned upload of one file", draft_04(UPLOAD_MODEL, upload_request_schema())
            )
            self.methods[UPLOADS_PATH] = self.api.root.resource_for_path(UPLOADS_PATH).add_method(
                "POST",
                integration,
                request_models=dict.fromkeys(REQUEST_MODEL_CONTENT_TYPES, model),
                request_validator=validator,
            )
        # Discovery: the catalog's public part. Authorized like every other method; it takes no input to validate.
        self.methods[DISCOVERY_PATH] = self.api.root.add_resource(DISCOVERY_PATH.strip("/")).add_method(
            "GET", integration
        )
        if conversations:
            self._conversation_routes(integration, validator)
        for name, response_type in (
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
            ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
        ):
            self.api.add_gateway_response(name, type=response_type, templates={"application/json": ERROR_TEMPLATE})

        self.api_key: apigw.IApiKey | None = None
        if not iam_auth:
            self._usage_plan(config)
        self.web_acl = self._web_acl(config) if config.enable_waf else None
        self._record_exceptions(config, iam_auth)

    def _model(self, name: str, description: str, schema: dict[str, Any]) -> apigw.Model:
        """A request model whose schema is ``schema`` verbatim (the CDK's JsonSchema type would rename its keys)."""
        model = self.api.add_model(
            name, model_name=name, content_type="application/json", description=description, schema=apigw.JsonSchema()
        )
        model_resource = model.node.default_child
        if not isinstance(model_resource, apigw.CfnModel):
            raise TypeError("expected the model's CfnModel")
        model_resource.schema = schema
        return model

    def _conversation_routes(self, integration: apigw.Integration, validator: apigw.IRequestValidator) -> None:
        """The caller's own conversations, authorized like every method. API Gateway validates what it can (the
        path parameter is required); the function checks the id's characters, the page size and the token."""
        listing = self.api.root.add_resource(CONVERSATIONS_PATH.strip("/"))
        self.methods[f"GET {CONVERSATIONS_PATH}"] = listing.add_method(
            "GET",
            integration,
            request_parameters={f"method.request.querystring.{name}": False for name in LIST_PARAMETERS},
            request_validator=validator,
        )
        one = listing.add_resource(f"{{{CONVERSATION_PARAMETER}}}")
        for method in ("GET", "DELETE"):
            self.methods[f"{method} {CONVERSATIONS_PATH}/{{{CONVERSATION_PARAMETER}}}"] = one.add_method(
                method,
                integration,
                request_parameters={f"method.request.path.{CONVERSATION_PARAMETER}": True},
                request_validator=validator,
            )

    def _usage_plan(self, config: ApiConfig) -> None:
        plan = self.api.add_usage_plan(
            "UsagePlan",
            description="Throttle and daily quota for API-key callers",
            throttle=apigw.ThrottleSettings(
                rate_limit=config.throttling_rate_limit, burst_limit=config.throttling_burst_limit
            ),
            quota=apigw.QuotaSettings(limit=config.api_key_quota_per_day, period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        self.api_key = self.api.add_api_key("ApiKey", description="Key for the generative AI API (api-key mode)")
        plan.add_api_key(self.api_key)

    def _web_acl(self, config: ApiConfig) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility("GenAiApiWebAcl"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="AwsCommonRuleSet",
                    priority=0,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS",
                            name="AWSManagedRulesCommonRuleSet",
                            # The set blocks bodies over 8 KB; documents and texts are legitimately larger (the API
                            # and the function enforce their own limits), so that one rule only counts.
                            rule_action_overrides=[
                                wafv2.CfnWebACL.RuleActionOverrideProperty(
                                    name="SizeRestrictions_BODY",
                                    action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                                )
                            ],
                        )
                    ),
                    visibility_config=visibility("AwsCommonRuleSet"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    # Request patterns known to be invalid or to exploit vulnerabilities (Log4j's JNDI lookups...).
                    name="AwsKnownBadInputsRuleSet",
                    priority=1,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesKnownBadInputsRuleSet"
                        )
                    ),
                    visibility_config=visibility("AwsKnownBadInputsRuleSet"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="RateLimitPerIp",
                    priority=2,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP", limit=config.waf_rate_limit_per_5_minutes
                        )
                    ),
                    visibility_config=visibility("RateLimitPerIp"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=self.api.deployment_stage.stage_arn, web_acl_arn=acl.attr_arn
        )
        return acl

    def _record_exceptions(self, config: ApiConfig, iam_auth: bool) -> None:
        stage = self.api.deployment_stage
        skip_checkov(
            stage,
            "CKV_AWS_120",
            "Responses are generated per request by a model; caching POST bodies is not meaningful, and a cache cluster is billed around the clock.",
        )
        if not config.enable_waf:
            acknowledge(
                stage,
                "APIG3",
                "WAF is optional (context enableWaf, off by default: a web ACL has a fixed monthly cost). Every method requires SigV4 or an API key, and the stage throttles.",
            )
        for method in self.methods.values():
            if iam_auth:
                acknowledge(
                    method,
                    "COG4",
                    "Callers are AWS principals authorized with IAM (SigV4): no end-user pool is involved in this service-to-service API.",
                )
            else:
                acknowledge(
                    method,
                    "COG4",
                    "api-key mode: callers present an API key bound to a usage plan (throttle and quota); use iam mode for authorization.",
                )
                acknowledge(
                    method,
                    "APIG4",
                    "api-key mode, chosen in context (authMode): callers are identified by API key and metered by the usage plan; the default iam mode authorizes every method.",
                )
        if config.create_account_role:
            role = self.api.node.find_child("CloudWatchRole")
            acknowledge(
                role,
                "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level role API Gateway needs to write logs; the AWS-managed policy is the documented one and is scoped to CloudWatch Logs.",
            )
