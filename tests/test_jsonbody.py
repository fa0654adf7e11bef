"""genai_core.jsonbody: the bytes a caller sent become a JSON object within the limits, or a clear 4xx.

The limits hold for the whole body, whatever part of it a value sits in (a record, a profile, a caller's schema and
its annotations), so they are tested on values placed anywhere in generated bodies, and end to end where a value
that passed them used to reach Bedrock (a deep ``default``, a ``1e400``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genai_core import jsonbody, schema
from genai_core.catalog import CATALOG_DIR, load_catalog
from genai_core.errors import ApiError, InvalidEncoding, InvalidJson, PayloadTooLarge, ValidationFailed
from genai_core.jsonbody import MAX_BODY_BYTES, MAX_JSON_DEPTH, parse_object
from tests.support import ROOT

CATALOG = load_catalog()
EXTRACT = "/process-optimization/extract"
AUGMENT = "/process-optimization/augment"
PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Strings full of brackets, quotes and backslashes: the depth is counted on the text, outside strings.
tricky_text = st.text(alphabet='[]{}"\\:,ué\u2028', max_size=8)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | tricky_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3),
    max_leaves=12,
)


def error_of(raw: bytes | str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_object(raw.encode() if isinstance(raw, str) else raw)
    return caught.value


def depth(value: Any) -> int:
    """Levels of arrays and objects (a scalar is 0), computed the obvious way: the oracle for the parser's walk."""
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    return 0


def nested(levels: int, kinds: str = "o") -> Any:
    """A value of exactly ``levels`` levels: objects ("o") and arrays ("a") in the repeating order of ``kinds``,
    from the outermost down."""
    value: Any = 1
    for level in range(levels):
        value = {"k": value} if kinds[(levels - 1 - level) % len(kinds)] == "o" else [value]
    return value


def insert(body: dict[str, Any], path: list[int], value: Any) -> dict[str, Any]:
    """``body`` with ``value`` placed at a position chosen by ``path`` (each step picks a child container)."""
    node: Any = body
    for step in path:
        children = [c for c in (node.values() if isinstance(node, dict) else node) if isinstance(c, (dict, list))]
        if not children:
            break
        node = children[step % len(children)]
    if isinstance(node, dict):
        node["inserted"] = value
    else:
        node.append(value)
    return body


# --- moved from test_handler: what is not JSON, not an object, or not encodable -----------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "code"),
    [
        ("{not json", InvalidJson, "invalid_json"),
        ("", InvalidJson, "invalid_json"),
        ("  \n", InvalidJson, "invalid_json"),
        ('{"text": NaN}', InvalidJson, "invalid_json"),
        ('{"text": -Infinity}', InvalidJson, "invalid_json"),
        ("[1, 2]", ValidationFailed, "validation_error"),
        ('"text"', ValidationFailed, "validation_error"),
        ("null", ValidationFailed, "validation_error"),
        ('{"text": "\\ud800"}', InvalidEncoding, "invalid_encoding"),
        (b'{"text": "\xff\xfe"}', InvalidEncoding, "invalid_encoding"),
        (json.dumps({"text": "x" * (MAX_BODY_BYTES + 1)}), PayloadTooLarge, "payload_too_large"),
    ],
)
def test_malformed_bodies_get_a_clear_4xx(raw, kind, code):
    error = error_of(raw)
    assert type(error) is kind and error.code == code and 400 <= error.status < 500
    assert error.message and "Traceback" not in error.message


# --- depth ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kinds", ["o", "oa", "oaa"])
def test_a_body_is_accepted_up_to_the_depth_limit_and_refused_one_level_beyond(kinds):
    assert depth(parse_object(json.dumps(nested(MAX_JSON_DEPTH, kinds)).encode())) == MAX_JSON_DEPTH

    error = error_of(json.dumps(nested(MAX_JSON_DEPTH + 1, kinds)))
    assert error.code == "validation_error"
    assert (
        error.message
        == f"The request body is nested too deeply: at most {MAX_JSON_DEPTH} levels of arrays and objects."
    )


def test_a_body_deeper_than_pythons_parser_goes_gets_the_same_answer():
    # Deeper than the parser's recursion limit, yet fewer containers than MAX_JSON_CONTAINERS: the depth answers.
    levels = jsonbody.MAX_JSON_CONTAINERS - 1
    for raw in ('{"a":' * levels + "1" + "}" * levels, '{"a": ' + "[" * levels + "]" * levels + "}"):
        error = error_of(raw)
        assert error.code == "validation_error" and str(MAX_JSON_DEPTH) in error.message


@PROPERTIES
@given(
    body=st.dictionaries(tricky_text, json_values, max_size=4),
    path=st.lists(st.integers(0, 9)),
    extra=st.integers(0, 40),
    kinds=st.sampled_from(["o", "a", "oa"]),
)
def test_the_depth_limit_holds_wherever_the_value_is(body, path, extra, kinds):
    """A nested value placed anywhere in a generated body: accepted exactly when the body is within the limit."""
    body = insert(body, path, nested(extra, kinds))
    raw = json.dumps(body).encode()
    if depth(body) <= MAX_JSON_DEPTH:
        assert parse_object(raw) == body
    else:
        assert error_of(raw).code == "validation_error"


def test_the_limit_leaves_room_for_the_deepest_caller_schema_with_annotations():
    """The deepest schema that schema_error accepts, with an object default and enum at its deepest node, inside a
    real augment request with an example row of that depth: within the limit, and accepted as a caller schema."""
    leaf: dict[str, Any] = {"type": "object", "properties": {"v": {"type": "string"}}, "default": {"v": "a"}}
    leaf["enum"] = [{"v": "a"}, {"v": "b"}]
    row_schema, row = leaf, {"v": "a"}
    for _ in range(schema.MAX_SCHEMA_DEPTH - 1):  # the leaf is at depth MAX - 1, its property "v" at MAX
        row_schema = {"type": "object", "required": ["c"], "properties": {"c": row_schema}}
        row = {"c": row}
    body = {"schema": row_schema, "count": 1, "examples": [row]}

    assert schema.object_schema_error(row_schema, "schema") is None
    assert depth(body) <= MAX_JSON_DEPTH - 8, "room to spare"
    assert parse_object(json.dumps(body).encode()) == body
    use_case = CATALOG.get(AUGMENT.lstrip("/"))
    assert use_case.check_input(body, "") is None and use_case.input_rules_error(body) is None


def test_every_example_request_and_catalog_file_is_well_within_the_limits():
    for path in [*sorted((ROOT / "examples").glob("*/*.json")), *sorted(CATALOG_DIR.glob("*/*.json"))]:
        raw = path.read_bytes()
        value = parse_object(raw)
        assert depth(value) <= MAX_JSON_DEPTH // 2, path


# --- numbers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["1e400", "-1e400", "1E+309", "123456789e999", "-0.5e99999", "9" * 400 + ".0", "1e0000000400", "1" * 250 + "e99"],
)
def test_a_number_beyond_the_doubles_is_refused(number):
    error = error_of(f'{{"a": [{{"b": {number}}}]}}')
    assert error.code == "validation_error"
    assert "numbers must be finite" in error.message and number[:20] in error.message


def test_the_largest_double_and_tiny_numbers_are_accepted():
    assert parse_object(b'{"a": 1.7976931348623157e308, "b": -1.7976931348623157e308, "c": 1e-400}') == {
        "a": 1.7976931348623157e308,
        "b": -1.7976931348623157e308,
        "c": 0.0,
    }


def test_an_integer_with_too_many_digits_is_refused_without_pythons_advice():
    error = error_of('{"a": ' + "9" * 5000 + "}")
    assert error.code == "validation_error"
    assert "at most 4300 digits" in error.message and "sys." not in error.message


@PROPERTIES
@given(
    body=st.dictionaries(st.text(max_size=6), json_values, min_size=1, max_size=4),
    path=st.lists(st.integers(0, 9)),
    number=st.sampled_from(["1e400", "-2E+500", "9" * 400 + ".5e10"]),
)
def test_a_non_finite_number_is_refused_wherever_it_is(body, path, number):
    marker = "\u0000non-finite\u0000"
    raw = json.dumps(insert(body, path, marker)).replace(json.dumps(marker), number)
    assert error_of(raw).code == "validation_error"


# --- end to end: what used to reach Bedrock -------------------------------------------------------------------------


INVOICE = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}


@pytest.mark.parametrize(
    "fields",
    [
        # A deep default passed the parser and the schema checks and reached the model call (a few hundred levels
        # deeper, the request ended in a RecursionError: a 500).
        {**INVOICE, "properties": {"total": {"type": "number", "default": nested(400)}}},
        {**INVOICE, "properties": {"total": {"type": "number", "examples": [nested(400, "a")]}}},
        # 1e400 became infinity, passed every check and was sent to Bedrock as Infinity (not JSON).
        {**INVOICE, "properties": {"total": {"type": "number", "enum": [1, "1e400"]}}},
        {**INVOICE, "properties": {"total": {"type": "number", "default": "1e400"}}},
    ],
)
def test_annotations_and_bounds_that_broke_the_call_are_a_400_before_any_model_call(
    call, bedrock, converse_calls, fields
):
    raw = json.dumps({"document": "Invoice 1: total 10", "fields": fields}).replace('"1e400"', "1e400")

    response = call(EXTRACT, raw=raw)

    assert response.status == 400
    assert response.body["error"]["code"] == "validation_error"
    assert converse_calls == []


def test_a_body_over_the_usual_limit_still_refuses_a_number_that_overflows_and_a_lone_surrogate():
    """A task that takes files parses bodies of megabytes (its files' base64): the overflow scan is skipped for
    them, not the check; and the surrogate check still runs behind its one-byte search for a backslash."""
    padding, limit = "A" * (MAX_BODY_BYTES + 10), 10 * MAX_BODY_BYTES
    with pytest.raises(ValidationFailed, match="out of range"):
        parse_object(f'{{"data": "{padding}", "n": 1e400}}'.encode(), max_bytes=limit)
    with pytest.raises(InvalidEncoding, match="surrogate"):
        parse_object(('{"data": "' + padding + '", "t": "\\ud800"}').encode(), max_bytes=limit)
    assert parse_object(f'{{"data": "{padding}", "n": 1.5e300}}'.encode(), max_bytes=limit)["n"] == 1.5e300
    for blank in (b"", b" \n\t ", b"\r\n"):
        with pytest.raises(InvalidJson, match="empty"):
            parse_object(blank)


def test_a_body_of_too_many_arrays_and_objects_is_refused_before_it_is_parsed(monkeypatch):
    limit = jsonbody.MAX_JSON_CONTAINERS
    at_the_limit = ("[" + ",".join(["{}"] * (limit - 2)) + "]").encode()
    assert jsonbody.parse_object(b'{"records": ' + at_the_limit + b"}")["records"]
    parsed: list[str] = []
    monkeypatch.setattr(jsonbody.json, "loads", lambda text, **_: parsed.append(text))
    one_more = ("[" + ",".join(["{}"] * (limit - 1)) + "]").encode()
    with pytest.raises(ValidationFailed, match="too many arrays and objects"):
        jsonbody.parse_object(b'{"records": ' + one_more + b"}")
    assert parsed == []  # refused before the parser ran


def test_brackets_inside_strings_are_text_not_containers():
    text = "[{" * jsonbody.MAX_JSON_CONTAINERS
    assert jsonbody.parse_object(json.dumps({"code": text}).encode()) == {"code": text}


@pytest.mark.parametrize("escape", ["\\uD800", "\\udfff", "\\uDbFf"])
def test_a_lone_surrogate_escape_is_refused_in_either_letter_case(escape):
    with pytest.raises(InvalidEncoding):
        parse_object(('{"text": "a' + escape + 'b"}').encode())


def test_other_escapes_and_a_surrogate_pair_are_text():
    raw = b'{"text": "\\u0001\\u00e9\\ud83d\\ude00\\\\ud800"}'
    assert parse_object(raw) == {"text": "\x01\u00e9\U0001f600\\ud800"}
