"""Turn the bytes a caller sent into a JSON object, or a clear 4xx: never an exception of any other kind."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from genai_core.errors import InvalidEncoding, InvalidJson, PayloadTooLarge, ValidationFailed

MAX_BODY_BYTES = 256 * 1024  # the documented request limit; API Gateway itself allows 10 MB


_JSON_NAMES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def parse_object(raw: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """Parse a request body that must be a UTF-8 JSON object of at most ``max_bytes`` bytes."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The request body is {len(raw)} bytes; the limit is {max_bytes} bytes.")
    if not raw.strip():
        raise InvalidJson("The request body is empty; send a JSON object.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidEncoding(f"The request body is not valid UTF-8 (byte {error.start}).") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidJson("The request body is nested too deeply.") from None
    except ValueError as error:  # JSONDecodeError, NaN/Infinity, integers with too many digits
        raise InvalidJson(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(value, dict):
        raise ValidationFailed(
            f"The request body must be a JSON object, not {_JSON_NAMES.get(type(value), 'a value')}."
        )
    try:
        # JSON escapes can spell lone surrogates (\ud800) that no UTF-8 encoder (or Bedrock) accepts.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEncoding("The request body contains an unpaired UTF-16 surrogate escape.") from None
    except RecursionError:
        raise InvalidJson("The request body is nested too deeply.") from None
    return value
