"""media_type.py: a POST body is JSON. The rule, then every route of both functions under it: the buffered handler
(real API Gateway events), the streaming adapter (``stream_app.handle``) and its server, and ``make local``."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from endpoints import CONVERSATIONS_PATH, DISCOVERY_PATH
from genai_core.errors import UnsupportedMediaType
from media_type import JSON, check_content_types, header_values, media_type
from tests import test_local_api, test_streaming
from tests.support import ROOT, FakeLambdaContext, api_event, converse_text_response

# Fixtures of the modules that test those servers: the streaming function's module, its fake ConverseStream and
# its server on an ephemeral port; make local on an ephemeral port.
app, bedrock_stream, server = test_streaming.app, test_streaming.bedrock_stream, test_streaming.server
serve = test_local_api.serve
EXAMPLES = ROOT / "examples"
ACCEPTED = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "Application/JSON; Charset=utf-8",
    " application/json ",
    "application/json; version=2",
]
REFUSED = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",  # what curl -d sends without -H
    "multipart/form-data; boundary=----x",
    "application/xml",
    "text/json",
    "application/merge-patch+json",
    "application/vnd.api+json",
    "application/jsonx",
    "application/json-seq",
    "",
]


def example(use_case: Any) -> Any:
    return json.loads((EXAMPLES / use_case.family / f"{use_case.task}.json").read_text(encoding="utf-8"))


# --- the rule -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ACCEPTED)
def test_json_with_any_parameters_and_letter_case_is_accepted(value):
    check_content_types([value])
    assert media_type(value) == JSON


def test_no_content_type_at_all_is_accepted():
    check_content_types([])


@pytest.mark.parametrize("value", REFUSED)
def test_anything_else_is_a_415(value):
    with pytest.raises(UnsupportedMediaType) as raised:
        check_content_types([value])

    assert (raised.value.status, raised.value.code) == (415, "unsupported_media_type")
    assert "application/json" in raised.value.message


def test_two_content_types_are_both_checked():
    with pytest.raises(UnsupportedMediaType):
        check_content_types(["application/json", "text/plain"])


def test_a_long_content_type_is_cut_in_the_message():
    with pytest.raises(UnsupportedMediaType) as raised:
        check_content_types(["text/" + "x" * 5000])

    assert len(raised.value.message) < 300


PARAMETER = st.from_regex(r"[A-Za-z0-9-]{1,12}=[A-Za-z0-9.\"-]{0,12}", fullmatch=True)


@given(parameters=st.lists(PARAMETER, max_size=4), upper=st.booleans())
def test_property_application_json_with_any_parameters_is_json(parameters, upper):
    value = "; ".join(["APPLICATION/JSON" if upper else "application/json", *parameters])

    check_content_types([value])


@given(
    media=st.from_regex(r"[a-z]{1,12}/[a-z0-9.+-]{1,20}", fullmatch=True).filter(lambda value: value != JSON),
    parameters=st.lists(PARAMETER, max_size=2),
)
def test_property_any_other_media_type_is_refused(media, parameters):
    with pytest.raises(UnsupportedMediaType):
        check_content_types(["; ".join([media, *parameters])])


def test_header_values_finds_the_header_in_any_letter_case():
    pairs = [("content-type", "a"), ("Host", "h"), ("Content-Type", "b"), ("CONTENT-TYPE", "c")]

    assert header_values(pairs) == ["a", "b", "c"]


# --- the buffered function ------------------------------------------------------------------------------------------


def test_every_post_route_of_the_buffered_function_refuses_a_non_json_body_before_bedrock(call, bedrock, handler):
    # The Stubber has no answer queued: a Bedrock call would fail the request with another code.
    for use_case in handler.catalog:
        response = call(use_case.path, example(use_case), headers={"Content-Type": "text/plain"})

        assert (response.status, response.body["error"]["code"]) == (415, "unsupported_media_type"), use_case.id


def invoke(handler: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = handler.lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def without_content_type(event: dict[str, Any]) -> dict[str, Any]:
    for key in ("headers", "multiValueHeaders"):
        event[key] = {name: value for name, value in event[key].items() if name.lower() != "content-type"}
    return event


def test_a_post_without_content_type_is_json(handler, bedrock):
    bedrock.add_response("converse", converse_text_response("Hi!"))

    status, body = invoke(handler, without_content_type(api_event("/customer-experience/chat", example_chat())))

    assert status == 200 and body["output"] == {"reply": "Hi!"}


def test_json_with_a_charset_is_json(call, bedrock):
    bedrock.add_response("converse", converse_text_response("Hi!"))

    response = call(
        "/customer-experience/chat", example_chat(), headers={"Content-Type": "application/json; charset=UTF-8"}
    )

    assert response.status == 200


def test_a_second_content_type_in_the_multi_value_headers_counts(handler, bedrock):
    event = without_content_type(api_event("/customer-experience/chat", example_chat()))
    event["headers"]["Content-Type"] = "application/json"
    event["multiValueHeaders"]["Content-Type"] = ["application/x-www-form-urlencoded", "application/json"]

    status, body = invoke(handler, event)

    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")


def test_a_lower_case_header_name_counts(handler, bedrock):
    event = without_content_type(api_event("/customer-experience/chat", example_chat()))
    event["headers"]["content-type"] = "text/plain"
    event["multiValueHeaders"]["content-type"] = ["text/plain"]

    status, body = invoke(handler, event)

    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")


def test_a_415_is_a_request_and_a_warning_not_a_model_error(call, bedrock, logs, emf):
    call("/productivity/summarize", {"text": "Some text."}, headers={"Content-Type": "text/csv"})

    (failure,) = [line for line in logs() if line["message"] == "request failed"]
    assert (failure["level"], failure["status"], failure["error_code"]) == ("WARNING", 415, "unsupported_media_type")
    metrics = [name for document in emf() for name in document if name in ("Requests", "ModelErrors")]
    assert metrics == ["Requests"]


def test_get_use_cases_ignores_the_content_type(call):
    response = call("/use-cases", method="GET", headers={"Content-Type": "text/plain"})

    assert response.status == 200


def example_chat() -> Any:
    return {"messages": [{"role": "user", "content": "Hello"}]}


# --- the streaming function -----------------------------------------------------------------------------------------


def test_every_route_of_the_streaming_adapter_refuses_a_non_json_body_before_bedrock(app, bedrock_stream):
    for path, use_case in app.ROUTES.items():
        raw = json.dumps(example(use_case)).encode()
        response = app.handle("POST", path, raw, content_types=["text/plain; charset=utf-8"])

        assert (response.status, response.streamed) == (415, False), path
        assert json.loads(b"".join(response.chunks))["error"]["code"] == "unsupported_media_type"
    assert bedrock_stream.requests == []


@pytest.mark.parametrize("content_types", [[], ["application/json"], ["application/json; charset=utf-8"]])
def test_the_streaming_adapter_accepts_json_or_no_content_type(app, bedrock_stream, content_types):
    (path,) = list(app.ROUTES)[:1]
    response = app.handle("POST", path, json.dumps(example_chat()).encode(), content_types=content_types)

    b"".join(response.chunks)  # run the stream to its end (it flushes its metrics)

    assert response.status == 200 and len(bedrock_stream.requests) == 1


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_streaming_functions_server_passes_the_content_type_on(server, app, bedrock_stream):
    (path,) = list(app.ROUTES)[:1]
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    connection.request("POST", path, body=json.dumps(example_chat()), headers={"Content-Type": "text/plain"})
    response = connection.getresponse()

    assert response.status == 415
    assert json.loads(response.read())["error"]["code"] == "unsupported_media_type"
    connection.close()


# --- make local -----------------------------------------------------------------------------------------------------


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_make_local_refuses_a_non_json_body_on_every_post_route(serve, bedrock, bedrock_stream):
    local = serve()
    port, api = local.port, local.api
    posts = [path for path in api.routes if path not in (DISCOVERY_PATH, CONVERSATIONS_PATH)]  # the GETs
    assert any(path.endswith("/stream") for path in posts)
    for path in posts:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST", path, body=b'{"a": 1}', headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        response = connection.getresponse()
        payload = json.loads(response.read())
        connection.close()

        assert (response.status, payload["error"]["code"]) == (415, "unsupported_media_type"), path
