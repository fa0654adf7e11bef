"""The one rule for a request's Content-Type, shared by both entry points (``handler.py`` for the buffered API and
``stream_app.py`` for the streaming one; ``make local`` runs both), so every route of both functions answers alike.

A POST body is JSON. Its Content-Type may be absent (API Gateway then assumes ``application/json`` as well) or
``application/json`` with any parameters (``; charset=utf-8``), in any letter case. Anything else is a
``415 unsupported_media_type``: API Gateway validates a body against the route's request model only under the
content types the model is attached to, and passes a body of any other type through to the function unvalidated.

``application/*+json`` types (``application/merge-patch+json``, ``application/vnd.api+json``...) are refused too:
each names a format with its own semantics (a patch document, JSON:API) that the API does not implement, and the
API documents ``application/json`` only. Standard library only; nothing here is imported that the request path does
not need.
"""

from __future__ import annotations

from collections.abc import Iterable

from genai_core.errors import UnsupportedMediaType

JSON = "application/json"
MAX_QUOTED = 100  # a Content-Type longer than this is cut in the error message


def media_type(content_type: str) -> str:
    """The media type of a Content-Type value, without its parameters and in lower case: ``application/json``."""
    return content_type.split(";", 1)[0].strip().lower()


def check_content_types(values: Iterable[str]) -> None:
    """Raise ``UnsupportedMediaType`` unless every Content-Type value the request has is JSON (no value at all is
    JSON too). A request with two Content-Type headers is checked on both: either may be the one that counts."""
    for value in values:
        if media_type(value) != JSON:
            shown = value if len(value) <= MAX_QUOTED else value[:MAX_QUOTED] + "..."
            raise UnsupportedMediaType(
                f"The request body must be JSON, sent with Content-Type: {JSON} (or no Content-Type); got {shown!r}."
            )


def header_values(headers: Iterable[tuple[str, str]], name: str = "Content-Type") -> list[str]:
    """Every value of the header ``name`` (any letter case) in a list of (name, value) pairs."""
    wanted = name.lower()
    return [value for key, value in headers if key.lower() == wanted]
