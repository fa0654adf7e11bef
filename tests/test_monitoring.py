"""The monitoring stack: fed by the API stack, a dashboard per use case, five alarms to an encrypted TLS-only topic."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from botocore.stub import Stubber

from genai_core import conversations
from genai_core.catalog import load_catalog
from genai_core.conversation_settings import STORE_CLIENT
from stacks.components.app_metrics import FUNCTION_METRICS
from tests.conftest import synthesize
from tests.conversations_support import installed_stores
from tests.support import (
    API_STACK,
    CDK_CONTEXT,
    IAM_IDENTITY,
    MONITORING_STACK,
    cdk_context,
    converse_text_response,
    converse_tool_response,
)
from tests.test_infrastructure import function

ROUTES = list(load_catalog())
KEEPS_CONVERSATIONS = CDK_CONTEXT["conversations"]["enabled"] and any(route.memory for route in ROUTES)
CONVERSATION_WIDGETS = (
    ["Conversation store errors", "Prompt cache: input tokens read and written"] if KEEPS_CONVERSATIONS else []
)
NAMESPACE = CDK_CONTEXT["metricsNamespace"]
PRICE = CDK_CONTEXT["modelPrices"]["amazon.nova-2-lite-v1:0"]
ALARM_PREFIX = f"{MONITORING_STACK}-"


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = resources(template, resource_type).items()
    return logical_id, resource


def placeholder(token: dict[str, Any]) -> str:
    """A CloudFormation token inside the dashboard body, as a readable string."""
    if "Ref" in token:
        return f"<Ref {token['Ref']}>"
    if "Fn::GetAtt" in token:
        return f"<GetAtt {token['Fn::GetAtt'][0]}>"
    if "Fn::GetStackOutput" in token:
        output = token["Fn::GetStackOutput"]
        return f"<Output {output['StackName']}.{output['OutputName']}>"
    raise AssertionError(f"unexpected token in the dashboard body: {token}")


@pytest.fixture(scope="module")
def monitoring(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates[MONITORING_STACK]


@pytest.fixture(scope="module")
def dashboard(monitoring: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body as JSON, with each CloudFormation token replaced by a readable placeholder."""
    _, resource = only(monitoring, "AWS::CloudWatch::Dashboard")
    parts = resource["Properties"]["DashboardBody"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else placeholder(part) for part in parts))


def widget(dashboard: dict[str, Any], title: str) -> dict[str, Any]:
    (found,) = [w["properties"] for w in dashboard["widgets"] if w["properties"].get("title") == title]
    return found


def metric_rows(properties: dict[str, Any]) -> list[list[Any]]:
    """The widget's metric rows: [namespace, name, dim1, value1, ..., options] or [options with an expression]."""
    return properties["metrics"]


def metric_of(row: list[Any]) -> tuple[str, str, dict[str, str]]:
    """A metric row as (namespace, name, dimensions), whatever the order of its dimensions."""
    namespace, name, *pairs = row[:-1]
    return namespace, name, dict(zip(pairs[::2], pairs[1::2], strict=True))


def use_case_metric(name: str, family: str, task: str) -> tuple[str, str, dict[str, str]]:
    return NAMESPACE, name, {"service": "genai-api", "Family": family, "Task": task}


def published_output(api: dict[str, Any], resource_logical_id: str) -> str:
    """The API stack's output that publishes a Ref to the resource (a weak cross-stack reference)."""
    (name,) = [
        name
        for name, output in api["Outputs"].items()
        if output["Value"] == {"Ref": resource_logical_id} and name.startswith("PublishOutput")
    ]
    return name


# --- the app: two stacks, the monitoring one fed by the API one ---------------------------------------------------


def test_the_app_has_an_api_stack_and_a_monitoring_stack_that_depends_on_it(assembly, templates):
    assert set(templates) == {API_STACK, MONITORING_STACK}

    def stacks_before(name: str) -> list[str]:  # other stacks it depends on (not its own assets manifest)
        return [artifact.id for artifact in assembly.get_stack_by_name(name).dependencies if artifact.id in templates]

    assert stacks_before(MONITORING_STACK) == [API_STACK]
    assert stacks_before(API_STACK) == []


def test_the_monitoring_inputs_come_from_the_api_stack(templates, dashboard):
    api, monitoring = templates[API_STACK], templates[MONITORING_STACK]
    function_id, _ = function(api)  # the buffered API's
    stage_id, _ = only(api, "AWS::ApiGateway::Stage")
    function_output = f"<Output {API_STACK}.{published_output(api, function_id)}>"
    stage_output = f"<Output {API_STACK}.{published_output(api, stage_id)}>"

    alarms = {
        alarm["Properties"]["AlarmName"]: alarm["Properties"]
        for alarm in resources(monitoring, "AWS::CloudWatch::Alarm").values()
    }
    errors = alarms[f"{ALARM_PREFIX}FunctionErrors"]["Metrics"][0]["MetricStat"]["Metric"]
    assert errors["Dimensions"] == [
        {
            "Name": "FunctionName",
            "Value": {
                "Fn::GetStackOutput": {
                    "StackName": API_STACK,
                    "Region": {"Ref": "AWS::Region"},
                    "OutputName": published_output(api, function_id),
                }
            },
        }
    ]
    (latency_row, *_) = metric_rows(widget(dashboard, "API latency"))
    assert metric_of(latency_row) == ("AWS/ApiGateway", "Latency", {"ApiName": API_STACK, "Stage": stage_output})
    (concurrency_row,) = metric_rows(widget(dashboard, "Function concurrency"))
    assert metric_of(concurrency_row) == ("AWS/Lambda", "ConcurrentExecutions", {"FunctionName": function_output})
    # Nothing else crosses the stacks, and the monitoring stack creates no function, API or role of its own.
    assert "Fn::ImportValue" not in json.dumps(monitoring)
    for resource_type in ("AWS::Lambda::Function", "AWS::ApiGateway::RestApi", "AWS::IAM::Role", "AWS::Logs::LogGroup"):
        assert resources(monitoring, resource_type) == {}


# --- the dashboard ------------------------------------------------------------------------------------------------


def test_the_dashboard_has_every_widget_operators_need(dashboard):
    titles = [w["properties"].get("title") for w in dashboard["widgets"]]

    assert titles == [
        "Alarms",
        "API requests, 4xx and 5xx (per 5 minutes)",
        "API 5xx rate",
        "API latency",
        "Function duration",
        "Function errors and throttles",
        "Function concurrency",
        "Function cold starts",
        "Requests per use case",
        "Input tokens per use case",
        "Output tokens per use case",
        "Estimated Bedrock cost per use case (USD per 5 minutes)",
        "Estimated Bedrock cost over the time range (USD)",
        None,  # the text widget that explains the estimate
        "Bedrock latency",
        "Model errors by code",
        "Bedrock throttles per use case",
        "Guardrail interventions per use case",
        "Structured-output retries per use case",
        "Streaming: time to first token",
        "Streaming function errors",
        "Knowledge base: Retrieve latency",  # with the knowledge base on (the default)
        *CONVERSATION_WIDGETS,
    ]


def test_the_conversation_widgets_show_store_errors_by_code_and_the_prompt_caches_tokens(dashboard):
    if not KEEPS_CONVERSATIONS:
        pytest.skip("cdk.json keeps no conversations")
    errors = widget(dashboard, "Conversation store errors")
    (total, by_code) = metric_rows(errors)
    assert metric_of(total) == (NAMESPACE, "ConversationStoreErrors", {"service": "genai-api"})
    assert by_code[0]["expression"] == (
        f'SEARCH(\'{{"{NAMESPACE}",ErrorCode,service}} MetricName="ConversationStoreErrors" service="genai-api"\', '
        "'Sum', 300)"
    )
    cache = widget(dashboard, "Prompt cache: input tokens read and written")
    assert [metric_of(row)[1] for row in metric_rows(cache)] == ["CacheReadInputTokens", "CacheWriteInputTokens"]


def test_the_retrieve_latency_shows_its_percentiles(dashboard):
    found = widget(dashboard, "Knowledge base: Retrieve latency")
    metrics = [line[1] for line in found["metrics"]]
    assert metrics == ["RetrievalLatency"] * 3


def test_the_api_widgets_show_requests_errors_and_latency_percentiles(dashboard):
    counts = metric_rows(widget(dashboard, "API requests, 4xx and 5xx (per 5 minutes)"))
    latency = metric_rows(widget(dashboard, "API latency"))

    assert [(row[1], row[-1]["stat"]) for row in counts] == [("Count", "Sum"), ("4XXError", "Sum"), ("5XXError", "Sum")]
    assert [(row[1], row[-1]["stat"]) for row in latency] == [
        ("Latency", "p50"),
        ("Latency", "p90"),
        ("Latency", "p99"),
    ]


def test_the_function_widgets_show_duration_errors_throttles_and_concurrency(dashboard):
    shown = {
        (row[0], row[1], row[-1]["stat"])
        for title in (
            "Function duration",
            "Function errors and throttles",
            "Function concurrency",
            "Function cold starts",
        )
        for row in metric_rows(widget(dashboard, title))
    }

    assert shown == {
        ("AWS/Lambda", "Duration", "p50"),
        ("AWS/Lambda", "Duration", "p90"),
        ("AWS/Lambda", "Duration", "p99"),
        ("AWS/Lambda", "Errors", "Sum"),
        ("AWS/Lambda", "Throttles", "Sum"),
        ("AWS/Lambda", "ConcurrentExecutions", "Maximum"),
        (NAMESPACE, "ColdStart", "Sum"),
    }


@pytest.mark.parametrize(
    ("title", "metric"),
    [
        ("Requests per use case", "Requests"),
        ("Input tokens per use case", "InputTokens"),
        ("Output tokens per use case", "OutputTokens"),
        ("Bedrock throttles per use case", "BedrockThrottles"),
        ("Guardrail interventions per use case", "GuardrailInterventions"),
    ],
)
def test_use_case_widgets_have_one_line_per_use_case_of_the_catalog(dashboard, title, metric):
    rows = metric_rows(widget(dashboard, title))

    assert [metric_of(row) for row in rows] == [use_case_metric(metric, route.family, route.task) for route in ROUTES]
    assert [row[-1]["label"] for row in rows] == [f"{route.family}/{route.task}" for route in ROUTES]


def test_the_estimated_cost_is_tokens_times_the_configured_price_per_use_case(dashboard):
    rows = metric_rows(widget(dashboard, "Estimated Bedrock cost per use case (USD per 5 minutes)"))
    expressions = [row[0] for row in rows if len(row) == 1]
    hidden = {row[-1]["id"]: row for row in rows if len(row) > 1}

    assert [(e["expression"], e["label"]) for e in expressions] == [
        (
            f"(in{i} * {PRICE['inputPer1kTokens']} + out{i} * {PRICE['outputPer1kTokens']}) / 1000",
            f"{route.family}/{route.task}",
        )
        for i, route in enumerate(ROUTES)
    ]
    for i, route in enumerate(ROUTES):
        for key, metric in ((f"in{i}", "InputTokens"), (f"out{i}", "OutputTokens")):
            assert metric_of(hidden[key]) == use_case_metric(metric, route.family, route.task)
            assert (hidden[key][-1]["stat"], hidden[key][-1]["visible"]) == ("Sum", False)


def test_the_cost_total_sums_every_use_case_over_the_whole_time_range(dashboard):
    properties = widget(dashboard, "Estimated Bedrock cost over the time range (USD)")
    expressions = [row[0]["expression"] for row in metric_rows(properties) if len(row) == 1]

    assert properties["setPeriodToTimeRange"] is True
    assert expressions[-1] == " + ".join(f"FILL(cost{i}, 0)" for i in range(len(ROUTES)))
    assert len(metric_rows(properties)) <= 500  # CloudWatch's limit of metrics per widget


def test_model_errors_are_shown_by_error_code(dashboard):
    (row,) = metric_rows(widget(dashboard, "Model errors by code"))

    assert row[0]["expression"] == (
        f'SEARCH(\'{{"{NAMESPACE}",ErrorCode,service}} MetricName="ModelErrors" service="genai-api"\', \'Sum\', 300)'
    )


def test_prices_come_from_config(templates):
    prices = {"amazon.nova-2-lite-v1:0": {"inputPer1kTokens": 0.00006, "outputPer1kTokens": 0.000025}}
    template = synthesize(cdk_context(modelPrices=prices))[MONITORING_STACK]

    assert "(in0 * 0.00006 + out0 * 0.000025) / 1000" in json.dumps(template)


def test_the_dashboard_is_named_after_the_app(monitoring):
    _, dashboard = only(monitoring, "AWS::CloudWatch::Dashboard")

    assert dashboard["Properties"]["DashboardName"] == CDK_CONTEXT["stackName"]


# --- alarms -------------------------------------------------------------------------------------------------------


def alarms_by_name(monitoring: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        alarm["Properties"]["AlarmName"]: alarm["Properties"]
        for alarm in resources(monitoring, "AWS::CloudWatch::Alarm").values()
    }


def single_metric(alarm: dict[str, Any]) -> tuple[str, str, str]:
    (query,) = alarm["Metrics"]
    stat = query["MetricStat"]
    return stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"]


def test_six_alarms_each_notify_the_topic_when_firing_and_when_recovering(monitoring):
    topic_id, _ = only(monitoring, "AWS::SNS::Topic")
    alarms = alarms_by_name(monitoring)

    assert set(alarms) == {
        f"{ALARM_PREFIX}{name}"
        for name in (
            "Api5xxRate",
            "ApiP99Latency",
            "FunctionErrors",
            "FunctionThrottles",
            "BedrockThrottles",
            "StreamFunctionErrors",
        )
    }
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["OKActions"] == [{"Ref": topic_id}]
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmDescription"]


def test_the_5xx_rate_alarm_divides_5xx_by_requests_against_the_configured_threshold(monitoring):
    alarm = alarms_by_name(monitoring)[f"{ALARM_PREFIX}Api5xxRate"]
    queries = {query["Id"]: query for query in alarm["Metrics"]}

    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        CDK_CONTEXT["alarm5xxRatePercent"],
        "GreaterThanThreshold",
    )
    (expression,) = [query for query in alarm["Metrics"] if "Expression" in query]
    assert expression["Expression"] == "IF(requests > 0, 100 * errors / requests, 0)"
    assert queries["errors"]["MetricStat"]["Metric"]["MetricName"] == "5XXError"
    assert queries["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    assert {queries[key]["MetricStat"]["Stat"] for key in ("errors", "requests")} == {"Sum"}
    assert {queries[key]["MetricStat"]["Period"] for key in ("errors", "requests")} == {300}


def test_the_latency_alarm_watches_the_api_p99(monitoring):
    alarm = alarms_by_name(monitoring)[f"{ALARM_PREFIX}ApiP99Latency"]

    assert single_metric(alarm) == ("AWS/ApiGateway", "Latency", "p99")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        CDK_CONTEXT["alarmP99LatencyMs"],
        "GreaterThanThreshold",
    )
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)


@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("FunctionErrors", ("AWS/Lambda", "Errors", "Sum")),
        ("StreamFunctionErrors", ("AWS/Lambda", "Errors", "Sum")),
        ("FunctionThrottles", ("AWS/Lambda", "Throttles", "Sum")),
        ("BedrockThrottles", (NAMESPACE, "BedrockThrottles", "Sum")),
    ],
)
def test_error_and_throttle_alarms_fire_on_the_first_occurrence(monitoring, name, metric):
    alarm = alarms_by_name(monitoring)[f"{ALARM_PREFIX}{name}"]

    assert single_metric(alarm) == metric
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1)


def test_the_bedrock_throttles_alarm_sums_every_use_case(monitoring):
    (query,) = alarms_by_name(monitoring)[f"{ALARM_PREFIX}BedrockThrottles"]["Metrics"]

    assert query["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "service", "Value": "genai-api"}]


def test_thresholds_come_from_config():
    template = synthesize(cdk_context(alarm5xxRatePercent=2.5, alarmP99LatencyMs=8000))[MONITORING_STACK]
    alarms = alarms_by_name(template)

    assert alarms[f"{ALARM_PREFIX}Api5xxRate"]["Threshold"] == 2.5
    assert alarms[f"{ALARM_PREFIX}ApiP99Latency"]["Threshold"] == 8000


# --- the topic ----------------------------------------------------------------------------------------------------

CLOUDWATCH_CONDITIONS = {
    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    "ArnLike": {
        "aws:SourceArn": {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":cloudwatch:",
                    {"Ref": "AWS::Region"},
                    ":",
                    {"Ref": "AWS::AccountId"},
                    f":alarm:{ALARM_PREFIX}*",
                ],
            ]
        }
    },
}


def test_the_topic_is_encrypted_with_a_rotating_key_that_the_stack_removes(monitoring):
    key_id, key = only(monitoring, "AWS::KMS::Key")
    _, topic = only(monitoring, "AWS::SNS::Topic")

    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["PendingWindowInDays"] == 7
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_only_this_apps_alarms_may_use_the_key(monitoring):
    _, key = only(monitoring, "AWS::KMS::Key")
    statements = key["Properties"]["KeyPolicy"]["Statement"]

    assert {
        "Sid": "AllowThisAppsAlarmsToPublishEncryptedNotifications",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": CLOUDWATCH_CONDITIONS,
    } in statements


def test_the_topic_policy_is_tls_only_and_lets_this_apps_alarms_publish(monitoring):
    topic_id, _ = only(monitoring, "AWS::SNS::Topic")
    _, policy = only(monitoring, "AWS::SNS::TopicPolicy")

    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Sid": "AllowPublishThroughSSLOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": {"Ref": topic_id},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "AllowThisAppsAlarmsToPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": {"Ref": topic_id},
            "Condition": CLOUDWATCH_CONDITIONS,
        },
    ]


def test_there_is_no_subscription_unless_an_email_is_configured(monitoring):
    assert resources(monitoring, "AWS::SNS::Subscription") == {}

    template = Template.from_json(synthesize(cdk_context(alarmEmail="ops@example.com"))[MONITORING_STACK])
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": {"Ref": Match.any_value()}},
    )


def test_outputs_give_the_dashboard_and_the_topic(monitoring):
    assert set(monitoring["Outputs"]) == {"DashboardUrl", "AlarmTopicArn"}
    assert f"#dashboards/dashboard/{CDK_CONTEXT['stackName']}" in json.dumps(monitoring["Outputs"]["DashboardUrl"])


def test_in_production_the_monitoring_stack_still_holds_no_data_to_retain():
    template = synthesize(cdk_context(profile="production"))
    monitoring, api = template[MONITORING_STACK], template[API_STACK]

    assert resources(monitoring, "AWS::Logs::LogGroup") == {}
    assert {value["DeletionPolicy"] for value in resources(api, "AWS::Logs::LogGroup").values()} == {"Retain"}


# --- the dashboard reads what the function prints -----------------------------------------------------------------


def test_the_metrics_the_stacks_read_are_the_metrics_the_function_prints(
    call, bedrock, knowledge_base, emf, monkeypatch
):
    # A search that finds nothing (no model call) prints its Retrieve latency.
    knowledge_base.add_response("retrieve", {"retrievalResults": []})
    call("/productivity/search", {"question": "Quem fundou a empresa?"})
    bedrock.add_response("converse", converse_text_response("Blocked.", stop_reason="guardrail_intervened"))
    call("/customer-experience/chat", {"messages": [{"role": "user", "content": "Hi"}]})
    bedrock.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    call("/customer-experience/chat", {"messages": [{"role": "user", "content": "Hi"}]})
    fields = {"type": "object", "required": ["n"], "properties": {"n": {"type": "string"}}}
    bedrock.add_response("converse", converse_tool_response("record_extracted_fields", {}))  # retried once
    bedrock.add_response("converse", converse_tool_response("record_extracted_fields", {"n": "7"}))
    call("/process-optimization/extract", {"document": "Invoice 7", "fields": fields})
    # And the streaming function, which prints its own (the same namespace and dimensions).
    import stream_app

    delta = {"contentBlockDelta": {"delta": {"text": "Oi"}, "contentBlockIndex": 0}}
    usage = {
        "metadata": {"usage": {"inputTokens": 5, "outputTokens": 1, "totalTokens": 6}, "metrics": {"latencyMs": 9}}
    }
    monkeypatch.setattr(
        stream_app.bedrock_client,
        "converse_stream",
        lambda **_: {"stream": iter([delta, {"messageStop": {"stopReason": "end_turn"}}, usage])},
    )
    b"".join(
        stream_app.handle(
            "POST", "/customer-experience/chat/stream", b'{"messages": [{"role": "user", "content": "Oi"}]}'
        ).chunks
    )
    # A remembered turn on a model that takes a cache point (the cache's tokens), then one whose write fails.
    handler = importlib.import_module("handler")
    client = conversations.make_client(STORE_CLIENT, validate=True)
    cached = converse_text_response("Oi!")
    cached["usage"].update(cacheReadInputTokens=0, cacheWriteInputTokens=1200)
    monkeypatch.setitem(handler.service.models, "customer-experience", "us.amazon.nova-pro-v1:0")
    with Stubber(client) as dynamodb, installed_stores([handler.service], client_factory=lambda: client):
        dynamodb.add_response("get_item", {})
        dynamodb.add_response("put_item", {})
        bedrock.add_response("converse", cached)
        dynamodb.add_client_error("get_item", "ThrottlingException", "slow down", 400)
        for _ in range(2):
            call(
                "/customer-experience/chat",
                {"conversationId": "c-1", "messages": [{"role": "user", "content": "Oi"}]},
                identity=IAM_IDENTITY,
            )

    printed: dict[str, str] = {}
    for document in emf():
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == NAMESPACE
            printed.update({metric["Name"]: metric["Unit"] for metric in directive["Metrics"]})
    printed.pop("ColdStart", None)
    assert printed == FUNCTION_METRICS
