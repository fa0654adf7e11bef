"""genai_core/sse.py: Server-Sent Events framing (the streaming adapter over it: test_streaming.py)."""

from __future__ import annotations

from genai_core import sse


def test_an_sse_frame_is_one_event_line_one_data_line_and_a_blank_line():
    frame = sse.frame("delta", {"text": "linha 1\nlinha 2 — ação"})

    assert frame == 'event: delta\ndata: {"text":"linha 1\\nlinha 2 — ação"}\n\n'.encode()
    assert frame.count(b"\n") == 3  # a newline in the text is escaped inside the JSON, never a new line
    assert sse.parse(frame) == [("delta", {"text": "linha 1\nlinha 2 — ação"})]
