"""A caller's metadata filter for a knowledge-base search: the part of Bedrock's ``RetrievalFilter`` that a knowledge
base on Amazon S3 Vectors supports, checked before anything is sent.

The caller writes the filter in Bedrock's own syntax (``Retrieve``'s ``vectorSearchConfiguration.filter``), so that
what the API accepts is exactly what reaches Bedrock, with nothing translated::

    {"equals": {"key": "department", "value": "hr"}}
    {"andAll": [{"equals": {"key": "language", "value": "pt-BR"}}, {"greaterThanOrEquals": {"key": "year", "value": 2025}}]}

Accepted, because S3 Vectors has a counterpart for each (its ``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``,
``$in``, ``$nin``, ``$and``, ``$or``): ``equals`` and ``notEquals`` (a string, a number or a boolean),
``greaterThan``, ``greaterThanOrEquals``, ``lessThan`` and ``lessThanOrEquals`` (a number), ``in`` and ``notIn`` (a
non-empty list of strings, or of numbers), and ``andAll`` and ``orAll`` (2 to ``MAX_BRANCHES`` filters). Refused with
a 400, because S3 Vectors has no counterpart: ``startsWith``, ``stringContains`` and ``listContains`` (Bedrock
supports them on other vector stores only; not verified against live AWS). A filter may not name a key that the
index declares non-filterable (the chunk's text and Bedrock's own metadata, ``NON_FILTERABLE_METADATA_KEYS``), and it
is bounded: ``MAX_DEPTH`` levels of ``andAll``/``orAll`` and ``MAX_CONDITIONS`` conditions in all.

Which keys a document has is up to the builder: the attributes of its ``<document>.metadata.json`` file in the corpus
bucket (``{"metadataAttributes": {"department": "hr"}}``). A filter on a key no document has matches nothing.

Pure Python, no AWS: the stack reads ``NON_FILTERABLE_METADATA_KEYS`` from here for the index it creates.
"""

from __future__ import annotations

import json
from typing import Any

# Bedrock Knowledge Bases store each chunk's text and Bedrock's own metadata under these keys of each vector. The
# index declares them non-filterable (S3 Vectors allows 2 KB of filterable metadata per vector, and a chunk alone is
# larger), so no filter can use them.
NON_FILTERABLE_METADATA_KEYS = ("AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA")

COMPARISONS = ("equals", "notEquals")  # a string, a number or a boolean
ORDERINGS = ("greaterThan", "greaterThanOrEquals", "lessThan", "lessThanOrEquals")  # a number
MEMBERSHIPS = ("in", "notIn")  # a list of strings, or of numbers
COMBINATIONS = ("andAll", "orAll")  # a list of filters
OPERATORS = (*COMPARISONS, *ORDERINGS, *MEMBERSHIPS, *COMBINATIONS)
UNSUPPORTED = ("startsWith", "stringContains", "listContains")  # Bedrock's, with no S3 Vectors counterpart

MAX_DEPTH = 3  # levels of andAll / orAll
MAX_BRANCHES = 5  # filters in one andAll / orAll (Bedrock's API reference gives 2 to 5)
MAX_CONDITIONS = 20  # comparisons in the whole filter
MAX_KEY_CHARS = 100  # Bedrock's FilterAttribute.key: 1 to 100 characters
MAX_VALUE_CHARS = 1000  # a string value (S3 Vectors keeps at most 2 KB of filterable metadata per vector)
MAX_LIST_VALUES = 50


def filter_error(value: Any, path: str = "filter") -> str | None:
    """The first way ``value`` is not a filter this API accepts (a message naming where), or None."""
    conditions = [0]
    return _error(value, path, 0, conditions)


def _error(node: Any, path: str, depth: int, conditions: list[int]) -> str | None:
    if not isinstance(node, dict) or len(node) != 1:
        return f"{path} must be an object with exactly one operator ({', '.join(OPERATORS)})"
    ((operator, operand),) = node.items()
    where = f"{path}.{operator}" if operator.isidentifier() else f"{path}[{json.dumps(operator)}]"
    if operator in UNSUPPORTED:
        return (
            f"{where}: a knowledge base on Amazon S3 Vectors does not support {operator} (use {', '.join(OPERATORS)})"
        )
    if operator not in OPERATORS:
        return f"{path}: unknown operator {json.dumps(operator, ensure_ascii=False)[:60]} (use {', '.join(OPERATORS)})"
    if operator in COMBINATIONS:
        if depth + 1 > MAX_DEPTH:
            return f"{where}: filters nest at most {MAX_DEPTH} levels of {' / '.join(COMBINATIONS)}"
        if not isinstance(operand, list) or not 2 <= len(operand) <= MAX_BRANCHES:
            return f"{where} must be a list of 2 to {MAX_BRANCHES} filters"
        for index, branch in enumerate(operand):
            error = _error(branch, f"{where}[{index}]", depth + 1, conditions)
            if error:
                return error
        return None
    conditions[0] += 1
    if conditions[0] > MAX_CONDITIONS:
        return f"{where}: a filter has at most {MAX_CONDITIONS} conditions"
    return _condition_error(operator, operand, where)


def _condition_error(operator: str, operand: Any, where: str) -> str | None:
    if not isinstance(operand, dict) or set(operand) != {"key", "value"}:
        return f'{where} must be an object with exactly "key" and "value"'
    key, value = operand["key"], operand["value"]
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_CHARS:
        return f"{where}.key must be a string of 1 to {MAX_KEY_CHARS} characters"
    if key in NON_FILTERABLE_METADATA_KEYS:
        return f"{where}.key: {key} is not filterable (the index keeps it as non-filterable metadata)"
    if operator in COMPARISONS:
        if not (_is_number(value) or isinstance(value, bool) or isinstance(value, str)):
            return f"{where}.value must be a string, a number or a boolean"
    elif operator in ORDERINGS:
        if not _is_number(value):
            return f"{where}.value must be a number"
    else:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST_VALUES:
            return f"{where}.value must be a list of 1 to {MAX_LIST_VALUES} strings, or of numbers"
        if not (all(isinstance(item, str) for item in value) or all(_is_number(item) for item in value)):
            return f"{where}.value must be a list of strings, or a list of numbers (not a mix)"
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and not 1 <= len(item) <= MAX_VALUE_CHARS:
            return f"{where}.value: a string must have 1 to {MAX_VALUE_CHARS} characters"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
