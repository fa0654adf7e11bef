"""genai_core/filters.py: the caller's metadata filter, Bedrock's RetrievalFilter as S3 Vectors supports it.

Every filter the module accepts must also be one that botocore accepts for Retrieve (the service model's
``RetrievalFilter`` shape is the reference); the module refuses more (the operators S3 Vectors lacks, the keys the
index keeps non-filterable, the bounds), each with a message that names where.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ParamValidationError
from botocore.session import get_session
from botocore.validate import validate_parameters
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_core.filters import (
    COMBINATIONS,
    MAX_BRANCHES,
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_KEY_CHARS,
    MAX_LIST_VALUES,
    MAX_VALUE_CHARS,
    NON_FILTERABLE_METADATA_KEYS,
    OPERATORS,
    UNSUPPORTED,
    filter_error,
)

RETRIEVAL_FILTER = get_session().get_service_model("bedrock-agent-runtime").shape_for("RetrievalFilter")


def botocore_accepts(value: Any) -> bool:
    try:
        validate_parameters(value, RETRIEVAL_FILTER)
    except ParamValidationError:
        return False
    return True


def condition(operator: str, key: str = "department", value: Any = "hr") -> dict[str, Any]:
    return {operator: {"key": key, "value": value}}


ACCEPTED = [
    condition("equals"),
    condition("notEquals", value=3),
    condition("equals", value=True),
    condition("greaterThan", "year", 2024),
    condition("greaterThanOrEquals", "year", 2024.5),
    condition("lessThan", "pages", 10),
    condition("lessThanOrEquals", "pages", 10),
    condition("in", value=["hr", "finance"]),
    condition("notIn", "year", [2023, 2024]),
    {"andAll": [condition("equals"), condition("greaterThan", "year", 2024)]},
    {"orAll": [condition("equals"), {"andAll": [condition("in", value=["a"]), condition("notEquals", value="b")]}]},
]


@pytest.mark.parametrize("value", ACCEPTED, ids=lambda v: next(iter(v)))
def test_the_filters_s3_vectors_supports_are_accepted_and_botocore_accepts_them_too(value):
    assert filter_error(value) is None
    assert botocore_accepts(value)


def test_every_operator_is_one_of_retrieves_and_the_unsupported_ones_too():
    assert set(OPERATORS) | set(UNSUPPORTED) <= set(RETRIEVAL_FILTER.members)
    assert set(RETRIEVAL_FILTER.members) == set(OPERATORS) | set(UNSUPPORTED)  # each member decided


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("department = hr", "filter must be an object with exactly one operator"),
        ({}, "filter must be an object with exactly one operator"),
        ({**condition("equals"), **condition("notEquals")}, "exactly one operator"),
        (
            condition("startsWith", value="h"),
            "filter.startsWith: a knowledge base on Amazon S3 Vectors does not support",
        ),
        (condition("stringContains"), "does not support stringContains"),
        (condition("listContains"), "does not support listContains"),
        (condition("like"), 'unknown operator "like"'),
        ({"equals": {"key": "department"}}, 'filter.equals must be an object with exactly "key" and "value"'),
        ({"equals": {"key": "a", "value": "b", "x": 1}}, 'exactly "key" and "value"'),
        (condition("equals", key=""), f"filter.equals.key must be a string of 1 to {MAX_KEY_CHARS} characters"),
        (condition("equals", key="k" * (MAX_KEY_CHARS + 1)), "characters"),
        (condition("equals", key=NON_FILTERABLE_METADATA_KEYS[0]), "is not filterable"),
        (condition("equals", value=None), "filter.equals.value must be a string, a number or a boolean"),
        (condition("equals", value={"a": 1}), "a string, a number or a boolean"),
        (condition("greaterThan", value="2024"), "filter.greaterThan.value must be a number"),
        (condition("lessThan", value=True), "must be a number"),
        (condition("in", value="hr"), f"filter.in.value must be a list of 1 to {MAX_LIST_VALUES}"),
        (condition("in", value=[]), "a list of 1 to"),
        (condition("in", value=["a", 1]), "not a mix"),
        (condition("in", value=[True]), "not a mix"),
        (condition("in", value=["x"] * (MAX_LIST_VALUES + 1)), "a list of 1 to"),
        (condition("equals", value=""), f"a string must have 1 to {MAX_VALUE_CHARS} characters"),
        (condition("in", value=["v" * (MAX_VALUE_CHARS + 1)]), "a string must have 1 to"),
        ({"andAll": [condition("equals")]}, f"filter.andAll must be a list of 2 to {MAX_BRANCHES} filters"),
        ({"orAll": [condition("equals")] * (MAX_BRANCHES + 1)}, "2 to"),
        ({"andAll": {"a": 1}}, "must be a list"),
        ({"andAll": [condition("equals"), condition("startsWith")]}, "filter.andAll[1].startsWith"),
        ({"orAll": [condition("equals"), "x"]}, "filter.orAll[1] must be an object"),
    ],
)
def test_anything_else_is_refused_with_a_message_that_says_where(value, message):
    error = filter_error(value)
    assert error is not None and message in error, error


def nested(depth: int) -> dict[str, Any]:
    node = condition("equals")
    for _ in range(depth):
        node = {"andAll": [node, condition("notEquals")]}
    return node


def test_filters_nest_at_most_max_depth_levels():
    assert filter_error(nested(MAX_DEPTH)) is None
    error = filter_error(nested(MAX_DEPTH + 1))
    assert error is not None and f"at most {MAX_DEPTH} levels" in error


def test_a_filter_has_at_most_max_conditions_conditions():
    wide = {
        "orAll": [
            {"andAll": [condition("equals", value=f"v{i}-{j}") for j in range(MAX_BRANCHES)]}
            for i in range(MAX_BRANCHES)
        ]
    }
    assert MAX_BRANCHES * MAX_BRANCHES > MAX_CONDITIONS  # a filter within the width and depth bounds can be too big
    error = filter_error(wide)
    assert error is not None and f"at most {MAX_CONDITIONS} conditions" in error
    fitting = {"orAll": [{"andAll": [condition("equals", value=f"v{i}-{j}") for j in range(4)]} for i in range(5)]}
    assert filter_error(fitting) is None


# --- never a crash, never more than botocore allows ---------------------------------------------------------------

LEAF_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.lists(st.one_of(st.integers(0, 9), st.text(max_size=4)), max_size=3),
)
CONDITIONS = st.builds(
    lambda operator, key, value: {operator: {"key": key, "value": value}},
    st.sampled_from([*OPERATORS, *UNSUPPORTED, "bogus"]),
    st.one_of(st.text(max_size=6), st.sampled_from(NON_FILTERABLE_METADATA_KEYS)),
    LEAF_VALUES,
)
FILTERS = st.recursive(
    CONDITIONS | LEAF_VALUES,
    lambda children: st.builds(
        lambda op, items: {op: items}, st.sampled_from(COMBINATIONS), st.lists(children, max_size=6)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(FILTERS)
def test_any_value_is_a_message_or_a_filter_that_botocore_accepts(value):
    error = filter_error(value)
    if error is None:
        assert botocore_accepts(value), value
    else:
        assert isinstance(error, str) and error.startswith("filter")
