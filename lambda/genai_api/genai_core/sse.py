"""Server-Sent Events framing for a streamed answer (``text/event-stream``), free of any HTTP server.

A stream is ``delta`` events (``{"text": ...}``, in order), then exactly one ``done`` event (the summary: usage,
stop reason, model, latencies, guardrail action) or one ``error`` event (``{"error": {"code", "message"}}``, the
same shape as every error body). Each event is one ``event:`` line and one ``data:`` line of compact JSON (JSON
escapes newlines, so a payload never spans lines), then a blank line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MEDIA_TYPE = "text/event-stream"
CONTENT_TYPE = f"{MEDIA_TYPE}; charset=utf-8"
DELTA, DONE, ERROR = "delta", "done", "error"


def frame(event: str, data: Mapping[str, Any]) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def parse(stream: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The events of a complete stream, for clients and tests: ``[(event, data), ...]``."""
    events = []
    for block in stream.decode("utf-8").split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events
