"""Property-based tests: whatever a client sends, the real handler answers with JSON and never with a 5xx.

Bodies of any shape (bytes, JSON of any shape, huge, deeply nested, invalid UTF-8, unpaired surrogates, NUL bytes),
near-valid requests with one field broken, and arbitrary paths, methods and headers. Bedrock is a fake that answers
any request (tools/fake_bedrock.py), and so does its knowledge base (the sample corpus), so a request the API accepts
gets a 200, and one it refuses gets a 4xx.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genai_core.catalog import load_catalog
from tests.support import ROOT, api_event
from tools.fake_bedrock import FAKE_TEXT, fake_converse, fake_retrieve
from tools.schema_samples import sample

CATALOG = load_catalog()
ROUTES = sorted(use_case.path for use_case in CATALOG)


def valid_request(path: str) -> dict[str, Any]:
    """The route's example request (examples/<family>/<task>.json), or a sample its input schema accepts."""
    example = ROOT / "examples" / f"{path.lstrip('/')}.json"
    if example.exists():
        return json.loads(example.read_text(encoding="utf-8"))
    use_case = CATALOG.get(path.lstrip("/"))
    assert use_case is not None
    return sample(dict(use_case.input_schema), text="Olá", min_items=1)


VALID = {path: valid_request(path) for path in ROUTES}
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
special_bodies = st.sampled_from(
    [
        "",
        " ",
        "null",
        "[]",
        "{}",
        '{"text": "\\ud800"}',
        '{"text": "\\udfff\\ud800"}',
        '{"text": "a\\u0000b"}',
        '{"messages": [{"role": "user", "content": "\\u0000"}]}',
        "[" * 50_000 + "]" * 50_000,
        '{"a":' * 5_000 + "1" + "}" * 5_000,
        json.dumps({"text": "x" * 270_000}),
        '{"text": 1e999999}',
        '{"maxWords": ' + "9" * 5000 + "}",
        '{"text": "ok", "text": 3}',
    ]
)


def respond(handler: Any, event: dict[str, Any]) -> dict[str, Any]:
    with (
        mock.patch.object(handler.bedrock_client, "converse", side_effect=fake_converse),
        mock.patch.object(handler.service.knowledge_base.client, "retrieve", side_effect=fake_retrieve),
    ):
        response = handler.lambda_handler(event, _context())
    return response


def _context() -> Any:
    from tests.conftest import FakeLambdaContext

    return FakeLambdaContext()


def assert_well_formed(response: dict[str, Any]) -> dict[str, Any]:
    status = response["statusCode"]
    assert isinstance(status, int) and 200 <= status < 500, response
    body = json.loads(response["body"])
    if status >= 400:
        assert set(body) == {"error"}
        assert isinstance(body["error"]["code"], str) and body["error"]["code"]
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    else:
        assert {"useCase", "output", "model", "usage", "stopReason"} <= set(body)
    return body


@FUZZ
@given(path=st.sampled_from(ROUTES), body=json_values | special_bodies | st.text(max_size=300))
def test_any_text_body_gets_json_and_no_5xx(handler, path, body):
    raw = body if isinstance(body, str) else json.dumps(body)
    assert_well_formed(respond(handler, api_event(path, raw=raw)))


@FUZZ
@given(
    path=st.sampled_from(ROUTES),
    raw=st.binary(max_size=600) | st.sampled_from([b"\xff\xfe{}", b'{"text": "\xc3\x28"}', b"\x00" * 10]),
)
def test_any_binary_body_gets_json_and_no_5xx(handler, path, raw):
    assert_well_formed(respond(handler, api_event(path, raw=raw)))


@FUZZ
@given(path=st.sampled_from(ROUTES), data=st.data())
def test_a_valid_request_with_one_field_broken_gets_a_4xx_or_a_200(handler, path, data):
    body = json.loads(json.dumps(VALID[path]))
    key = data.draw(st.sampled_from([*sorted(body), "unexpected"]))
    if data.draw(st.booleans()):
        body.pop(key, None)
    else:
        body[key] = data.draw(json_values)
    assert_well_formed(respond(handler, api_event(path, body=body, base64_encoded=data.draw(st.booleans()))))


@FUZZ
@given(
    path=st.sampled_from(ROUTES) | st.text(max_size=60),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
    | st.text(min_size=1, max_size=10),
    headers=st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=60), max_size=6),
)
def test_any_path_method_and_headers_get_json_and_no_5xx(handler, path, method, headers):
    event = api_event("/", body=VALID.get(path, {}), method=method, headers=headers)
    event["path"] = path
    assert_well_formed(respond(handler, event))


@pytest.mark.parametrize("path", ROUTES)
def test_the_fake_model_answers_valid_requests_with_200(handler, path):
    body = assert_well_formed(respond(handler, api_event(path, body=VALID[path])))
    assert body["useCase"] == path.lstrip("/")


def test_base64_bodies_are_fuzzed_too(handler):
    path = "/productivity/summarize"
    raw = base64.b64encode(json.dumps(VALID[path]).encode()).decode()
    body = assert_well_formed(respond(handler, api_event(path, raw=raw, base64_encoded=True)))
    assert body["output"] == {"summary": FAKE_TEXT}
