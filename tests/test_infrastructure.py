"""Fine-grained assertions on the synthesized API stack: what the snapshot shows, pinned where it matters."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest
from aws_cdk import Token
from aws_cdk.assertions import Match, Template

from endpoints import DISCOVERY_PATH, UPLOADS_PATH
from genai_core import settings
from genai_core.catalog import load_catalog
from genai_core.file_contract import UPLOADS_PREFIX, upload_request_schema
from genai_core.limits import shortest_function_timeout
from stacks.components.guardrail import NAMING
from stacks.components.rest_api import REQUEST_MODEL_CONTENT_TYPES, UPLOAD_MODEL, draft_04
from stacks.config import ConfigError
from tests.conftest import FUNCTION_ENV, synthesize
from tests.support import (
    API_STACK,
    CDK_CONTEXT,
    MODEL_ID,
    PRIVATE_BUCKET_PROPERTIES,
    cdk_context,
    conversations_table_ref,
)
from tools.templates import render

ROUTES = {route.path for route in load_catalog()}
STREAM_ROUTES = {route.stream_path for route in load_catalog() if route.streaming}
# A decision, pinned: the caller's own conversations, where the deployment keeps them (cdk.json's conversations on,
# and a task of the catalog with memory).
CONVERSATION_METHODS = {
    ("GET", "/conversations"),
    ("GET", "/conversations/{conversationId}"),
    ("DELETE", "/conversations/{conversationId}"),
}
KEEPS_CONVERSATIONS = CDK_CONTEXT["conversations"]["enabled"] and any(route.memory for route in load_catalog())
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


APP_HANDLERS = ("handler.lambda_handler", "run.sh")  # the buffered API's function and the streaming one


def app_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The app's own functions (not the CDK's custom-resource function that empties the uploads and corpus buckets)."""
    return {
        key: r
        for key, r in resources(template, "AWS::Lambda::Function").items()
        if r["Properties"].get("Handler") in APP_HANDLERS
    }


def region_rules(template: dict[str, Any], prefix: str = "BedrockAccessSourceRegion") -> list[str]:
    """The stack's CloudFormation rules of one kind (by default: the source regions of geographic profiles)."""
    return [key for key in template.get("Rules", {}) if key.startswith(prefix)]


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
    (knowledge_base,) = resources(template, "AWS::Bedrock::KnowledgeBase")
    assert environment.pop("KNOWLEDGE_BASE_ID") == {"Fn::GetAtt": [knowledge_base, "KnowledgeBaseId"]}
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
    # The uploads bucket's name is the stack's bucket (the tests' stand-in, a name).
    bucket_id, _ = uploads_bucket(template)
    assert environment.pop("UPLOADS_BUCKET") == {"Ref": bucket_id}
    assert environment.pop("CONVERSATIONS_TABLE") == conversations_table_ref(template)
    # the stack's resources, stood in for
    references = ("GUARDRAILS", "KNOWLEDGE_BASE_ID", "CONVERSATIONS_TABLE", "UPLOADS_BUCKET")
    assert environment == {k: v for k, v in FUNCTION_ENV.items() if k not in references}
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


@functools.cache
def _api_template_of_profile(profile: str) -> dict[str, Any]:
    return synthesize(cdk_context(profile=profile))[API_STACK]


def profile_template(templates: dict[str, dict[str, Any]], profile: str) -> dict[str, Any]:
    """The API stack's template in ``profile``: the session's for cdk.json's, else synthesized once per module."""
    return templates[API_STACK] if profile == CDK_CONTEXT["profile"] else _api_template_of_profile(profile)


@pytest.mark.parametrize(("profile", "policy"), [("sandbox", "Delete"), ("production", "Retain")])
def test_the_profile_decides_whether_the_log_groups_outlive_the_stack(templates, profile, policy):
    template = profile_template(templates, profile)
    log_groups = resources(template, "AWS::Logs::LogGroup").values()

    # The two functions' and the API's access logs; in the sandbox profile also the CDK function's that empties the
    # uploads and the corpus buckets on `cdk destroy` (one for both; production retains the buckets: no such function).
    assert len(log_groups) == (4 if profile == "sandbox" else 3)
    for log_group in log_groups:
        assert (log_group["DeletionPolicy"], log_group["UpdateReplacePolicy"]) == (policy, policy)
        assert log_group["Properties"]["RetentionInDays"] == CDK_CONTEXT["logRetentionDays"]
    # The uploads bucket too: the sandbox's is emptied and deleted by `cdk destroy`; production keeps it (its
    # lifecycle rule empties it), with no function that deletes objects.
    _, bucket = uploads_bucket(template)
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == (policy, policy)
    # One auto-delete custom resource per bucket (the uploads and the corpus buckets), in the sandbox only.
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(resources(template, "Custom::S3AutoDeleteObjects")) == (len(buckets) if profile == "sandbox" else 0)


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


# cdk.json's default: one geographic inference profile for every family.
GEOGRAPHY, FOUNDATION_MODEL = MODEL_ID.split(".", 1)
PROFILE_ARN = arn(":bedrock:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, f":inference-profile/{MODEL_ID}")


def test_the_role_may_invoke_exactly_the_configured_profile_and_the_models_it_routes_to(templates):
    statements = bedrock_statements(templates[API_STACK])
    guardrail_ids = sorted(resources(templates[API_STACK], "AWS::Bedrock::Guardrail"))
    (knowledge_base,) = resources(templates[API_STACK], "AWS::Bedrock::KnowledgeBase")
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
                arn(f":bedrock:{region}::foundation-model/{FOUNDATION_MODEL}")
                for region in CDK_CONTEXT["inferenceProfileRegions"][GEOGRAPHY]
            ],
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": [PROFILE_ARN]}},
        },
        {
            "Sid": "ApplyTheStacksGuardrailsOnly",
            "Effect": "Allow",
            "Action": "bedrock:ApplyGuardrail",
            "Resource": [{"Fn::GetAtt": [guardrail_id, "GuardrailArn"]} for guardrail_id in guardrail_ids],
        },
        {
            "Sid": "RetrieveFromTheStacksKnowledgeBaseOnly",
            "Effect": "Allow",
            "Action": "bedrock:Retrieve",
            "Resource": {"Fn::GetAtt": [knowledge_base, "KnowledgeBaseArn"]},
        },
    ]


def corpus_objects(template: dict[str, Any]) -> dict[str, Any]:
    """The knowledge base role's one statement with a wildcard: every object of its own corpus bucket."""
    (bucket,) = [key for key in resources(template, "AWS::S3::Bucket") if key.startswith("KnowledgeBaseCorpusBucket")]
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]}


def test_no_statement_uses_a_wildcard_action_or_a_wildcard_resource(templates):
    template = templates[API_STACK]
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements.count(XRAY_WRITE) == 2  # one per function
    # The knowledge base reads its own corpus bucket's objects: "<bucket>/*", in this account only.
    (read_corpus,) = [s for s in statements if s.get("Sid") == "ReadTheCorpusDocumentsOnly"]
    assert (read_corpus["Action"], read_corpus["Resource"]) == ("s3:GetObject", corpus_objects(template))
    bucket_id, _ = uploads_bucket(template)
    uploads_prefix = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{UPLOADS_PREFIX}*"]]}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(action == "*" or action.endswith(":*") for action in actions), statement
        if statement in (XRAY_WRITE, read_corpus):
            continue
        if statement["Resource"] == uploads_prefix:  # the other wildcard: the keys under the uploads prefix
            assert set(actions) <= {"s3:GetObject", "s3:PutObject"}, statement
            continue
        assert "*" not in json.dumps(statement["Resource"]), statement


def test_the_role_has_no_managed_policies(api_template):
    api_template.has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})


def test_deploying_outside_the_profiles_geography_is_refused_with_a_message(templates):
    (rule,) = [templates[API_STACK]["Rules"][key] for key in region_rules(templates[API_STACK])]
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Contains": [CDK_CONTEXT["inferenceProfileRegions"][GEOGRAPHY], {"Ref": "AWS::Region"}]
    }
    assert MODEL_ID in assertion["AssertDescription"]


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
    assert len(region_rules(template)) == 2  # one per geographic profile; none for a foundation model


# --- the knowledge base -----------------------------------------------------------------------------------------
# The construct itself is pinned in tests/test_knowledge_base.py; here, how the app's stack wires it.


def test_the_knowledge_base_is_on_by_default_and_only_the_buffered_function_may_search_it(templates):
    template = templates[API_STACK]
    (knowledge_base,) = resources(template, "AWS::Bedrock::KnowledgeBase")
    retrieving = [
        (key, statement)
        for key, policy in resources(template, "AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "bedrock:Retrieve" in json.dumps(statement["Action"])
    ]
    ((policy, statement),) = retrieving
    assert policy.startswith("GenAiRole")
    assert statement["Resource"] == {"Fn::GetAtt": [knowledge_base, "KnowledgeBaseArn"]}
    _, stream = function(template, "run.sh")
    assert "KNOWLEDGE_BASE_ID" not in stream["Properties"]["Environment"]["Variables"]


def test_outputs_give_the_knowledge_base_its_data_source_and_the_corpus_bucket_for_make_ingest(templates):
    from stacks import outputs

    template = templates[API_STACK]
    (knowledge_base,) = resources(template, "AWS::Bedrock::KnowledgeBase")
    (data_source,) = resources(template, "AWS::Bedrock::DataSource")
    (bucket,) = [key for key in resources(template, "AWS::S3::Bucket") if key.startswith("KnowledgeBaseCorpus")]
    values = {name: output["Value"] for name, output in template["Outputs"].items()}

    assert values[outputs.KNOWLEDGE_BASE_ID] == {"Fn::GetAtt": [knowledge_base, "KnowledgeBaseId"]}
    assert values[outputs.KNOWLEDGE_BASE_DATA_SOURCE_ID] == {"Fn::GetAtt": [data_source, "DataSourceId"]}
    assert values[outputs.CORPUS_BUCKET_NAME] == {"Ref": bucket}


@pytest.mark.parametrize(("profile", "policy"), [("sandbox", "Delete"), ("production", "Retain")])
def test_the_profile_decides_whether_the_corpus_outlives_the_stack(templates, profile, policy):
    template = profile_template(templates, profile)
    (bucket,) = [r for key, r in resources(template, "AWS::S3::Bucket").items() if key.startswith("KnowledgeBase")]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == (policy, policy)
    assert bool(resources(template, "Custom::S3AutoDeleteObjects")) == (profile == "sandbox")


@pytest.fixture(scope="module")
def without_knowledge_base() -> dict[str, Any]:
    return synthesize(cdk_context(knowledgeBase=False))[API_STACK]  # cdk-nag passes


def test_switched_off_there_is_no_knowledge_base_and_no_task_that_would_search_one(without_knowledge_base):
    template = without_knowledge_base
    retrieving = {use_case.path for use_case in load_catalog() if use_case.retrieval is not None}
    assert retrieving  # the catalog has a task that searches: this test is not vacuous

    for kind in ("AWS::Bedrock::KnowledgeBase", "AWS::Bedrock::DataSource", "AWS::S3Vectors::Index"):
        assert resources(template, kind) == {}, kind
    assert list(resources(template, "AWS::S3::Bucket")) == [uploads_bucket(template)[0]]  # no corpus bucket
    assert set(resource_paths(template).values()).isdisjoint(retrieving)  # no route: never served half-working
    assert "bedrock:Retrieve" not in json.dumps(template)
    assert "KNOWLEDGE_BASE_ID" not in api_function(template)["Environment"]["Variables"]
    assert region_rules(template, "KnowledgeBase") == []  # any region will do
    from stacks import outputs

    names = {outputs.KNOWLEDGE_BASE_ID, outputs.KNOWLEDGE_BASE_DATA_SOURCE_ID, outputs.CORPUS_BUCKET_NAME}
    assert not names & set(template["Outputs"])


def test_a_knowledge_base_setting_reaches_the_index_and_the_data_source():
    template = synthesize(cdk_context(knowledgeBase='{"dimension": 512}'))[API_STACK]
    (index,) = resources(template, "AWS::S3Vectors::Index").values()
    assert index["Properties"]["Dimension"] == 512  # the rest keeps the defaults (cdk.json's, and the loader's)


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
    posts = {("POST", path) for path in ROUTES | STREAM_ROUTES | {UPLOADS_PATH}}
    assert set(routed) == posts | {("GET", DISCOVERY_PATH)} | CONVERSATION_ROUTES
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

    # One per method (the tasks, their streams, GET /use-cases, POST /uploads and the conversations'), no test-invoke
    # ones.
    assert len(permissions) == len(ROUTES) + len(STREAM_ROUTES) + 2 + len(CONVERSATION_ROUTES)
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
    assert len(app_functions(Template.from_stack(stack).to_json())) == 2  # the API's and the streaming one
    # And the CDK's that empties the uploads and corpus buckets on `cdk destroy` (sandbox profile): one for both.
    Template.from_stack(stack).resource_count_is("AWS::Lambda::Function", 3)


def test_every_retention_the_config_allows_is_the_log_groups_retention_in_days():
    from aws_cdk import App, RemovalPolicy, Stack

    from stacks.components.log_groups import log_group
    from stacks.config import LOG_RETENTION_DAYS

    stack = Stack(App(), "Retentions")
    for days in LOG_RETENTION_DAYS:  # the one table (stacks/config.py), by the CDK's name for each
        log_group(stack, f"Logs{days}", retention_days=days, removal_policy=RemovalPolicy.DESTROY)
    groups = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")

    assert sorted(group["Properties"]["RetentionInDays"] for group in groups.values()) == sorted(LOG_RETENTION_DAYS)


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
    assert len(region_rules(template)) == 1  # the us. profile's; a global profile may be called from any region


# --- uploads: the bucket, its policy, the grants and the route ----------------------------------------------------


def uploads_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The uploads bucket (the stack's other bucket is the knowledge base's corpus)."""
    ((bucket_id, bucket),) = [
        (key, value) for key, value in resources(template, "AWS::S3::Bucket").items() if key.startswith("Uploads")
    ]
    return bucket_id, bucket


def s3_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    (policy,) = [p for key, p in resources(template, "AWS::IAM::Policy").items() if key.startswith(role)]
    return [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "s3:" in json.dumps(s["Action"])]


def test_the_uploads_bucket_is_private_encrypted_unversioned_and_expires_as_configured(templates):
    _, bucket = uploads_bucket(templates[API_STACK])
    properties = bucket["Properties"]
    assert {key: properties[key] for key in PRIVATE_BUCKET_PROPERTIES} == PRIVATE_BUCKET_PROPERTIES
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == CDK_CONTEXT["uploadsExpireDays"] and rule["Status"] == "Enabled"
    assert "VersioningConfiguration" not in properties and "CorsConfiguration" not in properties


def test_the_uploads_bucket_policy_refuses_plain_http_old_tls_and_uploads_not_signed_with_sigv4(templates):
    template = templates[API_STACK]
    bucket_id, _ = uploads_bucket(template)
    (policy,) = [
        p
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    # It grants only the CDK's auto-delete function (the sandbox's `cdk destroy` empties the bucket with it).
    (allowed,) = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert allowed["Principal"]["AWS"]["Fn::GetAtt"][0].startswith("CustomS3AutoDeleteObjectsCustomResourceProvider")
    conditions = [statement["Condition"] for statement in statements if statement["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions
    assert {"StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}} in conditions


def test_the_api_function_may_read_and_presign_the_uploads_prefix_only(templates):
    template = templates[API_STACK]
    bucket_id, _ = uploads_bucket(template)
    assert s3_statements(template, "GenAiRole") == [
        {
            "Sid": "ReadAndPresignUploads",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{UPLOADS_PREFIX}*"]]},
        }
    ]


def test_the_streaming_function_reads_no_uploads_while_no_streaming_task_takes_files(templates):
    routes = load_catalog()
    assert not any(route.streaming and route.file_input is not None for route in routes)  # the catalog's state today
    _, stream = function(templates[API_STACK], "run.sh")
    assert s3_statements(templates[API_STACK], "GenAiStreamFunctionRole") == []
    assert "UPLOADS_BUCKET" not in stream["Properties"]["Environment"]["Variables"]


def test_a_streaming_task_that_takes_files_gets_a_read_only_grant():
    """Catalog data decides: were a streaming task to take files, its function could read uploads, never write."""
    from dataclasses import replace

    from aws_cdk import App

    from genai_core.catalog import FileInput
    from stacks.api_stack import GenAiApiStack
    from stacks.config import load_config
    from tests.test_config import context_values

    streams_files = FileInput(("messages",))  # the stack reads only whether a streaming task takes files
    routes = [replace(route, file_input=streams_files) if route.streaming else route for route in load_catalog()]
    stack = GenAiApiStack(App(context=cdk_context()), API_STACK, config=load_config(context_values()), routes=routes)
    template = Template.from_stack(stack).to_json()
    (statement,) = s3_statements(template, "GenAiStreamFunctionRole")
    assert (statement["Sid"], statement["Action"]) == ("ReadUploads", "s3:GetObject")
    _, stream = function(template, "run.sh")
    assert stream["Properties"]["Environment"]["Variables"]["UPLOADS_BUCKET"] == {"Ref": uploads_bucket(template)[0]}


def test_post_uploads_is_authorized_and_validated_against_the_upload_model(templates):
    template = templates[API_STACK]
    (method,) = [
        m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if resource_paths(template).get(m["Properties"]["ResourceId"]["Ref"]) == UPLOADS_PATH
    ]
    assert (method["HttpMethod"], method["AuthorizationType"]) == ("POST", "AWS_IAM")
    assert "RequestValidatorId" in method
    models = {content_type: ref["Ref"] for content_type, ref in method["RequestModels"].items()}
    assert set(models) == set(REQUEST_MODEL_CONTENT_TYPES)
    (model_id,) = set(models.values())
    model = template["Resources"][model_id]["Properties"]
    assert model["Schema"] == draft_04(UPLOAD_MODEL, upload_request_schema())


def test_the_stack_outputs_the_uploads_bucket_name(api_template, templates):
    bucket_id, _ = uploads_bucket(templates[API_STACK])
    api_template.has_output("UploadsBucketName", {"Value": {"Ref": bucket_id}})


def test_cdk_nag_acknowledges_the_uploads_prefix_by_its_exact_finding(assembly, templates):
    from tests.scanner_support import nag_report

    bucket_id, _ = uploads_bucket(templates[API_STACK])
    finding = f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{UPLOADS_PREFIX}*]"
    (violation,) = [v for v in nag_report(assembly)["suppressedViolations"] if v["ruleName"] == finding]
    assert [c["constructPath"] for c in violation["violatingConstructs"]] == [
        f"{API_STACK}/GenAi/Role/DefaultPolicy/Resource"
    ]


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
