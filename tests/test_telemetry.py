"""What a request leaves behind: the EMF metrics the function prints, its one log line, and its Bedrock subsegment.

The handler is driven exactly as in test_handler.py (real-shaped API Gateway events, Bedrock stubbed). The EMF
documents are read from stdout, where Powertools Metrics prints them and CloudWatch Logs turns them into metrics.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import ANY, Stubber

from tests.support import CDK_CONTEXT, MODEL_ID, converse_text_response, converse_tool_response, guardrail_config

NAMESPACE = CDK_CONTEXT["metricsNamespace"]
SERVICE = "genai-api"
USE_CASE_DIMENSIONS = [["Family", "Task", "service"], ["service"]]  # per use case, and summed over the service
CORRELATION_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"  # requestContext.requestId of the sample event

ROUTES = {
    "/customer-experience/chat": (
        {"messages": [{"role": "user", "content": "Olá! Meu pedido não chegou."}]},
        "customer-experience",
        "chat",
    ),
    "/productivity/summarize": ({"text": "O comitê aprovou o orçamento de 2027."}, "productivity", "summarize"),
    "/process-optimization/extract": (
        {"document": "Invoice 7", "fields": {"type": "object", "properties": {"number": {"type": "string"}}}},
        "process-optimization",
        "extract",
    ),
}


def emf_view(document: dict[str, Any]) -> dict[str, Any]:
    """An EMF document as namespace, dimension sets, dimension values, units and values by metric name."""
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    names = [metric["Name"] for metric in directive["Metrics"]]
    return {
        "namespace": directive["Namespace"],
        "dimensions": directive["Dimensions"],
        "dimension_values": {
            name: document[name] for dimension_set in directive["Dimensions"] for name in dimension_set
        },
        "units": {metric["Name"]: metric["Unit"] for metric in directive["Metrics"]},
        "values": {name: document[name] for name in names},
    }


def request_metrics(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents of this request, without the once-per-container ColdStart document."""
    views = [emf_view(document) for document in documents]
    return [view for view in views if "ColdStart" not in view["values"]]


def use_case_dimensions(family: str, task: str) -> dict[str, str]:
    return {"Family": family, "Task": task, "service": SERVICE}


def expect_text(bedrock: Stubber, text: str, *, family: str = "productivity", **kwargs: Any) -> None:
    """Queue a text answer to a task of ``family``, whose request carries its guardrail if cdk.json gives it one."""
    expected = {"modelId": MODEL_ID, "system": ANY, "messages": ANY, "inferenceConfig": ANY}
    if guardrail_config(family):
        expected["guardrailConfig"] = guardrail_config(family)
    bedrock.add_response("converse", converse_text_response(text, **kwargs), expected)


# --- metrics ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_a_completed_request_prints_one_emf_document_with_bedrocks_token_counts(call, bedrock, emf, logs, path):
    body, family, task = ROUTES[path]
    tokens = {"chat": (57, 14), "summarize": (120, 20), "extract": (310, 41)}[task]
    if task == "extract":
        bedrock.add_response(
            "converse", converse_tool_response("record_extracted_fields", {"number": "7"}, tokens=tokens)
        )
    else:
        bedrock.add_response("converse", converse_text_response("Resumo.", tokens=tokens))

    response = call(path, body)

    assert response.status == 200
    assert (response.body["usage"]["inputTokens"], response.body["usage"]["outputTokens"]) == tokens
    (completed,) = [line for line in logs() if line["message"] == "use case completed"]
    (document,) = request_metrics(emf())
    assert document == {
        "namespace": NAMESPACE,
        "dimensions": USE_CASE_DIMENSIONS,
        "dimension_values": use_case_dimensions(family, task),
        "units": {
            "Requests": "Count",
            "InputTokens": "Count",
            "OutputTokens": "Count",
            "BedrockLatency": "Milliseconds",
        },
        "values": {
            "Requests": [1.0],
            "InputTokens": [float(tokens[0])],
            "OutputTokens": [float(tokens[1])],
            "BedrockLatency": [float(completed["bedrock_latency_ms"])],
        },
    }


def test_a_bedrock_throttle_counts_as_a_model_error_a_throttle_and_an_error_by_code(call, bedrock, emf):
    bedrock.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)

    response = call("/productivity/summarize", {"text": "Some text."})

    assert response.status == 429
    use_case, by_code = sorted(request_metrics(emf()), key=lambda view: len(view["dimensions"]), reverse=True)
    assert use_case["dimension_values"] == use_case_dimensions("productivity", "summarize")
    assert use_case["values"] == {"Requests": [1.0], "ModelErrors": [1.0], "BedrockThrottles": [1.0]}
    assert by_code == {
        "namespace": NAMESPACE,
        "dimensions": [["ErrorCode", "service"]],
        "dimension_values": {"ErrorCode": "throttled", "service": SERVICE},
        "units": {"ModelErrors": "Count"},
        "values": {"ModelErrors": [1.0]},
    }


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("ModelTimeoutException", "model_timeout"),
        ("ServiceUnavailableException", "upstream_unavailable"),
        ("AccessDeniedException", "upstream_access_denied"),
        ("ValidationException", "model_validation_error"),
        (ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"), "model_timeout"),
    ],
)
def test_every_model_error_is_counted_by_its_error_code(call, bedrock, emf, handler, monkeypatch, fault, code):
    if isinstance(fault, str):
        bedrock.add_client_error("converse", service_error_code=fault, http_status_code=400)
    else:

        def raise_fault(**_: Any) -> None:
            raise fault

        monkeypatch.setattr(handler.bedrock_client, "converse", raise_fault)

    response = call("/customer-experience/chat", {"messages": [{"role": "user", "content": "Hello"}]})

    assert response.body["error"]["code"] == code
    use_case, by_code = sorted(request_metrics(emf()), key=lambda view: len(view["dimensions"]), reverse=True)
    assert use_case["values"] == {"Requests": [1.0], "ModelErrors": [1.0]}  # no throttle, no tokens
    assert by_code["dimension_values"] == {"ErrorCode": code, "service": SERVICE}


def test_a_model_answer_that_breaks_the_schema_is_a_model_error(call, bedrock, emf):
    bedrock.add_response("converse", converse_text_response("Invoice number 7."))
    bedrock.add_response("converse", converse_text_response("Invoice number 7."))  # the one retry

    response = call("/process-optimization/extract", ROUTES["/process-optimization/extract"][0])

    assert response.body["error"]["code"] == "model_output_invalid"
    use_case, by_code = sorted(request_metrics(emf()), key=lambda view: len(view["dimensions"]), reverse=True)
    assert use_case["values"] == {"Requests": [1.0], "ModelErrors": [1.0]}
    assert by_code["dimension_values"]["ErrorCode"] == "model_output_invalid"


def test_a_callers_mistake_is_a_request_but_not_a_model_error(call, bedrock, emf):
    response = call("/productivity/summarize", {"text": ""})

    assert response.status == 400
    (document,) = request_metrics(emf())
    assert document["dimension_values"] == use_case_dimensions("productivity", "summarize")
    assert document["values"] == {"Requests": [1.0]}


def test_a_guardrail_intervention_is_counted_and_logged(call, bedrock, emf, logs):
    expect_text(
        bedrock,
        "Sorry, I can't help with that.",
        family="customer-experience",
        stop_reason="guardrail_intervened",
        tokens=(25, 9),
    )

    response = call("/customer-experience/chat", {"messages": [{"role": "user", "content": "Hello"}]})

    assert response.status == 200
    (document,) = request_metrics(emf())
    assert document["values"]["GuardrailInterventions"] == [1.0]
    assert document["units"]["GuardrailInterventions"] == "Count"
    (completed,) = [line for line in logs() if line["message"] == "use case completed"]
    assert (completed["stop_reason"], completed["guardrail_action"]) == ("guardrail_intervened", "INTERVENED")


def test_a_request_that_reaches_no_use_case_publishes_no_metric(call, bedrock, emf):
    response = call("/productivity/poem", {"text": "x"})

    assert response.status == 404
    assert request_metrics(emf()) == []


def test_the_first_request_of_a_container_publishes_a_cold_start(call, bedrock, emf, monkeypatch):
    from aws_lambda_powertools.metrics.provider import cold_start

    monkeypatch.setattr(cold_start, "is_cold_start", True)
    expect_text(bedrock, "Hi!", family="customer-experience")

    call("/customer-experience/chat", {"messages": [{"role": "user", "content": "Hi"}]})

    cold = [emf_view(document) for document in emf() if "ColdStart" in document]
    assert [(view["values"], view["dimensions"]) for view in cold] == [
        ({"ColdStart": [1.0]}, [["function_name", "service"]])
    ]


# --- the log line -------------------------------------------------------------------------------------------------


def test_a_completed_request_logs_one_line_with_what_operators_need(call, bedrock, logs):
    expect_text(bedrock, "Resumo curto.", tokens=(120, 20))

    call("/productivity/summarize", {"text": "Um texto."})

    (line,) = logs()
    assert line["message"] == "use case completed"
    assert {
        key: line[key]
        for key in (
            "correlation_id",
            "use_case",
            "model",
            "input_tokens",
            "output_tokens",
            "stop_reason",
            "guardrail_action",
        )
    } == {
        "correlation_id": CORRELATION_ID,
        "use_case": "productivity/summarize",
        "model": MODEL_ID,
        "input_tokens": 120,
        "output_tokens": 20,
        "stop_reason": "end_turn",
        "guardrail_action": "NONE" if guardrail_config("productivity") else "NOT_APPLIED",
    }
    assert isinstance(line["bedrock_latency_ms"], int) and line["bedrock_latency_ms"] >= 0


def test_a_failed_request_logs_one_line_with_its_use_case_model_and_error(call, bedrock, logs):
    bedrock.add_client_error("converse", service_error_code="ModelTimeoutException", http_status_code=408)

    call("/productivity/summarize", {"text": "Um texto."})

    (line,) = logs()
    assert line["message"] == "request failed"
    assert {
        key: line[key] for key in ("correlation_id", "use_case", "model", "status", "error_code", "upstream_error")
    } == {
        "correlation_id": CORRELATION_ID,
        "use_case": "productivity/summarize",
        "model": MODEL_ID,
        "status": 504,
        "error_code": "model_timeout",
        "upstream_error": "ModelTimeoutException",
    }


def test_log_keys_of_one_request_do_not_leak_into_the_next(call, bedrock, logs):
    call("/productivity/summarize", {"text": ""})  # a use case: its keys are appended
    call("/productivity/poem", {"text": "x"})  # no use case

    first, second = logs()
    assert first["use_case"] == "productivity/summarize"
    assert "use_case" not in second and "model" not in second


def test_no_prompt_or_reply_text_reaches_the_logs_or_the_metrics(call, bedrock, emf, logs):
    prompt_marker, reply_marker = "MARKER-5e1f-prompt", "MARKER-9a7b-reply"
    expect_text(bedrock, f"Answer {reply_marker}", tokens=(40, 9))

    response = call("/productivity/summarize", {"text": f"Confidential {prompt_marker}", "language": "pt-BR"})

    assert response.status == 200
    printed = json.dumps(emf()) + json.dumps(logs())
    assert '"InputTokens": [40.0]' in printed  # the metrics and the log line are there...
    assert prompt_marker not in printed and reply_marker not in printed  # ...and the text is not


# --- tracing ------------------------------------------------------------------------------------------------------


class RecordingSubsegment:
    def __init__(self, name: str) -> None:
        self.name = name
        self.annotations: dict[str, Any] = {}
        self.metadata: list[Any] = []

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata.append((key, value, namespace))


class RecordingProvider:
    """Stands in for the X-Ray recorder: records the subsegments the handler opens (tracing is off in tests)."""

    def __init__(self) -> None:
        self.subsegments: list[RecordingSubsegment] = []

    @contextmanager
    def in_subsegment(self, name: str, **_: Any) -> Any:
        subsegment = RecordingSubsegment(name)
        self.subsegments.append(subsegment)
        yield subsegment


def test_the_bedrock_call_is_a_subsegment_annotated_with_the_use_case_and_the_model(
    call, bedrock, handler, monkeypatch
):
    provider = RecordingProvider()
    monkeypatch.setattr(handler.tracer, "provider", provider)
    monkeypatch.setattr(handler.tracer, "disabled", False)
    reply_marker = "MARKER-3c4d-reply"
    expect_text(bedrock, f"Resumo {reply_marker}")

    response = call("/productivity/summarize", {"text": "Um texto."})

    assert response.status == 200
    by_name = {subsegment.name: subsegment for subsegment in provider.subsegments}
    assert set(by_name) == {"## lambda_handler", "## bedrock.converse"}
    assert by_name["## bedrock.converse"].annotations == {"use_case": "productivity/summarize", "model": MODEL_ID}
    assert by_name["## lambda_handler"].annotations["Service"] == SERVICE
    # The handler's response holds the model's output: it is never attached to the trace.
    assert reply_marker not in json.dumps([s.metadata for s in provider.subsegments], default=str)


def test_a_retried_answer_is_counted_with_the_tokens_of_both_calls(call, bedrock, emf, logs):
    body = ROUTES["/process-optimization/extract"][0]
    bedrock.add_response(
        "converse", converse_tool_response("record_extracted_fields", {"number": 7}, tokens=(300, 10))
    )  # not a string
    bedrock.add_response(
        "converse", converse_tool_response("record_extracted_fields", {"number": "7"}, tokens=(330, 12))
    )

    response = call("/process-optimization/extract", body)

    assert response.status == 200, response.body
    (use_case,) = request_metrics(emf())
    assert use_case["values"]["OutputRetries"] == [1.0]
    assert (use_case["values"]["InputTokens"], use_case["values"]["OutputTokens"]) == ([630.0], [22.0])
    (completed,) = [line for line in logs() if line["message"] == "use case completed"]
    assert completed["attempts"] == 2


def test_a_first_time_answer_has_no_retry_metric(call, bedrock, emf):
    bedrock.add_response("converse", converse_tool_response("record_extracted_fields", {"number": "7"}))

    call("/process-optimization/extract", ROUTES["/process-optimization/extract"][0])

    assert all("OutputRetries" not in view["values"] for view in request_metrics(emf()))


# --- what counts as a model error ------------------------------------------------------------------------------


def test_every_fault_code_counts_as_a_model_error():
    import telemetry
    from genai_core.bedrock import FAULTS

    assert {fault.code for fault in FAULTS} <= telemetry.MODEL_ERROR_CODES
    assert {"quota_exceeded", "daily_quota_exceeded", "model_configuration_error"} <= telemetry.MODEL_ERROR_CODES


# --- a search of the knowledge base ------------------------------------------------------------------------------------


def test_a_search_records_its_retrieve_latency_and_without_a_model_call_no_tokens_nor_bedrock_latency(
    call, bedrock, knowledge_base, emf, logs
):
    knowledge_base.add_response("retrieve", {"retrievalResults": []})  # nothing found: no Converse call

    response = call("/productivity/search", {"question": "Quem fundou a Ipê Bikes?"})

    assert response.status == 200 and response.body["stopReason"] == "nothing_retrieved"
    (document,) = request_metrics(emf())
    assert document["dimension_values"] == use_case_dimensions("productivity", "search")
    assert set(document["values"]) == {"Requests", "RetrievalLatency"}
    (completed,) = [line for line in logs() if line["message"] == "use case completed"]
    assert (completed["passages"], completed["attempts"], completed["input_tokens"]) == (0, 0, 0)
    assert document["values"]["RetrievalLatency"] == [float(completed["retrieval_latency_ms"])]
