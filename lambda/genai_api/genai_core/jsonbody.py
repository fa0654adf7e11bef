"""Turn the bytes a caller sent into a JSON object, or a clear 4xx: never an exception of any other kind.

Every JSON value a caller sends goes through ``parse_object`` once, for the whole body, so that the limits below
hold for every part of it (a record, a profile, a caller's schema and its ``default``, ``examples`` and ``enum``
values alike) before any other code sees it:

- at most ``MAX_BODY_BYTES`` bytes, UTF-8, a JSON object;
- at most ``MAX_JSON_CONTAINERS`` arrays and objects in all, counted before the parse;
- nested at most ``MAX_JSON_DEPTH`` levels of arrays and objects (the body itself is level 1). Python's parser
  would accept far deeper values, which later code (``json.dumps``, botocore's serializer, any recursive walk)
  then meets with a ``RecursionError``;
- every number finite, and every integer within CPython's digit limit (4300 digits): JSON has no infinity, but ``1e400`` is valid JSON syntax that Python parses to ``inf``,
  which would pass every check and reach Bedrock serialized as ``Infinity`` (not JSON). ``NaN``/``Infinity``
  literals are not JSON at all;
- no lone UTF-16 surrogate escapes (``\\ud800``), which no UTF-8 encoder, nor Bedrock, accepts.

``invalid_json`` is for bytes that are not JSON; ``validation_error`` for JSON that breaks one of our limits
(too deep, a number out of range): the body is well-formed, the API refuses what it says.
"""

from __future__ import annotations

import array
import itertools
import json
import math
import re
import sys
from typing import Any, NoReturn

from genai_core.errors import InvalidEncoding, InvalidJson, PayloadTooLarge, ValidationFailed

MAX_BODY_BYTES = 256 * 1024  # the documented request limit; API Gateway itself allows 10 MB
# Levels of arrays and objects in a request body, the body object being level 1. Real payloads are shallow: a
# record, a profile or an example row is a few levels deep inside its list (body, list, row, nested object: 4-6).
# The deepest legitimate value is a caller's schema at its own depth limit (genai_core.schema.MAX_SCHEMA_DEPTH:
# 8 nested sub-schemas, 2 JSON levels each through "properties", under the body and the field: 18 levels) with
# an enum or default value at its deepest node; 32 leaves that room and stays far from any recursion limit
# (botocore serializes a tool schema recursively, several frames per level).
MAX_JSON_DEPTH = 32
# Arrays and objects in a request body. Parsing costs about a microsecond and a Python object per container, so a
# body of the allowed size made of nothing but tiny lists ([[]], 2 bytes each) costs ~35 ms of CPU and 100 000
# objects before any check sees it; real payloads are far below this (500 records of a few nested objects each).
# Counted on the raw text, outside strings, before the parse (make bench: the worst body of each route).
MAX_JSON_CONTAINERS = 20_000


_JSON_NAMES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


class _NotFinite(ValueError):
    """A number too large for a double: ``1e400`` (Python's parser would make it ``inf``)."""


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(text if len(text) <= 40 else f"{text[:37]}...")
    return value


def _too_deep(max_depth: int) -> ValidationFailed:
    return ValidationFailed(f"The request body is nested too deeply: at most {max_depth} levels of arrays and objects.")


# The nesting of a JSON text is the running count of its brackets outside strings: every loop below runs in C, so a
# body of the allowed size costs a few milliseconds at worst, where a walk over the parsed value costs one Python
# step per container (tens of milliseconds for 100 000 small ones).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)  # a JSON string, escapes included (possessive: linear)
_BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
# A number literal that may exceed a double has a positive exponent of 3 or more digits, or, with an exponent of at
# most 99, 210 digits or more (a run of 200 digits is the conservative mark). With every digit written as 0, both are
# plain substrings: a translate and a few searches in C, where a regular expression tried at every position costs
# several milliseconds on a body of numbers.
# The escape of a UTF-16 surrogate, high or low: \uD800 to \uDFFF, in either letter case.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_OVERFLOW_MARKS = (b"0" * 200, b"e000", b"e+000", b"E000", b"E+000")


def _may_overflow(raw: bytes) -> bool:
    """Whether ``raw`` may hold a number literal beyond a double (text inside strings may make this true too)."""
    zeros = raw.translate(_DIGITS_AS_ZERO)
    return any(mark in zeros for mark in _OVERFLOW_MARKS)


def _containers(raw: bytes) -> int:
    """How many arrays and objects ``raw`` opens outside its strings (brackets inside strings are text)."""
    outside = _STRING.sub(b"", raw)
    return outside.count(b"[") + outside.count(b"{")


def _depth(raw: bytes) -> int:
    """The levels of arrays and objects in ``raw``, a valid JSON text (the outermost container is level 1)."""
    steps = _STRING.sub(b"", raw).translate(_BRACKETS, _NOT_BRACKETS)
    return max(itertools.accumulate(array.array("b", steps)), default=0)


def parse_object(raw: bytes, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """Parse a request body that must be a UTF-8 JSON object of at most ``max_bytes`` bytes, nested at most
    ``max_depth`` levels, with finite numbers only."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The request body is {len(raw)} bytes; the limit is {max_bytes} bytes.")
    if not raw or raw.isspace():  # (not ``raw.strip()``: that copies a body of megabytes to find its first byte)
        raise InvalidJson("The request body is empty; send a JSON object.")
    # Counting the brackets is two scans in C (some 3 ms for a body of files, so they are made once, for this check
    # and the depth's); only a body with more of them than the limit pays for setting its strings aside to count
    # them exactly.
    brackets = raw.count(b"[") + raw.count(b"{")
    if brackets > MAX_JSON_CONTAINERS and _containers(raw) > MAX_JSON_CONTAINERS:
        raise ValidationFailed(
            f"The request body has too many arrays and objects: at most {MAX_JSON_CONTAINERS:,} in all."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidEncoding(f"The request body is not valid UTF-8 (byte {error.start}).") from None
    try:
        # Only a literal with a 3-digit exponent or over 200 digits can overflow a double: most bodies parse their
        # floats with the plain ``float`` (the hook costs a Python call per float literal). A body over the usual
        # limit (a task's files in base64: megabytes that the scan would copy and search, finding "e123" by chance)
        # takes the hook without the scan: its other fields are held to the usual limit, so its floats are few.
        may_overflow = len(raw) > MAX_BODY_BYTES or _may_overflow(raw)
        parse_float = _finite_float if may_overflow else float
        value = json.loads(text, parse_constant=_reject_constant, parse_float=parse_float)
    except RecursionError:  # deeper than the parser itself goes: far past the limit
        raise _too_deep(max_depth) from None
    except _NotFinite as error:
        raise ValidationFailed(
            f"The request body has a number out of range ({error}): numbers must be finite (at most about 1.8e308)."
        ) from None
    except ValueError as error:  # JSONDecodeError, NaN/Infinity, integers with too many digits
        if "integer string conversion" in str(error):  # CPython's int digit limit (sys.get_int_max_str_digits)
            raise ValidationFailed(
                f"The request body has an integer out of range: at most {sys.get_int_max_str_digits()} digits."
            ) from None
        raise InvalidJson(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(value, dict):
        raise ValidationFailed(
            f"The request body must be a JSON object, not {_JSON_NAMES.get(type(value), 'a value')}."
        )
    # A value cannot nest deeper than it has brackets: most bodies skip the exact count.
    if brackets > max_depth and _depth(raw) > max_depth:
        raise _too_deep(max_depth)
    # JSON escapes can spell lone surrogates (\ud800) that no UTF-8 encoder (or Bedrock) accepts. The UTF-8 decode
    # above already refused encoded ones, so only a body with a surrogate's escape (\uD800 to \uDFFF) needs the
    # (whole-body) check; other escapes (\u0001, \u00e9) are common and harmless. (A backslash is looked for first:
    # one byte is found at memory speed, where the pattern's search walks the whole body, megabytes with files.)
    if b"\\" in raw and _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(value, ensure_ascii=False, check_circular=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidEncoding("The request body contains an unpaired UTF-16 surrogate escape.") from None
    return value
