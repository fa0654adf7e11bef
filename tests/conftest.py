"""Shared fixtures: the synthesized app (once per session), the real handler with a stubbed Bedrock client, and a
caller that drives it with real-shaped API Gateway REST proxy events.

No test touches the network or needs AWS credentials: sockets are blocked (pyproject.toml), the AWS environment
below is fake and isolated from any local profile, and Bedrock is faked with botocore's Stubber on the real client,
which validates every request and response against Bedrock's service model.
"""

from __future__ import annotations

import copy
import importlib
import io
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.support import API_STACK, FAKE_AWS_CREDENTIALS, FUNCTION_ENV, FakeLambdaContext, api_event, cdk_context

FAKE_AWS_ENV = {
    **FAKE_AWS_CREDENTIALS,
    # Tracing is active in the template; in tests there is no X-Ray daemon, so Powertools' Tracer is switched off.
    "POWERTOOLS_TRACE_DISABLED": "true",
}
os.environ.pop("AWS_PROFILE", None)
os.environ.update(FAKE_AWS_ENV)
os.environ.update(FUNCTION_ENV)

# The X-Ray SDK's recorder creates a UDP socket (for the local X-Ray daemon) when it is first imported, which
# pytest-socket refuses inside a test. Import it here, at collection, before sockets are blocked: tracing is disabled
# in tests, so nothing is ever sent on it, and every connection stays blocked.
import aws_xray_sdk.core  # noqa: E402, F401

# --- infrastructure -------------------------------------------------------------------------------------------


def synthesize(context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Synthesize the app with ``context``; return each stack's template by stack name."""
    from app import build_app

    assembly = build_app(context=context).synth()
    return {stack.stack_name: stack.template for stack in assembly.stacks}


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app synthesized once per test session with cdk.json's context, cdk-nag included (a synth costs seconds),
    as `cdk synth` writes it to cdk.out: templates, the manifest (stack dependencies) and cdk-nag's report."""
    from app import build_app

    return build_app(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("cdk.out"))).synth()


@pytest.fixture(scope="session")
def templates(assembly: Any) -> dict[str, dict[str, Any]]:
    return {stack.stack_name: stack.template for stack in assembly.stacks}


@pytest.fixture(scope="session")
def template_files(assembly: Any) -> list[str]:
    return [str(Path(assembly.directory) / stack.template_file) for stack in assembly.stacks]


@pytest.fixture(scope="session")
def cfn_lint_run(template_files: list[str]) -> Any:
    """cfn-lint on every template, once per session (tests/test_scanners.py and the review report read it)."""
    from tools.scanners import run_cfn_lint

    return run_cfn_lint(template_files)


@pytest.fixture(scope="session")
def checkov_run(template_files: list[str]) -> Any:
    """checkov on every template, once per session, from its own virtualenv (created by `make test`)."""
    from tests.scanner_support import checkov

    return checkov(template_files)


@pytest.fixture(scope="session")
def variant_assembly(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app with every optional edge feature on (api-key mode, WAF), synthesized once per session."""
    from app import build_app

    context = cdk_context(authMode="api-key", enableWaf=True, wafRateLimitPer5Minutes=300)
    return build_app(context=context, outdir=str(tmp_path_factory.mktemp("cdk.out.variant"))).synth()


@pytest.fixture(scope="session")
def variant_checkov_run(variant_assembly: Any) -> Any:
    """checkov on the variant's API template: the options must pass the same checks as the defaults."""
    from tests.scanner_support import checkov

    stack = variant_assembly.get_stack_by_name(API_STACK)
    return checkov([str(Path(variant_assembly.directory) / stack.template_file)])


@pytest.fixture(scope="session")
def api_template(templates: dict[str, dict[str, Any]]) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(templates[API_STACK])


# --- the function -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def handler() -> ModuleType:
    """The real handler module, imported as the Lambda runtime imports it (lambda/genai_api on sys.path)."""
    return importlib.import_module("handler")


@pytest.fixture
def bedrock(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A Stubber on the handler's own bedrock-runtime client: every call must be expected, every expected call
    must happen, and requests and responses are validated against Bedrock's service model.

    A call that the time left allows one attempt only goes through the same stubbed client, so that the queue of
    expected calls is in the order the function makes them (the choice of client is tested in test_service.py)."""
    monkeypatch.setattr(handler.service, "single_attempt_client", lambda: handler.bedrock_client)
    with Stubber(handler.bedrock_client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def knowledge_base(handler: ModuleType) -> Iterator[Stubber]:
    """A Stubber on the handler's bedrock-agent-runtime client (made here, as the first search would make it): every
    Retrieve must be expected, and requests and responses are validated against the service model."""
    with Stubber(handler.service.knowledge_base.client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def converse_calls(handler: ModuleType) -> Iterator[list[dict[str, Any]]]:
    """The parameters of each Converse call the handler makes, recorded before the Stubber answers."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(copy.deepcopy(params))

    events = handler.bedrock_client.meta.events
    events.register("provide-client-params.bedrock-runtime.Converse", record, unique_id="test-record-converse")
    yield calls
    events.unregister("provide-client-params.bedrock-runtime.Converse", unique_id="test-record-converse")


@pytest.fixture
def logs(handler: ModuleType) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The function's structured log lines (Powertools writes JSON to stdout; here, to a buffer)."""
    stream = io.StringIO()
    previous = handler.logger.registered_handler.setStream(stream)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    handler.logger.registered_handler.setStream(previous)


@pytest.fixture
def emf(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """The EMF documents printed so far in the test: Powertools Metrics prints each one as a line of JSON to stdout,
    where CloudWatch Logs turns it into metrics. Each call returns (and consumes) what was printed since the last."""

    def documents() -> list[dict[str, Any]]:
        lines = capsys.readouterr().out.splitlines()
        return [json.loads(line) for line in lines if line.startswith('{"_aws":')]

    return documents


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


@pytest.fixture
def call(handler: ModuleType) -> Callable[..., ApiResponse]:
    """Invoke the real ``lambda_handler`` with an API Gateway event; return the parsed proxy response.

    Every response must be a proxy response with a JSON body, whatever its status. ``context``: the Lambda context
    (default: a fresh invocation of the function's timeout)."""

    def invoke(path: str, body: Any = None, *, context: Any = None, **kwargs: Any) -> ApiResponse:
        response = handler.lambda_handler(api_event(path, body, **kwargs), context or FakeLambdaContext())
        assert isinstance(response["statusCode"], int), response
        headers = dict(response.get("headers") or {})
        for key, values in (response.get("multiValueHeaders") or {}).items():
            headers.setdefault(key, values[-1])
        assert headers.get("Content-Type") == "application/json", headers
        return ApiResponse(response["statusCode"], headers, json.loads(response["body"]))

    return invoke


# --- the deployed API, stood in for (tools that call it: make smoke, tools.client) ---------------------------------


@pytest.fixture
def fake_api() -> Iterator[str]:
    """A local SigV4-checking stand-in for the API (tests/sigv4_api.py) on an ephemeral port of 127.0.0.1, in a
    thread, stopped after the test; yields its ApiUrl. Tests that use it need ``allow_hosts(["127.0.0.1"])``."""
    from http.server import ThreadingHTTPServer

    from tests.sigv4_api import FakeApi

    FakeApi.answers, FakeApi.seen, FakeApi.uploads, FakeApi.stored, FakeApi.conversations = {}, [], {}, {}, {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def cloudformation() -> Iterator[Callable[..., Any]]:
    """A real CloudFormation client whose describe_stacks answers come from a Stubber (validated against the model):
    ``cloudformation(outputs=[...])`` or ``cloudformation(error="...")`` queues one answer and returns the client."""
    import boto3

    from tests.sigv4_api import REGION, STACK

    client = boto3.client("cloudformation", region_name=REGION)
    with Stubber(client) as stubber:

        def expect(outputs: list[dict[str, str]] | None = None, error: str | None = None) -> Any:
            if error:
                stubber.add_client_error(
                    "describe_stacks",
                    service_error_code="ValidationError",
                    service_message=error,
                    expected_params={"StackName": STACK},
                )
            else:
                stack = {
                    "StackName": STACK,
                    "CreationTime": "2026-11-29T00:00:00Z",
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": outputs or [],
                }
                stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
            return client

        yield expect
        stubber.assert_no_pending_responses()


@pytest.fixture
def apigateway() -> Iterator[Callable[..., Any]]:
    """A real API Gateway client whose get_api_key answers come from a Stubber: ``apigateway()`` queues the value of
    the stand-in's key (tests/sigv4_api.py) for its id, ``apigateway(error="...")`` a NotFoundException."""
    import boto3

    from tests.sigv4_api import API_KEY, API_KEY_ID, REGION

    client = boto3.client("apigateway", region_name=REGION)
    with Stubber(client) as stubber:

        def expect(error: str | None = None) -> Any:
            params = {"apiKey": API_KEY_ID, "includeValue": True}
            if error:
                stubber.add_client_error("get_api_key", "NotFoundException", error, 404, expected_params=params)
            else:
                stubber.add_response("get_api_key", {"id": API_KEY_ID, "value": API_KEY, "enabled": True}, params)
            return client

        yield expect
        stubber.assert_no_pending_responses()
