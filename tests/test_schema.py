"""genai_core.schema against the reference, jsonschema.Draft4Validator (a dev dependency only).

- The validator: on generated schemas of the supported subset and instances near them (samples, mutations, random
  values), ours and the reference agree on validity. The one documented exception is a bug of the reference,
  tested as such (``test_the_reference_misses_duplicates_that_hold_booleans``).
- The subset check: every schema ``schema_error`` accepts passes ``Draft4Validator.check_schema``, and every
  schema of the subset's keywords that the meta-schema accepts, ``schema_error`` accepts, except where we are
  stricter by design (``STRICTER``, each one tested).
- Satisfiability: every schema the analysis accepts has, for each of its parts, a sample (tools/schema_samples.py)
  that the reference finds valid, as many distinct ones as the analysis counts; a schema it finds unsatisfiable has
  no valid instance among those generated. The rules it must catch, one class at a time, and the caller's view of
  them: a 400 before any model call.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from genai_core import satisfiability, schema
from genai_core.catalog import load_catalog
from genai_core.retrieval import passages_of
from tests.support import ROOT
from tools.fake_bedrock import fake_retrieve
from tools.schema_samples import sample, samples

CATALOG = load_catalog()
CALLER_SCHEMAS = sorted((use_case.id, name) for use_case in CATALOG for name in use_case.caller_schemas)
STRUCTURED = sorted(use_case.id for use_case in CATALOG if use_case.structured)
EXAMPLES = {u.id: json.loads((ROOT / "examples" / f"{u.id}.json").read_text(encoding="utf-8")) for u in CATALOG}
PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Draft4 = jsonschema.Draft4Validator
UNIQUE = Draft4({"uniqueItems": True})


# --- strategies: schemas of the subset, JSON values near them ---------------------------------------------------

NAMES = st.sampled_from(["a", "b", "c"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, -0.0, 1.0, 2.0, 0.5, 2.5, 1e308, 10**20])
    | st.text(alphabet="ab", max_size=3)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(NAMES, children, max_size=3),
    max_leaves=6,
)
numbers = st.integers(-3, 3) | st.sampled_from([0.0, -0.0, 1.0, 2.0, 0.5, 2.5, -1.5, 1e308, 10**20])
counts = st.integers(0, 3)
type_names = st.sampled_from(sorted(schema.TYPES))


def distinct_values(values: list[Any]) -> bool:
    return len({schema.equality_key(value) for value in values}) == len(values)


def _node(children: st.SearchStrategy[dict[str, Any]] | None) -> st.SearchStrategy[dict[str, Any]]:
    optional: dict[str, st.SearchStrategy[Any]] = {
        "type": type_names | st.lists(type_names, min_size=1, max_size=3, unique=True),
        "enum": st.lists(scalars | json_values, min_size=1, max_size=4, unique_by=schema.equality_key),
        "minLength": counts,
        "maxLength": counts,
        "minimum": numbers,
        "maximum": numbers,
        "minItems": counts,
        "maxItems": counts,
        "uniqueItems": st.booleans(),
        "required": st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True),
        "default": scalars,
    }
    if children is not None:
        optional["items"] = children
        optional["properties"] = st.dictionaries(NAMES, children, max_size=3)
        optional["additionalProperties"] = st.booleans() | children
    return st.fixed_dictionaries({}, optional=optional)


schemas = st.recursive(_node(None), _node, max_leaves=5)


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for sub in node.get("properties", {}).values():
        yield from nodes(sub)
    for key in ("additionalProperties", "items"):
        if isinstance(node.get(key), dict):
            yield from nodes(node[key])


def mutations(value: Any) -> Iterator[Any]:
    """Values one step away from ``value``: an integer written as a float, a float as an integer, one item or
    property dropped or repeated."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        yield float(value) if abs(value) < 2**53 else value
    elif isinstance(value, float) and value.is_integer():
        yield int(value)
    elif isinstance(value, list):
        if value:
            yield value[1:]
            yield [*value, value[0]]
        for index, item in enumerate(value):
            for changed in mutations(item):
                yield [*value[:index], changed, *value[index + 1 :]]
    elif isinstance(value, dict):
        for name in value:
            yield {key: item for key, item in value.items() if key != name}
            for changed in mutations(value[name]):
                yield {**value, name: changed}


def instances(node: dict[str, Any], extra: list[Any]) -> list[Any]:
    """Samples of ``node`` (valid ones when it is satisfiable), their mutations, and unrelated values."""
    found = samples(node, 3)
    return [*found, *(m for value in found for m in mutations(value)), *extra]


def lists_in(value: Any) -> Iterator[list[Any]]:
    if isinstance(value, list):
        yield value
        for item in value:
            yield from lists_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from lists_in(item)


def reference_uniqueness_bug(value: Any) -> bool:
    """Whether ``value`` holds a list that the reference's ``uniqueItems`` calls unique although two of its items
    are equal by the reference's own equality (asked through ``enum``, which compares without sorting)."""
    for items in lists_in(value):
        duplicate = any(
            Draft4({"enum": [items[i]]}).is_valid(items[j]) for i in range(len(items)) for j in range(i + 1, len(items))
        )
        if duplicate and UNIQUE.is_valid(items):
            return True
    return False


# --- the validator agrees with the reference ---------------------------------------------------------------------


@PROPERTIES
@given(node=schemas, extra=st.lists(json_values, max_size=3))
def test_the_validator_agrees_with_draft4(node, extra):
    assume(schema.schema_error(node) is None)
    check, reference = schema.compile_schema(node), Draft4(node)
    unsatisfiable = not satisfiability.satisfiable(node)
    for instance in instances(node, extra):
        ours, theirs = check(instance, "") is None, reference.is_valid(instance)
        if ours != theirs:  # the one documented exception: the reference's uniqueItems misses a duplicate
            assert theirs and not ours and reference_uniqueness_bug(instance), (node, instance)
        if unsatisfiable:
            assert not theirs, (node, instance)


def test_the_reference_misses_duplicates_that_hold_booleans():
    """jsonschema sorts the items to find duplicates, and Python sorts [true] and [1] as equal, so the two [true]
    are not adjacent: the reference calls the array unique, though its own equality says they are equal."""
    items = [[True], [1], [True]]
    assert Draft4({"uniqueItems": True}).is_valid(items)  # the reference's bug
    assert Draft4({"enum": [[True]]}).is_valid(items[2])  # by its own equality, items 0 and 2 are equal
    assert schema.first_error(items, {"uniqueItems": True}) == "the body must not contain duplicate items"
    assert reference_uniqueness_bug(items) and not reference_uniqueness_bug([[True], [1]])


@pytest.mark.parametrize(
    ("node", "instance", "valid"),
    [
        # JSON Schema equality: the two differences the differential test first found, now fixed.
        ({"enum": [1]}, 1.0, True),
        ({"enum": [1.0]}, 1, True),
        ({"enum": [[1, {"a": 0}]]}, [1.0, {"a": -0.0}], True),
        ({"enum": [{"a": 1, "b": 2}]}, {"b": 2, "a": 1}, True),
        ({"enum": [1]}, True, False),
        ({"enum": [False]}, 0, False),
        ({"uniqueItems": True}, [1, 1.0], False),
        ({"uniqueItems": True}, [0, -0.0], False),
        ({"uniqueItems": True}, [{"a": 1, "b": [2]}, {"b": [2.0], "a": 1}], False),
        ({"uniqueItems": True}, [1, True, 0, False], True),
        # Draft 4 integers: no fraction, no exponent.
        ({"type": "integer"}, 2, True),
        ({"type": "integer"}, 2.0, False),
        ({"type": "integer"}, True, False),
        ({"type": "number"}, 2.0, True),
        ({"type": ["integer", "string"]}, 2.0, False),
    ],
)
def test_equality_and_integers_as_draft4_defines_them(node, instance, valid):
    assert (schema.first_error(instance, node) is None) is valid
    assert Draft4(node).is_valid(instance) is valid


# --- the subset check agrees with the meta-schema ------------------------------------------------------------------

# Where schema_error refuses a schema that Draft 4's meta-schema accepts, on purpose.
STRICTER = {
    "a keyword outside the subset (Draft 4 ignores unknown keywords: a misspelt or unsupported constraint, such as "
    "pattern, would be dropped silently)": lambda node: bool(set(node) - schema.ASSERTIONS - schema.ANNOTATIONS),
    "items given as a list of schemas (the tuple form is not in the subset)": lambda node: isinstance(
        node.get("items"), list
    ),
    "enum values equal by JSON Schema equality that the reference's uniqueItems misses": lambda node: (
        isinstance(node.get("enum"), list) and reference_uniqueness_bug([node["enum"]])
    ),
}

anything = json_values | st.sampled_from([[], [[]], {}, "x", -1, 2.0, True])


def _schema_like(children: st.SearchStrategy[Any] | None) -> st.SearchStrategy[Any]:
    sub = children if children is not None else st.just({})
    optional: dict[str, st.SearchStrategy[Any]] = {
        "type": type_names | st.lists(type_names | st.just("uuid"), max_size=3) | st.sampled_from(["uuid", 1]),
        "enum": st.lists(json_values, max_size=3) | anything,
        "minLength": st.integers(-1, 3) | st.sampled_from([2.0, True, "1", None]),
        "maxItems": st.integers(-1, 3) | st.sampled_from([2.0, False, 1e308]),
        "minimum": numbers | st.sampled_from([True, "1", None, [1]]),
        "uniqueItems": st.booleans() | st.sampled_from([0, 1, "true"]),
        "required": st.lists(st.sampled_from(["a", "b", 1]), max_size=3) | anything,
        "properties": st.dictionaries(NAMES, sub | anything, max_size=2) | anything,
        "additionalProperties": st.booleans() | sub | anything,
        "items": sub | st.lists(sub, max_size=2) | anything,
        "title": st.text(max_size=2) | anything,
        "format": st.sampled_from(["date", "email"]) | anything,
        "$schema": st.just("http://json-schema.org/draft-04/schema#") | anything,
        "default": anything,
        "examples": anything,
    }
    return st.fixed_dictionaries({}, optional=optional)


schema_likes = st.recursive(_schema_like(None), _schema_like, max_leaves=4)


def _stricter_by_design(node: Any) -> list[str]:
    if not isinstance(node, dict):
        return []
    reasons = [reason for reason, applies in STRICTER.items() if applies(node)]
    subs = [*(node["properties"].values() if isinstance(node.get("properties"), dict) else [])]
    subs += [node[key] for key in ("items", "additionalProperties") if isinstance(node.get(key), dict)]
    subs += node["items"] if isinstance(node.get("items"), list) else []
    return reasons + [reason for sub in subs for reason in _stricter_by_design(sub)]


@PROPERTIES
@given(node=schema_likes)
def test_schema_error_agrees_with_the_draft4_meta_schema(node):
    ours = schema.schema_error(node)
    try:
        Draft4.check_schema(node)
        theirs = None
    except jsonschema.SchemaError as error:
        theirs = error.message
    if ours is None:
        assert theirs is None, (node, theirs)  # everything we accept is Draft 4
    elif theirs is None:
        assert _stricter_by_design(node), (node, ours)


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"items": [{"type": "string"}]}, "schema.items must be an object"),
        ({"enum": [[True], [1], [True]]}, "schema.enum must not list a value twice"),
    ],
)
def test_each_stricter_rule_refuses_what_the_meta_schema_accepts(node, message):
    Draft4.check_schema(node)
    assert schema.schema_error(node) == message if "twice" not in message else message in schema.schema_error(node)
    assert _stricter_by_design(node)


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"minLength": 2.0}, "schema.minLength must be a non-negative integer"),
        ({"maxItems": 1.0}, "schema.maxItems must be a non-negative integer"),
        ({"required": []}, "schema.required must be a non-empty list"),
        ({"required": ["a", "a"]}, "schema.required must not name a property twice"),
        ({"type": ["string", "string"]}, "schema.type must not name a type twice"),
        ({"enum": [1, 1.0]}, "schema.enum must not list a value twice"),
        ({"$schema": 4}, "schema.$schema must be a string"),
        ({"format": 1}, "schema.format must be a string"),
    ],
)
def test_schema_error_follows_the_meta_schema_for_its_keywords(node, message):
    with pytest.raises(jsonschema.SchemaError):
        Draft4.check_schema(node)
    assert message in schema.schema_error(node)


# --- satisfiability ------------------------------------------------------------------------------------------------


@PROPERTIES
@given(node=schemas)
def test_every_part_of_an_accepted_schema_has_as_many_valid_samples_as_the_analysis_counts(node):
    assume(schema.schema_error(node) is None)
    assume(satisfiability.satisfiability_error(node) is None)
    for part in nodes(node):
        counted, reference = satisfiability.count_values(part, 4), Draft4(part)
        found = samples(part, counted)
        assert len(found) == counted, (part, found)
        assert all(reference.is_valid(value) for value in found), (part, found)
        assert UNIQUE.is_valid(found) and distinct_values(found), (part, found)
    assert Draft4(node).is_valid(sample(node))


@PROPERTIES
@given(node=schemas)
def test_the_analysis_only_refuses_what_it_can_explain(node):
    """A refused schema names a part; when the whole schema is unsatisfiable, the samples tool finds nothing."""
    assume(schema.schema_error(node) is None)
    error = satisfiability.satisfiability_error(node)
    if not satisfiability.satisfiable(node):
        assert error is not None
        assert not [value for value in samples(node, 3) if Draft4(node).is_valid(value)]
    if error is not None:
        assert error.startswith("schema") and ("can never be satisfied" in error or "enum value" in error)


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


UNSATISFIABLE = [
    (
        {"type": "string", "minLength": 3, "maxLength": 2},
        "schema can never be satisfied: minLength 3 is greater than maxLength 2",
    ),
    ({"type": "number", "minimum": 1, "maximum": 0.5}, "minimum 1 is greater than maximum 0.5"),
    ({"type": "integer", "minimum": 2.1, "maximum": 2.9}, "no integer lies between minimum 2.1 and maximum 2.9"),
    ({"type": "array", "minItems": 2, "maxItems": 1}, "minItems 2 is greater than maxItems 1"),
    ({"type": "string", "enum": ["a", 1]}, "schema.enum[1] must be of type string"),
    ({"type": "string", "maxLength": 2, "enum": ["ab", "abc"]}, "schema.enum[1] must have at most 2 characters"),
    ({"type": "integer", "minimum": 0, "enum": [1, -1]}, "schema.enum[1] must be at least 0"),
    ({"type": "integer", "enum": [1, 2.5]}, "schema.enum[1] must be of type integer"),
    ({"type": "array", "items": {"type": "string"}, "enum": [["a"], [1]]}, "schema.enum[1][0] must be of type string"),
    ({**obj(a={"type": "string"}), "enum": [{"a": 1}]}, "schema.enum[0].a must be of type string"),
    (
        {**obj(a={"type": "string"}), "required": ["a", "b"], "additionalProperties": False},
        'schema can never be satisfied: its required property "b" is not in properties and additionalProperties is false',
    ),
    (
        {**obj(), "required": ["b"], "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 0}},
        "schema.additionalProperties can never be satisfied",
    ),
    ({**obj(a={"type": "integer", "minimum": 3, "maximum": 1}), "required": ["a"]}, "schema.properties.a can never"),
    (
        {"type": "array", "minItems": 1, "items": {"type": "null", "enum": [1]}},
        "schema.items.enum[0] must be of type null",
    ),
    (
        {"type": "array", "uniqueItems": True, "minItems": 3, "items": {"enum": ["a", "b"]}},
        "uniqueItems with minItems 3 needs 3 distinct items, and its items allow only 2",
    ),
    ({"type": "array", "uniqueItems": True, "minItems": 3, "items": {"type": "boolean"}}, "its items allow only 2"),
    (
        {
            "type": "array",
            "uniqueItems": True,
            "minItems": 2,
            "items": {"type": "object", "additionalProperties": False},
        },
        "its items allow only 1",
    ),
    (
        {"type": "array", "uniqueItems": True, "minItems": 4, "items": {"type": "integer", "minimum": 1, "maximum": 3}},
        "its items allow only 3",
    ),
    (
        {
            "type": "array",
            "uniqueItems": True,
            "minItems": 2,
            "items": {"type": "number", "minimum": 1, "maximum": 1.0},
        },
        "its items allow only 1",
    ),
    (
        {"type": ["string", "integer"], "minLength": 2, "maxLength": 1, "minimum": 0.2, "maximum": 0.8},
        "no type it allows can be satisfied (minLength 2 is greater than maxLength 1; no integer lies between",
    ),
    # Every part counts, even one an answer could leave out: it steers the model to answers that are refused.
    (obj(a={"type": "string", "minLength": 3, "maxLength": 2}), "schema.properties.a can never be satisfied"),
    (
        {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 0}},
        "schema.items can never be satisfied",
    ),
    # Nested: the innermost cause is named.
    (
        {
            **obj(
                rows={
                    "type": "array",
                    "minItems": 1,
                    "items": {**obj(id={"type": "integer", "enum": [1.5]}), "required": ["id"]},
                }
            ),
            "required": ["rows"],
        },
        "schema.properties.rows.items.properties.id.enum[0] must be of type integer",
    ),
]

SATISFIABLE = [
    {"type": "integer", "enum": [0.0, 2.0]},  # the integers 0 and 2 equal them, and are integers
    {"type": "array", "items": {"type": "integer"}, "enum": [[1.0]]},
    {"minLength": 3, "maxLength": 2},  # no type: null, numbers, ... satisfy it
    {"type": ["string", "null"], "minLength": 3, "maxLength": 2},
    {"type": "integer", "minimum": 2.5, "maximum": 3.5},
    {"type": "number", "minimum": 0.5, "maximum": 0.5},
    {"type": "array", "uniqueItems": True, "minItems": 5, "items": {"type": "number", "minimum": 0, "maximum": 1}},
    {"type": "array", "uniqueItems": True, "minItems": 3, "items": {"type": ["boolean", "null"]}},
    {
        "type": "array",
        "uniqueItems": True,
        "minItems": 4,
        "items": {"type": "array", "uniqueItems": True, "items": {"type": "boolean"}},
    },
    {
        "type": "array",
        "uniqueItems": True,
        "minItems": 3,
        "items": {**obj(a={"type": "boolean"}), "additionalProperties": False},
    },
    {"type": "array", "uniqueItems": True, "minItems": 2, "items": {"enum": ["a", "b"]}},
    {"type": "array", "maxItems": 0, "minItems": 0, "items": {"type": "string"}},
    {**obj(), "required": ["b"]},  # b is allowed by the default additionalProperties
    {"type": "string", "maxLength": 10**300, "minLength": 10**299},
    {"type": "array", "uniqueItems": True, "minItems": 10**12, "items": {"type": "string", "maxLength": 2}},
]


@pytest.mark.parametrize(("node", "message"), UNSATISFIABLE)
def test_a_schema_with_a_part_no_value_satisfies_is_refused_with_its_cause(node, message):
    assert schema.schema_error(node) is None
    error = satisfiability.satisfiability_error(node)
    assert error is not None and message in error


@pytest.mark.parametrize("node", SATISFIABLE)
def test_satisfiable_edge_cases_are_accepted_and_sampled(node):
    assert schema.schema_error(node) is None
    assert satisfiability.satisfiability_error(node) is None
    if node.get("minItems", 0) < 100 and node.get("minLength", 0) < 100:
        assert Draft4(node).is_valid(sample(node))


def test_the_analysis_costs_little_whatever_the_bounds_say():
    """Counts saturate: huge bounds are arithmetic, never enumeration (this would not finish otherwise)."""
    node = {
        "type": "array",
        "uniqueItems": True,
        "minItems": 10**4000 - 1,
        "maxItems": 10**4000,
        "items": {"type": "integer"},
    }
    assert satisfiability.satisfiability_error(node) is None
    tight = {**node, "items": {"type": "integer", "minimum": 0, "maximum": 10**3999}}
    assert "needs" in satisfiability.satisfiability_error(tight)


# --- the catalog's schemas -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_case_id", STRUCTURED)
def test_each_output_schema_resolved_against_its_example_is_in_the_subset_and_satisfiable(use_case_id):
    use_case, request = CATALOG.get(use_case_id), EXAMPLES[use_case_id]
    retrieved = []
    if use_case.retrieval is not None:  # with the passages the sample corpus gives its example (never none)
        query = {"retrievalQuery": {"text": use_case.retrieval.query_text(request)}}
        retrieved = [passage.shown() for passage in passages_of(fake_retrieve(**query))]
        assert retrieved
    resolved = use_case.output_schema(request, retrieved)
    assert schema.schema_error(resolved) is None
    assert satisfiability.satisfiability_error(resolved) is None
    assert Draft4(resolved).is_valid(sample(resolved, text="ok", min_items=1))


def test_every_catalog_schema_is_a_draft4_schema():
    for use_case in CATALOG:
        Draft4.check_schema(dict(use_case.input_schema))
        assert satisfiability.satisfiability_error(dict(use_case.input_schema)) is None, use_case.id


# --- the caller's view: a 400 before any model call -------------------------------------------------------------------


def broken(request: dict[str, Any], name: str, how: dict[str, Any]) -> dict[str, Any]:
    """The example request with its caller schema ``name`` given one more property, required, shaped by ``how``."""
    request = copy.deepcopy(request)
    caller_schema = request[name]
    caller_schema["properties"]["broken"] = how
    caller_schema["required"] = [*caller_schema.get("required", []), "broken"]
    return request


@pytest.mark.parametrize(("use_case_id", "name"), CALLER_SCHEMAS)
@pytest.mark.parametrize(
    ("how", "message"),
    [
        ({"type": "string", "minLength": 5, "maxLength": 2}, "minLength 5 is greater than maxLength 2"),
        ({"type": "integer", "minimum": 2.5, "maximum": 2.7}, "no integer lies between"),
        ({"type": "string", "enum": ["ok", 3]}, "enum[1] must be of type string"),
        ({"type": "array", "uniqueItems": True, "minItems": 3, "items": {"type": "boolean"}}, "allow only 2"),
        ({"type": "string", "maxLength": 2.0}, "must be a non-negative integer (written without a fraction"),
    ],
)
def test_an_unsatisfiable_caller_schema_is_a_400_before_any_model_call(
    call, bedrock, converse_calls, use_case_id, name, how, message
):
    use_case = CATALOG.get(use_case_id)
    request = broken(EXAMPLES[use_case_id], name, how)
    request.pop("examples", None)  # rows of the example schema would not have the new property

    response = call(use_case.path, request)

    assert response.status == 400
    assert response.body["error"]["code"] == "validation_error"
    assert (
        f"{name}.properties.broken" in response.body["error"]["message"]
        and message in response.body["error"]["message"]
    )
    assert converse_calls == []


def test_an_integer_given_as_a_float_never_reaches_a_tool_schema(call, bedrock, converse_calls):
    """``count: 2.0`` became ``minItems: 2.0`` in the tool schema, which the fake model and the smoke tool crashed on."""
    use_case = CATALOG.get("process-optimization/augment")
    integers = [name for name, sub in use_case.input_schema["properties"].items() if sub.get("type") == "integer"]
    assert integers
    for name in integers:
        request = {**EXAMPLES[use_case.id], name: float(EXAMPLES[use_case.id][name])}

        response = call(use_case.path, request)

        assert response.status == 400
        assert response.body["error"] == {"code": "validation_error", "message": f"{name} must be of type integer."}
    assert converse_calls == []


# --- moved from test_handler: caller schemas outside the subset ---------------------------------------------------------

EXTRACT = "/process-optimization/extract"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "array", "items": {"type": "string"}}, 'fields must be a JSON Schema with "type": "object"'),
        ({"type": "object"}, "fields must declare at least one property"),
        (
            {"type": "object", "properties": {"id": {"type": "string", "pattern": "^a+$"}}},
            'keyword "pattern" is not supported',
        ),
        ({"type": "object", "properties": {"id": {"type": "uuid"}}}, "fields.properties.id.type must be one of"),
        ({"type": "object", "properties": {"id": "string"}}, "fields.properties.id must be an object"),
        ({"type": "object", "properties": {"id": {"$ref": "#/definitions/x"}}}, 'keyword "$ref" is not supported'),
    ],
)
def test_extract_rejects_fields_that_are_not_a_supported_object_schema(call, bedrock, fields, message):
    response = call(EXTRACT, {"document": "Invoice 1", "fields": fields})

    assert response.status == 400
    assert response.body["error"]["code"] == "validation_error"
    assert message in response.body["error"]["message"]


def test_extract_rejects_a_fields_schema_nested_too_deeply(call, bedrock):
    fields: dict[str, Any] = {"type": "string"}
    for _ in range(schema.MAX_SCHEMA_DEPTH + 1):
        fields = {"type": "object", "properties": {"inner": fields}}

    response = call(EXTRACT, {"document": "x", "fields": fields})

    assert response.status == 400
    assert f"nested too deeply (at most {schema.MAX_SCHEMA_DEPTH} levels)" in response.body["error"]["message"]
