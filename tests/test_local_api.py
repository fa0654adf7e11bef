"""`make local` (tools/local_api.py): the event builder against API Gateway's shape, then the server itself over
real HTTP on 127.0.0.1 (an ephemeral port, the server in a thread), driving the real handler with Bedrock stubbed
(botocore's Stubber on the handler's client, fixture ``bedrock``), and its start-up message and hints without
credentials. Only these tests, and only to 127.0.0.1, open sockets.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import http.client
import io
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import ANY

import caller
from endpoints import UPLOADS_PATH
from genai_core import settings
from stacks import outputs
from stacks.config import load_config
from tests.sigv4_api import STACK
from tests.support import (
    API_STACK,
    CDK_CONTEXT,
    EVENTS,
    ROOT,
    cdk_context,
    converse_text_response,
    converse_tool_response,
    guardrail_config,
    usage,
)
from tests.test_infrastructure import api_function
from tools import client, local_api
from tools.fake_bedrock import FAKE_KNOWLEDGE_BASE_ID

SAMPLE = json.loads((EVENTS / "apigw-rest-proxy.json").read_text())
STAGE = CDK_CONTEXT["stageName"]
MODELS = CDK_CONTEXT["models"]
EXAMPLES = ROOT / "examples"
# The caller's environment without a guardrail (conftest's function environment has one for the handler tests).
CALLER_ENV = {key: value for key, value in os.environ.items() if not key.startswith("GUARDRAIL_")}


def http_request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection(local_api.HOST, port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# --- the event ----------------------------------------------------------------------------------------------------


def request_of(
    method: str = "POST",
    target: str = "/productivity/summarize",
    body: bytes = b'{"text": "x"}',
    headers: list[tuple[str, str]] | None = None,
) -> local_api.HttpRequest:
    headers = (
        headers
        if headers is not None
        else [("Host", "127.0.0.1:3000"), ("Content-Type", "application/json"), ("User-Agent", "curl/8.5.0")]
    )
    return local_api.HttpRequest(
        method, target, headers, body, client_ip="127.0.0.1", protocol="HTTP/1.1", server_port=3000
    )


def build(request: local_api.HttpRequest) -> dict[str, Any]:
    return local_api.build_event(
        request, stage=STAGE, request_id="req-1", now=datetime(2026, 11, 29, 7, 5, 9, tzinfo=UTC)
    )


def test_the_event_has_the_keys_and_value_types_of_api_gateways_rest_proxy_event():
    event = build(
        request_of(
            target="/productivity/summarize?a=1&a=2&b=",
            headers=[("Host", "h"), ("Accept", "x"), ("Accept", "y"), ("User-Agent", "ua")],
        )
    )

    def same_shape(built: dict[str, Any], sample: dict[str, Any], where: str) -> None:
        assert set(built) == set(sample), where
        for key, value in sample.items():
            if key in ("requestContext", "identity"):
                same_shape(built[key], value, f"{where}.{key}")
            elif value is not None and built[key] is not None:  # null where API Gateway has nothing to send
                assert type(built[key]) is type(value), f"{where}.{key}"

    # The identity also has the two fields API Gateway fills in for a request with an API key (the sample has none).
    sample = copy.deepcopy(SAMPLE)
    sample["requestContext"]["identity"] |= {"apiKey": None, "apiKeyId": None}
    same_shape(event, sample, "event")
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", SAMPLE["requestContext"]["requestTime"])
    assert event["requestContext"]["requestTime"] == "29/Nov/2026:07:05:09 +0000"
    assert event["requestContext"]["requestTimeEpoch"] == 1795935909000


def test_the_event_carries_the_request_as_api_gateway_would():
    event = build(
        request_of(
            target="/productivity/summarize?a=1&a=2&b=",
            headers=[("Host", "h"), ("Accept", "x"), ("Accept", "y"), ("User-Agent", "ua")],
        )
    )

    assert (event["path"], event["resource"], event["httpMethod"]) == ("/productivity/summarize",) * 2 + ("POST",)
    assert (event["body"], event["isBase64Encoded"]) == ('{"text": "x"}', False)
    assert event["queryStringParameters"] == {"a": "2", "b": ""}  # the last value, as API Gateway does
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["headers"]["Accept"] == "y"
    assert event["multiValueHeaders"]["Accept"] == ["x", "y"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1" and event["headers"]["X-Forwarded-Proto"] == "http"
    context = event["requestContext"]
    assert (context["stage"], context["path"], context["resourcePath"]) == (
        STAGE,
        f"/{STAGE}/productivity/summarize",
        "/productivity/summarize",
    )
    assert (context["requestId"], context["httpMethod"], context["protocol"]) == ("req-1", "POST", "HTTP/1.1")
    assert context["identity"]["sourceIp"] == "127.0.0.1" and context["identity"]["userAgent"] == "ua"


@pytest.mark.parametrize("mode", caller.AUTH_MODES)
def test_every_local_request_comes_from_the_documented_local_identity(mode):
    request = request_of()
    now = datetime(2026, 11, 29, 7, 5, 9, tzinfo=UTC)

    event = local_api.build_event(request, stage=STAGE, request_id="req-1", now=now, auth_mode=mode)
    context = local_api.request_context(request, stage=STAGE, request_id="req-1", now=now, auth_mode=mode)

    assert event["requestContext"] == context  # the buffered and the streaming route: one request context
    expected = {"iam": "iam:arn:aws:iam::000000000000:user/make-local", "api-key": "apikey:make-local"}[mode]
    assert caller.owner(context, mode) == expected  # as docs/development.md says
    assert context["identity"]["apiKey"] is None  # no secret stands in for a key that nothing checks


def test_the_stage_prefix_is_optional_an_empty_body_is_null_and_other_bytes_are_base64():
    assert build(request_of(target=f"/{STAGE}/use-cases", method="GET", body=b""))["path"] == "/use-cases"
    event = build(request_of(method="GET", body=b""))
    assert (event["body"], event["isBase64Encoded"], event["queryStringParameters"]) == (None, False, None)

    event = build(request_of(body=b'{"text": "\xff\xfe"}'))

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b'{"text": "\xff\xfe"}'


def test_a_proxy_response_merges_its_headers_and_decodes_a_base64_body():
    response = local_api.proxy_response(
        {
            "statusCode": 429,
            "headers": {"Retry-After": "2", "X-One": "a"},
            "multiValueHeaders": {"x-one": ["b", "c"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )

    assert response.status == 429
    assert sorted(response.headers) == [("Retry-After", "2"), ("x-one", "b"), ("x-one", "c")]
    assert list(response.chunks) == [b"\x00\x01"]


def test_the_local_environment_is_the_deployed_functions_from_the_same_config(templates):
    config = local_api.load_local_config()
    aws = local_api.AwsSetup("us-west-2", "AWS_REGION", "env")
    deployed = dict(api_function(templates[API_STACK])["Environment"]["Variables"])
    deployed.pop("GUARDRAILS")  # the stack's guardrails: none locally unless GUARDRAIL_ID names a deployed one
    deployed.pop("KNOWLEDGE_BASE_ID")  # the stack's knowledge base: locally, the deployed one's id (or none)
    deployed.pop(settings.UPLOADS_BUCKET)  # the stack's bucket: none locally unless UPLOADS_BUCKET names a deployed one
    uploads = {name: deployed.pop(name) for name in (settings.UPLOADS_URL_SECONDS, settings.UPLOADS_MAX_AGE_SECONDS)}
    uploads[settings.FILES_FROM_S3] = deployed.pop(settings.FILES_FROM_S3)
    # The stack's conversation table (a reference): locally, a table named on the command line, else none (off).
    conversations = {
        key: deployed.pop(key) for key in list(deployed) if key.startswith(("CONVERSATIONS_", "PROMPT_CACHE"))
    }

    assert local_api.local_environment(config, aws, {}, "KBDEPLOYED") == {
        **deployed,
        "GUARDRAILS": "{}",
        "KNOWLEDGE_BASE_ID": "KBDEPLOYED",
        "AWS_REGION": "us-west-2",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    assert "KNOWLEDGE_BASE_ID" not in local_api.local_environment(config, aws, {})  # none: search is not served
    with_bucket = local_api.local_environment(config, aws, {settings.UPLOADS_BUCKET: "my-stacks-uploads-bucket"})
    assert with_bucket == {
        **local_api.local_environment(config, aws, {}),
        **uploads,
        settings.UPLOADS_BUCKET: "my-stacks-uploads-bucket",
    }
    with_table = local_api.local_environment(
        config, aws, {}, conversations_table="GenAiReferenceApi-ConversationsTable"
    )
    assert {key: with_table[key] for key in conversations} == {
        **conversations,
        "CONVERSATIONS_TABLE": "GenAiReferenceApi-ConversationsTable",
    }
    guarded = json.loads(local_api.local_environment(config, aws, {"GUARDRAIL_ID": "gr123"})["GUARDRAILS"])
    assert guarded == {family: {"id": "gr123", "version": "DRAFT"} for family in config.guardrail.families}


# --- the knowledge base make local searches -----------------------------------------------------------------------


def test_make_local_searches_the_knowledge_base_of_the_deployed_stack(cloudformation):
    config = local_api.load_local_config()
    aws = local_api.AwsSetup("us-east-1", "AWS_REGION", "env")
    client = cloudformation(
        outputs=[
            {"OutputKey": "ApiUrl", "OutputValue": "https://abc.execute-api.us-east-1.amazonaws.com/v1/"},
            {"OutputKey": outputs.KNOWLEDGE_BASE_ID, "OutputValue": "KBDEPLOYED"},
        ]
    )

    found = local_api.find_knowledge_base(config, aws, {}, fake=False, cloudformation=client)

    assert (found.knowledge_base_id, found.source) == (
        "KBDEPLOYED",
        f"the {outputs.KNOWLEDGE_BASE_ID} output of {STACK}",
    )


@pytest.mark.parametrize(
    ("outputs", "error", "says"),
    [
        (None, f"Stack with id {STACK} does not exist", "none found"),
        ([{"OutputKey": "ApiUrl", "OutputValue": "https://x/v1/"}], None, f"has no {outputs.KNOWLEDGE_BASE_ID} output"),
    ],
)
def test_without_a_deployed_knowledge_base_make_local_says_why_and_serves_no_search(
    cloudformation, outputs, error, says
):
    config = local_api.load_local_config()
    aws = local_api.AwsSetup("us-east-1", "AWS_REGION", "env")
    client = cloudformation(outputs=outputs, error=error)

    found = local_api.find_knowledge_base(config, aws, {}, fake=False, cloudformation=client)

    assert found.knowledge_base_id is None and says in found.source


def test_knowledge_base_id_wins_and_the_fake_and_the_config_need_no_lookup():
    config = local_api.load_local_config()
    aws = local_api.AwsSetup("us-east-1", "AWS_REGION", None)
    given = local_api.find_knowledge_base(config, aws, {"KNOWLEDGE_BASE_ID": "KBMINE0001"}, fake=False)
    assert given == local_api.LocalKnowledgeBase("KBMINE0001", "KNOWLEDGE_BASE_ID")
    fake = local_api.find_knowledge_base(config, aws, {}, fake=True)
    assert fake.knowledge_base_id == FAKE_KNOWLEDGE_BASE_ID and "examples/corpus" in fake.source
    assert "no usable credentials" in local_api.find_knowledge_base(config, aws, {}, fake=False).source
    off = dataclasses.replace(config, knowledge_base=dataclasses.replace(config.knowledge_base, enabled=False))
    assert (
        local_api.find_knowledge_base(off, aws, {"KNOWLEDGE_BASE_ID": "KBMINE0001"}, fake=True).knowledge_base_id
        is None
    )


@pytest.mark.parametrize("code", sorted(local_api.KNOWLEDGE_BASE_CODES))
def test_a_knowledge_base_the_local_set_up_cannot_search_gets_a_hint(code):
    hint = local_api.hint_for(code, None, models=["m"], region="us-east-1", credentials_found=True)
    assert hint is not None and "make deploy" in hint and "make ingest" in hint and "bedrock:Retrieve" in hint


def test_the_region_is_aws_region_else_botocores_else_the_models_geography(monkeypatch):
    config = local_api.load_local_config()
    session = botocore.session.Session()

    assert local_api.inspect_aws(session, {"AWS_REGION": "eu-west-1"}, config).region == "eu-west-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert local_api.inspect_aws(botocore.session.Session(), {}, config).region == "us-west-2"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert local_api.inspect_aws(botocore.session.Session(), {}, config).region == "us-east-1"
    eu = load_config(cdk_context(models=dict.fromkeys(MODELS, "eu.amazon.nova-2-lite-v1:0")))
    assert (
        local_api.inspect_aws(botocore.session.Session(), {}, eu).region
        == CDK_CONTEXT["inferenceProfileRegions"]["eu"][0]
    )


# --- the server -----------------------------------------------------------------------------------------------------


@dataclass
class Local:
    port: int
    output: str
    api: local_api.LocalApi

    def call(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None
    ) -> tuple[int, http.client.HTTPMessage, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False).encode())
        status, headers, payload = http_request(
            self.port, method, path, data, {"Content-Type": "application/json"} if data is not None else {}
        )
        return status, headers, json.loads(payload)


@pytest.fixture
def serve(handler) -> Iterator[Callable[..., Local]]:
    """Start the local server as ``make local`` does (minus serving forever), on an ephemeral port, in a thread."""
    started = []

    def start(
        session: Any = None, check: bool = False, environ: dict[str, str] | None = None, fake: bool = False
    ) -> Local:
        out = io.StringIO()
        server, function = local_api.start(
            0,
            environ=dict(CALLER_ENV if environ is None else environ),
            session=session or botocore.session.Session(),
            check=check,
            out=out,
            quiet=True,
            fake=fake,
        )
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((server, function, thread))
        return Local(server.server_address[1], out.getvalue(), server.RequestHandlerClass.api)  # type: ignore[attr-defined]

    yield start
    for server, function, thread in started:
        server.shutdown()
        server.server_close()
        function.close()
        thread.join(timeout=5)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_text_task_answers_200_through_the_real_handler(serve, bedrock, converse_calls):
    example = json.loads((EXAMPLES / "productivity" / "summarize.json").read_text())
    bedrock.add_response(
        "converse",
        converse_text_response("- Revenue grew 12%.", tokens=(398, 83)),
        # The handler module is imported once per test session, with the tests' environment and its guardrails.
        {
            "modelId": MODELS["productivity"],
            "system": ANY,
            "messages": ANY,
            "inferenceConfig": ANY,
            "guardrailConfig": guardrail_config("productivity"),
        },
    )
    local = serve()

    status, headers, body = local.call("POST", "/productivity/summarize", example)

    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert body == {
        "useCase": "productivity/summarize",
        "output": {"summary": "- Revenue grew 12%."},
        "model": MODELS["productivity"],
        "usage": usage(398, 83),
        "stopReason": "end_turn",
        "guardrail": {"action": "NONE"},
    }
    assert example["text"] in json.dumps(converse_calls[0]["messages"], ensure_ascii=False)
    assert local_api.HINT_HEADER not in headers


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_structured_task_answers_200_under_the_stage_prefix_too(serve, bedrock, handler):
    example = json.loads((EXAMPLES / "process-optimization" / "classify.json").read_text())
    answer = {"category": example["categories"][0], "confidence": 0.92, "rationale": "Um Pix em processamento."}
    tool = handler.catalog.get("process-optimization/classify").tool_name
    bedrock.add_response("converse", converse_tool_response(tool, answer), None)
    local = serve()

    status, _, body = local.call("POST", f"/{STAGE}/process-optimization/classify", example)

    assert status == 200
    assert (body["useCase"], body["output"], body["stopReason"]) == (
        "process-optimization/classify",
        answer,
        "tool_use",
    )


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_errors_come_back_as_the_handlers_envelope(serve, bedrock):
    local = serve()

    status, _, body = local.call("POST", "/productivity/summarize", {})
    assert (status, body["error"]["code"]) == (400, "validation_error")
    status, _, body = local.call("GET", "/no/such/route")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, headers, body = local.call("GET", "/productivity/summarize")
    assert (status, body["error"]["code"], headers["Allow"]) == (405, "method_not_allowed", "POST")
    status, _, body = local.call("POST", "/productivity/summarize", raw=b'{"text": "caf\xe9"}')  # Latin-1, not UTF-8
    assert (status, body["error"]["code"]) == (400, "invalid_encoding")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_get_use_cases_lists_the_catalog(serve, handler):
    local = serve()

    status, _, body = local.call("GET", "/use-cases")

    assert status == 200
    assert body == json.loads(json.dumps(handler.catalog.describe()))
    assert len([u for family in body["families"] for u in family["useCases"]]) == len(handler.catalog)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_handler_gets_a_fresh_request_id_and_the_functions_timeout(serve, handler, monkeypatch):
    seen: list[tuple[dict[str, Any], int, str]] = []
    real = handler.lambda_handler

    def spy(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append((event, context.get_remaining_time_in_millis(), context.aws_request_id))
        return real(event, context)

    monkeypatch.setattr(handler, "lambda_handler", spy)
    local = serve()
    local.call("GET", "/use-cases")
    local.call("GET", "/use-cases")

    (first, remaining, request_id), (second, _, _) = seen
    assert first["requestContext"]["requestId"] != second["requestContext"]["requestId"]
    assert first["requestContext"]["stage"] == STAGE and first["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert CDK_CONTEXT["lambdaTimeoutSeconds"] * 1000 - 2000 < remaining <= CDK_CONTEXT["lambdaTimeoutSeconds"] * 1000
    assert re.fullmatch(r"[0-9a-f-]{36}", request_id)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_crash_of_the_function_is_a_502_envelope_and_a_traceback_on_the_console(serve, handler, monkeypatch, capsys):
    def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(handler, "lambda_handler", crash)
    local = serve()

    status, _, body = local.call("GET", "/use-cases")

    assert (status, body["error"]["code"]) == (502, "local_invocation_failed")
    assert "RuntimeError: boom" in capsys.readouterr().err


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_throttling_keeps_its_retry_after_header(serve, bedrock):
    bedrock.add_client_error(
        "converse", service_error_code="ThrottlingException", service_message="slow down", http_status_code=429
    )
    local = serve()

    status, headers, body = local.call("POST", "/productivity/summarize", {"text": "Hello."})

    assert (status, headers["Retry-After"], body["error"]["code"]) == (429, "2", "throttled")
    assert local_api.HINT_HEADER not in headers


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(
    ("bedrock_error", "status", "code", "fix"),
    [
        ("AccessDeniedException", 502, "upstream_access_denied", "Model catalog"),
        ("ResourceNotFoundException", 502, "model_not_found", "export AWS_REGION="),
        ("ExpiredTokenException", 500, "bedrock_credentials_error", "aws sso login"),
        ("UnrecognizedClientException", 500, "bedrock_credentials_error", "aws configure"),
    ],
)
def test_errors_the_local_set_up_causes_carry_a_hint(serve, bedrock, bedrock_error, status, code, fix):
    bedrock.add_client_error("converse", service_error_code=bedrock_error, service_message="no", http_status_code=403)
    local = serve()

    got, headers, body = local.call("POST", "/productivity/summarize", {"text": "Hello."})

    assert (got, body["error"]["code"]) == (status, code)
    assert fix in headers[local_api.HINT_HEADER]
    assert body["error"]["hint"] == headers[local_api.HINT_HEADER]
    assert set(body["error"]) == {"code", "message", "hint"}


def test_the_region_hint_names_the_regions_cdk_json_gives_the_profiles_geography():
    config = local_api.load_local_config()
    target = config.models["productivity"]
    regions = CDK_CONTEXT["inferenceProfileRegions"][target.model_id.split(".")[0]]

    hint = local_api.hint_for(
        "model_not_found",
        "ResourceNotFoundException",
        models=[target.model_id],
        region="sa-east-1",
        credentials_found=True,
        regions=local_api.profile_regions(config, [target.model_id]),
    )

    assert hint is not None and f"({', '.join(regions)}: cdk.json's inferenceProfileRegions)" in hint
    assert f"export AWS_REGION={regions[0]}" in hint
    # A foundation model (no profile) routes nowhere else: the hint names no region list.
    foundation = load_config(cdk_context(models=dict.fromkeys(MODELS, target.foundation_model)))
    assert local_api.profile_regions(foundation, [target.foundation_model]) == []


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_an_upstream_fault_with_credentials_gets_no_hint(serve, bedrock):
    bedrock.add_client_error(
        "converse", service_error_code="InternalServerException", service_message="boom", http_status_code=500
    )
    local = serve()

    status, headers, body = local.call("POST", "/productivity/summarize", {"text": "Hello."})

    assert (status, body["error"]["code"]) == (502, "upstream_error")
    assert local_api.HINT_HEADER not in headers and "hint" not in body["error"]


@pytest.fixture
def no_credentials(monkeypatch, handler) -> Any:
    """A botocore session that finds no credentials (no keys in the environment, no files, no instance metadata),
    and the handler's Bedrock client replaced by one built from it, as the handler builds it without credentials."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    session = botocore.session.Session()
    assert session.get_credentials() is None
    monkeypatch.setattr(handler.service, "client", session.create_client("bedrock-runtime", region_name="us-east-1"))
    return session


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_without_credentials_it_starts_says_how_to_fix_it_and_hints_on_each_failure(serve, no_credentials):
    environ = {key: value for key, value in CALLER_ENV.items() if not key.startswith("AWS_")}
    local = serve(session=no_credentials, check=True, environ=environ)

    output = local.output
    assert re.search(r"^  credentials\s+none found$", output, re.MULTILINE)
    assert re.search(r"^  region\s+us-east-1 \(none configured", output, re.MULTILINE)
    for model in set(MODELS.values()):
        assert model in output
    assert re.search(r"^  guardrail\s+none locally", output, re.MULTILINE)
    assert re.search(r"^  model access\s+not checked \(no usable credentials\)$", output, re.MULTILINE)
    message = " ".join(output.split())
    assert "No AWS credentials found." in message
    assert "every use case will answer 500 bedrock_credentials_error with a hint" in message
    for fix in ("aws configure", "export AWS_PROFILE=<profile>", "aws sso login", "Model catalog"):
        assert fix in message

    status, headers, body = local.call("POST", "/productivity/summarize", {"text": "Hello."})

    # Bedrock never saw the request: the core says it is the function's credentials, not the model.
    assert (status, body["error"]["code"]) == (500, "bedrock_credentials_error")
    assert "NoCredentialsError" in headers[local_api.HINT_HEADER] and "aws sso login" in headers[local_api.HINT_HEADER]
    status, _, _ = local.call("GET", "/use-cases")
    assert status == 200  # what needs no model still works


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_with_credentials_it_checks_each_model_with_a_one_token_call(serve, bedrock):
    model = MODELS["productivity"]
    assert set(MODELS.values()) == {model}  # one distinct model by default: one call
    probe = {
        "modelId": model,
        "messages": [{"role": "user", "content": [{"text": "Reply with OK."}]}],
        "inferenceConfig": {"maxTokens": 1},
    }
    bedrock.add_client_error(
        "converse",
        service_error_code="AccessDeniedException",
        service_message="no access",
        http_status_code=403,
        expected_params=probe,
    )

    output = serve(check=True).output

    assert re.search(r"^  credentials\s+env, access key \.\.\.ting$", output, re.MULTILINE)
    assert f"{model}: upstream_access_denied (AccessDeniedException)" in output
    assert "Model catalog" in " ".join(output.split())

    bedrock.add_response("converse", converse_text_response("OK", tokens=(9, 1)), probe)
    assert f"{model}: ok" in serve(check=True).output


def test_a_profile_that_does_not_exist_stops_the_start_with_a_message(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # botocore would answer the region from it without reading the profile

    for environ in ({}, {"AWS_REGION": "us-east-1"}):
        with pytest.raises(
            local_api.LocalSetupError, match=r"\(no-such-profile\) could not be found. Fix: `aws configure --profile"
        ):
            local_api.inspect_aws(botocore.session.Session(), environ, local_api.load_local_config())


def test_a_region_outside_the_profiles_geography_is_called_out():
    config = local_api.load_local_config()
    message = local_api.startup_message(config, local_api.AwsSetup("eu-west-1", "AWS_REGION", "env"), {}, 3000, None)

    assert "export AWS_REGION=us-east-1" in message


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_route_can_stream_its_body_in_chunks_as_they_are_produced(serve):
    """The dispatcher takes another route beside the function's (the SSE chat stream will be one): its chunks are
    written and flushed one by one. The second chunk waits until the test has read the first."""
    local = serve()
    first_read = threading.Event()
    waited: list[bool] = []

    def stream(_: local_api.HttpRequest) -> local_api.HttpResponse:
        def chunks() -> Iterator[bytes]:
            yield b'event: delta\ndata: {"text":"Ol\xc3\xa1"}\n\n'
            waited.append(first_read.wait(timeout=5))
            yield b"event: done\ndata: {}\n\n"

        return local_api.HttpResponse(200, {"Content-Type": "text/event-stream"}, chunks(), streamed=True)

    local.api.routes["/customer-experience/chat/stream"] = stream
    connection = http.client.HTTPConnection(local_api.HOST, local.port, timeout=10)
    connection.request("POST", "/customer-experience/chat/stream", body=b"{}")
    response = connection.getresponse()

    assert (response.status, response.headers["Transfer-Encoding"], response.headers["Content-Type"]) == (
        200,
        "chunked",
        "text/event-stream",
    )
    assert response.read1(65536) == 'event: delta\ndata: {"text":"Olá"}\n\n'.encode()
    first_read.set()
    assert response.read() == b"event: done\ndata: {}\n\n"
    assert waited == [True]  # the first chunk arrived while the second was still being produced
    connection.close()


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_body_over_api_gateways_limit_is_refused_before_it_is_read(serve):
    local = serve()
    connection = http.client.HTTPConnection(local_api.HOST, local.port, timeout=10)
    connection.putrequest("POST", "/productivity/summarize")
    connection.putheader("Content-Length", str(local_api.MAX_BODY_BYTES + 1))
    connection.endheaders()
    response = connection.getresponse()

    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "REQUEST_TOO_LARGE"
    connection.close()


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_chunked_request_body_is_read(serve, bedrock):
    bedrock.add_response("converse", converse_text_response("Short."), None)
    local = serve()
    connection = http.client.HTTPConnection(local_api.HOST, local.port, timeout=10)
    connection.request(
        "POST",
        "/productivity/summarize",
        body=iter([b'{"text": ', b'"Hello."}']),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()

    assert response.status == 200
    assert json.loads(response.read())["output"] == {"summary": "Short."}
    connection.close()


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_client_calls_the_local_server(serve, bedrock):
    bedrock.add_response("converse", converse_text_response("A summary."), None)
    local = serve()
    out, err = io.StringIO(), io.StringIO()

    code = client.main(
        ["productivity/summarize", "--local", "--port", str(local.port)], session=boto3.Session(), out=out, err=err
    )

    assert code == 0, err.getvalue()
    assert json.loads(out.getvalue())["output"] == {"summary": "A summary."}
    assert f"POST http://127.0.0.1:{local.port}/productivity/summarize -> 200 OK" in err.getvalue()

    bedrock.add_client_error(
        "converse", service_error_code="AccessDeniedException", service_message="no", http_status_code=403
    )
    out, err = io.StringIO(), io.StringIO()
    code = client.main(
        ["productivity/summarize", "--local", "--port", str(local.port)], session=boto3.Session(), out=out, err=err
    )
    assert code == 1
    assert json.loads(out.getvalue())["error"]["code"] == "upstream_access_denied"
    assert "hint: Your credentials may not invoke" in err.getvalue()


def test_make_local_is_a_target_that_sets_itself_up_and_make_help_lists_it():
    makefile = (ROOT / "Makefile").read_text()

    assert re.search(r"^local: \$\(PY_STAMP\)\n\t\$\(PY\) -m tools\.local_api", makefile, re.MULTILINE)
    assert re.search(r"^#   make local ", makefile, re.MULTILINE)
    assert re.search(r"^#   .*python -m tools\.client", makefile, re.MULTILINE)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_make_local_streams_the_chat_through_the_streaming_adapter(serve, monkeypatch):
    """The real route: POST /customer-experience/chat/stream goes to stream_app.handle (ConverseStream faked at its
    client), and the deltas reach the caller as Server-Sent Events, then the final event."""
    import stream_app
    from genai_core import sse

    local = serve()
    events = [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "Olá! "}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": "Tudo bem?"}, "contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        {"metadata": {"usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13}, "metrics": {"latencyMs": 5}}},
    ]
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        stream_app.bedrock_client,
        "converse_stream",
        lambda **request: calls.append(request) or {"stream": iter(events)},
    )
    body = json.dumps({"messages": [{"role": "user", "content": "Oi"}]}).encode()

    status, headers, raw = http_request(local.port, "POST", f"/{local.api.stage}/customer-experience/chat/stream", body)

    assert (status, headers["Transfer-Encoding"]) == (200, "chunked")
    parsed = sse.parse(raw)
    assert parsed[:2] == [("delta", {"text": "Olá! "}), ("delta", {"text": "Tudo bem?"})]
    assert parsed[2][0] == "done" and parsed[2][1]["usage"] == {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13}
    assert calls[0]["messages"] == [{"role": "user", "content": [{"text": "Oi"}]}]
    # Before the first byte, the usual JSON error.
    status, _, raw = http_request(local.port, "POST", "/customer-experience/chat/stream", b'{"messages": []}')
    assert (status, json.loads(raw)["error"]["code"]) == (400, "validation_error")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_both_local_routes_run_for_the_local_identity_whatever_the_client_sends(serve, handler, monkeypatch):
    """The buffered route's event and the streaming route's request context carry the local identity; a client's own
    x-amzn-request-context header is not passed on (as the Lambda Web Adapter is believed to replace it)."""
    import stream_app

    seen: list[Any] = []
    for module, name in ((handler.service, "run"), (stream_app, "open_stream")):

        def refuse(*_: Any, caller: Any = None, **__: Any) -> Any:
            seen.append(caller)
            raise RuntimeError("recorded")  # a 500 envelope; only the caller matters here

        monkeypatch.setattr(module, name, refuse)
    local = serve()
    forged = json.dumps({"identity": {"userArn": "arn:aws:iam::999999999999:user/mallory"}})
    headers = {"Content-Type": "application/json", "x-amzn-request-context": forged}

    http_request(local.port, "POST", "/customer-experience/chat", b'{"messages": []}', headers)
    http_request(local.port, "POST", "/customer-experience/chat/stream", b'{"messages": []}', headers)

    mode = CDK_CONTEXT["authMode"]
    assert seen == [caller.owner({"identity": local_api.LOCAL_IDENTITY[mode]}, mode)] * 2


# --- HTTP: every answer is the envelope ------------------------------------------------------------------------------


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_404_lists_every_route_the_local_server_serves_the_streaming_ones_too(serve, handler):
    import stream_app

    local = serve()

    status, _, body = local.call("POST", "/no/such/route", {})

    assert (status, body["error"]["code"]) == (404, "not_found")
    listed = body["error"]["message"].split("Routes: ")[1].rstrip(".").split(", ")
    assert listed == sorted({*handler.ROUTES, *stream_app.ROUTES})
    assert set(stream_app.ROUTES) <= set(listed)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_head_trace_and_other_methods_get_the_functions_envelope_not_an_html_501(serve):
    local = serve()

    for method in ("TRACE", "PROPFIND", "CONNECT"):
        status, headers, raw = http_request(local.port, method, "/productivity/summarize")
        assert (status, headers["Content-Type"]) == (405, "application/json"), method
        assert json.loads(raw)["error"]["code"] == "method_not_allowed"
    connection = http.client.HTTPConnection(local_api.HOST, local.port, timeout=10)
    connection.request("HEAD", "/use-cases")
    response = connection.getresponse()
    assert (response.status, response.headers["Content-Type"], response.read()) == (405, "application/json", b"")
    assert int(response.headers["Content-Length"]) > 0  # the envelope's length; HEAD gets no body
    connection.request("GET", "/use-cases")  # the same connection: nothing of a body was left on it
    assert connection.getresponse().status == 200
    connection.close()


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_malformed_content_length_is_answered_with_the_envelope(serve):
    local = serve()

    for value in ("abc", "-1"):
        connection = http.client.HTTPConnection(local_api.HOST, local.port, timeout=5)
        connection.putrequest("POST", "/productivity/summarize")
        connection.putheader("Content-Length", value)
        connection.endheaders()
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())["error"]["code"]) == (400, "bad_request"), value
        assert response.headers["Connection"] == "close"
        connection.close()


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_busy_port_ends_make_local_with_one_line_naming_it(capsys):
    import socket

    with socket.create_server((local_api.HOST, 0)) as taken:
        port = taken.getsockname()[1]
        code = local_api.main(["--port", str(port), "--no-check"])

    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and err.startswith(f"local: port {port} on {local_api.HOST} is already in use")
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["abc", "-1", "65536", "80.5", "", " "])
def test_a_bad_port_ends_make_local_with_one_line_naming_it(monkeypatch, capsys, value):
    monkeypatch.setenv("PORT", value)

    code = local_api.main(["--no-check"]) if value.strip() else local_api.main(["--port", value, "--no-check"])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"local: {'PORT' if value.strip() else '--port'}={value!r} is not a port number")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_client_that_disconnects_mid_stream_leaves_one_log_line_and_no_traceback(serve, monkeypatch, logs, capsys):
    import socket
    import struct
    import time

    import stream_app

    released, closed = threading.Event(), threading.Event()

    def answer() -> Iterator[dict[str, Any]]:
        try:
            yield {"messageStart": {"role": "assistant"}}
            yield {"contentBlockDelta": {"delta": {"text": "Olá "}, "contentBlockIndex": 0}}
            released.wait(5)
            for _ in range(500):
                yield {"contentBlockDelta": {"delta": {"text": "mais "}, "contentBlockIndex": 0}}
        finally:
            closed.set()

    monkeypatch.setattr(stream_app.bedrock_client, "converse_stream", lambda **_: {"stream": answer()})
    local = serve()
    body = json.dumps({"messages": [{"role": "user", "content": "Oi"}]}).encode()
    with socket.create_connection((local_api.HOST, local.port), timeout=5) as connection:
        head = f"POST /customer-experience/chat/stream HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n"
        connection.sendall(head.encode() + body)
        received = b""
        while b"event: delta" not in received:
            received += connection.recv(65536)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset
    released.set()

    assert closed.wait(5)
    deadline = time.monotonic() + 5
    while not logs() and time.monotonic() < deadline:
        time.sleep(0.02)
    (line,) = logs()
    assert (line["message"], line["use_case"]) == ("client disconnected", "customer-experience/chat")
    assert "Traceback" not in capsys.readouterr().err


# --- make local --fake-bedrock ----------------------------------------------------------------------------------------


@pytest.fixture
def fake_local(serve, handler, monkeypatch) -> Local:
    """make local --fake-bedrock with no AWS credentials at all: none in the environment, and the function's two
    clients (buffered and streaming) built from a session that finds none; only 127.0.0.1 is reachable."""
    import stream_app

    for name in local_api.CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    session = botocore.session.Session()
    assert session.get_credentials() is None
    monkeypatch.setattr(handler.service, "client", session.create_client("bedrock-runtime", region_name="us-east-1"))
    monkeypatch.setattr(stream_app.service, "client", session.create_client("bedrock-runtime", region_name="us-east-1"))
    monkeypatch.setattr(local_api, "FAKE_STREAM_DELAY_SECONDS", 0)
    # The handler was imported once for the session, with the tests' uploads bucket; make local has none by default.
    monkeypatch.setattr(handler, "upload_store", lambda: None)
    monkeypatch.setattr(handler.service, "uploads", lambda: None)
    environ = {key: value for key, value in CALLER_ENV.items() if key not in local_api.CREDENTIAL_VARIABLES}
    return serve(session=session, check=True, environ=environ, fake=True)


def route_requests() -> list[tuple[str, str, Any]]:
    """(method, path, body) for every route of make local, from the catalog: each use case's route and its
    stream route if it has one (with its example request, or a sample of its input schema), and discovery."""
    import handler
    from genai_core.catalog import load_catalog
    from tools.schema_samples import sample

    requests: list[tuple[str, str, Any]] = [
        ("GET", "/use-cases", None),
        ("POST", UPLOADS_PATH, {"name": "a.pdf", "format": "pdf", "size": 1000}),
    ]
    if handler.KEEPS_CONVERSATIONS:
        requests.append(("GET", handler.CONVERSATIONS_PATH, None))
    for use_case in load_catalog():
        example = EXAMPLES / use_case.family / f"{use_case.task}.json"
        body = (
            json.loads(example.read_text())
            if example.exists()
            else sample(dict(use_case.input_schema), text="Olá", min_items=1)
        )
        requests.append(("POST", use_case.path, body))
        if use_case.stream_path:
            requests.append(("POST", use_case.stream_path, body))
        # The examples with a file (examples/<family>/<task>/*.json): inline files, which make local takes.
        for with_file in sorted((EXAMPLES / use_case.family / use_case.task).glob("*.json")):
            requests.append(("POST", use_case.path, json.loads(with_file.read_text(encoding="utf-8"))))
    return requests


def test_the_route_list_is_every_route_of_both_functions(handler):
    import stream_app

    assert {path for _, path, _ in route_requests()} == {*handler.ROUTES, *stream_app.ROUTES}


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_fake_bedrock_serves_every_route_with_no_credentials_and_says_it_is_fake(fake_local, handler, logs):
    import stream_app
    from genai_core import sse
    from tests.test_use_cases import contract_holds
    from tools.fake_bedrock import FAKE_TEXT, HEADER

    for method, path, request in route_requests():
        data = None if request is None else json.dumps(request, ensure_ascii=False).encode()
        status, headers, raw = http_request(fake_local.port, method, path, data)

        if path == UPLOADS_PATH:  # no uploads bucket locally by default: files go inline
            assert (status, json.loads(raw)["error"]["code"], headers[HEADER[0]]) == (
                400,
                "uploads_not_configured",
                "true",
            )
            continue
        assert (status, headers[HEADER[0]]) == (200, HEADER[1]), (path, raw)
        if path in stream_app.ROUTES:
            events = sse.parse(raw)
            deltas = [data["text"] for name, data in events if name == "delta"]
            assert len(deltas) > 2 and "".join(deltas) == FAKE_TEXT
            assert events[-1][0] == "done" and "fake" in events[-1][1]["model"]
        elif path in handler.ROUTES and method == "POST":
            body = json.loads(raw)
            assert "fake" in body["model"] and body["useCase"] == path.lstrip("/")
            contract_holds(body["useCase"], request, body["output"])  # the caller's enums, counts and ids hold
    completed = [line for line in logs() if line["message"] == "use case completed"]
    use_case_requests = [path for method, path, _ in route_requests() if method == "POST" and path != UPLOADS_PATH]
    # every use case, streamed or not; not discovery, uploads or the conversations' list
    assert len(completed) == len(use_case_requests)
    attached = [line["file_formats"] for line in completed if "file_formats" in line]
    assert len(attached) == sum(1 for _, _, body in route_requests() if body and "files" in body) > 0
    assert all(line.get("attempts", 1) == 1 for line in completed)  # every structured answer was valid at once


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_fake_bedrock_marks_errors_too_and_its_start_up_message_says_so(fake_local):
    from tools.fake_bedrock import HEADER, MODEL_PREFIX

    status, headers, body = fake_local.call("POST", "/productivity/summarize", {})
    assert (status, body["error"]["code"], headers[HEADER[0]]) == (400, "validation_error", "true")
    status, headers, body = fake_local.call("GET", "/no/such/route")
    assert (status, headers[HEADER[0]]) == (404, "true")
    assert local_api.HINT_HEADER not in headers

    output = fake_local.output
    assert "FAKE BEDROCK" in output and "X-Fake-Bedrock: true" in " ".join(output.split())
    for model in set(MODELS.values()):
        assert f"{MODEL_PREFIX}{model}" in output
    assert re.search(r"^  model access\s+not checked \(--fake-bedrock\)$", output, re.MULTILINE)
    assert re.search(rf"^  knowledge base\s+{FAKE_KNOWLEDGE_BASE_ID} \(fake: the sample corpus", output, re.MULTILINE)
    assert re.search(r"^  credentials\s+none, and none looked for", output, re.MULTILINE)
    assert "No AWS credentials found" not in output and "export AWS_REGION" not in output


def test_fake_bedrock_takes_the_callers_aws_set_up_out_of_the_functions_environment():
    environ = {"AWS_PROFILE": "work", "AWS_ACCESS_KEY_ID": "AKIA...", "AWS_REGION": "eu-west-1", "HOME": "/home/x"}

    aws = local_api.fake_aws(environ, local_api.load_local_config())

    assert (aws.region, aws.credentials) == ("eu-west-1", None)
    assert environ == {"AWS_REGION": "eu-west-1", "HOME": "/home/x", **local_api.NO_AWS_CONFIG}
    assert local_api.NO_AWS_CONFIG["AWS_EC2_METADATA_DISABLED"] == "true"  # botocore never asks the network


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_fake_bedrock_is_installed_on_both_functions_and_undone_by_the_cleanup(handler):
    import stream_app

    before = [(service.models, service.single_attempt_client) for service in (handler.service, stream_app.service)]
    server, cleanup = local_api.start(0, environ=dict(CALLER_ENV), out=io.StringIO(), quiet=True, fake=True)
    server.server_close()
    for service in (handler.service, stream_app.service):
        assert all(model.startswith("fake-bedrock/") for model in service.models.values())
        assert service.single_attempt_client() is service.client  # a single-attempt call goes to the same fake
        answer = service.client.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "Oi"}]}])
        assert answer["ResponseMetadata"]["RequestId"].startswith("fake-")

    cleanup.close()

    assert [
        (service.models, service.single_attempt_client) for service in (handler.service, stream_app.service)
    ] == before
    from botocore.stub import Stubber

    with Stubber(handler.service.client) as stubber:  # the call reaches the Stubber: the fake is gone
        stubber.add_response("converse", converse_text_response("real"), None)
        handler.service.client.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "Oi"}]}])
        stubber.assert_no_pending_responses()


# --- conversations --------------------------------------------------------------------------------------------------


def test_the_in_process_table_is_defined_as_the_stack_defines_it():
    from tests.conversations_support import table_properties, table_template

    synthesized = table_properties(table_template())
    local = local_api.conversations_table_definition()

    for key in ("KeySchema", "BillingMode", "GlobalSecondaryIndexes"):
        assert local[key] == synthesized[key], key
    assert sorted(local["AttributeDefinitions"], key=str) == sorted(synthesized["AttributeDefinitions"], key=str)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_fake_bedrock_remembers_a_conversation_lists_it_streams_it_and_erases_it(fake_local):
    from genai_core import sse
    from tools.fake_bedrock import FAKE_TEXT

    turn = {"conversationId": "local-1", "messages": [{"role": "user", "content": "Oi"}]}
    status, _, body = fake_local.call("POST", "/customer-experience/chat", turn)
    assert (status, body["conversationId"], body["remembered"]) == (200, "local-1", True)
    status, _, raw = http_request(
        fake_local.port, "POST", "/customer-experience/chat/stream", json.dumps(turn).encode()
    )
    assert status == 200 and sse.parse(raw)[-1][1]["remembered"] is True

    status, _, listed = fake_local.call("GET", "/conversations")
    assert (status, [c["conversationId"] for c in listed["conversations"]]) == (200, ["local-1"])
    status, _, stored = fake_local.call("GET", "/v1/conversations/local-1")  # under the stage prefix too
    assert status == 200
    assert [m["content"] for m in stored["messages"]] == ["Oi", FAKE_TEXT, "Oi", FAKE_TEXT]
    assert fake_local.call("DELETE", "/conversations/local-1")[0] == 200
    assert fake_local.call("GET", "/conversations/local-1")[0] == 404
    assert fake_local.call("GET", "/conversations/local-1/messages")[0] == 404  # no route below a conversation
    assert re.search(r"^  conversations\s+in an in-process DynamoDB table", fake_local.output, re.MULTILINE)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_in_process_table_is_gone_with_the_server(handler):
    import stream_app

    server, cleanup = local_api.start(0, environ=dict(CALLER_ENV), out=io.StringIO(), quiet=True, fake=True)
    server.server_close()
    stores = [service.__dict__.get("conversation_store") for service in (handler.service, stream_app.service)]
    assert all(store is not None for store in stores)

    cleanup.close()

    assert [service.__dict__.get("conversation_store") for service in (handler.service, stream_app.service)] == [
        None,
        None,
    ]


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_without_a_table_a_conversation_is_a_400_with_a_hint_to_name_the_stacks_table(
    serve, bedrock, handler, monkeypatch
):
    monkeypatch.setattr(handler.service, "conversations", None)  # as make local starts without --conversations-table
    monkeypatch.delitem(handler.service.__dict__, "conversation_store", raising=False)
    local = serve()

    status, headers, body = local.call(
        "POST", "/customer-experience/chat", {"conversationId": "c-1", "messages": [{"role": "user", "content": "Oi"}]}
    )

    assert (status, body["error"]["code"]) == (400, "conversations_disabled")
    assert "--conversations-table" in headers[local_api.HINT_HEADER] and "--fake-bedrock" in body["error"]["hint"]
    assert re.search(r"^  conversations\s+off locally", local.output, re.MULTILINE)


def test_the_conversations_table_flag_and_fake_bedrock_do_not_go_together(capsys):
    with pytest.raises(SystemExit):
        local_api.main(["--fake-bedrock", "--conversations-table", "t"])
    assert "--conversations-table goes without it" in capsys.readouterr().err
