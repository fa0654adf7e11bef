"""Fine-grained assertions on the synthesized API stack: what the snapshot shows, pinned where it matters."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import Token
from aws_cdk.assertions import Match, Template

from genai_core import settings
from genai_core.limits import shortest_function_timeout
from stacks.catalog import load_routes
from stacks.components.guardrail import NAMING
from stacks.config import ConfigError
from tests.conftest import FUNCTION_ENV, synthesize
from tests.support import API_STACK, CDK_CONTEXT, STACK_REFERENCES, cdk_context, conversations_table_ref
from tools.templates import render

ROUTES = {route.path for route in load_routes()}
STREAM_ROUTES = {route.stream_path for route in load_routes() if route.streaming}
# A decision, pinned: the caller's own conversations, where the deployment keeps them (cdk.json's conversations on,
# and a task of the catalog with memory).
CONVERSATION_METHODS = {
    ("GET", "/conversations"),
    ("GET", "/conversations/{conversationId}"),
    ("DELETE", "/conversations/{conversationId}"),
}
KEEPS_CONVERSATIONS = CDK_CONTEXT["conversations"]["enabled"] and any(route.memory for route in load_routes())
CONVERSATION_ROUTES = CONVERSATION_METHODS if KEEPS_CONVERSATIONS else set()
# X-Ray has no resource-level permissions: the trace-writing statement that active tracing adds is the one "*".
XRAY_WRITE = {"Effect": "Allow", "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "Resource": "*"}


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def the_one(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (resource,) = resources(template, resource_type).values()
    return resource["Properties"]


def function(template: dict[str, Any], handler: str = "handler.lambda_handler") -> tuple[str, dict[str, Any]]:
    """The function whose handler is ``handler`` (the buffered API's by default; ``run.sh``: the streaming one)."""
    (found,) = [
        (key, r)
        for key, r in resources(template, "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == handler
    ]
    return found


def api_function(template: dict[str, Any]) -> dict[str, Any]:
    return function(template)[1]["Properties"]


def resource_paths(template: dict[str, Any]) -> dict[str, str]:
    """Logical id of each API Gateway resource -> its full path."""
    parts = {key: value["Properties"] for key, value in resources(template, "AWS::ApiGateway::Resource").items()}

    def path_of(key: str) -> str:
        parent = parts[key]["ParentId"]
        prefix = path_of(parent["Ref"]) if isinstance(parent, dict) and "Ref" in parent else ""
        return f"{prefix}/{parts[key]['PathPart']}"

    return {key: path_of(key) for key in parts}


# --- the function ---------------------------------------------------------------------------------------------


def test_the_function_runs_python_on_arm64_with_explicit_memory_and_timeout(api_template):
    api_template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "handler.lambda_handler",
            "MemorySize": CDK_CONTEXT["lambdaMemoryMb"],
            "Timeout": CDK_CONTEXT["lambdaTimeoutSeconds"],
            "Layers": [
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            ":lambda:",
                            {"Ref": "AWS::Region"},
                            f":017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:{CDK_CONTEXT['powertoolsLayerVersion']}",
                        ],
                    ]
                }
            ],
        },
    )


def test_the_function_environment_is_what_the_handler_tests_run_with(templates):
    template = templates[API_STACK]
    environment = dict(api_function(template)["Environment"]["Variables"])
    guardrails = json.loads(render(environment.pop("GUARDRAILS")))  # references to the stack's guardrails
    versions = {
        version["Properties"]["GuardrailIdentifier"]["Fn::GetAtt"][0]: version_id
        for version_id, version in resources(template, "AWS::Bedrock::GuardrailVersion").items()
    }

    # Each guarded family gets its profile's guardrail and that guardrail's pinned version; the tests' stand-ins
    # follow the same profiles.
    assert guardrails.keys() == json.loads(FUNCTION_ENV["GUARDRAILS"]).keys()
    for family, guardrail in guardrails.items():
        (guardrail_id,) = re.fullmatch(r"\$\{(\w+)\.GuardrailId\}", guardrail["id"]).groups()
        profile = CDK_CONTEXT["guardrailProfiles"][family]
        assert template["Resources"][guardrail_id]["Properties"]["Name"].endswith(NAMING[profile][2])
        assert guardrail["version"] == f"${{{versions[guardrail_id]}.Version}}"
    assert environment.pop("CONVERSATIONS_TABLE") == conversations_table_ref(template)
    assert environment == {k: v for k, v in FUNCTION_ENV.items() if k not in STACK_REFERENCES}
    assert json.loads(environment["MODEL_IDS"]) == CDK_CONTEXT["models"]


def test_the_function_logs_to_its_own_log_group_with_a_retention(templates):
    template = templates[API_STACK]
    log_group_id = api_function(template)["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = template["Resources"][log_group_id]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == CDK_CONTEXT["logRetentionDays"]


@pytest.mark.parametrize(
    ("handler", "role"), [("handler.lambda_handler", "GenAiRole"), ("run.sh", "GenAiStreamFunctionRole")]
)
def test_each_function_waits_for_its_roles_policy_and_nothing_redundant(templates, handler, role):
    template = templates[API_STACK]
    _, found = function(template, handler)
    (policy_id,) = [key for key, r in resources(template, "AWS::IAM::Policy").items() if key.startswith(role)]
    assert found["DependsOn"] == [policy_id]


@pytest.mark.parametrize(("profile", "policy"), [("sandbox", "Delete"), ("production", "Retain")])
def test_the_profile_decides_whether_the_log_groups_outlive_the_stack(templates, profile, policy):
    template = (
        templates[API_STACK]
        if profile == CDK_CONTEXT["profile"]
        else synthesize(cdk_context(profile=profile))[API_STACK]
    )
    log_groups = resources(template, "AWS::Logs::LogGroup").values()

    assert len(log_groups) == 3  # the two functions' and the API's access logs
    for log_group in log_groups:
        assert (log_group["DeletionPolicy"], log_group["UpdateReplacePolicy"]) == (policy, policy)
        assert log_group["Properties"]["RetentionInDays"] == CDK_CONTEXT["logRetentionDays"]


def test_the_function_traces_actively_and_may_write_traces(api_template):
    api_template.has_resource_properties("AWS::Lambda::Function", {"TracingConfig": {"Mode": "Active"}})
    api_template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": Match.array_with([XRAY_WRITE])}},
    )


def test_the_function_publishes_metrics_to_the_configured_namespace(templates):
    environment = api_function(templates[API_STACK])["Environment"]["Variables"]

    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == CDK_CONTEXT["metricsNamespace"] == "GenAiReference"


def test_timeouts_chain_from_bedrock_to_the_function_to_the_api(templates):
    """What must always hold: a fresh invocation has room for one Bedrock attempt and the answer (more attempts are
    made when they fit: test_service.py), and the function gives up before API Gateway does."""
    template = templates[API_STACK]
    function = api_function(template)
    client = settings.client_settings(function["Environment"]["Variables"])
    integration_timeouts = {
        method["Properties"]["Integration"]["TimeoutInMillis"]
        for method in resources(template, "AWS::ApiGateway::Method").values()
        if "ResponseTransferMode" not in method["Properties"]["Integration"]  # the stream's chain is its own
    }

    assert len(integration_timeouts) == 1
    assert shortest_function_timeout(client) < function["Timeout"] < integration_timeouts.pop() / 1000 <= 29


# --- IAM --------------------------------------------------------------------------------------------------------


def bedrock_statements(template: dict[str, Any], role: str = "GenAiRole") -> list[dict[str, Any]]:
    """The Bedrock statements of one function's role policy (the buffered API's by default)."""
    statements = []
    for key, policy in resources(template, "AWS::IAM::Policy").items():
        if not key.startswith(role):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("bedrock:") for action in actions):
                statements.append(statement)
    return statements


def arn(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, *parts]]}


PROFILE_ARN = arn(
    ":bedrock:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":inference-profile/us.amazon.nova-2-lite-v1:0"
)


def test_the_role_may_invoke_exactly_the_configured_profile_and_the_models_it_routes_to(templates):
    statements = bedrock_statements(templates[API_STACK])
    guardrail_ids = sorted(resources(templates[API_STACK], "AWS::Bedrock::Guardrail"))
    # One guardrail per profile some family uses: the stack's guardrails, and nothing else, may be applied.
    assert len(guardrail_ids) == len({p for p in CDK_CONTEXT["guardrailProfiles"].values() if p != "none"})

    assert statements == [
        {
            "Sid": "InvokeConfiguredInferenceProfiles",
            "Effect": "Allow",
            "Action": "bedrock:InvokeModel",
            "Resource": PROFILE_ARN,
        },
        {
            "Sid": "InvokeRoutedFoundationModelsThroughProfilesOnly",
            "Effect": "Allow",
            "Action": "bedrock:InvokeModel",
            "Resource": [
                arn(f":bedrock:{region}::foundation-model/amazon.nova-2-lite-v1:0")
                for region in CDK_CONTEXT["inferenceProfileRegions"]["us"]
            ],
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": [PROFILE_ARN]}},
        },
        {
            "Sid": "ApplyTheStacksGuardrailsOnly",
            "Effect": "Allow",
            "Action": "bedrock:ApplyGuardrail",
            "Resource": [{"Fn::GetAtt": [guardrail_id, "GuardrailArn"]} for guardrail_id in guardrail_ids],
        },
    ]


def test_no_statement_uses_a_wildcard_action_or_a_wildcard_resource(templates):
    statements = [
        statement
        for policy in resources(templates[API_STACK], "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements.count(XRAY_WRITE) == 2  # one per function
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(action == "*" or action.endswith(":*") for action in actions), statement
        if statement != XRAY_WRITE:
            assert "*" not in json.dumps(statement["Resource"]), statement


def test_the_role_has_no_managed_policies(api_template):
    api_template.has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})


def test_deploying_outside_the_profiles_geography_is_refused_with_a_message(templates):
    (rule,) = [r for key, r in templates[API_STACK]["Rules"].items() if key != "CheckBootstrapVersion"]
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Contains": [CDK_CONTEXT["inferenceProfileRegions"]["us"], {"Ref": "AWS::Region"}]
    }
    assert "us.amazon.nova-2-lite-v1:0" in assertion["AssertDescription"]


def test_models_configured_per_family_are_each_granted():
    models = {
        "customer-experience": "us.amazon.nova-2-lite-v1:0",
        "productivity": "eu.amazon.nova-2-lite-v1:0",
        "process-optimization": "amazon.nova-2-lite-v1:0",
    }
    template = synthesize(cdk_context(models=models))[API_STACK]
    statements = {statement["Sid"]: statement for statement in bedrock_statements(template)}

    assert statements["InvokeConfiguredFoundationModels"]["Resource"] == arn(
        ":bedrock:", {"Ref": "AWS::Region"}, "::foundation-model/amazon.nova-2-lite-v1:0"
    )
    assert len(statements["InvokeConfiguredInferenceProfiles"]["Resource"]) == 2
    routed = statements["InvokeRoutedFoundationModelsThroughProfilesOnly"]["Resource"]
    expected_regions = CDK_CONTEXT["inferenceProfileRegions"]["us"] + CDK_CONTEXT["inferenceProfileRegions"]["eu"]
    assert len(routed) == len(set(expected_regions))
    assert json.loads(api_function(template)["Environment"]["Variables"]["MODEL_IDS"]) == models
    source_region_rules = [key for key in template["Rules"] if key != "CheckBootstrapVersion"]
    assert len(source_region_rules) == 2  # one per geographic profile; none for a foundation model


# --- the API ----------------------------------------------------------------------------------------------------


def test_the_api_is_regional(api_template):
    api_template.has_resource_properties("AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}})


def test_every_route_of_the_catalog_is_a_post_method_with_iam_auth_and_lambda_proxy(templates):
    template = templates[API_STACK]
    paths = resource_paths(template)
    methods = resources(template, "AWS::ApiGateway::Method").values()

    routed = {}
    for method in methods:
        properties = method["Properties"]
        assert properties["AuthorizationType"] == "AWS_IAM", properties
        routed[properties["HttpMethod"], paths[properties["ResourceId"]["Ref"]]] = properties
    posts = {("POST", path) for path in ROUTES | STREAM_ROUTES}
    assert set(routed) == posts | {("GET", "/use-cases")} | CONVERSATION_ROUTES
    for properties in routed.values():
        assert properties["Integration"]["Type"] == "AWS_PROXY"
        assert properties["Integration"]["IntegrationHttpMethod"] == "POST"  # Lambda is always invoked with POST


def test_the_stage_traces_requests_with_x_ray(api_template):
    api_template.has_resource_properties(
        "AWS::ApiGateway::Stage", {"StageName": CDK_CONTEXT["stageName"], "TracingEnabled": True}
    )


def test_the_api_is_named_after_its_stack_so_that_its_metrics_are_its_own(api_template):
    api_template.has_resource_properties("AWS::ApiGateway::RestApi", {"Name": API_STACK})


def test_the_stage_throttles(api_template):
    api_template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": CDK_CONTEXT["stageName"],
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "HttpMethod": "*",
                            "ResourcePath": "/*",
                            "ThrottlingRateLimit": CDK_CONTEXT["throttlingRateLimit"],
                            "ThrottlingBurstLimit": CDK_CONTEXT["throttlingBurstLimit"],
                        }
                    )
                ]
            ),
        },
    )


@pytest.mark.parametrize("response_type", ["DEFAULT_4XX", "DEFAULT_5XX"])
def test_api_gateways_own_errors_use_the_json_error_envelope(api_template, response_type):
    api_template.has_resource_properties(
        "AWS::ApiGateway::GatewayResponse",
        {
            "ResponseType": response_type,
            "ResponseTemplates": {
                "application/json": '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}}'
            },
        },
    )


def test_only_api_gateway_may_invoke_the_function_and_only_through_the_stage(templates):
    permissions = resources(templates[API_STACK], "AWS::Lambda::Permission").values()

    # One per method (the tasks, their streams, GET /use-cases and the conversations'), no test-invoke ones.
    assert len(permissions) == len(ROUTES) + len(STREAM_ROUTES) + 1 + len(CONVERSATION_ROUTES)
    for permission in permissions:
        assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
        assert permission["Properties"]["Action"] == "lambda:InvokeFunction"
        assert "SourceArn" in permission["Properties"]


def test_outputs_give_the_api_url_and_the_function_name(api_template):
    api_template.has_output("ApiUrl", {"Value": Match.any_value()})
    api_template.has_output("FunctionName", {"Value": {"Ref": Match.string_like_regexp("GenAiFunction")}})


# --- environments and configuration -----------------------------------------------------------------------------


def test_synth_is_environment_agnostic_by_default():
    from app import build_app

    stack = build_app(context=cdk_context()).node.find_child(API_STACK)
    assert Token.is_unresolved(stack.account)
    assert Token.is_unresolved(stack.region)


def test_synth_with_an_explicit_account_and_region():
    from app import build_app

    app = build_app(context=cdk_context(account="123456789012", region="sa-east-1"))
    stack = app.node.find_child(API_STACK)
    assert (stack.account, stack.region) == ("123456789012", "sa-east-1")
    Template.from_stack(stack).resource_count_is("AWS::Lambda::Function", 2)  # the API's and the streaming one


def test_a_bad_context_value_fails_synth_with_a_message_naming_the_key():
    from app import build_app

    with pytest.raises(ConfigError, match="context key 'logRetentionDays' must be one of"):
        build_app(context=cdk_context(logRetentionDays=13))


def test_a_global_profile_may_reach_its_model_in_any_region_but_only_through_the_profile():
    model = "global.amazon.nova-2-lite-v1:0"
    template = synthesize(cdk_context(models={**CDK_CONTEXT["models"], "productivity": model}))[
        API_STACK
    ]  # cdk-nag passes
    for role, action in (
        ("GenAiRole", "bedrock:InvokeModel"),
        ("GenAiStreamFunctionRole", "bedrock:InvokeModelWithResponseStream"),
    ):
        statements = {s["Sid"]: s for s in bedrock_statements(template, role)}
        routed = statements[f"InvokeRoutedFoundationModelsThroughProfilesOnly{'Stream' if 'Stream' in role else ''}"]
        assert routed["Action"] == action
        assert arn(":bedrock:*::foundation-model/amazon.nova-2-lite-v1:0") in routed["Resource"]
        global_profile = arn(
            ":bedrock:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, f":inference-profile/{model}"
        )
        assert global_profile in routed["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]
    source_region_rules = [key for key in template["Rules"] if key != "CheckBootstrapVersion"]
    assert len(source_region_rules) == 1  # the us. profile's; a global profile may be called from any region


# --- server-side conversations ----------------------------------------------------------------------------------


def conversations_table(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((table_id, table),) = resources(template, "AWS::DynamoDB::Table").items()
    return table_id, table


def test_the_conversation_table_is_on_demand_encrypted_expiring_recoverable_and_removed_with_the_sandbox(templates):
    _, table = conversations_table(templates[API_STACK])
    properties = table["Properties"]
    settings = CDK_CONTEXT["conversations"]

    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"] == {"SSEEnabled": True}  # the AWS managed key, aws/dynamodb
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True,
        "RecoveryPeriodInDays": settings["recoveryPeriodDays"],
    }
    assert CDK_CONTEXT["profile"] == "sandbox"
    assert (table["DeletionPolicy"], properties["DeletionProtectionEnabled"]) == ("Delete", False)


def test_both_functions_may_use_exactly_the_stores_actions_on_the_table_and_its_index(templates):
    from genai_core.conversation_settings import INDEX_ACTIONS, TABLE_ACTIONS, UPDATED_INDEX

    template = templates[API_STACK]
    table_id, _ = conversations_table(template)
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}
    for role in ("GenAiRole", "GenAiStreamFunctionRole"):
        (policy,) = [
            p["Properties"]["PolicyDocument"]["Statement"]
            for key, p in resources(template, "AWS::IAM::Policy").items()
            if key.startswith(f"{role}DefaultPolicy")
        ]
        dynamodb = [s for s in policy if "dynamodb:" in json.dumps(s["Action"])]
        assert dynamodb == [
            {
                "Sid": "ReadWriteAndEraseConversations",
                "Effect": "Allow",
                "Action": sorted(TABLE_ACTIONS),
                "Resource": table_arn,
            },
            {
                "Sid": "ListConversations",
                "Effect": "Allow",
                "Action": INDEX_ACTIONS[0],
                "Resource": {"Fn::Join": ["", [table_arn, f"/index/{UPDATED_INDEX}"]]},
            },
        ], role
    # Nothing else in the stack may touch a DynamoDB table (no Scan, no batch, no UpdateItem, no index/*).
    every_action = json.dumps([p["Properties"] for p in resources(template, "AWS::IAM::Policy").values()])
    assert every_action.count('"dynamodb:') == 2 * (len(TABLE_ACTIONS) + len(INDEX_ACTIONS))


def test_the_table_name_is_an_output(templates):
    table_id, _ = conversations_table(templates[API_STACK])

    assert templates[API_STACK]["Outputs"]["ConversationsTableName"]["Value"] == {"Ref": table_id}


def test_the_conversation_routes_are_authorized_and_validate_what_api_gateway_can(templates):
    template = templates[API_STACK]
    paths = resource_paths(template)
    ((validator_id, validator),) = resources(template, "AWS::ApiGateway::RequestValidator").items()
    assert validator["Properties"]["ValidateRequestParameters"] is True
    methods = {
        (m["Properties"]["HttpMethod"], paths[m["Properties"]["ResourceId"]["Ref"]]): m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Method").values()
    }
    for method, path in CONVERSATION_ROUTES:
        properties = methods[method, path]
        assert properties["AuthorizationType"] == "AWS_IAM"
        assert properties["RequestValidatorId"] == {"Ref": validator_id}
        assert properties["Integration"]["Type"] == "AWS_PROXY"
        expected = (
            {"method.request.path.conversationId": True}
            if path.endswith("{conversationId}")
            else {"method.request.querystring.limit": False, "method.request.querystring.nextToken": False}
        )
        assert properties["RequestParameters"] == expected
